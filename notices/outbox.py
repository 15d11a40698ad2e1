"""The one machinery that sends every mail of the project: a notice's deliveries (to each recipient, and
its copies) and the other mails of the outbox (OutboxMail: 傍聴 registrations, subscriptions, and any
mail another app writes with services.outbox_write). Ids in, claim, send, mark.

`send(kind, ids)` claims the rows still to send (services.mail_claim: one conditional UPDATE, a lease of
DXPLAN_MAIL_LEASE_SECONDS), builds each message, sends them over one connection of Django's mail backend
(`get_connection()`, opened once, `send_messages` per row) and marks the accepted ones sent, up to
MARK_EVERY in one UPDATE. While it sends, it renews the lease of the rows it still holds every third of
the lease, so a slow batch is never taken from a live worker; a dead worker's rows are taken back by the
relay once the lease ran out. Per row: a temporary failure (refused connection, timeout, lost connection,
a 4xx answer) puts it back to pending with the next try after the backoff (services.retry_delay), for up
to DXPLAN_MAIL_RETRY_HOURS from the first failure; a permanent one (5xx, an address or message that
cannot be sent) marks it failed with the reason. The task (notices.tasks) hands the rows to retry to
Celery's retry; the relay picks them up too if that message is lost.

Why there is sending code here at all, rather than `send_mail` in a task: Django's backend sends a list
of messages and raises at the first error without saying which were accepted, so the rows could not be
marked one by one (a retry would send the accepted ones again); and its answers do not tell a 4xx from a
5xx. So each row is one `send_messages([message])` on the shared connection, and the exception's SMTP
code decides. Over SMTP a recipient's message is the notice's bytes with the recipient's values put in
(MessageBuilder.raw, checked to equal a full build); `_Prepared` hands those bytes to the same backend.

Duplicates after a crash: a mail the SMTP server accepted before its row was marked sent is sent again
when the rows are taken back. Marks are written at most MARK_WITHIN seconds or MARK_EVERY mails after the
server's answer, so at most MARK_EVERY - 1 mails per killed worker, and only those accepted in the last
MARK_WITHIN seconds; with a server taking longer than MARK_WITHIN per mail, at most the one in flight.
Both copies carry the same Message-ID.

On PostgreSQL a run's claims, renewals and marks commit without waiting for the disk (synchronous_commit
off for the run's own statements; measured here: 0.3 ms a commit instead of 5.6 ms, and a batch commits
about once per 20 mails). What the secretariat wrote (the notice, its rows) was committed durably before
the run began. A crash of PostgreSQL itself may lose the bookkeeping of the last fraction of a second
(wal_writer_delay, three times at most): rows whose claim is lost are queued again by the relay, rows whose
mark is lost are taken back when their lease runs out, and their mails are sent again, as after a worker's
crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection as database

from . import services
from .models import Delivery, Notice, OutboxMail

logger = logging.getLogger(__name__)

MARK_EVERY = 20  # accepted mails whose rows are marked sent in one UPDATE …
MARK_WITHIN = 0.1  # … or fewer, when this many seconds passed since the last mark


def transient(exc: BaseException) -> bool:
    """Whether a try may succeed later: no connection, a timeout, a lost connection, a 4xx answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [int(code) for code, _text in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= int(exc.smtp_code) < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)  # refused, timeout, reset


def connection_lost(exc: BaseException) -> bool:
    """Whether the rest of the batch needs a new connection (every SMTP error is an OSError too)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = []
        for code, reply in exc.recipients.values():
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            parts.append(f"{code} {text}")
        return "; ".join(parts) or "recipient refused"
    return f"{type(exc).__name__}: {exc}"


class _Bytes:
    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self.data


class _Prepared(EmailMessage):
    """A message whose bytes are made already (MessageBuilder.raw), sent by Django's SMTP backend as they are."""

    def __init__(self, sender: str, to: str, data: bytes):
        super().__init__(from_email=sender, to=[to])
        self._data = data

    def message(self, *args, **kwargs):
        return _Bytes(self._data)


@dataclass
class Outcome:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retry: dict[dt.datetime, list[int]] = field(default_factory=dict)  # next try -> row ids
    error: BaseException | None = None  # the last temporary error

    @property
    def retrying(self) -> int:
        return sum(len(ids) for ids in self.retry.values())


class _Claim:
    """The rows one run holds: marks the accepted ones sent (see the module on crashes) and renews the
    lease of the rest every third of the lease."""

    def __init__(self, model, claimed_at: dt.datetime, ids: list[int]):
        self.model, self.claimed_at = model, claimed_at
        self.held = set(ids)
        self.accepted: list[int] = []
        self.last_mark = self.last_renew = time.monotonic()
        self.renew_every = services.LEASE.total_seconds() / 3

    def tick(self) -> None:
        if time.monotonic() - self.last_renew >= self.renew_every:
            services.mail_renew(self.model, sorted(self.held), self.claimed_at)
            self.last_renew = time.monotonic()

    def sent(self, pk: int) -> None:
        self.accepted.append(pk)
        if len(self.accepted) >= MARK_EVERY or time.monotonic() - self.last_mark >= MARK_WITHIN:
            self.flush()

    def settled(self, ids: list[int]) -> None:
        self.held.difference_update(ids)

    def flush(self) -> None:
        if self.accepted:
            services.mail_mark_sent(self.model, self.accepted, self.claimed_at)
            self.held.difference_update(self.accepted)
            self.accepted = []
        self.last_mark = time.monotonic()


