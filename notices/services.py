"""Writing notices: the outbox (a notice and its deliveries in the action's transaction), resends, the
outcome of each delivery, reminders and the relay's work."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditAction, audit_record
from core.text import single_line
from core.types import AnyUser, account_of
from meetings import services as meeting_services
from meetings.models import Agenda, Attendee, Meeting

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

STALE_AFTER = dt.timedelta(seconds=settings.DXPLAN_DELIVERY_STALE_SECONDS)  # > the task's time limit
REQUEUE_AFTER = dt.timedelta(seconds=60)
BATCH_SIZE = 200  # deliveries per task: claimed together, sent over one SMTP connection
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
    recipients = selectors.recipients(meeting, kind=kind)
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
        meeting_services.attendance_prepare(actor=actor, meeting=meeting)  # rows the answer links point to
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
        Delivery(notice=notice, person=r.person, email=r.email, copy_to=r.copy_to) for r in recipients
    )
    # The deterministic Message-ID of every delivery in one statement (message_id_for, in SQL).
    notice.deliveries.update(
        message_id=Concat(
            Value(f"<notice-{notice.pk}-delivery-"), Cast("pk", CharField()), Value(f"@{site_domain()}>"),
            output_field=CharField(),
        )
    )
    ids = list(notice.deliveries.order_by("pk").values_list("pk", flat=True))
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
        .exclude(deliveries__state=Delivery.State.FAILED)
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
    audit_record(
        actor=actor,
        action=AuditAction.ATTENDEE_INVITED,
        target=meeting,
        data={"notice": notice.pk, "attendee": attendee.pk, "sequence": notice.sequence},
    )
    transaction.on_commit(lambda: queue_deliveries([delivery.pk]))
    return notice


def _default_subject(notice: Notice) -> str:
    from .email import render_subject

    return render_subject(notice)


def queue_deliveries(ids: list[int]) -> int:
    """Hand deliveries to the broker (after commit), BATCH_SIZE to a task. If the broker is down the rows
    stay pending and the relay queues them once it is back; returns how many deliveries were queued."""
    from celery import current_app

    # By name, not by import: tasks call services, so services do not import tasks.
    deliver_batch = current_app.tasks["notices.tasks.deliver_batch"]
    if not ids:
        return 0
    Delivery.objects.filter(pk__in=ids, state=Delivery.State.PENDING).update(queued_at=timezone.now())
    eager = bool(current_app.conf.task_always_eager)
    queued = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = list(ids[start : start + BATCH_SIZE])
        try:
            deliver_batch.delay(batch)
            queued += len(batch)
        except Exception:  # the broker is unreachable (kombu raises several types)
            logger.exception("Could not queue %s deliveries; the relay will queue them again.", len(batch))
            if not eager:
                break  # the broker is down: the remaining ones would fail the same way
    return queued


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
    fields = ["state", "last_error", "queued_at", "claimed_at", "attempts"]
    current = selectors.person_email(delivery.person)
    if current and current != delivery.email and not delivery.notice.deliveries.filter(email=current).exists():
        delivery.email = current
        fields.append("email")
    delivery.state, delivery.last_error, delivery.attempts = Delivery.State.PENDING, "", 0
    delivery.queued_at = delivery.claimed_at = None
    delivery.save(update_fields=fields)
    audit_record(
        actor=actor, action=AuditAction.DELIVERY_RESENT, target=delivery.notice.meeting, data={"delivery": delivery.pk}
    )
    transaction.on_commit(lambda: queue_deliveries([delivery.pk]))
    return delivery


# --- the task's steps: claim, outcome ---------------------------------------------------------------


def _claimable(now: dt.datetime) -> Q:
    """Pending, or 'sending' so long that its worker must have died."""
    return Q(state=Delivery.State.PENDING) | Q(state=Delivery.State.SENDING, claimed_at__lt=now - STALE_AFTER)


def delivery_claim(delivery_id: int) -> dt.datetime | None:
    """Take one delivery for sending with one conditional UPDATE. Returns the claim's time (the caller's
    token), or None if someone else has it or it is done."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(_claimable(now))
        .update(state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return now if claimed else None


@transaction.atomic
def deliveries_claim(ids: list[int]) -> tuple[dt.datetime, list[Delivery]]:
    """Take the claimable ones of `ids` for sending: one SELECT … FOR UPDATE SKIP LOCKED that loads them
    (with the person) and one UPDATE. Rows another worker holds or that are done are left out, so two runs
    of the same batch never claim the same row. Returns the claim's time (the token the marks check) and
    the claimed rows, their `attempts` counting this one."""
    now = timezone.now()
    rows = list(
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=ids)
        .filter(_claimable(now))
        .select_related("person")
        .order_by("notice_id", "pk")
    )
    if rows:
        Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
            state=Delivery.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    for delivery in rows:
        delivery.state, delivery.claimed_at, delivery.attempts = Delivery.State.SENDING, now, delivery.attempts + 1
    return now, rows


def delivery_mark_sent(delivery_id: int, claimed_at: dt.datetime) -> bool:
    return deliveries_mark_sent([delivery_id], claimed_at) == 1


