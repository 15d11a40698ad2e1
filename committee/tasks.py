"""Celery tasks of the accounts: the invitation mails. They take ids only; the link's token is made here, so
no secret or address passes through the broker. Password reset mails go through the outbox (core.outbox)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.models import Invitation, User
from core.text import single_line

from . import accounts

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
TRANSIENT = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= int(exc.smtp_code) < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [int(code) for code, _message in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    return False


def _link(name: str, user: User, token: str) -> str:
    # The configured address, never the request's Host header (SECURITY.md, Accounts).
    path = reverse(name, kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token})
    return f"{settings.SITE_URL}{path}"


def _message(user: User, template: str, context: dict) -> EmailMessage:
    context = {"ORGANISATION_NAME": settings.DXPLAN_ORGANISATION_NAME, "SITE_URL": settings.SITE_URL, **context}
    subject = single_line(render_to_string(f"account/email/{template}_subject.txt", context), 200)
    body = render_to_string(f"account/email/{template}_body.txt", context)
    reply_to = [settings.DXPLAN_REPLY_TO] if getattr(settings, "DXPLAN_REPLY_TO", "") else None
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], reply_to=reply_to)


def build_invitation_message(invitation: Invitation) -> EmailMessage:
    """The invitation in the site's language (Japanese): who invites, the link, until when it works."""
    user = invitation.user
    person = getattr(user, "person", None)
    with translation.override(settings.LANGUAGE_CODE):
        return _message(
            user,
            "invitation",
            {
                "name": person.full_name if person else "",
                "email": user.email,
                "link": _link("account_invitation", user, accounts.invitation_tokens.make_token(user)),
                "expires_at": accounts.invitation_tokens.expires_at(),
                "login_url": f"{settings.SITE_URL}{reverse('login')}",
            },
        )


def build_password_reset_message(user: User, language: str) -> EmailMessage:
    subject, body = accounts.password_reset_mail(user, language)
    reply_to = [settings.DXPLAN_REPLY_TO] if getattr(settings, "DXPLAN_REPLY_TO", "") else None
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], reply_to=reply_to)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_invitation(self, invitation_id: int) -> str:
    """Mail one invitation: claim it with a conditional UPDATE (a second run finds it taken and sends nothing),
    send, mark it sent. Temporary SMTP errors retry with backoff; anything else marks it failed for the roster."""
    claimed_at = accounts.invitation_claim(invitation_id)
    if claimed_at is None:
        return "skipped"
    invitation = Invitation.objects.select_related("user__person").get(pk=invitation_id)
    try:
        build_invitation_message(invitation).send(fail_silently=False)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if _is_transient(exc) and self.request.retries < self.max_retries:
            accounts.invitation_release(invitation_id, claimed_at, error=reason)
            raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1) * 30, 900)) from exc
        accounts.invitation_mark_failed(invitation_id, reason=reason)
        logger.warning("Invitation %s could not be sent (%s).", invitation_id, type(exc).__name__)
        return "failed"
    accounts.invitation_mark_sent(invitation_id, claimed_at)
    return "sent"


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def send_password_reset(user_id: int, language: str) -> str:
    """Mail a password reset link. Kept for tasks queued before resets went through the outbox
    (accounts.password_reset_request writes an outbox row now); new requests never queue it."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "skipped"
    build_password_reset_message(user, language).send(fail_silently=False)
    return "sent"


RELAY_GRACE = dt.timedelta(minutes=1)


@shared_task(acks_late=True)
def relay_invitations() -> int:
    """The periodic job (celery beat, or `manage.py send_due_notices` from cron): queue the invitations
    left waiting, e.g. written while the broker was down, or taken by a worker that died. Each is sent
    at most once: `send_invitation` claims it first. Links past their validity are not sent."""
    now = timezone.now()
    oldest = now - dt.timedelta(seconds=accounts.invitation_tokens.timeout())
    waiting = list(
        Invitation.objects.filter(created_at__gte=oldest)
        .filter(
            Q(status=Invitation.Status.PENDING, created_at__lt=now - RELAY_GRACE)
            | Q(status=Invitation.Status.SENDING, claimed_at__lt=now - accounts.STALE_AFTER)
        )
        .values_list("pk", flat=True)
    )
    for invitation_id in waiting:
        send_invitation.delay(invitation_id)
    return len(waiting)
