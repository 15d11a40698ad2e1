"""Minutes: confirmation by those who attended, finalisation by the presiding officer, publication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from committee import selectors as committee_selectors
from committee.models import Appointment
from core.audit import AuditAction, audit_record
from core.types import AnyUser, account_of

from .. import selectors
from ..models import (
    AgendaItem,
    Attendee,
    Meeting,
    Minutes,
    MinutesConfirmation,
    MinutesEntry,
    MinutesVersion,
)
from ..signals import minutes_sent_for_confirmation
from ._common import MeetingError, _lock

# --- minutes -----------------------------------------------------------------------------------


def _lock_minutes(meeting: Meeting) -> Minutes:
    minutes, _created = Minutes.objects.get_or_create(meeting=meeting)
    return Minutes.objects.select_for_update().select_related("meeting__body").get(pk=minutes.pk)


@transaction.atomic
def minutes_send_for_confirmation(*, actor: AnyUser | None, meeting: Meeting, confirm_by: dt.date) -> int:
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
    _record_version(minutes, actor=actor, reason=MinutesVersion.Reason.SENT)
    audit_record(
        actor=actor,
        action=AuditAction.MINUTES_SENT_FOR_CONFIRMATION,
        target=minutes.meeting,
        data={"members": len(attended), "confirm_by": confirm_by.isoformat()},
    )
    minutes_sent_for_confirmation.send(sender=Minutes, meeting=minutes.meeting, actor=actor)
    return len(attended)


@transaction.atomic
def minutes_confirm(*, actor: AnyUser, meeting: Meeting, comment: str = "") -> MinutesConfirmation:
    """A member who attended confirms the draft, or answers with a comment."""
    minutes = _lock_minutes(meeting)
    if minutes.status != Minutes.Status.CONFIRMING:
        raise MeetingError(_("These minutes are not waiting for confirmation."))
    user = account_of(actor)  # no account, no confirmation (None would match the people without one)
    confirmation = (
        minutes.confirmations.select_for_update().filter(appointment__person__user=user).first() if user else None
    )
    if confirmation is None:
        raise MeetingError(_("Only members who attended confirm these minutes."))
    state = MinutesConfirmation.State.COMMENTED if comment.strip() else MinutesConfirmation.State.CONFIRMED
    if confirmation.state == state and confirmation.comment == comment.strip():
        return confirmation
    confirmation.state, confirmation.comment, confirmation.answered_at = state, comment.strip(), timezone.now()
    confirmation.save(update_fields=["state", "comment", "answered_at"])
    audit_record(actor=actor, action=AuditAction.MINUTES_CONFIRMED, target=minutes.meeting, data={"state": state})
    return confirmation


@transaction.atomic
def minutes_finalise(*, actor: AnyUser, meeting: Meeting) -> Minutes:
    """The presiding officer finalises the minutes after the members' confirmation."""
    minutes = _lock_minutes(meeting)
    presiding = selectors.approver_for(minutes.meeting, allow_convener=False)
    if presiding is None or presiding.user is None or presiding.user.pk != actor.pk:
        raise MeetingError(_("Only the presiding officer of the meeting can finalise its minutes."))
    if minutes.status == Minutes.Status.FINALISED:
        return minutes
    if minutes.status != Minutes.Status.CONFIRMING:
        raise MeetingError(_("Send the draft to the members for confirmation first."))
    minutes.status, minutes.finalised_at = Minutes.Status.FINALISED, timezone.now()
    minutes.finalised_by = account_of(actor)  # the presiding officer, as checked above
    minutes.save(update_fields=["status", "finalised_at", "finalised_by"])
    _record_version(minutes, actor=actor, reason=MinutesVersion.Reason.FINALISED)
    audit_record(actor=actor, action=AuditAction.MINUTES_FINALISED, target=minutes.meeting)
    return minutes


