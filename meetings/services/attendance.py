"""Attendance: invitations, answers, the recorded attendance, seating and elections at the meeting."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from committee import services as committee_services
from committee.models import Appointment, OfficerTerm
from core.audit import AuditAction, audit_record
from core.types import AnyUser, account_of

from .. import selectors
from ..models import (
    Attendance,
    Attendee,
    Meeting,
    Minutes,
    OfficerElection,
    Seat,
)
from ..signals import absence_recorded, attendance_changed
from ._common import MeetingError, _lock

SEAT_POSITION_MAX = 999

# --- attendance --------------------------------------------------------------------------------


@transaction.atomic
def attendance_prepare(
    *, actor: AnyUser | None, meeting: Meeting, members: list[Appointment] | None = None
) -> int:
    """Create the attendance rows of every invitee (members in office on the day, other attendees), and,
    before the meeting is held, remove the rows of members no longer in office on the day (a resignation or
    an early end recorded since: their successor is invited instead, and the quorum and the 出席者名簿 count
    only who can come). `members`: selectors.invited_members(meeting) when the caller worked it out already,
    under the meeting's lock (a notice works out its recipients from the same roster).

    Idempotent; returns how many rows were added.
    """
    meeting = _lock(meeting)
    invited = selectors.invited_members(meeting) if members is None else members
    removed = 0
    if meeting.status in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED):
        _total, deleted = (
            meeting.attendances.filter(appointment__isnull=False, actual="")
            .exclude(appointment_id__in=[a.pk for a in invited])
            .delete()
        )
        removed = deleted.get(Attendance._meta.label, 0)
    have_members = set(meeting.attendances.filter(appointment__isnull=False).values_list("appointment_id", flat=True))
    have_guests = set(meeting.attendances.filter(attendee__isnull=False).values_list("attendee_id", flat=True))
    rows = [Attendance(meeting=meeting, appointment=a) for a in invited if a.pk not in have_members]
    rows += [Attendance(meeting=meeting, attendee=g) for g in meeting.attendees.all() if g.pk not in have_guests]
    Attendance.objects.bulk_create(rows)
    if rows or removed:
        audit_record(
            actor=actor, action=AuditAction.ATTENDANCE_PREPARED, target=meeting,
            data={"added": len(rows), **({"removed": removed} if removed else {})},
        )
    return len(rows)


@transaction.atomic
def attendance_reply(
    *,
    actor: AnyUser | None,
    attendance: Attendance,
    reply: str,
    note: str = "",
    on_behalf: bool = False,
    via: str | None = None,
) -> Attendance:
    """An invitee answers 会場 / オンライン / 欠席; the secretariat may record an answer given by phone.

    `via` records who set the answer and how (Attendance.ReplyVia): the member logged in ("self", the
    default without `on_behalf`), the mailed answer link ("link"), or the secretariat ("secretariat", the
    default with `on_behalf`). A 欠席 the secretariat records with a reason is mailed to the member in this
    transaction (signal absence_recorded); who presides counts it only then (selectors.presiding_for_many)."""
    # Lock only the attendance row: PostgreSQL refuses FOR UPDATE on the nullable side of the outer joins
    # (a row holds either a member or another attendee).
    attendance = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("meeting__body", "appointment__person", "attendee__person")
        .get(pk=attendance.pk)
    )
    meeting = attendance.meeting
    via = via or (Attendance.ReplyVia.SECRETARIAT if on_behalf else Attendance.ReplyVia.SELF)
    if (
        via not in Attendance.ReplyVia.values
        or (via == Attendance.ReplyVia.SELF and on_behalf)
        or (via == Attendance.ReplyVia.SECRETARIAT and not on_behalf)
    ):
        raise ValueError(via)
    if reply not in Attendance.Reply.values:
        raise MeetingError(_("Choose 会場, オンライン or 欠席."))
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED):
        raise MeetingError(_("Answers can no longer be given for this meeting."))
    if not on_behalf:
        person = attendance.person
        if person is None or actor is None or person.user_id != actor.pk:
            raise MeetingError(_("You can answer only for yourself."))
        if meeting.is_past:
            raise MeetingError(_("The meeting has started; ask the secretariat to record your attendance."))
    if reply == Attendance.Reply.ONLINE and not meeting.online_url and not meeting.online_note:
        raise MeetingError(_("This meeting offers no online attendance."))
    note = note.strip()
    if (attendance.reply, attendance.reply_note, attendance.reply_via) == (reply, note, via):
        return attendance
    attendance.reply, attendance.reply_note, attendance.reply_via = reply, note, via
    attendance.replied_at, attendance.replied_by = timezone.now(), account_of(actor)
    attendance.absence_mailed_at = None
    mailed = (
        via == Attendance.ReplyVia.SECRETARIAT
        and reply == Attendance.Reply.ABSENT
        and bool(note)
        and attendance.appointment_id is not None
        and any(told for _receiver, told in absence_recorded.send(sender=Attendance, attendance=attendance,
                                                                  actor=actor))
    )
    if mailed:
        attendance.absence_mailed_at = timezone.now()
    attendance.save(
        update_fields=["reply", "reply_note", "reply_via", "replied_at", "replied_by", "absence_mailed_at"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.ATTENDANCE_ANSWERED,
        target=meeting,
        data={"attendance": attendance.pk, "reply": reply, "on_behalf": on_behalf, "via": via, "mailed": mailed},
    )
    return attendance


@transaction.atomic
def attendance_record(*, actor: AnyUser | None, meeting: Meeting, records: dict[int, tuple[str, str]]) -> int:
    """After the meeting: who came (出席 / 欠席 / 遅参 / 早退) and how (会場 / オンライン). `records` maps
    attendance ids to (actual, mode). Once the minutes are finalised their 出席者 and 欠席者 are part of the
    record, like their text: a change is refused (it changed the published minutes, unversioned)."""
    meeting = _lock(meeting)
    if not meeting.is_past:
        raise MeetingError(_("Attendance can be recorded once the meeting has started."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("The meeting was cancelled."))
    rows = {a.pk: a for a in meeting.attendances.select_for_update().filter(pk__in=records)}
    if set(records) - set(rows):
        raise MeetingError(_("Some rows belong to another meeting."))
    changed = []
    for pk, (actual, mode) in records.items():
        if actual not in Attendance.Actual.values or (mode and mode not in Attendance.Mode.values):
            raise MeetingError(_("Choose the attendance and how the person attended."))
        if actual != Attendance.Actual.ABSENT and not mode:
            raise MeetingError(
                _("Say whether %(name)s attended at the venue or online.") % {"name": rows[pk].holder_name}
            )
        row = rows[pk]
        mode = "" if actual == Attendance.Actual.ABSENT else mode
        if (row.actual, row.actual_mode) != (actual, mode):
            row.actual, row.actual_mode = actual, mode
            changed.append(row)
    if changed and Minutes.objects.filter(
        meeting=meeting, status__in=(Minutes.Status.FINALISED, Minutes.Status.PUBLISHED)
    ).exists():
        raise MeetingError(
            _("The minutes of this meeting are finalised: the attendance they record can no longer be changed.")
        )
    Attendance.objects.bulk_update(changed, ["actual", "actual_mode"])
    if changed:
        audit_record(actor=actor, action=AuditAction.ATTENDANCE_RECORDED, target=meeting, data={"rows": len(changed)})
        attendance_changed.send(
            sender=Attendance, meeting=meeting, attendance_ids=[row.pk for row in changed], actor=actor
        )
    return len(changed)


@transaction.atomic
def seating_generate(*, actor: AnyUser | None, meeting: Meeting) -> int:
    """席図 from attendance: the presiding officer at the head, members in roster order on alternate sides,
    the secretariat at the foot, observers and others apart, online participants listed separately.
    Replaces any earlier plan; the secretariat may adjust it afterwards."""
    meeting = _lock(meeting)
    attendances = selectors.attendance_rows(meeting)
    presiding = selectors.approver_for(meeting, allow_convener=False)
    presiding_person = presiding.person_id if presiding else None
    Seat.objects.filter(meeting=meeting).delete()
    seats: list[Seat] = []
    counters: dict[str, int] = {}

    def place(row: Attendance, zone: str) -> None:
        counters[zone] = counters.get(zone, 0) + 1
        seats.append(Seat(meeting=meeting, attendance=row, zone=zone, position=counters[zone]))

    side = 0
    for row in attendances:
        mode = row.actual_mode or ("" if row.actual == Attendance.Actual.ABSENT else row.reply)
        if not mode and row.attendee_id and not row.actual:
            mode = Attendance.Mode.VENUE  # the secretariat and invited guests do not answer; they come
        if row.actual == Attendance.Actual.ABSENT or mode in ("", Attendance.Reply.ABSENT):
            continue
        if mode == Attendance.Reply.ONLINE:
            place(row, Seat.Zone.ONLINE)
        elif row.appointment is not None and row.appointment.person_id == presiding_person:
            place(row, Seat.Zone.HEAD)
        elif row.appointment is not None and row.appointment.is_member:
            place(row, Seat.Zone.LEFT if side % 2 == 0 else Seat.Zone.RIGHT)
            side += 1
        elif row.attendee is not None and row.attendee.role == Attendee.Role.SECRETARIAT:
            place(row, Seat.Zone.FOOT)
        else:
            place(row, Seat.Zone.GALLERY)
    Seat.objects.bulk_create(seats)
    audit_record(actor=actor, action=AuditAction.SEATING_GENERATED, target=meeting, data={"seats": len(seats)})
    return len(seats)


@transaction.atomic
def seating_update(*, actor: AnyUser | None, meeting: Meeting, placements: dict[int, tuple[str, int]]) -> int:
    """The secretariat adjusts the 席図: `placements` maps seat ids to (zone, position). Saves only the seats
    that move and returns how many did; all or nothing."""
    meeting = _lock(meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("The meeting was cancelled."))
    if meeting.status == Meeting.Status.MINUTES_PUBLISHED:
        raise MeetingError(_("The minutes are published; the seating plan can no longer change."))
    seats = {s.pk: s for s in Seat.objects.select_for_update().filter(meeting=meeting, pk__in=placements)}
    if set(placements) - set(seats):
        raise MeetingError(_("Some seats belong to another meeting or no longer exist; nothing was saved."))
    changed = []
    for pk, (zone, position) in placements.items():
        if zone not in Seat.Zone.values:
            raise MeetingError(_("Choose a place from the list."))
        if not 1 <= position <= SEAT_POSITION_MAX:
            raise MeetingError(_("The order within a place is a number from 1 to 999."))
        seat = seats[pk]
        if (seat.zone, seat.position) != (zone, position):
            seat.zone, seat.position = zone, position
            changed.append(seat)
    Seat.objects.bulk_update(changed, ["zone", "position"])
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.SEATING_ADJUSTED,
            target=meeting,
            data={"seats": len(changed)},
        )
    return len(changed)


@transaction.atomic
def meeting_record_election(
    *, actor: AnyUser | None, meeting: Meeting, role: str, appointment: Appointment
) -> OfficerTerm:
    """Record at a meeting the 互選 of the chair or the chair's nomination of the vice chair; the body's
    officers change from the meeting day."""
    if role not in OfficerTerm.Role.values:
        raise MeetingError(_("Choose the post."))
    meeting = _lock(meeting)
    day = meeting.date
    if day is None or meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("Officers are chosen at a meeting that takes place."))
    choose = (
        committee_services.officer_elect_chair
        if role == OfficerTerm.Role.CHAIR
        else committee_services.officer_nominate_vice_chair
    )
    term = choose(actor=actor, body=meeting.body, appointment=appointment, selected_on=day, meeting_label=meeting.label)
    _election, created = OfficerElection.objects.get_or_create(officer_term=term, defaults={"meeting": meeting})
    if created:
        audit_record(
            actor=actor,
            action=AuditAction.OFFICER_ELECTION_RECORDED,
            target=meeting,
            data={"role": role, "appointment": appointment.pk},
        )
    return term


