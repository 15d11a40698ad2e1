"""Every change of a meeting's state goes through these functions: lock, check, save, audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from committee import services as committee_services
from committee.models import Appointment, Body, OfficerTerm
from core.audit import audit_record
from core.wareki import fiscal_year_of

from . import selectors
from .models import (
    Agenda,
    AgendaItem,
    AgendaVersion,
    Attendance,
    Attendee,
    Meeting,
    Minutes,
    MinutesConfirmation,
    OfficerElection,
    Openness,
    Seat,
)


class MeetingError(ValidationError):
    """A change the meeting's state or the user's role does not allow; the message says why."""


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("body").get(pk=meeting.pk)


def _lock_agenda(meeting: Meeting) -> Agenda:
    agenda, _created = Agenda.objects.get_or_create(meeting=meeting)
    return Agenda.objects.select_for_update().get(pk=agenda.pk)


# --- meetings ----------------------------------------------------------------------------------

SCHEDULE_FIELDS = (
    "start_at",
    "end_at",
    "time_undecided",
    "planned_month",
    "venue_name",
    "venue_address",
    "venue_room",
    "online_url",
)
EDITABLE_FIELDS = SCHEDULE_FIELDS + (
    "title",
    "theme",
    "online_note",
    "openness",
    "openness_basis",
    "openness_decided_on",
    "name",
)


def next_meeting_number(body: Body) -> int:
    """The next 第N回 of the body (numbers of cancelled meetings are never reused)."""
    return (body.meetings.aggregate(m=Max("number"))["m"] or 0) + 1


def fiscal_year_for(start_at: dt.datetime | None, planned_month: dt.date | None) -> int:
    return _fiscal_year(start_at, planned_month)


def _fiscal_year(start_at: dt.datetime | None, planned_month: dt.date | None) -> int:
    if start_at is not None:
        return fiscal_year_of(timezone.localtime(start_at))
    if planned_month is None:
        raise MeetingError(_("Give the date and time, or at least the month."))
    return fiscal_year_of(planned_month)


@transaction.atomic
def meeting_create(
    *,
    actor,
    body: Body,
    start_at: dt.datetime | None = None,
    end_at: dt.datetime | None = None,
    planned_month: dt.date | None = None,
    number: int | None = None,
    name: str = "",
    title: str = "",
    theme: str = "",
    venue_name: str = "",
    venue_address: str = "",
    venue_room: str = "",
    online_url: str = "",
    online_note: str = "",
    openness: str = Openness.PUBLIC,
    openness_basis: str = "",
    time_undecided: bool = False,
) -> Meeting:
    """Plan a meeting. Numbered meetings get the next 第N回 of the body; a number is never reused."""
    body = Body.objects.select_for_update().get(pk=body.pk)  # serialises numbering
    if number is None and not name:
        number = next_meeting_number(body)
    if number is not None and body.meetings.filter(number=number).exists():
        raise MeetingError(_("第%(n)d回 exists already for this body; numbers are never reused.") % {"n": number})
    if planned_month is not None:
        planned_month = planned_month.replace(day=1)
    meeting = Meeting(
        body=body,
        number=number,
        name=name,
        title=title or body.name,
        theme=theme,
        fiscal_year=_fiscal_year(start_at, planned_month),
        planned_month=planned_month,
        start_at=start_at,
        end_at=end_at,
        time_undecided=time_undecided,
        venue_name=venue_name,
        venue_address=venue_address,
        venue_room=venue_room,
        online_url=online_url,
        online_note=online_note,
        openness=openness,
        openness_basis=openness_basis,
    )
    meeting.full_clean()
    meeting.save()
    Agenda.objects.create(meeting=meeting)
    audit_record(actor=actor, action="meeting_created", target=meeting)
    return meeting


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, **changes) -> Meeting:
    """Change a meeting's details. A change of date, time or place after notice raises its revision
    (a 変更通知 is due) and is recorded."""
    meeting = _lock(meeting)
    if meeting.status in (Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED):
        raise MeetingError(_("A cancelled meeting or one whose minutes are published cannot be changed."))
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise MeetingError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    changed = [f for f, v in changes.items() if getattr(meeting, f) != v]
    if not changed:
        return meeting
    before = {f: str(getattr(meeting, f)) for f in changed}
    for field, value in changes.items():
        setattr(meeting, field, value)
    if meeting.planned_month is not None:
        meeting.planned_month = meeting.planned_month.replace(day=1)
    meeting.fiscal_year = _fiscal_year(meeting.start_at, meeting.planned_month)
    update = [*changed, "fiscal_year", "planned_month"]
    if any(f in SCHEDULE_FIELDS for f in changed):
        meeting.sequence += 1
        update.append("sequence")
    meeting.full_clean()
    meeting.save(update_fields=sorted(set(update)))
    audit_record(actor=actor, action="meeting_changed", target=meeting, data={"before": before})
    _reopen_if_changed(meeting, actor)
    return meeting


@transaction.atomic
def meeting_postpone(
    *,
    actor,
    meeting: Meeting,
    reason: str,
    new_start_at: dt.datetime | None = None,
    new_end_at: dt.datetime | None = None,
) -> Meeting:
    """延期: the meeting keeps its number; the new date is recorded when known."""
    meeting = _lock(meeting)
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED):
        raise MeetingError(_("Only a meeting that has not been held can be postponed."))
    if not reason.strip():
        raise MeetingError(_("Give the reason for the postponement."))
    if meeting.postponed_from is None:
        meeting.postponed_from = meeting.start_at
    if new_start_at is not None:
        meeting.start_at, meeting.end_at = new_start_at, new_end_at
        meeting.fiscal_year = _fiscal_year(new_start_at, None)
    meeting.status = Meeting.Status.POSTPONED
    meeting.cancel_reason = reason.strip()
    meeting.sequence += 1
    meeting.full_clean()
    meeting.save(
        update_fields=["postponed_from", "start_at", "end_at", "fiscal_year", "status", "cancel_reason", "sequence"]
    )
    audit_record(actor=actor, action="meeting_postponed", target=meeting, data={"reason": meeting.cancel_reason})
    _reopen_if_changed(meeting, actor)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting, reason: str) -> Meeting:
    """中止: the meeting keeps its number, which is never given to another meeting."""
    meeting = _lock(meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        return meeting
    if meeting.status in (Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED):
        raise MeetingError(_("A meeting that has been held cannot be cancelled."))
    if not reason.strip():
        raise MeetingError(_("Give the reason for the cancellation."))
    meeting.status, meeting.cancel_reason = Meeting.Status.CANCELLED, reason.strip()
    meeting.sequence += 1
    meeting.save(update_fields=["status", "cancel_reason", "sequence"])
    audit_record(actor=actor, action="meeting_cancelled", target=meeting, data={"reason": meeting.cancel_reason})
    return meeting


@transaction.atomic
def meeting_mark_notified(*, actor, meeting: Meeting) -> Meeting:
    """通知済: notices went out. Only for an approved 次第 and a fixed date."""
    meeting = _lock(meeting)
    if meeting.status == Meeting.Status.NOTIFIED:
        return meeting
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED):
        raise MeetingError(_("Notices can only be sent for a planned meeting."))
    if meeting.start_at is None:
        raise MeetingError(_("Fix the date and time before sending notices."))
    agenda = getattr(meeting, "agenda", None)
    if agenda is None or agenda.status != Agenda.Status.APPROVED:
        raise MeetingError(_("Notices can only go out once the 次第 is approved."))
    meeting.status = Meeting.Status.NOTIFIED
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action="meeting_notified", target=meeting)
    return meeting


@transaction.atomic
def meeting_mark_held(*, actor, meeting: Meeting) -> Meeting:
    """開催済: recorded once the meeting has started."""
    meeting = _lock(meeting)
    if meeting.status == Meeting.Status.HELD:
        return meeting
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED):
        raise MeetingError(_("This meeting cannot be marked as held in its current state."))
    if not meeting.is_past:
        raise MeetingError(_("A meeting can be marked as held only after it has started."))
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action="meeting_held", target=meeting)
    return meeting


# --- the 次第 ---------------------------------------------------------------------------------


def agenda_snapshot(agenda: Agenda) -> dict:
    """The content the chair approves: meeting particulars and every item, in order."""
    meeting = agenda.meeting
    items = selectors.agenda_tree(agenda)
    return {
        "meeting": {
            "title": meeting.title,
            "label": meeting.label,
            "start_at": meeting.start_at.isoformat() if meeting.start_at else None,
            "end_at": meeting.end_at.isoformat() if meeting.end_at else None,
            "planned_month": meeting.planned_month.isoformat() if meeting.planned_month else None,
            "venue": " ".join(v for v in (meeting.venue_name, meeting.venue_room) if v),
            "openness": meeting.openness,
        },
        "items": [
            {
                "number": node.number,
                "depth": node.depth,
                "title": node.item.title,
                "detail": node.item.detail,
                "presenter": node.item.presenter,
                "time": node.item.starts_at.strftime("%H:%M") if node.item.starts_at else "",
                "public": node.item.is_public,
            }
            for node in items
        ],
        "note": agenda.note,
    }


def snapshot_hash(snapshot: dict) -> str:
    canonical = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _supersede_pending(agenda: Agenda) -> None:
    """The version waiting for a decision will never get one: mark it superseded in the history."""
    version = agenda.current_version
    if version is not None and not version.decision:
        version.decision, version.decided_at = "superseded", timezone.now()
        version.save(update_fields=["decision", "decided_at"])


def _reopen(agenda: Agenda, actor) -> None:
    """Any edit of a submitted or approved 次第 sends it back to draft; a new approval is needed."""
    if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED):
        _supersede_pending(agenda)
        previous = agenda.status
        agenda.status = Agenda.Status.DRAFT
        agenda.save(update_fields=["status"])
        audit_record(actor=actor, action="agenda_reopened", target=agenda.meeting, data={"was": previous})


def _check_editable(meeting: Meeting) -> None:
    if meeting.status in (Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED):
        raise MeetingError(_("The 次第 of a cancelled meeting or one whose minutes are published cannot be changed."))


@transaction.atomic
def agenda_item_add(*, actor, meeting: Meeting, title: str, parent: AgendaItem | None = None, **fields) -> AgendaItem:
    """Add an item at the end of its level."""
    agenda = _lock_agenda(meeting)
    _check_editable(agenda.meeting)  # as it is now, not as the caller last read it
    if parent is not None and parent.agenda_id != agenda.pk:
        raise MeetingError(_("The parent item belongs to another meeting."))
    last = agenda.items.filter(parent=parent).aggregate(m=Max("position"))["m"]
    item = AgendaItem(agenda=agenda, parent=parent, title=title, position=(last or 0) + 1, **fields)
    item.full_clean()
    item.save()
    audit_record(actor=actor, action="agenda_item_added", target=agenda.meeting, data={"item": item.pk})
    _reopen(agenda, actor)
    return item


@transaction.atomic
def agenda_item_update(*, actor, item: AgendaItem, **fields) -> AgendaItem:
    """Change an item's fields; any change but the outcome needs a new approval."""
    agenda = _lock_agenda(item.agenda.meeting)
    _check_editable(agenda.meeting)
    item = AgendaItem.objects.get(pk=item.pk)
    changed = [f for f, v in fields.items() if getattr(item, f) != v]
    if not changed:
        return item
    for field, value in fields.items():
        setattr(item, field, value)
    item.full_clean()
    item.save(update_fields=changed)
    audit_record(
        actor=actor, action="agenda_item_changed", target=agenda.meeting, data={"item": item.pk, "fields": changed}
    )
    # The outcome is written after the meeting and is not part of what the chair approves.
    if set(changed) - {"outcome"}:
        _reopen(agenda, actor)
    return item