@transaction.atomic
def minutes_publish(*, actor: AnyUser | None, meeting: Meeting) -> Minutes:
    """The secretariat publishes finalised minutes; closed passages are left out of the public text."""
    minutes = _lock_minutes(meeting)
    if minutes.status == Minutes.Status.PUBLISHED:
        return minutes
    if minutes.status != Minutes.Status.FINALISED:
        raise MeetingError(_("Only finalised minutes can be published."))
    minutes.status, minutes.published_at = Minutes.Status.PUBLISHED, timezone.now()
    minutes.save(update_fields=["status", "published_at"])
    _record_version(minutes, actor=actor, reason=MinutesVersion.Reason.PUBLISHED)
    meeting = _lock(minutes.meeting)
    meeting.status = Meeting.Status.MINUTES_PUBLISHED
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action=AuditAction.MINUTES_PUBLISHED, target=meeting)
    return minutes


# --- writing the minutes (the secretariat's editor) ---------------------------------------------


@dataclass(frozen=True)
class PassageInput:
    """What the editor sends for one passage; the speaker label is what the minutes print."""

    text: str
    speaker: str = ""
    speaker_role: str = ""
    speaker_appointment: Appointment | None = None
    speaker_attendee: Attendee | None = None
    agenda_item: AgendaItem | None = None
    is_closed: bool = False
    closed_basis: str = ""
    in_summary: bool = True


PASSAGE_FIELDS = [
    "text", "speaker", "speaker_role", "speaker_appointment", "speaker_attendee", "agenda_item", "is_closed",
    "closed_basis", "in_summary",
]


def minutes_snapshot(minutes: Minutes) -> str:
    """The text of all passages as a version keeps it: one block per passage, in the order the minutes
    print them (by 議題), with what is closed and what the 議事要旨 leaves out marked."""
    entries = list(minutes.entries.select_related("agenda_item").order_by("position", "id"))
    lines: list[str] = []
    for section in selectors.minutes_sections(minutes.meeting, entries):
        lines.append(f"■ {section.heading}")
        for entry in section.entries:
            marks = []
            if entry.is_closed:
                marks.append(f"【非公開】{entry.closed_basis}".strip())
            if not entry.in_summary:
                marks.append("(要旨に含めない)")
            head = f"{entry.speaker or '—'}{' ' + ' '.join(marks) if marks else ''}"
            lines.append(head)
            lines.extend(f"  {line}" for line in entry.text.splitlines() or [""])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _record_version(minutes: Minutes, *, actor: AnyUser | None, reason: str) -> MinutesVersion:
    """A new numbered version with the current text; the caller holds the minutes' lock."""
    last = minutes.versions.aggregate(n=Max("number"))["n"] or 0
    return MinutesVersion.objects.create(
        minutes=minutes, number=last + 1, snapshot=minutes_snapshot(minutes), reason=reason,
        created_by=account_of(actor),
    )


def _lock_for_edit(meeting: Meeting, actor: AnyUser | None) -> Minutes:
    """The minutes, locked, if this actor may change their text now: in draft, or while the members
    confirm it (the secretariat then corrects it, and each change is kept as a version)."""
    minutes = _lock_existing(meeting)
    if actor is None or not committee_selectors.is_secretariat_of_body(actor, minutes.meeting.body):
        raise MeetingError(_("Only the secretariat of the body writes its minutes."))
    if minutes.status not in (Minutes.Status.DRAFT, Minutes.Status.CONFIRMING):
        raise MeetingError(_("These minutes are finalised: their text can no longer be changed."))
    return minutes


def _lock_existing(meeting: Meeting) -> Minutes:
    minutes = (
        Minutes.objects.select_for_update().select_related("meeting__body").filter(meeting_id=meeting.pk).first()
    )
    if minutes is None:
        raise MeetingError(_("Start the minutes first."))
    return minutes


FOREIGN_KEYS = ("speaker_appointment", "speaker_attendee", "agenda_item")


def _value(obj: object, name: str) -> object:
    """A field's value to compare, foreign keys by id (no query for the related row)."""
    if name in FOREIGN_KEYS:
        if isinstance(obj, MinutesEntry):
            return getattr(obj, f"{name}_id")
        related = getattr(obj, name)
        return related.pk if related is not None else None
    return getattr(obj, name)


def _after_edit(minutes: Minutes, actor: AnyUser | None) -> None:
    """While the members confirm, each change of the text is a new version (none when the text reads the
    same, e.g. only the number of observers changed)."""
    if minutes.status != Minutes.Status.CONFIRMING:
        return
    last = minutes.versions.order_by("-number").values_list("snapshot", flat=True).first()
    if last != minutes_snapshot(minutes):
        _record_version(minutes, actor=actor, reason=MinutesVersion.Reason.EDITED)


