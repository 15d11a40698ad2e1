"""Pages of the login accounts: accepting an invitation, password reset and change, "my account", and the
secretariat's invite button. Every change goes through committee/accounts.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from core.forms import ContactForm, PasswordResetRequestForm
from core.http import client_ip
from core.text import single_line

from . import accounts

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _ip(request) -> str | None:
    return client_ip(request)


class _LinkConfirmView(auth_views.PasswordResetConfirmView):
    """Django's confirm view (the token moves from the URL to the session, so it cannot leak through the
    Referer header), with a reason for a refused link, HTTP 400 for it, and the change made by the service."""

    via = "reset"
    token_generator: accounts._ExplainedTokens = accounts.reset_tokens

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def dispatch(self, *args, **kwargs):
        token = kwargs.get("token", "")
        if token == self.reset_url_token:
            token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN, "")
        self.problem = accounts.TokenCheck.INVALID
        response = super().dispatch(*args, **kwargs)
        if not self.validlink and isinstance(response, TemplateResponse):  # a valid link redirects
            user = self.get_user(kwargs.get("uidb64", ""))
            self.problem = self.token_generator.verify(user, token) if user is not None else accounts.TokenCheck.INVALID
            if self.problem == accounts.TokenCheck.OK:  # cannot be: a valid token in the URL redirected
                self.problem = accounts.TokenCheck.INVALID
            response.context_data = {**(response.context_data or {}), "problem": self.problem}
            response.status_code = 400
        return response

    def form_valid(self, form):
        user = accounts.account_password_set(
            user=self.user, password=form.cleaned_data["new_password1"], via=self.via, ip_address=_ip(self.request)
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        if self.post_reset_login:
            auth_login(self.request, user, MODEL_BACKEND)
        return HttpResponseRedirect(self.get_success_url())


class InvitationAcceptView(_LinkConfirmView):
    """The invitation's link: set a password, then go straight to "my meetings", logged in."""

    via = "invitation"
    token_generator = accounts.invitation_tokens
    post_reset_login = True
    template_name = "account/invitation_accept.html"
    title = gettext_lazy("Set your password")
    success_url = reverse_lazy("meetings:my_meetings")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set and you are logged in. Welcome."))
        return response


class PasswordResetConfirmView(_LinkConfirmView):
    template_name = "registration/password_reset_confirm.html"
    title = gettext_lazy("Choose a new password")


def _reset_client(group: str, request) -> str:
    return client_ip(request) or ""


def _reset_address(group: str, request) -> str:
    return single_line(request.POST.get("email", ""), 254).lower()


def reset_throttled(request) -> bool:
    """Too many reset requests from this client address, or for this address (known or not: the count is of
    requests, so the answer tells nothing about accounts). Every POST counts, valid or not."""
    by_client = is_ratelimited(
        request, group="password-reset", key=_reset_client, rate=settings.DXPLAN_PASSWORD_RESET_RATE,
        method="POST", increment=True,
    )
    by_address = is_ratelimited(
        request, group="password-reset-address", key=_reset_address,
        rate=settings.DXPLAN_PASSWORD_RESET_ADDRESS_RATE, method="POST", increment=True,
    )
    return by_client or by_address


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for an address and always answers "if an account has this address, a link is on its way"."""

    form_class = PasswordResetRequestForm
    template_name = "registration/password_reset_form.html"
    title = gettext_lazy("Reset your password")

    def post(self, request, *args, **kwargs):
        if reset_throttled(request):
            form = self.get_form()
            form.errors.clear()  # only the one message below: the address is not checked at all
            form.add_error(None, _("Too many password reset requests from your connection or for this address. "
                                   "Please try again later."))
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        accounts.password_reset_request(
            email=form.cleaned_data["email"], language=get_language() or "", ip_address=_ip(self.request)
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"
    title = gettext_lazy("Check your email")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
    title = gettext_lazy("Your password is set")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    title = gettext_lazy("Change your password")
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        user = accounts.account_password_set(
            user=self.request.user,
            password=form.cleaned_data["new_password1"],
            via="change",
            ip_address=_ip(self.request),
        )
        # Keeps this session; other sessions of the account end with the old hash.
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@login_required
@never_cache
def account(request):
    """My account: the login address, the person's own contact details (editable), links to the password,
    notification settings and the private calendar."""
    person = getattr(request.user, "person", None)
    form = None
    if person is not None:
        initial = {"email": person.email, "phone": person.phone, "postal_address": person.postal_address}
        form = ContactForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                accounts.person_update_contact(
                    actor=request.user, person=person, ip_address=_ip(request), **form.cleaned_data
                )
            except accounts.AccountError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Your contact details have been saved."))
                return redirect("account")
    elif request.method == "POST":
        raise Http404
    context = {
        "person": person,
        "form": form,
        "notice_settings_url": _url_or_none("notices:settings"),
        "calendar_url": _url_or_none("notices:my_calendar"),
    }
    return render(request, "account/account.html", context)


@login_required
@require_POST
def feed_reset(request):
    """The member gives their private calendar feed a new address (from "my calendar"); the old one stops."""
    accounts.account_feed_reset(user=request.user, ip_address=client_ip(request))
    messages.success(
        request,
        _("Your calendar feed has a new address. Subscribe to it again in your calendar application; "
          "the old address no longer works."),
    )
    return redirect(_url_or_none("notices:my_calendar") or reverse("account"))


@login_required
@require_POST
def invite(request, pk: int):
    """The secretariat's invite button on a roster (and the admin's action): invite one person to log in."""
    from . import selectors

    person = get_object_or_404(selectors.people_managed_by(request.user), pk=pk)
    try:
        accounts.account_invite(actor=request.user, person=person, ip_address=_ip(request))
    except PermissionDenied:
        raise Http404 from None
    except accounts.AccountError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("An invitation is on its way to %(name)s.") % {"name": person.full_name})
    next_url = request.POST.get("next", "")
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = reverse("committee:home")
    return redirect(next_url)
