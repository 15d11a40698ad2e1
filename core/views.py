from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login

from .audit import AuditAction, audit_record
from .forms import LoginForm, SecondFactorForm
from .http import client_ip


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


@never_cache
def healthz(request) -> HttpResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
