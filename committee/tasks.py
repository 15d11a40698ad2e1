"""Celery tasks of the accounts. Invitations and password resets are rows of the one outbox (core.outbox,
sent by notices); what is left here are the names of tasks that messages queued before that change may
still carry, so they are handled rather than lost."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage

from core.models import User

from . import accounts

MAX_RETRIES = 5
TRANSIENT = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)


@shared_task(acks_late=True)
def send_invitation(invitation_id: int) -> str:
    """Kept for messages queued before invitations went through the outbox: hands that invitation to the
    outbox, once (accounts.invitation_to_outbox). New invitations never queue it."""
    return "queued" if accounts.invitation_to_outbox(invitation_id) else "skipped"


@shared_task(acks_late=True)
def relay_invitations() -> int:
    """The periodic job that used to re-queue invitations left waiting. It now hands to the outbox only the
    invitations written before the outbox carried them and not sent yet (links past their validity are
    left alone); the outbox's own relay (notices.tasks.relay) takes care of every other mail."""
    return sum(accounts.invitation_to_outbox(pk) for pk in accounts.legacy_invitations_waiting())


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
    subject, body = accounts.password_reset_mail(user, language)
    reply_to = [settings.DXPLAN_REPLY_TO] if getattr(settings, "DXPLAN_REPLY_TO", "") else None
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], reply_to=reply_to).send(fail_silently=False)
    return "sent"
