"""What every service of the package shares: the domain error and the row locks."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ..models import (
    Agenda,
    Meeting,
)


class MeetingError(ValidationError):
    """A change the meeting's state or the user's role does not allow; the message says why."""


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("body").get(pk=meeting.pk)


def _lock_agenda(meeting: Meeting) -> Agenda:
    agenda, _created = Agenda.objects.get_or_create(meeting=meeting)
    return Agenda.objects.select_for_update().get(pk=agenda.pk)


