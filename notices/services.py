"""Writing notices: the outbox (a notice and its deliveries in the action's transaction), resends, the
outcome of each delivery, reminders and the relay's work."""

from __future__ import annotations

import datetime as dt
import logging
import math
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox as core_outbox
from core.audit import AuditAction, audit_record
from core.text import single_line
from core.types import AnyUser, account_of
from meetings import selectors as meeting_selectors
from meetings import services as meeting_services
from meetings.models import Agenda, Attendee, Meeting, Minutes

from . import announcements, selectors
from .addressing import message_id_for, site_domain
from .models import (
    BodyNoticeSettings,
    Delivery,
    MaterialAnnouncement,
    Notice,
    NotificationPreference,
    OutboxMail,
    Reminder,
    parse_reminder_days,
)

if TYPE_CHECKING:
    from committee.models import Person

logger = logging.getLogger(__name__)

MAIL_MODELS: dict[str, type[Delivery] | type[OutboxMail]] = {"delivery": Delivery, "mail": OutboxMail}

LEASE = dt.timedelta(seconds=settings.DXPLAN_MAIL_LEASE_SECONDS)  # renewed while the worker sends
STALE_AFTER = LEASE  # its name before the leases: a claim older than this, not renewed, is taken back
REQUEUE_AFTER = dt.timedelta(seconds=60)  # a queued row nobody claimed since: its message was lost
RETRY_GRACE = dt.timedelta(seconds=10)  # a retry not claimed this long after it was due: its message was lost
RETRY_FOR = dt.timedelta(hours=settings.DXPLAN_MAIL_RETRY_HOURS)
BATCH_SIZE = 200  # deliveries per task at most: claimed together, sent over one SMTP connection
# A large send is split into at least BATCHES tasks, so that the worker processes share it evenly (1,001
# deliveries: 8 tasks of 126, not 6 of which the last runs alone), but none smaller than MIN_BATCH: each
# task builds the notice's message and opens a connection once.
BATCHES = 8
MIN_BATCH = 50
REMINDER_HOUR = 9  # reminders go out at 9:00 Tokyo time, N days before
# Kinds sent once per revision of the meeting: sending again returns the notice already written.
ONCE_PER_REVISION = (Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.CANCELLATION)
WITH_ANSWER = (Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.REMINDER, Notice.Kind.ANSWER_REMINDER)


class NoticeError(ValidationError):
    """A notice the meeting's state does not allow; the message says why."""


class RecipientsChangedError(NoticeError):
    """The recipients changed between the confirmation page and the send: nothing was sent."""


def notice_check(*, meeting: Meeting, kind: str) -> None:
    """Raise NoticeError when the meeting's state does not allow this kind of notice now (read-only)."""
    _check_kind(meeting, kind)


def _check_kind(meeting: Meeting, kind: str) -> None:
    if kind not in Notice.Kind.values:
        raise NoticeError(_("Unknown kind of notice."))
    if kind == Notice.Kind.MINUTES_OVERDUE:  # to the secretariat only, written by minutes_overdue_remind
        raise NoticeError(_("This notice goes to the secretariat only and is sent by the daily reminder."))
    if kind == Notice.Kind.INVITATION:
        raise NoticeError(_("Invitations of other attendees are sent from the page of other attendees."))
    sent_before = Notice.objects.filter(meeting=meeting, kind=Notice.Kind.CONVOCATION).exists()
    if kind == Notice.Kind.CONVOCATION:
        agenda = Agenda.objects.filter(meeting=meeting).first()
        if agenda is None or agenda.status != Agenda.Status.APPROVED:
            raise NoticeError(_("The notice of meeting can be sent only once the 次第 is approved."))
        if meeting.start_at is None:
            raise NoticeError(_("Fix the date and time before sending notices."))
    elif kind == Notice.Kind.CANCELLATION:
        if meeting.status not in (Meeting.Status.CANCELLED, Meeting.Status.POSTPONED):
            raise NoticeError(_("Cancel or postpone the meeting first; then send the notice."))
    elif meeting.status == Meeting.Status.CANCELLED:
        raise NoticeError(_("The meeting is cancelled; only the notice of cancellation can be sent."))
    elif kind in (Notice.Kind.CHANGE, Notice.Kind.REMINDER, Notice.Kind.ANSWER_REMINDER) and not sent_before:
        raise NoticeError(_("Send the notice of meeting first."))
    elif kind == Notice.Kind.CHANGE and meeting.start_at is None:
        raise NoticeError(_("Fix the date and time before sending notices."))
    elif kind == Notice.Kind.MINUTES and not Minutes.objects.filter(
        meeting=meeting, status=Minutes.Status.CONFIRMING
    ).exists():
        raise NoticeError(
            _("Send the draft minutes for confirmation first (on the minutes page): the request goes to the "
              "members who attended.")
        )


