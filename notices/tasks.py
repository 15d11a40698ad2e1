"""Celery tasks of the notices. They take ids only; the rows say what to send and to whom.

`deliver_batch` is how notices go out: `notice_send` (and the relay) queue the deliveries BATCH_SIZE to a
task. The task claims the ones still to send in one statement, builds their messages with the parts every
recipient shares worked out once per notice, sends them over one SMTP connection (a large batch over up to
SMTP_CONNECTIONS, in parallel) and marks them sent together, up to MARK_EVERY in one UPDATE. Per recipient,
a permanent refusal (5xx) marks that delivery failed with the reason and a temporary one (4xx) puts it back
to pending and queues it again after its backoff, up to MAX_RETRIES; a lost connection does the same for
the delivery being sent and puts the rest back without counting an attempt. `deliver` does the same for a
single delivery (a resend, or by hand).

What a worker crash can do: a claimed row stays 'sending' until STALE_AFTER (10 minutes, longer than the
task's time limit), then the relay queues it again and it is sent. A mail the SMTP server accepted before
its row was marked sent is then sent a second time. That window: the mails accepted since the last mark,
i.e. fewer than MARK_EVERY (20) per batch, and only those accepted within MARK_WITHIN (0.1 s) before the
crash; when a mail takes longer than MARK_WITHIN to send (a slow server), every row is marked on its own
and the window is the mail in flight on each connection (one; two for a batch sent over two connections).
Both copies carry the same Message-ID, so most mail clients show one.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import smtplib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from celery import shared_task
from celery.signals import worker_process_init
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from . import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
MARK_EVERY = 20  # accepted mails whose rows are marked sent in one UPDATE …
MARK_WITHIN = 0.1  # … or fewer, when this many seconds passed since the last mark
SMTP_CONNECTIONS = 2  # connections a batch is sent over at most, in parallel …
CONNECTION_SHARE = 25  # … each with at least this many deliveries
NOT_TRIED_RETRY = 2  # seconds: rows whose turn never came because the connection was lost
TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPResponseException,  # only 4xx codes are retried; 5xx are handled as permanent
    ConnectionError,
    TimeoutError,
)


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
        for code, reply in exc.recipients.values():
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            parts.append(f"{code} {text}")
        return "; ".join(parts) or "recipient refused"
    return f"{type(exc).__name__}: {exc}"


def connection_lost(exc: Exception) -> bool:
    """Whether the rest of the batch needs a new connection (every SMTP error is an OSError too)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def backoff(attempts: int) -> int:
    """Seconds before the next try after `attempts` tries: 2, 4, 8 … at most ten minutes."""
    return min(2**attempts, 600)


