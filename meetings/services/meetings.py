"""Meetings: planning, numbering, changing, postponing, cancelling, marking notified and held."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from committee.models import Body
from core.audit import AuditAction, audit_record
from core.types import AnyUser
from core.wareki import fiscal_year_of

from .. import selectors
from ..models import (
    Agenda,
    Meeting,
    Openness,
)
from ._common import MeetingError, _lock
from .agenda import _reopen_if_changed

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
    actor: AnyUser | None,
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
    audit_record(actor=actor, action=AuditAction.MEETING_CREATED, target=meeting)
    return meeting


@transaction.atomic
def meeting_update(*, actor: AnyUser | None, meeting: Meeting, **changes: object) -> Meeting:
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
    audit_record(actor=actor, action=AuditAction.MEETING_CHANGED, target=meeting, data={"before": before})
    _reopen_if_changed(meeting, actor)
    return meeting


@transaction.atomic
def meeting_postpone(
    *,
    actor: AnyUser | None,
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
    audit_record(
        actor=actor, action=AuditAction.MEETING_POSTPONED, target=meeting, data={"reason": meeting.cancel_reason}
    )
    _reopen_if_changed(meeting, actor)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: AnyUser | None, meeting: Meeting, reason: str) -> Meeting:
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
    audit_record(
        actor=actor, action=AuditAction.MEETING_CANCELLED, target=meeting, data={"reason": meeting.cancel_reason}
    )
    return meeting


@transaction.atomic
def meeting_mark_notified(*, actor: AnyUser | None, meeting: Meeting) -> Meeting:
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
    audit_record(actor=actor, action=AuditAction.MEETING_NOTIFIED, target=meeting)
    return meeting


@transaction.atomic
def meeting_mark_held(*, actor: AnyUser | None, meeting: Meeting, without_quorum: bool = False) -> Meeting:
    """開催済: recorded once the meeting has started. When the attendance recorded falls short of the
    quorum the guidelines set, the secretariat must say so (`without_quorum`), and the audit keeps it."""
    meeting = _lock(meeting)
    if meeting.status == Meeting.Status.HELD:
        return meeting
    if meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED):
        raise MeetingError(_("This meeting cannot be marked as held in its current state."))
    if not meeting.is_past:
        raise MeetingError(_("A meeting can be marked as held only after it has started."))
    rows = selectors.attendance_rows(meeting)
    count = selectors.quorum(meeting, rows)
    short = any(r.actual for r in rows) and count.met is False
    if short and not without_quorum:
        raise MeetingError(
            _("The quorum was not met: %(counted)d of the %(needed)d members needed attended. Confirm to record "
              "the meeting as held without a quorum.") % {"counted": count.counted, "needed": count.needed},
            code="quorum",
        )
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["status"])
    data = {"quorum_not_met": True, "counted": count.counted, "needed": count.needed} if short else {}
    audit_record(actor=actor, action=AuditAction.MEETING_HELD, target=meeting, data=data)
    return meeting