@transaction.atomic
def notice_send(
    *,
    actor: AnyUser | None,
    meeting: Meeting,
    kind: str,
    note: str = "",
    allow_empty: bool = False,
    expected_recipients: str | None = None,
) -> Notice:
    """Write a notice and one delivery per recipient in one transaction; queue them on commit, in batches.

    The 開催通知 needs an approved 次第 and marks the meeting 通知済. A 開催通知, 変更通知 or 中止・延期通知
    already written for the meeting's current revision is returned as it is: sending twice sends once.
    A notice nobody would receive is refused (the periodic jobs, which record what was due, pass
    `allow_empty`). `expected_recipients` is the fingerprint (selectors.recipients_token) the secretariat
    confirmed: when the recipients changed since, RecipientsChangedError and nothing is written.
    """
    meeting = Meeting.objects.select_for_update().select_related("body__secretariat").get(pk=meeting.pk)
    _check_kind(meeting, kind)
    if kind in ONCE_PER_REVISION:
        existing = Notice.objects.filter(meeting=meeting, kind=kind, sequence=meeting.sequence).first()
        if existing is not None:
            return existing
    # The roster of the meeting day, worked out once for the recipients and the attendance rows (the meeting
    # is locked: it cannot change in between).
    members = meeting_selectors.invited_members(meeting, affiliations=False)  # names and addresses only
    recipients = selectors.recipients(meeting, kind=kind, members=members)
    if expected_recipients is not None and selectors.recipients_token(meeting, kind, recipients) != expected_recipients:
        raise RecipientsChangedError(
            _("The recipients changed since you checked them: now %(n)d. Nothing was sent; check them again.")
            % {"n": len(recipients)}
        )
    if not recipients and not allow_empty:
        raise NoticeError(
            _("Nobody would receive this notice: no invited member or attendee has an email address. "
              "Check the roster (is anyone in office on the meeting day?) and the members without an address.")
        )
    if kind == Notice.Kind.CONVOCATION:
        meeting = meeting_services.meeting_mark_notified(actor=actor, meeting=meeting)
    if kind in WITH_ANSWER:
        # The rows the answer links point to.
        meeting_services.attendance_prepare(actor=actor, meeting=meeting, members=members)
    notice = Notice(
        meeting=meeting,
        kind=kind,
        sequence=meeting.sequence,
        note=note.strip(),
        cc=selectors.secretariat_email(meeting),
        created_by=account_of(actor),
    )
    notice.subject = single_line(_default_subject(notice), 250)
    notice.full_clean()
    notice.save()
    Delivery.objects.bulk_create(
        [Delivery(notice=notice, person=r.person, email=r.email, copy_to=r.copy_to) for r in recipients]
        + _copies(notice, [(r.email, r.copy_to, r.name) for r in recipients])
    )
    ids = _number(notice)
    if kind == Notice.Kind.MATERIALS:
        announcements.attach_pending(meeting=meeting, notice=notice)
    if kind in (Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.CANCELLATION):
        reminders_schedule(meeting=meeting)
    audit_record(
        actor=actor,
        action=AuditAction.NOTICE_SENT,
        target=meeting,
        data={"notice": notice.pk, "kind": kind, "sequence": notice.sequence, "deliveries": len(ids)},
    )
    transaction.on_commit(lambda: queue_deliveries(ids))
    return notice


INVITABLE = (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED)


