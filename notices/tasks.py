"""Celery tasks of the notices. They take ids only; the rows say what to send and to whom."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

from . import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPResponseException,  # only 4xx codes get here re-raised; 5xx are handled as permanent
    ConnectionError,
    TimeoutError,
)


class PermanentError(Exception):
    """The message cannot be delivered as it is (a 5xx answer, a refused or invalid address)."""


def _classify(exc: Exception) -> bool:
    """True if a retry may succeed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Greylisting and full mailboxes answer 4xx at RCPT: try again later. Only 5xx is final.
        codes = [int(code) for code, _message in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= int(exc.smtp_code) < 500
    return False


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {message}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = []
        for code, message in exc.recipients.values():
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
            parts.append(f"{code} {text}")
        return "; ".join(parts) or "recipient refused"
    return f"{type(exc).__name__}: {exc}"


def _send(message) -> None:
    """Send one message. Over SMTP the server's per-recipient answers are checked: with the secretariat in
    copy, a refused recipient does not make smtplib raise, and Django's backend drops the answer."""
    connection = get_connection(fail_silently=False)
    if not isinstance(connection, SMTPBackend):
        connection.send_messages([message])
        return
    encoding = message.encoding or settings.DEFAULT_CHARSET
    sender = sanitize_address(message.from_email, encoding)
    recipients = [sanitize_address(address, encoding) for address in message.recipients()]
    to = {sanitize_address(address, encoding) for address in message.to}
    with connection:
        refused = connection.connection.sendmail(sender, recipients, message.message().as_bytes(linesep="\r\n"))
    lost = {address: answer for address, answer in (refused or {}).items() if address in to}
    if lost and all(400 <= int(code) < 500 for code, _text in lost.values()):
        code, text = next(iter(lost.values()))
        raise smtplib.SMTPResponseException(code, text)  # greylisted: retried
    if lost:
        raise smtplib.SMTPRecipientsRefused(lost)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def deliver(self, delivery_id: int) -> str:
    """Send one delivery: claim its row with a conditional UPDATE, send, mark it sent.

    Running it twice sends one mail: a sent row cannot be claimed, and a row another worker is sending
    can be claimed only after ten minutes (longer than the task's time limit), i.e. when that worker died.
    Temporary SMTP and network errors put the row back to pending and retry with backoff; permanent ones
    (5xx, refused or invalid address) mark it failed with the reason, as does the last failed retry.

    Known limit: if the worker dies after the SMTP server accepted the message and before the row is
    marked sent, the row is claimed again after ten minutes and the mail goes out twice. Both copies carry
    the same Message-ID, so most mail clients show one.
    """
    from .email import build_message
    from .models import Delivery

    claimed_at = services.delivery_claim(delivery_id)
    if claimed_at is None:
        return "skipped"
    delivery = Delivery.objects.select_related("notice__meeting__body__secretariat", "person__user").get(
        pk=delivery_id
    )
    try:
        _send(build_message(delivery))
    except Exception as exc:
        if not isinstance(exc, TRANSIENT) and not isinstance(exc, (ValueError, smtplib.SMTPException)):
            services.delivery_mark_failed(delivery_id, reason=_reason(exc))
            logger.exception("Delivery %s failed with an unexpected error.", delivery_id)
            return "failed"
        if not _classify(exc):
            services.delivery_mark_failed(delivery_id, reason=_reason(exc))
            logger.warning("Delivery %s failed permanently (%s).", delivery_id, type(exc).__name__)
            return "failed"
        if self.request.retries >= self.max_retries:
            services.delivery_mark_failed(delivery_id, reason=_reason(exc))
            logger.error("Delivery %s failed after %s retries.", delivery_id, self.request.retries)
            return "failed"
        countdown = min(2 ** (self.request.retries + 1), 600)
        services.delivery_release(delivery_id, claimed_at, error=_reason(exc), retry_in=countdown)
        # Explicit, so a 4xx refusal at RCPT (SMTPRecipientsRefused, not in TRANSIENT) is retried too.
        raise self.retry(exc=exc, countdown=countdown) from exc
    services.delivery_mark_sent(delivery_id, claimed_at)
    return "sent"


@shared_task(acks_late=True)
def relay() -> dict:
    """Periodic (django-celery-beat, every 60 s): queue deliveries left pending or stuck and send the
    reminders that are due."""
    return services.relay()