@transaction.atomic
def agenda_item_delete(*, actor, item: AgendaItem) -> None:
    """Delete an item and the items under it."""
    agenda = _lock_agenda(item.agenda.meeting)
    _check_editable(agenda.meeting)
    deleted, _per_model = AgendaItem.objects.filter(pk=item.pk, agenda=agenda).delete()
    if deleted:
        audit_record(actor=actor, action="agenda_item_deleted", target=agenda.meeting, data={"item": item.pk})
        _reopen(agenda, actor)


@transaction.atomic
def agenda_item_move(*, actor, item: AgendaItem, direction: str) -> AgendaItem:
    """Move an item one place up or down among the items under the same parent; its number follows."""
    if direction not in ("up", "down"):
        raise MeetingError(_("Move an item up or down."))
    agenda = _lock_agenda(item.agenda.meeting)  # the agenda lock serialises every edit of its items
    _check_editable(agenda.meeting)
    item = AgendaItem.objects.get(pk=item.pk, agenda=agenda)
    # Renumber the whole level: positions written elsewhere (the admin) may repeat or leave gaps.
    siblings = list(agenda.items.filter(parent_id=item.parent_id).order_by("position", "id"))
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        return item  # first or last already: nothing changes, nothing to approve again
    siblings[index], siblings[target] = siblings[target], siblings[index]
    changed = []
    for position, sibling in enumerate(siblings, start=1):
        if sibling.position != position:
            sibling.position = position
            changed.append(sibling)
    AgendaItem.objects.bulk_update(changed, ["position"])
    audit_record(
        actor=actor, action="agenda_item_moved", target=agenda.meeting, data={"item": item.pk, "direction": direction}
    )
    _reopen(agenda, actor)
    return siblings[target]


