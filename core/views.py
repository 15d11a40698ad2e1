import datetime as dt
import logging
import uuid

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control, never_cache
from django_otp import login as otp_login

from . import accessibility, branding
from .audit import AuditAction, audit_record
from .forms import LoginForm, SecondFactorForm
from .http import client_ip

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """Email and password; `next` accepts only paths on this site (Django's url_has_allowed_host_and_scheme)."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        # Django refuses other hosts and schemes; a relative "next" (javascript%3A…) is refused too.
        url = super().get_redirect_url()
        return url if url.startswith("/") else ""


@login_required
@never_cache
def otp_verify(request):
    """Ask a signed-in account for its one-time code (TOTP or a backup code)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = reverse(settings.LOGIN_REDIRECT_URL)
    form = SecondFactorForm(request.user, request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        otp_login(request, request.user.otp_device)
        audit_record(
            actor=request.user,
            action=AuditAction.OTP_VERIFIED,
            target=request.user,
            ip_address=client_ip(request),
        )
        return redirect(next_url)
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url})


HEALTH_CACHE_KEY = "dxplan:healthz"
BROKER_TIMEOUT = 2  # seconds: a load balancer's probe must not hang on a dead broker


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    # A write and a read: Django's Redis cache raises when the server is down; a value that does not come
    # back (a cache that drops writes) fails too.
    token = uuid.uuid4().hex
    cache.set(HEALTH_CACHE_KEY, token, 30)
    if cache.get(HEALTH_CACHE_KEY) != token:
        raise RuntimeError("the cache did not keep a value")


def _check_broker() -> bool:
    """False when there is no broker to check (no CELERY_BROKER_URL, or tasks run eagerly)."""
    from celery import current_app

    if not settings.CELERY_BROKER_URL or current_app.conf.task_always_eager:
        return False
    with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as broker:
        broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
    return True


@never_cache
def healthz(request) -> HttpResponse:
    """For load balancers and monitoring, without sign-in: JSON, 200 when the database, the cache and (when
    one is configured) the Celery broker answer, else 503 naming the checks that failed. Nothing about
    the failure beyond its name is shown (the reason goes to the log); nothing is cached."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("cache", _check_cache), ("broker", _check_broker)):
        try:
            checks[name] = "skipped" if check() is False else "ok"
        except Exception as exc:  # any failure of a dependency is what this view reports
            logger.warning("Health check %s failed: %s", name, type(exc).__name__)
            checks[name] = "failed"
    failed = sorted(name for name, state in checks.items() if state == "failed")
    if failed:
        return JsonResponse({"status": "error", "failed": failed, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


@cache_control(public=True, max_age=86400)
def brand_css(request) -> HttpResponse:
    """The organisation's colour as CSS custom properties (a stylesheet, since the CSP allows no inline
    style). Pages link it with the colour in its query, so a new colour is a new address."""
    response = HttpResponse(branding.stylesheet(), content_type="text/css; charset=utf-8")
    response.same_for_everyone = True  # type: ignore[attr-defined]  # cached for a day, signed in or not
    return response


CONFORMANCE_LABELS = {
    "conforms": _("conforms to"),
    "partial": _("partially conforms to"),
    "considered": _("takes into account"),
}


def _policy_context() -> dict:
    record = accessibility.record()
    tested_on = settings.DXPLAN_ACCESSIBILITY_TESTED_ON
    return {
        "record": record,
        "level": settings.DXPLAN_ACCESSIBILITY_LEVEL,
        "conformance": settings.DXPLAN_ACCESSIBILITY_CONFORMANCE,
        "conformance_label": CONFORMANCE_LABELS.get(settings.DXPLAN_ACCESSIBILITY_CONFORMANCE, ""),
        "policy_date": _date(settings.DXPLAN_ACCESSIBILITY_POLICY_DATE),
        "target_date": _date(settings.DXPLAN_ACCESSIBILITY_TARGET_DATE),
        "tested_on": _date(tested_on) if tested_on else record.tested_on,
        "record_url": settings.DXPLAN_ACCESSIBILITY_RECORD_URL or reverse("accessibility_results"),
    }


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:  # reported by core.checks
        return None


def accessibility_policy(request) -> HttpResponse:
    """ウェブアクセシビリティ方針, as みんなの公共サイト運用ガイドライン describes it; the settings say what
    a deploying organisation aims at, the record (docs/accessibility/) what the test found."""
    return render(request, "accessibility/policy.html", _policy_context())


def accessibility_results(request) -> HttpResponse:
    """試験結果: the pages of the record, how each was chosen, and what axe-core and the manual checks found."""
    return render(request, "accessibility/results.html", _policy_context())