def deliveries_mark_sent(ids: list[int], claimed_at: dt.datetime) -> int:
    """Mark sent, in one UPDATE, the deliveries of `ids` still held by the claim made at `claimed_at`."""
    if not ids:
        return 0
    return Delivery.objects.filter(pk__in=ids, state=Delivery.State.SENDING, claimed_at=claimed_at).update(
        state=Delivery.State.SENT, sent_at=timezone.now(), last_error=""
    )


def delivery_release(
    delivery_id: int, claimed_at: dt.datetime, *, error: str, retry_in: int, tried: bool = True
) -> None:
    """A temporary error: back to pending for the task's retry. The relay leaves it alone until the retry
    should have run. `tried=False` (the connection was lost before its turn) does not count the attempt."""
    Delivery.objects.filter(pk=delivery_id, state=Delivery.State.SENDING, claimed_at=claimed_at).update(
        state=Delivery.State.PENDING,
        last_error=single_line(error, 1000),
        queued_at=timezone.now() + dt.timedelta(seconds=retry_in),
        **({} if tried else {"attempts": F("attempts") - 1}),
    )


@transaction.atomic
def delivery_mark_failed(delivery_id: int, *, reason: str) -> bool:
    """A permanent error, or retries exhausted: failed, shown to the secretariat for resend."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notice__meeting")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.state == Delivery.State.SENT:
        return False
    delivery.state, delivery.last_error = Delivery.State.FAILED, single_line(reason, 1000)
    delivery.save(update_fields=["state", "last_error"])
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
    """The periodic job: queue deliveries left pending or stuck, send due reminders and due notices of
    published materials."""
    now = now or timezone.now()
    ids = list(
        selectors.due_relay(now=now, pending_after=now - REQUEUE_AFTER, stale_before=now - STALE_AFTER)
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    queued = queue_deliveries(ids)
    mails = list(
        OutboxMail.objects.filter(
            Q(state=OutboxMail.State.PENDING, queued_at__isnull=True)
            | Q(state=OutboxMail.State.PENDING, queued_at__lt=now - REQUEUE_AFTER)
            | Q(state=OutboxMail.State.SENDING, claimed_at__lt=now - STALE_AFTER)
        )
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    outbox = queue_outbox(mails)
    reminders = reminders_send_due(now=now)
    materials = materials_send_due(now=now)
    return {"requeued": queued, "reminders": reminders, "materials": materials, "outbox": outbox}


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
    from meetings import selectors as meeting_selectors

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
    """Write many mails (address, subject, text, extra headers) in one statement; queued on commit, BATCH_SIZE
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
    transaction.on_commit(lambda: queue_outbox(ids))
    return rows


def queue_outbox(ids: list[int]) -> int:
    """Hand outbox mails to the broker after commit, BATCH_SIZE to a task; if the broker is down they stay
    pending and the relay queues them later."""
    from celery import current_app

    send_batch = current_app.tasks["notices.tasks.send_outbox_batch"]
    if not ids:
        return 0
    OutboxMail.objects.filter(pk__in=ids, state=OutboxMail.State.PENDING).update(queued_at=timezone.now())
    queued = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = list(ids[start : start + BATCH_SIZE])
        try:
            send_batch.delay(batch)
            queued += len(batch)
        except Exception:  # the broker is unreachable
            logger.exception("Could not queue %s mails; the relay will queue them again.", len(batch))
            if not current_app.conf.task_always_eager:
                break
    return queued


@transaction.atomic
def outbox_claim(ids: list[int]) -> tuple[dt.datetime, list[OutboxMail]]:
    """Take the claimable mails of `ids` (SKIP LOCKED: two runs of one batch never take the same row)."""
    now = timezone.now()
    claimable = Q(state=OutboxMail.State.PENDING) | Q(
        state=OutboxMail.State.SENDING, claimed_at__lt=now - STALE_AFTER
    )
    rows = list(OutboxMail.objects.select_for_update(skip_locked=True).filter(claimable, pk__in=ids).order_by("pk"))
    if rows:
        OutboxMail.objects.filter(pk__in=[m.pk for m in rows]).update(
            state=OutboxMail.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return now, rows


def outbox_mark(mail_id: int, claimed_at: dt.datetime, *, error: str = "", permanent: bool = False) -> None:
    """The outcome of one claimed mail: sent, back to pending (a temporary error; the relay retries) or
    failed."""
    held = OutboxMail.objects.filter(pk=mail_id, state=OutboxMail.State.SENDING, claimed_at=claimed_at)
    if not error:
        held.update(state=OutboxMail.State.SENT, sent_at=timezone.now(), last_error="")
    elif permanent:
        held.update(state=OutboxMail.State.FAILED, last_error=single_line(error, 1000))
    else:
        held.update(state=OutboxMail.State.PENDING, last_error=single_line(error, 1000), queued_at=timezone.now())


def outbox_forget(*, topic: str, addresses: list[str]) -> int:
    """Delete the mails of `topic` written to `addresses` (their personal data is due for deletion)."""
    if not addresses:
        return 0
    return OutboxMail.objects.filter(topic=topic, to__in=addresses).delete()[0]