def _reopen_if_changed(meeting: Meeting, actor) -> Agenda:
    """Back to draft if the 次第 as it now reads (items and the meeting's particulars) is not the version
    submitted or approved. The caller holds a transaction."""
    agenda = _lock_agenda(meeting)
    if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED):
        current = snapshot_hash(agenda_snapshot(agenda))
        pinned = agenda.current_version.sha256 if agenda.current_version else None
        if current != pinned:
            _reopen(agenda, actor)
    return agenda


@transaction.atomic
def agenda_edited(*, actor, meeting: Meeting) -> Agenda:
    """Record that the 次第 was edited elsewhere (the admin's inline forms): it goes back to draft."""
    return _reopen_if_changed(meeting, actor)


@transaction.atomic
def agenda_submit(*, actor, meeting: Meeting) -> AgendaVersion:
    """The secretariat submits the 次第 to the presiding officer: its content is frozen as a version."""
    agenda = _lock_agenda(meeting)
    meeting = agenda.meeting
    _check_editable(meeting)
    snapshot = agenda_snapshot(agenda)
    digest = snapshot_hash(snapshot)
    if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED) and agenda.current_version.sha256 == digest:
        return agenda.current_version  # submitted already, unchanged: nothing to do
    if not snapshot["items"]:
        raise MeetingError(_("The 次第 has no items yet."))
    _supersede_pending(agenda)  # resubmitted after a change: the earlier version waits no more
    number = (agenda.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = AgendaVersion.objects.create(
        agenda=agenda, number=number, snapshot=snapshot, sha256=digest, submitted_by=actor
    )
    agenda.status, agenda.current_version = Agenda.Status.SUBMITTED, version
    agenda.save(update_fields=["status", "current_version"])
    audit_record(actor=actor, action="agenda_submitted", target=meeting, data={"version": number, "sha256": digest})
    return version


def _decide(agenda: Agenda, *, actor, sha256: str) -> tuple[AgendaVersion, str]:
    version = agenda.current_version
    if agenda.status != Agenda.Status.SUBMITTED or version is None:
        raise MeetingError(_("This 次第 is not waiting for approval."))
    if sha256 != version.sha256 or snapshot_hash(agenda_snapshot(agenda)) != version.sha256:
        raise MeetingError(_("The 次第 was changed after you opened it. Read the current version and decide again."))
    approver = selectors.approver_for(agenda.meeting)
    if approver is None or approver.user is None or approver.user.pk != actor.pk:
        raise MeetingError(_("Only the presiding officer of this meeting can decide on its 次第."))
    if version.submitted_by_id == actor.pk:
        raise MeetingError(_("The person who submitted the 次第 cannot approve it."))
    return version, approver.title


@transaction.atomic
def agenda_approve(*, actor, meeting: Meeting, sha256: str) -> AgendaVersion:
    """The presiding officer (or, before there is one, the convening official) approves the exact version read."""
    agenda = _lock_agenda(meeting)
    approved = agenda.approved_version if agenda.status == Agenda.Status.APPROVED else None
    if approved is not None and approved.sha256 == sha256 and approved.decided_by_id == getattr(actor, "pk", None):
        return approved  # the same person approving twice is harmless; anyone else is refused below
    version, title = _decide(agenda, actor=actor, sha256=sha256)
    version.decision, version.decided_at, version.decided_by, version.decided_as = (
        "approved",
        timezone.now(),
        actor,
        title,
    )
    version.save(update_fields=["decision", "decided_at", "decided_by", "decided_as"])
    agenda.status, agenda.approved_version = Agenda.Status.APPROVED, version
    agenda.save(update_fields=["status", "approved_version"])
    audit_record(
        actor=actor,
        action="agenda_approved",
        target=agenda.meeting,
        data={"version": version.number, "sha256": version.sha256, "as": title},
    )
    return version


@transaction.atomic
def agenda_return(*, actor, meeting: Meeting, sha256: str, comment: str) -> AgendaVersion:
    """The presiding officer returns the 次第 with a comment; the secretariat revises and resubmits."""
    agenda = _lock_agenda(meeting)
    if not comment.strip():
        raise MeetingError(_("Say what should change."))
    returned = agenda.current_version if agenda.status == Agenda.Status.RETURNED else None
    if returned is not None and returned.sha256 == sha256 and returned.decided_by_id == getattr(actor, "pk", None):
        return returned
    version, title = _decide(agenda, actor=actor, sha256=sha256)
    version.decision, version.decided_at, version.decided_by, version.decided_as = (
        "returned",
        timezone.now(),
        actor,
        title,
    )
    version.comment = comment.strip()
    version.save(update_fields=["decision", "decided_at", "decided_by", "decided_as", "comment"])
    agenda.status = Agenda.Status.RETURNED
    agenda.save(update_fields=["status"])
    audit_record(actor=actor, action="agenda_returned", target=agenda.meeting, data={"version": version.number})
    return version


# --- attendance --------------------------------------------------------------------------------


@transaction.atomic
def attendance_prepare(*, actor, meeting: Meeting) -> int:
    """Create the attendance rows of every invitee (members in office on the day, other attendees).

    Idempotent; returns how many rows were added.
    """
    meeting = _lock(meeting)
    have_members = set(meeting.attendances.filter(appointment__isnull=False).values_list("appointment_id", flat=True))
    have_guests = set(meeting.attendances.filter(attendee__isnull=False).values_list("attendee_id", flat=True))
    rows = [
        Attendance(meeting=meeting, appointment=a)
        for a in selectors.invited_members(meeting)
        if a.pk not in have_members
    ]
    rows += [Attendance(meeting=meeting, attendee=g) for g in meeting.attendees.all() if g.pk not in have_guests]
    Attendance.objects.bulk_create(rows)
    if rows:
        audit_record(actor=actor, action="attendance_prepared", target=meeting, data={"added": len(rows)})
    return len(rows)


@transaction.atomic
def attendance_reply(
    *, actor, attendance: Attendance, reply: str, note: str = "", on_behalf: bool = False
) -> Attendance:
    """An invitee answers 会場 / オンライン / 欠席; the secretariat may record an answer given by phone."""
    # Lock only the attendance row: PostgreSQL refuses FOR UPDATE on the nullable side of the outer joins
    # (a row holds either a member or another attendee).
    attendance = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("meeting__body", "appointment__person", "attendee__person")
        .get(pk=attendance.pk)
    )
    meeting = attendance.meeting
    if reply not in Attendance.Reply.values:
        raise MeetingError(_("Choose 会場, オンライン or 欠席."))
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED):
        raise MeetingError(_("Answers can no longer be given for this meeting."))
    if not on_behalf:
        person = attendance.appointment.person if attendance.appointment_id else attendance.attendee.person
        if person is None or person.user_id != actor.pk:
            raise MeetingError(_("You can answer only for yourself."))
        if meeting.is_past:
            raise MeetingError(_("The meeting has started; ask the secretariat to record your attendance."))
    if reply == Attendance.Reply.ONLINE and not meeting.online_url and not meeting.online_note:
        raise MeetingError(_("This meeting offers no online attendance."))
    note = note.strip()
    if attendance.reply == reply and attendance.reply_note == note:
        return attendance
    attendance.reply, attendance.reply_note = reply, note
    attendance.replied_at, attendance.replied_by = timezone.now(), actor
    attendance.save(update_fields=["reply", "reply_note", "replied_at", "replied_by"])
    audit_record(
        actor=actor,
        action="attendance_answered",
        target=meeting,
        data={"attendance": attendance.pk, "reply": reply, "on_behalf": on_behalf},
    )
    return attendance


