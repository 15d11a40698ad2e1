"""Reads of 傍聴: what the public page says, and the secretariat's list. A fixed number of queries each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from meetings.models import Meeting

from .models import ObservationGuide, ObservationSettings, Registration
from .services import observation_offered


@dataclass
class ObservationStatus:
    """What the meeting page says about 傍聴: whether it is possible, seats left, until when, and how."""

    meeting: Meeting
    settings: ObservationSettings | None
    guide: ObservationGuide | None
    possible: bool  # the meeting can have observers and 傍聴 is set up
    open: bool  # registration is open now
    not_yet: bool  # opens later
    seats_left: dict[str, int] = field(default_factory=dict)
    observers: int | None = None  # 傍聴者数 of the meeting record, once the meeting has started

    @property
    def changes_at(self) -> dt.datetime | None:
        """The next moment this status changes by the clock alone: registration opening or closing, the
        meeting starting (the 傍聴者数 is shown from then)."""
        now = timezone.now()
        moments = [self.meeting.start_at]
        if self.settings is not None:
            moments += [self.settings.opens_at, self.settings.closes_at]
        future = [m for m in moments if m is not None and m > now]
        return min(future) if future else None

    @property
    def closes_at(self) -> dt.datetime | None:
        return self.settings.closes_at if self.settings else None

    @property
    def full(self) -> bool:
        return self.open and self.settings is not None and self.seats_left.get(Registration.Kind.PUBLIC, 0) <= 0


def observation_status(meeting: Meeting, *, now: dt.datetime | None = None) -> ObservationStatus:
    """Four queries at most: the settings, the body's 傍聴要領, the seats taken per kind, and the 傍聴者数
    once the meeting has started."""
    now = now or timezone.now()
    observation = ObservationSettings.objects.filter(meeting_id=meeting.pk).first()
    if observation is not None:
        observation.meeting = meeting  # the page's meeting, without another query
    guide = ObservationGuide.objects.filter(body_id=meeting.body_id).first()
    started = meeting.start_at is not None and meeting.start_at <= now
    observers = observer_count(meeting) if started else None
    if observation is None or not meeting.body.is_public:
        return ObservationStatus(meeting, None, guide, possible=False, open=False, not_yet=False, observers=observers)
    used = observation.registrations.aggregate(
        public=Sum("party_size", filter=Q(kind=Registration.Kind.PUBLIC, state=Registration.State.SEATED)),
        press=Sum("party_size", filter=Q(kind=Registration.Kind.PRESS, state=Registration.State.SEATED)),
    )
    left = {
        Registration.Kind.PUBLIC.value: max(0, observation.public_seats - (used["public"] or 0)),
        Registration.Kind.PRESS.value: max(0, observation.press_seats - (used["press"] or 0)),
    }
    possible = observation_offered(meeting, observation)
    return ObservationStatus(
        meeting,
        observation,
        guide,
        possible=possible,
        open=possible and observation.is_open(now),
        not_yet=possible and now < observation.opens_at,
        seats_left=left,
        observers=observers,
    )


def registrations_of(observation: ObservationSettings) -> QuerySet[Registration]:
    """The secretariat's list: every registration of the meeting, seated first, in queue order."""
    return observation.registrations.order_by("state", "kind", "position", "pk")


def observer_count(meeting: Meeting) -> int | None:
    """傍聴者数 of the meeting record: the number in the minutes when the secretariat wrote one there (the
    check-in fills it), else the number checked in or as corrected; None when not recorded. One query."""
    row = (
        Meeting.objects.filter(pk=meeting.pk)
        .values_list(
            "minutes__observers_count", "observation__observer_count", "observation__observer_count_correction"
        )
        .first()
    )
    if row is None:
        return None
    in_minutes, checked_in, corrected = row
    if in_minutes is not None:
        return int(in_minutes)
    if corrected is not None:
        return int(corrected)
    return int(checked_in) if checked_in is not None else None
