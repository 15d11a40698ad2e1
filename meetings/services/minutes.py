"""Minutes: confirmation by those who attended, finalisation by the presiding officer, publication."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditAction, audit_record
from core.types import AnyUser, account_of

from .. import selectors
from ..models import (
    Meeting,
    Minutes,
    MinutesConfirmation,
)
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
    audit_record(
        actor=actor,
        action=AuditAction.MINUTES_SENT_FOR_CONFIRMATION,
        target=minutes.meeting,
        data={"members": len(attended), "confirm_by": confirm_by.isoformat()},
    )
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
    meeting = _lock(minutes.meeting)
    meeting.status = Meeting.Status.MINUTES_PUBLISHED
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action=AuditAction.MINUTES_PUBLISHED, target=meeting)
    return minutes