@transaction.atomic
def attendance_record(*, actor, meeting: Meeting, records: dict[int, tuple[str, str]]) -> int:
    """After the meeting: who came (出席 / 欠席 / 遅参 / 早退) and how (会場 / オンライン). `records` maps
    attendance ids to (actual, mode)."""
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
    Attendance.objects.bulk_update(changed, ["actual", "actual_mode"])
    if changed:
        audit_record(actor=actor, action="attendance_recorded", target=meeting, data={"rows": len(changed)})
    return len(changed)


@transaction.atomic
def seating_generate(*, actor, meeting: Meeting) -> int:
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
        elif row.appointment_id and row.appointment.person_id == presiding_person:
            place(row, Seat.Zone.HEAD)
        elif row.appointment_id and row.appointment.is_member:
            place(row, Seat.Zone.LEFT if side % 2 == 0 else Seat.Zone.RIGHT)
            side += 1
        elif row.attendee_id and row.attendee.role == Attendee.Role.SECRETARIAT:
            place(row, Seat.Zone.FOOT)
        else:
            place(row, Seat.Zone.GALLERY)
    Seat.objects.bulk_create(seats)
    audit_record(actor=actor, action="seating_generated", target=meeting, data={"seats": len(seats)})
    return len(seats)


@transaction.atomic
def meeting_record_election(*, actor, meeting: Meeting, role: str, appointment: Appointment) -> OfficerTerm:
    """Record at a meeting the 互選 of the chair or the chair's nomination of the vice chair; the body's
    officers change from the meeting day."""
    if role not in OfficerTerm.Role.values:
        raise MeetingError(_("Choose the post."))
    meeting = _lock(meeting)
    if meeting.start_at is None or meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("Officers are chosen at a meeting that takes place."))
    day = meeting.date
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
            action="officer_election_recorded",
            target=meeting,
            data={"role": role, "appointment": appointment.pk},
        )
    return term


