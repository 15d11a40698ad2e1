"""傍聴 and subscription pages: the visitor's (no account) and the secretariat's (under /manage/).

Access to a meeting is decided by meetings.access.meeting_for, to a body by committee.access.body_for."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from committee.access import body_for
from core.http import client_ip
from documents.pdf import render_pdf
from meetings.access import meeting_for

from . import selectors, services
from .forms import GuideForm, ObservationSettingsForm, RegistrationForm, SubscriptionForm
from .models import ObservationGuide, ObservationSettings, Registration, Subscription


def _client(group: str, request: HttpRequest) -> str:
    return client_ip(request) or ""


def _address(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()[:254]


def throttled(request: HttpRequest, group: str) -> bool:
    """Per client address and per mail address; both count every attempt."""
    by_client = is_ratelimited(
        request, group=group, key=_client, rate=settings.DXPLAN_PARTICIPATION_RATE, method="POST", increment=True
    )
    by_address = is_ratelimited(
        request,
        group=f"{group}-address",
        key=_address,
        rate=settings.DXPLAN_PARTICIPATION_ADDRESS_RATE,
        method="POST",
        increment=True,
    )
    return by_client or by_address


def _too_many(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context["error"] = _("Too many requests from your connection or for this address. Please try again later.")
    return render(request, template, context, status=429)


# --- the visitor: registering, confirming, cancelling ----------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, pk: int) -> HttpResponse:
    meeting, _access = meeting_for(request.user, pk, to="view")
    status = selectors.observation_status(meeting)
    observation = status.settings
    press = bool(observation and observation.press_seats)
    max_party = observation.max_party if observation else 1
    form = RegistrationForm(request.POST or None, max_party=max_party, press=press)
    context = {"meeting": meeting, "status": status, "form": form}
    if request.method == "POST" and observation is not None:
        if throttled(request, "participation-register"):
            return _too_many(request, "participation/register.html", context)
        if form.is_valid():
            if form.cleaned_data["website"]:  # the honeypot: answer as if it worked, do nothing
                return render(request, "participation/check_mail.html", {"meeting": meeting})
            try:
                services.registration_create(
                    observation=observation,
                    kind=form.cleaned_data.get("kind") or Registration.Kind.PUBLIC,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    party_size=form.cleaned_data["party_size"],
                    organisation=form.cleaned_data.get("organisation") or "",
                    accepted_guide=form.cleaned_data["accept"],
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return render(request, "participation/check_mail.html", {"meeting": meeting})
    return render(request, "participation/register.html", context, status=400 if form.errors else 200)


def _registration(pk: int, token: str) -> Registration:
    try:
        return services.registration_by_token(pk, token)
    except Registration.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); the POST confirms."""
    registration = _registration(pk, token)
    error = ""
    if request.method == "POST":
        try:
            registration = services.registration_confirm(registration=registration, ip_address=client_ip(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "participation/confirm.html",
        {"registration": registration, "meeting": registration.settings.meeting, "error": error,
         "done": request.method == "POST" and not error},
    )


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    registration = _registration(pk, token)
    error = ""
    if request.method == "POST":
        try:
            registration = services.registration_cancel(registration=registration, ip_address=client_ip(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "participation/cancel.html",
        {"registration": registration, "meeting": registration.settings.meeting, "error": error},
    )


# --- the visitor: subscriptions --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    body = body_for(request.user, slug).body
    if not body.is_public:
        raise Http404
    form = SubscriptionForm(request.POST or None)
    context = {"body": body, "form": form}
    if request.method == "POST":
        if throttled(request, "participation-subscribe"):
            return _too_many(request, "participation/subscribe.html", context)
        if form.is_valid():
            if not form.cleaned_data["website"]:
                services.subscription_request(
                    body=body, email=form.cleaned_data["email"], ip_address=client_ip(request)
                )
            return render(request, "participation/check_mail.html", {"body": body})
    return render(request, "participation/subscribe.html", context, status=400 if form.errors else 200)


def _subscription(token: str) -> Subscription:
    return get_object_or_404(Subscription.objects.select_related("body"), token=token)


@require_http_methods(["GET", "POST"])
def subscription_confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscription = _subscription(token)
    if request.method == "POST":
        subscription = services.subscription_confirm(subscription=subscription)
    return render(request, "participation/subscription_confirm.html", {"subscription": subscription})


@csrf_exempt  # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click without a session or token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; a POST (the button, or the mail client's one click) unsubscribes. A link whose
    subscription is gone (unsubscribed before) says it ended, as it did."""
    subscription = Subscription.objects.select_related("body").filter(token=token).first()
    if subscription is not None and request.method == "POST":
        subscription = services.subscription_end(subscription=subscription)
    return render(request, "participation/unsubscribe.html", {"subscription": subscription})


# --- the secretariat ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    meeting, _access = meeting_for(request.user, pk, to="manage")
    observation = ObservationSettings.objects.filter(meeting=meeting).first()
    form = ObservationSettingsForm(request.POST or None, instance=observation)
    if request.method == "POST" and form.is_valid():
        try:
            services.observation_settings_save(actor=request.user, meeting=meeting, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The observation settings were saved."))
            return redirect("participation:manage", pk=meeting.pk)
    rows = list(selectors.registrations_of(observation)) if observation else []
    return render(
        request,
        "participation/manage.html",
        {
            "meeting": meeting,
            "observation": observation,
            "form": form,
            "rows": rows,
            "status": selectors.observation_status(meeting),
            "guide": ObservationGuide.objects.filter(body_id=meeting.body_id).first(),
            "may_draw": observation is not None
            and observation.method == ObservationSettings.Method.LOTTERY
            and observation.drawn_at is None
            and (observation.closed_at is not None or timezone.now() >= observation.closes_at),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def manage_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    meeting, _access = meeting_for(request.user, pk, to="manage")
    observation = get_object_or_404(ObservationSettings, meeting=meeting)
    try:
        if action == "draw":
            services.lottery_draw(actor=request.user, observation=observation)
            messages.success(request, _("The lottery was drawn."))
        elif action in ("check-in", "cancel"):
            registration_pk = request.POST.get("registration", "")
            if not registration_pk.isdigit():
                raise Http404
            registration = get_object_or_404(Registration, settings=observation, pk=int(registration_pk))
            if action == "cancel":
                services.registration_cancel(registration=registration, actor=request.user)
                messages.success(request, _("The registration was cancelled."))
            else:
                try:
                    attended = int(request.POST.get("attended", ""))
                except ValueError:
                    raise ValidationError(_("Give how many came.")) from None
                services.registration_check_in(actor=request.user, registration=registration, attended=attended)
                messages.success(request, _("Recorded."))
        elif action == "count":
            raw = request.POST.get("count", "").strip()
            if raw and not raw.isdigit():
                raise ValidationError(_("Give the number of observers as a whole number from 0."))
            services.observer_count_correct(actor=request.user, meeting=meeting, count=int(raw) if raw else None)
            messages.success(request, _("The number of observers was saved."))
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("participation:manage", pk=meeting.pk)


@login_required
@require_GET
def register_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """傍聴者受付簿: the printed list the reception ticks on the day."""
    meeting, _access = meeting_for(request.user, pk, to="manage")
    observation = get_object_or_404(ObservationSettings, meeting=meeting)
    rows = [r for r in selectors.registrations_of(observation) if r.state in (
        Registration.State.SEATED, Registration.State.WAITING)]
    pdf = render_pdf("participation/print/register.html", {"meeting": meeting, "observation": observation,
                                                          "rows": rows})
    name = f"傍聴者受付簿_{meeting.label}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f"attachment; filename=\"observers-{meeting.pk}.pdf\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def guide(request: HttpRequest, slug: str) -> HttpResponse:
    body = body_for(request.user, slug, to="manage").body
    current = ObservationGuide.objects.filter(body=body).first()
    form = GuideForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            services.guide_save(actor=request.user, body=body, text=form.cleaned_data["text"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The rules for observers were saved."))
            return redirect("participation:guide", slug=body.slug)
    return render(request, "participation/guide.html", {"body": body, "form": form},
                  status=400 if form.errors else 200)