def _clean_passage(minutes: Minutes, data: PassageInput) -> PassageInput:
    """The passage as it will be saved, or a MeetingError saying what is wrong with it."""
    meeting = minutes.meeting
    if not data.text.strip():
        raise MeetingError(_("Write the text of the passage."))
    if data.is_closed and not data.closed_basis.strip():
        raise MeetingError(_("Give the basis for closing this passage (e.g. the article of the guidelines)."))
    if data.agenda_item is not None and data.agenda_item.agenda.meeting_id != meeting.pk:
        raise MeetingError(_("The agenda item is not one of this meeting's."))
    if data.speaker_appointment is not None and data.speaker_appointment.body_id != meeting.body_id:
        raise MeetingError(_("The speaker is not on this body's roster."))
    if data.speaker_attendee is not None and data.speaker_attendee.meeting_id != meeting.pk:
        raise MeetingError(_("The speaker did not attend this meeting."))
    if data.speaker_role and data.speaker_role not in MinutesEntry.SpeakerRole.values:
        raise MeetingError(_("Unknown speaker's role."))
    if len(data.speaker.strip()) > 60 or len(data.closed_basis.strip()) > 250:
        raise MeetingError(_("The speaker or the basis is too long."))
    return PassageInput(
        text=data.text.strip(), speaker=data.speaker.strip(), speaker_role=data.speaker_role,
        speaker_appointment=data.speaker_appointment, speaker_attendee=data.speaker_attendee,
        agenda_item=data.agenda_item, is_closed=data.is_closed,
        closed_basis=data.closed_basis.strip() if data.is_closed else "", in_summary=data.in_summary,
    )


