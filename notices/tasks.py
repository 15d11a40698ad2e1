"""Celery tasks of the notices: thin. They take ids only; the rows say what to send and to whom, and the
one sending machinery (notices.outbox) claims, sends and marks them.

`deliver_batch` sends a notice's deliveries (notice_send and the relay queue them services.batch_size() to
a task), `send_outbox_batch` the other mails, `deliver` one delivery. Rows a temporary failure put back are sent
again through Celery's retry (the same task, with those ids, after their backoff); should that message be
lost (the broker restarted, the worker died holding it), the relay queues them when they are past due.

Acknowledgement: tasks are acknowledged late (CELERY_TASK_ACKS_LATE) and rejected back to the queue when
their pool process dies (task_reject_on_worker_lost); a message whose whole worker died waits out the
broker's visibility timeout (an hour, longer than any retry countdown, so that Redis never hands a
waiting retry to a second worker). Recovery after a crash does not wait for it: the rows are held under
leases of DXPLAN_MAIL_LEASE_SECONDS, and the relay (every DXPLAN_MAIL_RELAY_SECONDS) queues rows whose
lease ran out to a live worker; the late redelivery then finds nothing to claim.
"""

from __future__ import annotations

import logging
import math

from celery import shared_task
from celery.exceptions import Retry
from celery.signals import worker_process_init
from django.utils import timezone

from . import outbox, services

logger = logging.getLogger(__name__)


@worker_process_init.connect
def _warm_up(**kwargs) -> None:
    """When a pool process starts, load what every notice needs rather than in the first notice's task:
    the URLconf (it imports the PDF printing, WeasyPrint, about a second), the mail templates and the
    calendar's VTIMEZONE."""
    from django.conf import settings as django_settings
    from django.template.loader import get_template
    from django.urls import get_resolver

    from .calendar import _vtimezone_ical
    from .models import Notice

    try:
        get_resolver().url_patterns  # noqa: B018 - loading is the point
        for kind in Notice.Kind.values:
            get_template(f"notices/email/{kind}.txt")
            get_template(f"notices/email/{kind}.html")
        _vtimezone_ical(django_settings.TIME_ZONE)
    except Exception:  # the first task will report it
        logger.exception("Could not load what the notices need.")


def _run(task, kind: str, ids: list[int], args=lambda ids: (ids,)) -> dict:
    """Send, then hand the rows to retry to Celery: the earliest group through `task.retry`, any later
    group (rows of another backoff step) as a message of its own. In-process (eager) runs leave them to
    the relay."""
    outcome = outbox.send(kind, [int(pk) for pk in ids])
    result = {"claimed": outcome.claimed, "sent": outcome.sent, "failed": outcome.failed}
    if outcome.retrying:
        result["retry"] = outcome.retrying
    if not outcome.retry or task.request.is_eager or task.request.called_directly:
        return result
    now = timezone.now()
    groups = sorted(outcome.retry.items())
    try:
        for retry_at, later in groups[1:]:
            countdown = max(1, math.ceil((retry_at - now).total_seconds()))
            task.apply_async(args=args(later), countdown=countdown)
        retry_at, first = groups[0]
        countdown = max(1, math.ceil((retry_at - now).total_seconds()))
        raise task.retry(args=args(first), countdown=countdown, exc=outcome.error, max_retries=None)
    except Retry:
        raise
    except Exception:  # the broker is down: the rows are pending with their time, the relay queues them
        logger.exception("Could not queue %s rows for a retry; the relay will.", outcome.retrying)
    return result


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_batch(self, delivery_ids: list[int]) -> dict:
    """Send a batch of a notice's deliveries over one connection. Running it twice sends each mail once."""
    return _run(self, "delivery", delivery_ids)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_outbox_batch(self, mail_ids: list[int]) -> dict:
    """Send a batch of outbox mails (not notices) over one connection. Running it twice sends each once."""
    return _run(self, "mail", mail_ids)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver(self, delivery_id: int) -> str:
    """Send one delivery (by hand, or a resend). Running it twice sends one mail."""
    result = _run(self, "delivery", [delivery_id], args=lambda ids: (ids[0],))
    if not result["claimed"]:
        return "skipped"
    return "sent" if result["sent"] else ("failed" if result["failed"] else "retry")


@shared_task(acks_late=True)
def relay() -> dict:
    """Periodic (django-celery-beat, every DXPLAN_MAIL_RELAY_SECONDS): queue the outbox rows that are due
    (never queued, lost, retries past their time, leases run out), send the reminders and the notices of
    published materials that are due."""
    return services.relay()


@shared_task(acks_late=True)
def remind_minutes_overdue() -> int:
    """Daily (django-celery-beat): remind the secretariat of minutes past the body's deadline; at most one
    reminder per meeting and day, however often it runs."""
    return services.minutes_overdue_remind()