@transaction.atomic
def attendee_invite(*, actor: AnyUser | None, attendee: Attendee, note: str = "") -> Notice:
    """出席依頼: mail one other attendee (説明員, 参考人, オブザーバー) the meeting's particulars and their own
    link (answer, the meeting's members' materials), through the outbox. Inviting again for the same
    revision of the meeting returns the invitation already written, unless its delivery failed (then the
    address may have been corrected, and a new one goes out)."""
    meeting = Meeting.objects.select_for_update().select_related("body__secretariat").get(pk=attendee.meeting_id)
    attendee = Attendee.objects.select_for_update().get(pk=attendee.pk)
    if meeting.status not in INVITABLE or meeting.is_past:
        raise NoticeError(_("Invitations can be sent only before the meeting."))
    email = single_line(attendee.email, 254)
    if not email:
        raise NoticeError(_("Give the attendee's email address first."))
    existing = (
        Notice.objects.filter(meeting=meeting, kind=Notice.Kind.INVITATION, attendee=attendee)
        .filter(sequence=meeting.sequence, deliveries__email=email)
        .exclude(
            pk__in=Delivery.objects.filter(state=Delivery.State.FAILED, role=Delivery.Role.RECIPIENT).values(
                "notice_id"
            )
        )
        .first()
    )
    if existing is not None:
        return existing
    notice = Notice(
        meeting=meeting,
        kind=Notice.Kind.INVITATION,
        sequence=meeting.sequence,
        note=note.strip(),
        cc=selectors.secretariat_email(meeting),
        attendee=attendee,
        created_by=account_of(actor),
    )
    notice.subject = single_line(_default_subject(notice), 250)
    notice.full_clean()
    notice.save()
    delivery = Delivery(notice=notice, person=attendee.person, email=email)
    delivery.full_clean(exclude=["message_id"])
    delivery.save()
    delivery.message_id = message_id_for(notice.pk, delivery.pk)
    delivery.save(update_fields=["message_id"])
    Delivery.objects.bulk_create(_copies(notice, [(email, "", single_line(attendee.name, 250))]))
    ids = _number(notice)
    audit_record(
        actor=actor,
        action=AuditAction.ATTENDEE_INVITED,
        target=meeting,
        data={"notice": notice.pk, "attendee": attendee.pk, "sequence": notice.sequence},
    )
    transaction.on_commit(lambda: queue_deliveries(ids))
    return notice


def _copies(notice: Notice, recipients: list[tuple[str, str, str]]) -> list[Delivery]:
    """The copy rows of a notice: one to the secretariat's address (notice.cc) and one to each address a
    recipient named for copies, each address once per notice and never one that gets the notice itself.
    `recipients` are (address, copy address, name). A copy is a delivery of its own: sent once whatever
    happens to the recipients' rows (retries, refusals, resends), and without anyone's answer link."""
    taken = {email.strip().lower() for email, _copy, _name in recipients}
    rows = []
    only = recipients[0][2] if len(recipients) == 1 else ""  # an invitation: the copy names its addressee
    wanted = [(notice.cc, only)] + [(copy_to, name) for _email, copy_to, name in recipients if copy_to]
    for address, name in wanted:
        address = single_line(address or "", 254)
        if not address or address.lower() in taken:
            continue
        taken.add(address.lower())
        rows.append(
            Delivery(notice=notice, email=address, role=Delivery.Role.COPY, copy_for=single_line(name or "", 250))
        )
    return rows


def _number(notice: Notice) -> list[int]:
    """Give every delivery of `notice` its deterministic Message-ID in one statement (message_id_for, in
    SQL); returns their ids, recipients first, copies last."""
    notice.deliveries.filter(message_id__isnull=True).update(
        message_id=Concat(
            Value(f"<notice-{notice.pk}-delivery-"), Cast("pk", CharField()), Value(f"@{site_domain()}>"),
            output_field=CharField(),
        )
    )
    return list(notice.deliveries.order_by("-role", "pk").values_list("pk", flat=True))


def _default_subject(notice: Notice) -> str:
    from .email import render_subject

    return render_subject(notice)


# The tasks of the one machinery, by the kind of row they send (queued by name: tasks call services).
TASKS = {"delivery": "notices.tasks.deliver_batch", "mail": "notices.tasks.send_outbox_batch"}


def mail_queue(kind: str, ids: list[int]) -> int:
    """Hand outbox rows of `kind` ("delivery", "mail") to the broker (after commit), batch_size() to a task.
    If the broker is down the rows stay pending and the relay queues them once it is back; returns how many
    rows were queued."""
    from celery import current_app

    model = MAIL_MODELS[kind]
    task = current_app.tasks[TASKS[kind]]
    if not ids:
        return 0
    model.objects.filter(pk__in=ids, state=model.State.PENDING).update(queued_at=timezone.now())
    eager = bool(current_app.conf.task_always_eager)
    queued = 0
    size = batch_size(len(ids))
    for start in range(0, len(ids), size):
        batch = list(ids[start : start + size])
        try:
            task.delay(batch)
            queued += len(batch)
        except Exception:  # the broker is unreachable (kombu raises several types)
            logger.exception("Could not queue %s %s rows; the relay will queue them again.", len(batch), kind)
            if not eager:
                break  # the broker is down: the remaining ones would fail the same way
    return queued