# --- minutes -----------------------------------------------------------------------------------


def _lock_minutes(meeting: Meeting) -> Minutes:
    minutes, _created = Minutes.objects.get_or_create(meeting=meeting)
    return Minutes.objects.select_for_update().select_related("meeting__body").get(pk=minutes.pk)


@transaction.atomic
def minutes_send_for_confirmation(*, actor, meeting: Meeting, confirm_by: dt.date) -> int:
    """Ask the members who attended to confirm the draft by `confirm_by`; returns how many were asked."""
    minutes = _lock_minutes(meeting)
    if minutes.meeting.status not in (Meeting.Status.HELD,):
        raise MeetingError(_("Minutes are confirmed after the meeting has been held."))
    if minutes.status not in (Minutes.Status.DRAFT, Minutes.Status.CONFIRMING):
        raise MeetingError(_("These minutes are already finalised."))
    if not minutes.entries.exists():
        raise MeetingError(_("The minutes have no text yet."))
    if confirm_by < timezone.localdate():
        raise MeetingError(_("The deadline must not be in the past."))
    attended = [a for a in selectors.attendance_rows(minutes.meeting) if a.appointment_id and a.attended]
    have = set(minutes.confirmations.values_list("appointment_id", flat=True))
    MinutesConfirmation.objects.bulk_create(
        MinutesConfirmation(minutes=minutes, appointment=a.appointment)
        for a in attended
        if a.appointment_id not in have
    )
    minutes.status, minutes.confirm_by = Minutes.Status.CONFIRMING, confirm_by
    minutes.save(update_fields=["status", "confirm_by"])
    audit_record(
        actor=actor,
        action="minutes_sent_for_confirmation",
        target=minutes.meeting,
        data={"members": len(attended), "confirm_by": confirm_by.isoformat()},
    )
    return len(attended)