class Transport:
    """One connection for a batch. Over SMTP the server's per-recipient answers are checked: with the
    secretariat or a member's secretary in copy, a refused recipient does not make smtplib raise, and
    Django's backend drops the answer. Other backends (files, memory) get one message at a time."""

    def __init__(self):
        self.backend = get_connection(fail_silently=False)
        self.smtp = isinstance(self.backend, SMTPBackend)

    def open(self) -> None:
        opener = getattr(self.backend, "open", None)
        if opener is not None:
            opener()

    def close(self) -> None:
        closer = getattr(self.backend, "close", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                closer()

    def send(self, builder, delivery, answer_url: str) -> None:
        """Send one delivery's message; raises as smtplib does, or for a refused addressee."""
        if not self.smtp:
            self.backend.send_messages([builder.build(delivery, answer_url)])
            return
        client = self.backend.connection
        if client is None:
            raise smtplib.SMTPServerDisconnected("not connected")
        sender, recipients, to, data = builder.raw(delivery, answer_url)
        refused = client.sendmail(sender, recipients, data)
        lost = {address: answer for address, answer in (refused or {}).items() if address == to}
        if lost and all(400 <= int(code) < 500 for code, _text in lost.values()):
            code, text = next(iter(lost.values()))
            raise smtplib.SMTPResponseException(code, text)  # greylisted: retried
        if lost:
            raise smtplib.SMTPRecipientsRefused(lost)


class Marker:
    """Marks accepted deliveries sent, several in one UPDATE (see the module's note on crashes)."""

    def __init__(self, claimed_at):
        self.claimed_at = claimed_at
        self.ids: list[int] = []
        self.last = time.monotonic()

    def add(self, pk: int) -> None:
        self.ids.append(pk)
        if len(self.ids) >= MARK_EVERY or time.monotonic() - self.last >= MARK_WITHIN:
            self.flush()

    def flush(self) -> None:
        if self.ids:
            services.deliveries_mark_sent(self.ids, self.claimed_at)
            self.ids = []
        self.last = time.monotonic()


@dataclass
class Outcome:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry: list[tuple[int, int]] = field(default_factory=list)  # (delivery id, seconds to wait)
    error: Exception | None = None  # the last temporary error


def _settle_error(delivery, exc: Exception, claimed_at, outcome: Outcome, *, tried: bool = True) -> None:
    """One delivery's error: permanent ones (and the last failed retry) mark it failed with the reason;
    temporary ones put it back to pending for a retry after the backoff."""
    if not tried:
        services.delivery_release(delivery.pk, claimed_at, error=_reason(exc), retry_in=NOT_TRIED_RETRY, tried=False)
        outcome.retry.append((delivery.pk, NOT_TRIED_RETRY))
        outcome.error = exc
        return
    if not isinstance(exc, TRANSIENT) and not isinstance(exc, (ValueError, smtplib.SMTPException)):
        services.delivery_mark_failed(delivery.pk, reason=_reason(exc))
        logger.error("Delivery %s failed with an unexpected error.", delivery.pk, exc_info=exc)
        outcome.failed += 1
    elif not _classify(exc):
        services.delivery_mark_failed(delivery.pk, reason=_reason(exc))
        logger.warning("Delivery %s failed permanently (%s).", delivery.pk, type(exc).__name__)
        outcome.failed += 1
    elif delivery.attempts > MAX_RETRIES:
        services.delivery_mark_failed(delivery.pk, reason=_reason(exc))
        logger.error("Delivery %s failed after %s attempts.", delivery.pk, delivery.attempts)
        outcome.failed += 1
    else:
        countdown = backoff(delivery.attempts)
        services.delivery_release(delivery.pk, claimed_at, error=_reason(exc), retry_in=countdown)
        outcome.retry.append((delivery.pk, countdown))
        outcome.error = exc


def _send_all(transport_factory, jobs, report, stop: threading.Event) -> None:
    """Send `jobs` ((delivery, builder, answer link) …) in order over one connection; `report(delivery,
    error or None, tried)` each outcome. After a lost connection the rest are reported not tried. No
    database access here: this may run in a thread of its own."""
    reported = 0
    try:
        transport = transport_factory()
        try:
            transport.open()
        except Exception as exc:  # the server cannot be reached: every row as that error says
            for delivery, _builder, _url in jobs:
                report(delivery, exc, True)
                reported += 1
            return
        try:
            lost = None
            for delivery, builder, url in jobs:
                if stop.is_set():
                    return
                if lost is not None:
                    report(delivery, lost, False)
                    reported += 1
                    continue
                try:
                    transport.send(builder, delivery, url)
                except Exception as exc:
                    report(delivery, exc, True)
                    reported += 1
                    if connection_lost(exc):
                        lost = exc
                    continue
                report(delivery, None, True)
                reported += 1
        finally:
            transport.close()
    except Exception as exc:  # a bug: what was not reported stays claimed until the relay takes it back
        logger.exception("Sending stopped after %d of %d deliveries.", reported, len(jobs))
        for delivery, _builder, _url in jobs[reported:]:
            report(delivery, exc, False)


def _jobs_for(rows: list, outcome: Outcome) -> list[tuple]:
    """(delivery, message builder, answer link) for each claimed row; the message parts shared by a
    notice are built once. A notice whose message cannot be built fails its rows (no retry)."""
    from .email import MessageBuilder, answer_urls
    from .models import Notice

    by_notice = defaultdict(list)
    for row in rows:
        by_notice[row.notice_id].append(row)
    notices = Notice.objects.select_related("meeting__body__secretariat").in_bulk(list(by_notice))
    builders: dict[int, tuple] = {}
    jobs = []
    for row in rows:
        try:
            if row.notice_id not in builders:
                notice = notices[row.notice_id]
                builders[row.notice_id] = (MessageBuilder(notice), answer_urls(notice, by_notice[row.notice_id]))
        except Exception as exc:  # a notice whose message cannot be built is not retried
            logger.exception("The message of notice %s could not be built.", row.notice_id)
            services.delivery_mark_failed(row.pk, reason=_reason(exc))
            outcome.failed += 1
            continue
        builder, urls = builders[row.notice_id]
        row.notice = builder.notice
        jobs.append((row, builder, urls.get(row.person_id, "")))
    return jobs


def _send_in_threads(jobs: list[tuple], parts: int, settle, stop: threading.Event) -> None:
    """Send `jobs` over `parts` connections, one thread each; this thread settles their reports, so all
    the database work stays here."""
    reports: queue.Queue = queue.Queue()
    size = -(-len(jobs) // parts)
    threads = [
        threading.Thread(
            target=_send_all,
            args=(Transport, jobs[i * size : (i + 1) * size], lambda *a: reports.put(a), stop),
            name=f"notices-smtp-{i}",
            daemon=True,
        )
        for i in range(parts)
    ]
    for thread in threads:
        thread.start()
    done = 0
    while done < len(jobs):
        try:
            settle(*reports.get(timeout=1.0))
            done += 1
        except queue.Empty:
            if not any(thread.is_alive() for thread in threads) and reports.empty():
                break  # a thread stopped early (logged); its rows stay claimed for the relay


def send_deliveries(ids: list[int]) -> Outcome:
    """Claim, build, send and mark the deliveries of `ids` that are still to send (see the module).
    Over SMTP a batch of more than CONNECTION_SHARE deliveries is split over up to SMTP_CONNECTIONS
    connections, each sending its part in order in a thread of its own; this thread does all the
    database work (marks and errors) as their reports come in."""
    outcome = Outcome()
    started = time.monotonic()
    claimed_at, rows = services.deliveries_claim(ids)
    outcome.claimed = len(rows)
    if not rows:
        return outcome
    jobs = _jobs_for(rows, outcome)
    marker = Marker(claimed_at)

    def settle(delivery, exc: Exception | None, tried: bool) -> None:
        if exc is None:
            marker.add(delivery.pk)
            outcome.sent += 1
        else:
            _settle_error(delivery, exc, claimed_at, outcome, tried=tried)

    first = Transport()
    parts = max(1, min(SMTP_CONNECTIONS, len(jobs) // CONNECTION_SHARE)) if first.smtp else 1
    stop = threading.Event()
    try:
        if parts == 1:
            _send_all(lambda: first, jobs, settle, stop)
        else:
            _send_in_threads(jobs, parts, settle, stop)
    finally:
        stop.set()
        marker.flush()
        logger.info(
            "%d of %d deliveries claimed, %d sent, %d failed, %d to retry in %.3f s over %d connection(s)",
            outcome.claimed, len(ids), outcome.sent, outcome.failed, len(outcome.retry), time.monotonic() - started,
            parts,
        )
    return outcome


@shared_task(bind=True, acks_late=True)
def deliver_batch(self, delivery_ids: list[int]) -> dict:
    """Send a batch of deliveries over one connection. Running it twice sends each mail once: a row
    another run holds or that is sent cannot be claimed. Rows with a temporary error are queued again,
    each after its backoff (in-process, without a broker, the relay sends them when they are due)."""
    outcome = send_deliveries(list(delivery_ids))
    if outcome.retry and not self.request.is_eager:
        later: dict[int, list[int]] = defaultdict(list)
        for pk, countdown in outcome.retry:
            later[countdown].append(pk)
        for countdown, ids in sorted(later.items()):
            try:
                deliver_batch.apply_async(args=(ids,), countdown=countdown)
            except Exception:  # the broker is down: the rows are pending, the relay queues them
                logger.exception("Could not queue %s deliveries for a retry; the relay will.", len(ids))
    return {"claimed": outcome.claimed, "sent": outcome.sent, "failed": outcome.failed, "retry": len(outcome.retry)}


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def deliver(self, delivery_id: int) -> str:
    """Send one delivery: claim its row with a conditional UPDATE, send, mark it sent. Running it twice
    sends one mail. Temporary SMTP and network errors put the row back to pending and retry with backoff;
    permanent ones (5xx, refused or invalid address) mark it failed with the reason, as does the last
    failed retry (MAX_RETRIES). A crash between the server's acceptance and the mark: see the module."""
    outcome = send_deliveries([delivery_id])
    if outcome.claimed == 0:
        return "skipped"
    if outcome.retry:
        [(_pk, countdown)] = outcome.retry
        raise self.retry(exc=outcome.error, countdown=countdown)
    return "sent" if outcome.sent else "failed"


@shared_task(acks_late=True)
def relay() -> dict:
    """Periodic (django-celery-beat, every 60 s): queue deliveries left pending or stuck, send the reminders
    and the notices of published materials that are due."""
    return services.relay()


@shared_task(acks_late=True)
def remind_minutes_overdue() -> int:
    """Daily (django-celery-beat): remind the secretariat of minutes past the body's deadline; at most one
    reminder per meeting and day, however often it runs."""
    return services.minutes_overdue_remind()


@shared_task(acks_late=True)
def send_outbox_batch(mail_ids: list[int]) -> dict:
    """Send a batch of outbox mails (not notices) over one connection. Running it twice sends each once."""
    from django.conf import settings as django_settings
    from django.core.mail import EmailMessage

    claimed_at, rows = services.outbox_claim(list(mail_ids))
    sent = failed = 0
    if not rows:
        return {"claimed": 0, "sent": 0, "failed": 0}
    connection = get_connection()
    try:
        for mail in rows:
            message = EmailMessage(
                subject=mail.subject,
                body=mail.text,
                from_email=django_settings.DEFAULT_FROM_EMAIL,
                to=[mail.to],
                headers=mail.headers,
                connection=connection,
            )
            try:
                message.send()
            except Exception as exc:
                permanent = not _classify(exc) or mail.attempts >= MAX_RETRIES
                services.outbox_mark(mail.pk, claimed_at, error=_reason(exc), permanent=permanent)
                failed += 1
                if connection_lost(exc):
                    break  # the rest stay claimed; the relay takes them back once stale
                continue
            services.outbox_mark(mail.pk, claimed_at)
            sent += 1
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return {"claimed": len(rows), "sent": sent, "failed": failed}