def batch_size(count: int) -> int:
    """Rows per task when `count` rows are queued together (BATCH_SIZE, BATCHES, MIN_BATCH)."""
    return max(1, min(BATCH_SIZE, max(MIN_BATCH, math.ceil(count / BATCHES))))


def queue_deliveries(ids: list[int]) -> int:
    return mail_queue("delivery", ids)


def _reset(row: Delivery) -> list[str]:
    row.state, row.last_error, row.attempts = Delivery.State.PENDING, "", 0
    row.queued_at = row.claimed_at = row.lease_until = row.retry_at = row.failing_since = None
    return ["state", "last_error", "queued_at", "claimed_at", "attempts", "lease_until", "retry_at", "failing_since"]


@transaction.atomic
def delivery_resend(*, actor: AnyUser, delivery: Delivery) -> Delivery:
    """Send a failed delivery again (to the person's current address, if it was corrected)."""
    # Lock the delivery row only: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notice__meeting", "person__user")
        .get(pk=delivery.pk)
    )
    if delivery.state != Delivery.State.FAILED:
        raise NoticeError(_("Only a failed delivery can be sent again."))
    fields = _reset(delivery) + _corrected_address(delivery)
    delivery.save(update_fields=fields)
    audit_record(
        actor=actor, action=AuditAction.DELIVERY_RESENT, target=delivery.notice.meeting, data={"delivery": delivery.pk}
    )
    transaction.on_commit(lambda: queue_deliveries([delivery.pk]))
    return delivery


def _corrected_address(delivery: Delivery) -> list[str]:
    """A recipient's row goes to the person's current address, if it was corrected since."""
    if delivery.role != Delivery.Role.RECIPIENT:
        return []
    current = selectors.person_email(delivery.person)
    if current and current != delivery.email and not delivery.notice.deliveries.filter(email=current).exists():
        delivery.email = current
        return ["email"]
    return []


@transaction.atomic
def notice_resend_failed(*, actor: AnyUser, notice: Notice) -> int:
    """失敗分をすべて再送: every failed delivery of `notice` back to the outbox (each to the person's current
    address, if it was corrected), with one audit entry. Copies are rows of their own: a recipient's row
    sent again sends no second copy. Returns how many were queued; none failed is refused."""
    notice = Notice.objects.select_for_update().select_related("meeting").get(pk=notice.pk)
    rows = list(
        Delivery.objects.select_for_update(of=("self",))
        .filter(notice=notice, state=Delivery.State.FAILED)
        .select_related("person__user")
        .order_by("pk")
    )
    if not rows:
        raise NoticeError(_("No delivery of this notice failed."))
    for row in rows:
        row.notice = notice
        row.save(update_fields=_reset(row) + _corrected_address(row))
    ids = [row.pk for row in rows]
    audit_record(
        actor=actor, action=AuditAction.DELIVERY_RESENT, target=notice.meeting,
        data={"notice": notice.pk, "deliveries": ids, "all_failed": True},
    )
    transaction.on_commit(lambda: queue_deliveries(ids))
    return len(ids)


# --- the one sending machinery's steps (notices.outbox): claim, renew, outcome ----------------------
#
# Every row of the outbox (a Delivery, an OutboxMail) goes through these, whatever its model. A worker
# claims rows with one conditional UPDATE (SELECT … FOR UPDATE SKIP LOCKED), holding them under a lease
# (LEASE) that it renews while it sends; the claim's time is the token every later step checks, so a
# worker whose lease ran out and whose rows were taken back cannot mark them.

MailModel = type[Delivery] | type[OutboxMail]


def _claimable(now: dt.datetime) -> Q:
    """Pending and due (no retry waiting, or its time has come), or held by a lease that ran out."""
    return (
        Q(state=Delivery.State.PENDING, retry_at__isnull=True)
        | Q(state=Delivery.State.PENDING, retry_at__lte=now + dt.timedelta(seconds=1))
        | Q(state=Delivery.State.SENDING, lease_until__lt=now)
        | Q(state=Delivery.State.SENDING, lease_until__isnull=True, claimed_at__lt=now - LEASE)
    )


