"""Other attendees (説明員, 参考人, オブザーバー …): the secretariat adds, changes and removes them; each
answers by their own link (meetings.access.attendee_for_token) without an account."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditAction, audit_record
from core.text import single_line
from core.types import AnyUser

from ..models import Attendance, Attendee, Meeting
from ._common import MeetingError, _lock

ATTENDEE_FIELDS = ("role", "name", "title", "email", "invited_by_chair")
# Attendees are invited while the meeting is still to come or was just held (a late entry of who came).
OPEN_STATUSES = (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED, Meeting.Status.HELD)
ANSWER_STATUSES = (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED, Meeting.Status.POSTPONED)


def _clean(values: dict[str, object]) -> dict[str, object]:
    cleaned: dict[str, object] = {}
    for field in ATTENDEE_FIELDS:
        if field not in values:
            continue
        value = values[field]
        if field == "invited_by_chair":
            cleaned[field] = bool(value)
        else:
            cleaned[field] = single_line(str(value or ""), 200).strip()
    if "role" in cleaned and cleaned["role"] not in Attendee.Role.values:
        raise MeetingError(_("Choose the role of the attendee."))
    return cleaned


def _check_open(meeting: Meeting) -> None:
    if meeting.status not in OPEN_STATUSES:
        raise MeetingError(_("Attendees can no longer be changed for this meeting."))


def _lock_attendee(attendee: Attendee) -> Attendee:
    return Attendee.objects.select_for_update().select_related("meeting").get(pk=attendee.pk)


@transaction.atomic
def attendee_add(
    *,
    actor: AnyUser | None,
    meeting: Meeting,
    role: str,
    name: str = "",
    title: str = "",
    email: str = "",
    invited_by_chair: bool = False,
) -> Attendee:
    """Invite someone beyond the members to one meeting; their attendance row is made with them, so
    their answer shows on the attendance list at once."""
    meeting = _lock(meeting)
    _check_open(meeting)
    values = _clean(
        {"role": role, "name": name, "title": title, "email": email, "invited_by_chair": invited_by_chair}
    )
    attendee = Attendee(meeting=meeting, **values)
    if not (attendee.name or attendee.title):
        raise MeetingError(_("Give the attendee's name or their affiliation and title."))
    attendee.full_clean()
    attendee.save()
    Attendance.objects.create(meeting=meeting, attendee=attendee)
    audit_record(
        actor=actor,
        action=AuditAction.ATTENDEE_ADDED,
        target=meeting,
        data={"attendee": attendee.pk, "role": attendee.role, "invited_by_chair": attendee.invited_by_chair},
    )
    return attendee


@transaction.atomic
def attendee_update(*, actor: AnyUser | None, attendee: Attendee, **changes: object) -> Attendee:
    """Change an attendee's name, affiliation and title, role, address or 第4-3 mark; only what changed
    is saved and recorded."""
    attendee = _lock_attendee(attendee)
    _check_open(attendee.meeting)
    unknown = set(changes) - set(ATTENDEE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown attendee fields: {sorted(unknown)}")
    values = _clean(changes)
    changed = [field for field, value in values.items() if getattr(attendee, field) != value]
    if not changed:
        return attendee
    for field in changed:
        setattr(attendee, field, values[field])
    if not (attendee.person_id or attendee.name or attendee.title):
        raise MeetingError(_("Give the attendee's name or their affiliation and title."))
    attendee.full_clean()
    attendee.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=AuditAction.ATTENDEE_CHANGED,
        target=attendee.meeting,
        data={"attendee": attendee.pk, "fields": sorted(changed)},
    )
    return attendee


@transaction.atomic
def attendee_remove(*, actor: AnyUser | None, attendee: Attendee) -> None:
    """Take an attendee off the meeting: their link stops working at once. Someone whose attendance was
    recorded stays on the record of the meeting."""
    attendee = _lock_attendee(attendee)
    meeting = attendee.meeting
    _check_open(meeting)
    if Attendance.objects.filter(attendee=attendee).exclude(actual="").exists():
        raise MeetingError(
            _("The attendance of %(name)s was recorded; they stay on the record of the meeting.")
            % {"name": attendee.display_name}
        )
    data = {"attendee": attendee.pk, "role": attendee.role}
    attendee.delete()
    audit_record(actor=actor, action=AuditAction.ATTENDEE_REMOVED, target=meeting, data=data)


@transaction.atomic
def attendee_reply(*, attendee: Attendee, reply: str, note: str = "") -> Attendance:
    """The attendee answers through their own link: 会場 / オンライン / 欠席, before the meeting starts.
    Answering the same twice records it once."""
    meeting = _lock(attendee.meeting)
    if reply not in Attendance.Reply.values:
        raise MeetingError(_("Choose 会場, オンライン or 欠席."))
    if meeting.status not in ANSWER_STATUSES:
        raise MeetingError(_("Answers can no longer be given for this meeting."))
    if meeting.is_past:
        raise MeetingError(_("The meeting has started; ask the secretariat to record your attendance."))
    if reply == Attendance.Reply.ONLINE and not meeting.online_url and not meeting.online_note:
        raise MeetingError(_("This meeting offers no online attendance."))
    attendance, _created = Attendance.objects.get_or_create(meeting=meeting, attendee_id=attendee.pk)
    attendance = Attendance.objects.select_for_update().get(pk=attendance.pk)
    note = single_line(note, 250).strip()
    if attendance.reply == reply and attendance.reply_note == note:
        return attendance
    attendance.reply, attendance.reply_note, attendance.reply_via = reply, note, Attendance.ReplyVia.LINK
    attendance.replied_at, attendance.replied_by = timezone.now(), None
    attendance.save(update_fields=["reply", "reply_note", "reply_via", "replied_at", "replied_by"])
    audit_record(
        actor=None,
        action=AuditAction.ATTENDEE_ANSWERED,
        target=meeting,
        data={"attendance": attendance.pk, "attendee": attendee.pk, "reply": reply},
    )
    return attendance