@transaction.atomic
def minutes_confirm(*, actor, meeting: Meeting, comment: str = "") -> MinutesConfirmation:
    """A member who attended confirms the draft, or answers with a comment."""
    minutes = _lock_minutes(meeting)
    if minutes.status != Minutes.Status.CONFIRMING:
        raise MeetingError(_("These minutes are not waiting for confirmation."))
    confirmation = minutes.confirmations.select_for_update().filter(appointment__person__user=actor).first()
    if confirmation is None:
        raise MeetingError(_("Only members who attended confirm these minutes."))
    state = MinutesConfirmation.State.COMMENTED if comment.strip() else MinutesConfirmation.State.CONFIRMED
    if confirmation.state == state and confirmation.comment == comment.strip():
        return confirmation
    confirmation.state, confirmation.comment, confirmation.answered_at = state, comment.strip(), timezone.now()
    confirmation.save(update_fields=["state", "comment", "answered_at"])
    audit_record(actor=actor, action="minutes_confirmed", target=minutes.meeting, data={"state": state})
    return confirmation


@transaction.atomic
def minutes_finalise(*, actor, meeting: Meeting) -> Minutes:
    """The presiding officer finalises the minutes after the members' confirmation."""
    minutes = _lock_minutes(meeting)
    presiding = selectors.approver_for(minutes.meeting, allow_convener=False)
    if presiding is None or presiding.user is None or presiding.user.pk != getattr(actor, "pk", None):
        raise MeetingError(_("Only the presiding officer of the meeting can finalise its minutes."))
    if minutes.status == Minutes.Status.FINALISED:
        return minutes
    if minutes.status != Minutes.Status.CONFIRMING:
        raise MeetingError(_("Send the draft to the members for confirmation first."))
    minutes.status, minutes.finalised_at, minutes.finalised_by = Minutes.Status.FINALISED, timezone.now(), actor
    minutes.save(update_fields=["status", "finalised_at", "finalised_by"])
    audit_record(actor=actor, action="minutes_finalised", target=minutes.meeting)
    return minutes


@transaction.atomic
def minutes_publish(*, actor, meeting: Meeting) -> Minutes:
    """The secretariat publishes finalised minutes; closed passages are left out of the public text."""
    minutes = _lock_minutes(meeting)
    if minutes.status == Minutes.Status.PUBLISHED:
        return minutes
    if minutes.status != Minutes.Status.FINALISED:
        raise MeetingError(_("Only finalised minutes can be published."))
    minutes.status, minutes.published_at = Minutes.Status.PUBLISHED, timezone.now()
    minutes.save(update_fields=["status", "published_at"])
    meeting = _lock(minutes.meeting)
    meeting.status = Meeting.Status.MINUTES_PUBLISHED
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action="minutes_published", target=meeting)
    return minutes