@transaction.atomic
def mail_claim(model: MailModel, ids: list[int]) -> tuple[dt.datetime, list[Any]]:
    """Take the claimable rows of `ids` for sending: one SELECT … FOR UPDATE SKIP LOCKED and one UPDATE.
    Rows another worker holds, not yet due, or done are left out, so two runs of the same batch never claim
    the same row. Returns the claim's time (the token) and the rows, their `attempts` counting this one."""
    now = timezone.now()
    query: QuerySet[Any] = (
        model.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk__in=ids).filter(_claimable(now))
    )
    if model is Delivery:
        query = query.select_related("person")
    rows = list(query.order_by("pk"))
    if rows:
        model.objects.filter(pk__in=[r.pk for r in rows]).update(
            state=model.State.SENDING, claimed_at=now, lease_until=now + LEASE, attempts=F("attempts") + 1
        )
    for row in rows:
        row.state, row.claimed_at, row.lease_until = model.State.SENDING, now, now + LEASE
        row.attempts += 1
    return now, rows


def mail_renew(model: MailModel, ids: list[int], claimed_at: dt.datetime) -> int:
    """Extend the lease of the rows of `ids` still held by the claim made at `claimed_at`."""
    if not ids:
        return 0
    return model.objects.filter(pk__in=ids, state=model.State.SENDING, claimed_at=claimed_at).update(
        lease_until=timezone.now() + LEASE
    )


def mail_mark_sent(model: MailModel, ids: list[int], claimed_at: dt.datetime) -> int:
    """Mark sent, in one UPDATE, the rows of `ids` still held by the claim made at `claimed_at`."""
    if not ids:
        return 0
    return model.objects.filter(pk__in=ids, state=model.State.SENDING, claimed_at=claimed_at).update(
        state=model.State.SENT, sent_at=timezone.now(), last_error="", lease_until=None, retry_at=None,
        failing_since=None,
    )


def retry_delay(attempts: int) -> int:
    """Seconds before the next try after `attempts` tries: DXPLAN_MAIL_RETRY_FIRST_SECONDS, twice that …
    at most DXPLAN_MAIL_RETRY_MAX_SECONDS."""
    first, most = settings.DXPLAN_MAIL_RETRY_FIRST_SECONDS, settings.DXPLAN_MAIL_RETRY_MAX_SECONDS
    return int(min(first * 2 ** min(max(attempts - 1, 0), 30), most))


def mail_mark_retry(
    model: MailModel, rows: list[Any], claimed_at: dt.datetime, *, error: str, tried: bool = True
) -> tuple[dict[dt.datetime, list[int]], list[int]]:
    """A temporary error (refused connection, timeout, 4xx) for `rows` (claimed at `claimed_at`): back to
    pending with the next try after the backoff; it uses nothing up. `tried=False` (the connection was
    lost before their turn) does not count the attempt and tries again at once. A row failing for longer
    than DXPLAN_MAIL_RETRY_HOURS is marked failed instead. Returns the ids by their next try, and the ids
    marked failed."""
    now = timezone.now()
    reason = single_line(error, 1000)
    expired = [r.pk for r in rows if r.failing_since is not None and now - r.failing_since >= RETRY_FOR]
    by_attempts: dict[int, list[int]] = {}
    for row in rows:
        if row.pk not in expired:
            by_attempts.setdefault(row.attempts if tried else 0, []).append(row.pk)
    later: dict[dt.datetime, list[int]] = {}
    for attempts, ids in by_attempts.items():
        retry_at = now + dt.timedelta(seconds=retry_delay(attempts) if tried else 1)
        later.setdefault(retry_at, []).extend(ids)
        held = model.objects.filter(pk__in=ids, state=model.State.SENDING, claimed_at=claimed_at)
        held.filter(failing_since__isnull=True).update(failing_since=now)
        held.update(
            state=model.State.PENDING, last_error=reason, retry_at=retry_at, lease_until=None, queued_at=now,
            **({} if tried else {"attempts": F("attempts") - 1}),
        )
    failed = [pk for pk in expired if mail_mark_failed(model, pk, reason=f"{reason} ({_('retried for too long')})")]
    return later, failed


def mail_mark_failed(model: MailModel, pk: int, *, reason: str) -> bool:
    """A permanent error, or temporary ones for too long: failed, shown for resend."""
    if model is Delivery:
        return delivery_mark_failed(pk, reason=reason)
    text = single_line(reason, 1000)
    with transaction.atomic():
        marked = bool(
            model.objects.filter(pk=pk).exclude(state=model.State.SENT).update(
                state=model.State.FAILED, last_error=text, lease_until=None, retry_at=None
            )
        )
        if marked:  # the app that wrote it may record the failure too (core.outbox.on_failed)
            topic = OutboxMail.objects.filter(pk=pk).values_list("topic", flat=True).first()
            if topic is not None:
                core_outbox.failed(topic, pk, text)
    return marked