Job = tuple[Any, Callable[[bool], EmailMessage]]  # (row, message maker: prepared bytes allowed?)


def _delivery_jobs(rows: list[Delivery], fail: Callable[[object, BaseException], None]) -> list[Job]:
    """(row, message maker) for claimed deliveries; the parts a notice's messages share are built once per
    notice. A notice whose message cannot be built fails its rows (no retry)."""
    from .email import MessageBuilder, answer_urls

    by_notice = defaultdict(list)
    for row in rows:
        by_notice[row.notice_id].append(row)
    notices = Notice.objects.select_related("meeting__body__secretariat", "attendee").in_bulk(list(by_notice))
    jobs: list[Job] = []
    for notice_id, notice_rows in by_notice.items():
        try:
            builder = MessageBuilder(notices[notice_id])
            urls = answer_urls(builder.notice, [r for r in notice_rows if r.role == Delivery.Role.RECIPIENT])
        except Exception as exc:
            logger.exception("The message of notice %s could not be built.", notice_id)
            for row in notice_rows:
                fail(row, exc)
            continue
        for row in notice_rows:
            row.notice = builder.notice
            url = urls.get(row.person_id, "") if row.role == Delivery.Role.RECIPIENT else ""

            def make(prepared: bool, row=row, url=url, builder=builder) -> EmailMessage:
                if prepared:
                    sender, _recipients, to, data = builder.raw(row, url)
                    return _Prepared(sender, to, data)
                return builder.build(row, url)

            jobs.append((row, make))
    return jobs


def _mail_jobs(rows: list[OutboxMail], fail: Callable[[object, BaseException], None]) -> list[Job]:
    def job(mail: OutboxMail) -> Job:
        def make(prepared: bool) -> EmailMessage:
            return EmailMessage(
                subject=mail.subject, body=mail.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[mail.to],
                headers=mail.headers,
            )

        return (mail, make)

    return [job(mail) for mail in rows]


JOBS: dict[str, Callable[[list, Callable[[object, BaseException], None]], list[Job]]] = {
    "delivery": _delivery_jobs, "mail": _mail_jobs,
}


@contextlib.contextmanager
def _bookkeeping_without_waiting_for_the_disk():  # noqa: ANN202 - a context manager
    """synchronous_commit off on this connection while a run sends (PostgreSQL only; see the module)."""
    if database.vendor != "postgresql":
        yield
        return
    with database.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with contextlib.suppress(Exception), database.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def send(kind: str, ids: list[int]) -> Outcome:
    """Claim, build, send and mark the rows of `kind` ("delivery", "mail") among `ids` that are still to
    send (see the module). Running it twice, or in two workers at once, sends each mail once."""
    with _bookkeeping_without_waiting_for_the_disk():
        return _send(kind, ids)


def _send(kind: str, ids: list[int]) -> Outcome:
    model = services.MAIL_MODELS[kind]
    outcome = Outcome()
    started = time.monotonic()
    claimed_at, rows = services.mail_claim(model, list(ids))
    outcome.claimed = len(rows)
    if not rows:
        return outcome
    claim = _Claim(model, claimed_at, [r.pk for r in rows])

    def settle(batch: list, exc: BaseException, *, tried: bool = True) -> None:
        if not batch:
            return
        claim.settled([r.pk for r in batch])
        if tried and not transient(exc):
            for row in batch:
                services.mail_mark_failed(model, row.pk, reason=reason(exc))
            outcome.failed += len(batch)
            if not isinstance(exc, smtplib.SMTPException):
                logger.error("%s %s failed with an unexpected error.", kind, [r.pk for r in batch], exc_info=exc)
            return
        later, failed = services.mail_mark_retry(model, batch, claimed_at, error=reason(exc), tried=tried)
        outcome.failed += len(failed)
        for retry_at, pks in later.items():
            outcome.retry.setdefault(retry_at, []).extend(pks)
        outcome.error = exc

    jobs = JOBS[kind](rows, lambda row, exc: settle([row], exc))
    connection = get_connection(fail_silently=False)
    prepared = isinstance(connection, SMTPBackend)
    try:
        try:
            if hasattr(connection, "open"):
                connection.open()
        except Exception as exc:  # the server cannot be reached: every row, as the error says
            settle([row for row, _make in jobs], exc)
            return outcome
        for index, (row, make) in enumerate(jobs):
            claim.tick()
            try:
                message = make(prepared)
                if isinstance(message, _Prepared):
                    # Addresses and bytes are final (MessageBuilder.raw sanitised them as Django's backend
                    # does): handed to the backend's smtplib connection as they are, without the backend
                    # parsing both addresses of every message again.
                    connection.connection.sendmail(message.from_email, message.to, message._data)
                else:
                    connection.send_messages([message])
            except Exception as exc:
                settle([row], exc)
                if connection_lost(exc):  # the rest were not tried: again at once, no attempt counted
                    settle([r for r, _make in jobs[index + 1 :]], exc, tried=False)
                    break
                continue
            claim.sent(row.pk)
            outcome.sent += 1
    finally:
        claim.flush()
        with contextlib.suppress(Exception):
            connection.close()
        logger.info(
            "%s: %d of %d claimed, %d sent, %d failed, %d to retry in %.3f s",
            kind, outcome.claimed, len(ids), outcome.sent, outcome.failed, outcome.retrying,
            time.monotonic() - started,
        )
    return outcome