@transaction.atomic
def minutes_start(*, actor: AnyUser | None, meeting: Meeting, kind: str = Minutes.Kind.SUMMARY) -> Minutes:
    """Create the meeting's minutes record (議事要旨 or 議事録 as the published form); idempotent."""
    meeting = _lock(meeting)
    if actor is None or not committee_selectors.is_secretariat_of_body(actor, meeting.body):
        raise MeetingError(_("Only the secretariat of the body writes its minutes."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise MeetingError(_("The meeting was cancelled: it has no minutes."))
    if kind not in Minutes.Kind.values:
        raise MeetingError(_("Choose 議事要旨 or 議事録."))
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is not None:
        return minutes
    minutes = Minutes.objects.create(meeting=meeting, kind=kind)
    audit_record(actor=actor, action=AuditAction.MINUTES_STARTED, target=meeting, data={"kind": kind})
    return minutes


@transaction.atomic
def minutes_settings_update(
    *, actor: AnyUser | None, meeting: Meeting, kind: str, observers_count: int | None
) -> Minutes:
    """Which form is published (議事要旨 or 議事録) and how many members of the public observed."""
    minutes = _lock_for_edit(meeting, actor)
    if kind not in Minutes.Kind.values:
        raise MeetingError(_("Choose 議事要旨 or 議事録."))
    if observers_count is not None and observers_count < 0:
        raise MeetingError(_("The number of observers cannot be negative."))
    if (minutes.kind, minutes.observers_count) == (kind, observers_count):
        return minutes
    minutes.kind, minutes.observers_count = kind, observers_count
    minutes.save(update_fields=["kind", "observers_count"])
    audit_record(
        actor=actor, action=AuditAction.MINUTES_SETTINGS_CHANGED, target=minutes.meeting,
        data={"kind": kind, "observers": observers_count},
    )
    _after_edit(minutes, actor)
    return minutes


@transaction.atomic
def minutes_observers_follow(
    *, actor: AnyUser | None, meeting: Meeting, observers_count: int | None, previous: int | None
) -> Minutes | None:
    """The 傍聴者数 recorded elsewhere (the check-in of registered observers) fills the minutes while they
    can still change, unless the secretariat has written another number in the minutes (it is kept: a
    number in the minutes other than `previous`, the last one recorded, was corrected there)."""
    minutes = (
        Minutes.objects.select_for_update().select_related("meeting__body").filter(meeting_id=meeting.pk).first()
    )
    if minutes is None or minutes.status not in (Minutes.Status.DRAFT, Minutes.Status.CONFIRMING):
        return None
    if minutes.observers_count == observers_count or minutes.observers_count not in (None, previous):
        return minutes
    minutes.observers_count = observers_count
    minutes.save(update_fields=["observers_count"])
    audit_record(
        actor=actor, action=AuditAction.MINUTES_SETTINGS_CHANGED, target=minutes.meeting,
        data={"kind": minutes.kind, "observers": observers_count, "from": "check-in"},
    )
    _after_edit(minutes, actor)
    return minutes


@transaction.atomic
def minutes_passage_add(*, actor: AnyUser | None, meeting: Meeting, data: PassageInput) -> MinutesEntry:
    """Add a passage after the last one."""
    minutes = _lock_for_edit(meeting, actor)
    clean = _clean_passage(minutes, data)
    last = minutes.entries.aggregate(p=Max("position"))["p"] or 0
    entry = MinutesEntry(minutes=minutes, position=last + 1, **{f: getattr(clean, f) for f in PASSAGE_FIELDS})
    entry.full_clean()
    entry.save()
    audit_record(
        actor=actor, action=AuditAction.MINUTES_PASSAGE_ADDED, target=minutes.meeting,
        data={"passage": entry.pk, "closed": entry.is_closed},
    )
    _after_edit(minutes, actor)
    return entry


@transaction.atomic
def minutes_passage_update(*, actor: AnyUser | None, entry: MinutesEntry, data: PassageInput) -> MinutesEntry:
    """Change a passage: its speaker, text, 議題, openness and whether the 議事要旨 carries it."""
    minutes = _lock_for_edit(entry.minutes.meeting, actor)
    entry = MinutesEntry.objects.get(pk=entry.pk, minutes=minutes)
    clean = _clean_passage(minutes, data)
    changed = [f for f in PASSAGE_FIELDS if _value(entry, f) != _value(clean, f)]
    if not changed:
        return entry
    for name in changed:
        setattr(entry, name, getattr(clean, name))
    entry.full_clean()
    entry.save(update_fields=changed)
    audit_record(
        actor=actor, action=AuditAction.MINUTES_PASSAGE_CHANGED, target=minutes.meeting,
        data={"passage": entry.pk, "fields": changed},
    )
    _after_edit(minutes, actor)
    return entry


@transaction.atomic
def minutes_passage_delete(*, actor: AnyUser | None, entry: MinutesEntry) -> None:
    """Remove a passage."""
    minutes = _lock_for_edit(entry.minutes.meeting, actor)
    deleted, _rows = MinutesEntry.objects.filter(pk=entry.pk, minutes=minutes).delete()
    if not deleted:
        return
    audit_record(actor=actor, action=AuditAction.MINUTES_PASSAGE_DELETED, target=minutes.meeting,
                 data={"passage": entry.pk})
    _after_edit(minutes, actor)


@transaction.atomic
def minutes_passage_move(*, actor: AnyUser | None, entry: MinutesEntry, direction: str) -> MinutesEntry:
    """Move a passage one place up or down among the passages of the same 議題."""
    if direction not in ("up", "down"):
        raise MeetingError(_("Move a passage up or down."))
    minutes = _lock_for_edit(entry.minutes.meeting, actor)
    entry = MinutesEntry.objects.get(pk=entry.pk, minutes=minutes)
    # Renumber every passage: positions written elsewhere (the admin, older data) may repeat.
    entries = list(minutes.entries.order_by("position", "id"))
    group = [e for e in entries if e.agenda_item_id == entry.agenda_item_id]
    index = next(i for i, e in enumerate(group) if e.pk == entry.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(group):
        return entry
    a, b = entries.index(group[index]), entries.index(group[target])
    entries[a], entries[b] = entries[b], entries[a]
    changed = []
    for position, e in enumerate(entries, start=1):
        if e.position != position:
            e.position = position
            changed.append(e)
    MinutesEntry.objects.bulk_update(changed, ["position"])
    audit_record(actor=actor, action=AuditAction.MINUTES_PASSAGE_MOVED, target=minutes.meeting,
                 data={"passage": entry.pk, "direction": direction})
    _after_edit(minutes, actor)
    return entry