def deliveries_claim(ids: list[int]) -> tuple[dt.datetime, list[Delivery]]:
    return mail_claim(Delivery, ids)


def deliveries_mark_sent(ids: list[int], claimed_at: dt.datetime) -> int:
    return mail_mark_sent(Delivery, ids, claimed_at)


@transaction.atomic
def delivery_mark_failed(delivery_id: int, *, reason: str) -> bool:
    """A permanent error, or retries exhausted: failed, shown to the secretariat for resend."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notice__meeting")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.state in (Delivery.State.SENT, Delivery.State.FAILED):
        return False
    delivery.state, delivery.last_error = Delivery.State.FAILED, single_line(reason, 1000)
    delivery.lease_until = delivery.retry_at = None
    delivery.save(update_fields=["state", "last_error", "lease_until", "retry_at"])
    audit_record(
        actor=None,
        action=AuditAction.DELIVERY_FAILED,
        target=delivery.notice.meeting,
        data={"delivery": delivery.pk, "notice": delivery.notice_id, "reason": delivery.last_error[:300]},
    )
    return True


# --- reminders ------------------------------------------------------------------------------------


def reminder_days(meeting: Meeting) -> list[int]:
    settings_row = BodyNoticeSettings.objects.filter(body_id=meeting.body_id).first()
    return settings_row.days if settings_row else parse_reminder_days("7,1")


@transaction.atomic
def reminders_schedule(*, meeting: Meeting) -> list[Reminder]:
    """Due times of the meeting's reminders from its start and the body's offsets; idempotent. When the
    meeting moves the reminders move with it (one already sent for the old date is sent again); a cancelled
    or undated meeting has none pending. A reminder already due when scheduled is skipped, not sent late."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # the meeting before its reminders
    pending = Reminder.objects.filter(meeting=meeting, sent_at__isnull=True)
    if meeting.start_at is None or meeting.status == Meeting.Status.CANCELLED:
        pending.delete()
        return []
    days = reminder_days(meeting)
    pending.exclude(offset_days__in=days).delete()
    now = timezone.now()
    start = timezone.localtime(meeting.start_at)
    existing = {r.offset_days: r for r in Reminder.objects.select_for_update().filter(meeting=meeting)}
    result = []
    for offset in days:
        day = start.date() - dt.timedelta(days=offset)
        due = timezone.make_aware(dt.datetime.combine(day, dt.time(REMINDER_HOUR)))
        reminder = existing.get(offset)
        if reminder is None:
            reminder = Reminder.objects.create(
                meeting=meeting, offset_days=offset, due_at=due, sent_at=now if due <= now else None
            )
        elif reminder.due_at != due:
            reminder.due_at = due
            reminder.sent_at, reminder.notice = (now, reminder.notice) if due <= now else (None, None)
            reminder.save(update_fields=["due_at", "sent_at", "notice"])
        result.append(reminder)
    return result


def reminders_send_due(*, now: dt.datetime | None = None) -> int:
    """Send every reminder that is due, each in its own transaction. Returns how many notices were written.

    Lock order (docs/locking.md): the meeting first, then its reminder, as notice_send does (a 変更通知
    locks the meeting and then reschedules its reminders). Locking the reminder first could deadlock with
    a change notice sent at the same moment. A second relay waits for the meeting and then finds the
    reminder sent; a reminder a change moved meanwhile is no longer due and is left for its new time."""
    now = now or timezone.now()
    sent = 0
    due = Reminder.objects.filter(due_at__lte=now, sent_at__isnull=True).values_list("pk", "meeting_id")
    for pk, meeting_id in list(due):
        with transaction.atomic():
            meeting = Meeting.objects.select_for_update().filter(pk=meeting_id).first()
            reminder = (
                Reminder.objects.select_for_update().filter(pk=pk, due_at__lte=now, sent_at__isnull=True).first()
            )
            if meeting is None or reminder is None:
                continue
            live = meeting.status in (Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED)
            if live and meeting.start_at is not None and meeting.start_at > now:
                reminder.notice = notice_send(actor=None, meeting=meeting, kind=Notice.Kind.REMINDER, allow_empty=True)
                sent += 1
            reminder.sent_at = now
            reminder.save(update_fields=["sent_at", "notice"])
    return sent


def materials_send_due(*, now: dt.datetime | None = None) -> int:
    """The relay's part: for each meeting whose waiting materials are due, one 資料掲載のお知らせ, each in
    its own transaction with the meeting locked (a second relay skips it). Nothing is sent for a meeting
    cancelled, held or past, nor when no waiting material is still visible to members."""
    now = now or timezone.now()
    sent = 0
    due = (
        MaterialAnnouncement.objects.filter(notice__isnull=True, due_at__lte=now)
        .values_list("meeting_id", flat=True)
        .distinct()
    )
    for meeting_id in list(due):
        with transaction.atomic():
            meeting = Meeting.objects.select_for_update(skip_locked=True).filter(pk=meeting_id).first()
            if meeting is None:
                continue
            waiting = MaterialAnnouncement.objects.filter(meeting=meeting, notice__isnull=True)
            if not waiting.filter(due_at__lte=now).exists():
                continue  # another material came meanwhile: the notice waits with it
            if not announcements.live(meeting, now):
                waiting.delete()
                continue
            waiting.exclude(material__in=announcements.member_visible(meeting.pk)).delete()
            if not waiting.exists():
                continue
            notice_send(actor=None, meeting=meeting, kind=Notice.Kind.MATERIALS, allow_empty=True)
            sent += 1
    return sent


def relay(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic job (every DXPLAN_MAIL_RELAY_SECONDS): queue the outbox rows that are due again (see
    _due), send due reminders and due notices of published materials."""
    now = now or timezone.now()
    queued = {}
    for kind, model in MAIL_MODELS.items():
        ids = list(_due(model, now).order_by("id").values_list("pk", flat=True)[:5000])
        queued[kind] = mail_queue(kind, ids)
    reminders = reminders_send_due(now=now)
    materials = materials_send_due(now=now)
    return {"requeued": queued["delivery"], "reminders": reminders, "materials": materials, "outbox": queued["mail"]}


def _due(model: MailModel, now: dt.datetime) -> QuerySet[Any]:
    """Rows the relay queues again: pending and never queued, queued a while ago and never claimed (the
    broker was down or lost the message), a retry past its time (its message was lost), and rows whose
    lease ran out (the worker died)."""
    pending = model.State.PENDING
    return model.objects.filter(
        Q(state=pending, retry_at__isnull=True, queued_at__isnull=True)
        | Q(state=pending, retry_at__isnull=True, queued_at__lt=now - REQUEUE_AFTER)
        | Q(state=pending, retry_at__lt=now - RETRY_GRACE)
        | Q(state=model.State.SENDING, lease_until__lt=now)
        | Q(state=model.State.SENDING, lease_until__isnull=True, claimed_at__lt=now - LEASE)
    )


# --- minutes overdue (to the secretariat) ---------------------------------------------------------


def _secretariat_addresses(meeting: Meeting, day: dt.date) -> list[str]:
    """The unit's address; without one, the addresses of the staff assigned to the unit on `day`."""
    from committee.models import StaffAssignment

    unit = meeting.body.secretariat
    if (unit.email or "").strip():
        return [unit.email.strip()]
    emails = (
        StaffAssignment.objects.filter(unit=unit, start_on__lte=day)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
        .filter(user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted({e.strip().lower() for e in emails if e.strip()})


def minutes_overdue_remind(*, now: dt.datetime | None = None) -> int:
    """Remind the secretariat of each meeting whose minutes are past the body's deadline: one notice per
    meeting and day at most (a row lock on the meeting keeps two runs from writing two). Returns how many
    notices were written."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    written = 0
    for candidate in meeting_selectors.meetings_with_minutes_overdue(today=today):
        with transaction.atomic():
            meeting = Meeting.objects.select_for_update().select_related("body__secretariat").get(pk=candidate.pk)
            if not meeting_selectors.minutes_overdue(meeting, today):
                continue
            start = dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())
            if Notice.objects.filter(meeting=meeting, kind=Notice.Kind.MINUTES_OVERDUE, created_at__gte=start).exists():
                continue
            addresses = _secretariat_addresses(meeting, today)
            if not addresses:
                logger.warning("Minutes of meeting %s are overdue and its secretariat has no address.", meeting.pk)
                continue
            notice = Notice(meeting=meeting, kind=Notice.Kind.MINUTES_OVERDUE, sequence=meeting.sequence)
            notice.subject = single_line(_default_subject(notice), 250)
            notice.full_clean()
            notice.save()
            Delivery.objects.bulk_create(Delivery(notice=notice, email=email) for email in addresses)
            notice.deliveries.update(
                message_id=Concat(
                    Value(f"<notice-{notice.pk}-delivery-"), Cast("pk", CharField()), Value(f"@{site_domain()}>"),
                    output_field=CharField(),
                )
            )
            ids = list(notice.deliveries.order_by("pk").values_list("pk", flat=True))
            audit_record(
                actor=None, action=AuditAction.NOTICE_SENT, target=meeting,
                data={"notice": notice.pk, "kind": notice.kind, "deliveries": len(ids)},
            )
            transaction.on_commit(partial(queue_deliveries, ids))
            written += 1
    return written


# --- a member's own settings --------------------------------------------------------------------


@transaction.atomic
def preference_update(
    *, actor: AnyUser | None, person: Person, reminders: bool, materials: bool, copy_to: str = ""
) -> NotificationPreference:
    """A member's choice of the optional mails (reminders, 資料掲載のお知らせ) and the address that gets a
    copy of every notice they get. The statutory notices always go out. Only the person themself."""
    from committee.models import Person

    person = Person.objects.select_for_update().get(pk=person.pk)
    if actor is None or person.user_id is None or person.user_id != getattr(actor, "pk", None):
        raise NoticeError(_("Only the member can change their notification settings."))
    preference = NotificationPreference.objects.filter(person=person).first() or NotificationPreference(
        person=person
    )
    before = (preference.reminders, preference.materials, preference.copy_to) if preference.pk else None
    preference.reminders, preference.materials = bool(reminders), bool(materials)
    preference.copy_to = single_line(copy_to, 254)
    preference.full_clean()
    preference.save()
    after = (preference.reminders, preference.materials, preference.copy_to)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.NOTIFICATION_SETTINGS_CHANGED,
            target=person,
            data={"reminders": preference.reminders, "materials": preference.materials,
                  "copy_to": bool(preference.copy_to)},
        )
    return preference


# --- other mails (OutboxMail): 傍聴 registrations, subscriptions -----------------------------------


def outbox_write(*, topic: str, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> OutboxMail:
    """Write one mail to the outbox in the caller's transaction; it is queued when that commits. Header values
    and the subject are flattened to one line, so no input can add a header."""
    return outbox_write_many(
        topic=topic, mails=[(to, subject, text, headers or {})]
    )[0]


def outbox_write_many(
    *, topic: str, mails: list[tuple[str, str, str, dict[str, str]]]
) -> list[OutboxMail]:
    """Write many mails (address, subject, text, extra headers) in one statement; queued on commit, batch_size()
    to a task."""
    rows = OutboxMail.objects.bulk_create(
        OutboxMail(
            topic=topic,
            to=single_line(to, 254),
            subject=single_line(subject, 250),
            text=text,
            headers={single_line(k, 60): single_line(v, 900) for k, v in headers.items()},
        )
        for to, subject, text, headers in mails
    )
    ids = [row.pk for row in rows]
    transaction.on_commit(partial(queue_outbox, ids))
    return rows


def queue_outbox(ids: list[int]) -> int:
    """Hand outbox mails to the broker after commit (see mail_queue)."""
    return mail_queue("mail", ids)


def outbox_states(ids: list[int]) -> dict[int, core_outbox.MailState]:
    """What the outbox says of each row of `ids`, in one query (core.outbox.outbox_states)."""
    rows = OutboxMail.objects.filter(pk__in=ids).values_list("pk", "state", "last_error", "sent_at")
    states = {}
    for pk, state, last_error, sent_at in rows:
        shown = OutboxMail.State.PENDING if state == OutboxMail.State.SENDING else state
        states[pk] = core_outbox.MailState(state=str(shown), last_error=last_error, sent_at=sent_at)
    return states


def outbox_discard(ids: list[int]) -> int:
    """Delete the rows of `ids` still waiting, not being sent (core.outbox.outbox_discard)."""
    return OutboxMail.objects.filter(pk__in=ids, state=OutboxMail.State.PENDING).delete()[0]


def outbox_forget(*, topic: str, addresses: list[str]) -> int:
    """Delete the mails of `topic` written to `addresses` (their personal data is due for deletion)."""
    if not addresses:
        return 0
    return OutboxMail.objects.filter(topic=topic, to__in=addresses).delete()[0]
