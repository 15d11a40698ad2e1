"""iCalendar (RFC 5545) for notices and subscription feeds: one stable UID per meeting, SEQUENCE from the
meeting's revision, times in Asia/Tokyo with a VTIMEZONE."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText

from core.text import single_line
from meetings.models import Meeting

from .addressing import site_domain

PRODID = "-//dxplan//notices//JA"
DEFAULT_LENGTH = dt.timedelta(hours=2)


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{site_domain()}"


def _location(meeting: Meeting) -> str:
    return single_line(" ".join(v for v in (meeting.venue_name, meeting.venue_room, meeting.venue_address) if v))


def _organizer(meeting: Meeting) -> vCalAddress:
    from email.utils import parseaddr

    address = meeting.body.secretariat.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(single_line(meeting.body.short_name))
    return organizer


def _event(meeting: Meeting, *, private: bool, cancel: bool) -> Event:
    start = timezone.localtime(meeting.start_at)
    end = timezone.localtime(meeting.end_at) if meeting.end_at else start + DEFAULT_LENGTH
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", single_line(f"{meeting.body.short_name} {meeting.label}"))
    location = _location(meeting)
    if location:
        event.add("location", location)
    lines = [meeting.title]
    if meeting.theme:
        lines.append(meeting.theme)
    if private and meeting.online_url:
        lines.append(meeting.online_url)
    if private and meeting.online_note:
        lines.append(meeting.online_note)
    event.add("description", "\n".join(single_line(line) for line in lines))
    event.add("url", settings.SITE_URL + reverse("meetings:detail", args=[meeting.pk]))
    event.add("organizer", _organizer(meeting))
    if cancel or meeting.status == Meeting.Status.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", single_line(f"{meeting.body.short_name} {meeting.label}"))
        alarm.add("trigger", dt.timedelta(days=-1))
        event.add_component(alarm)
    return event


@functools.lru_cache(maxsize=4)
def _vtimezone_ical(tzid: str) -> bytes:
    """The VTIMEZONE of `tzid`, worked out once per process (it is the same for every mail)."""
    return Timezone.from_tzid(tzid).to_ical()


def _add_timezone(calendar: Calendar) -> None:
    """What add_missing_timezones() does for our one zone, without recomputing it for every message."""
    calendar.subcomponents.insert(0, Timezone.from_ical(_vtimezone_ical(settings.TIME_ZONE)))


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    return calendar


def meeting_ics(meeting: Meeting, *, method: str, private: bool) -> bytes:
    """The invitation attached to a notice: METHOD:REQUEST, or METHOD:CANCEL with STATUS:CANCELLED.
    The online link only when `private` (members and invitees)."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(method)
    calendar = _calendar(method)
    calendar.add_component(_event(meeting, private=private, cancel=method == "CANCEL"))
    _add_timezone(calendar)
    return calendar.to_ical()


def feed_ics(meetings: Iterable[Meeting], *, private: bool, name: str) -> bytes:
    """A subscription feed; dated meetings only, cancelled ones as STATUS:CANCELLED."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", single_line(name))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for meeting in meetings:
        if meeting.start_at is not None:
            calendar.add_component(_event(meeting, private=private, cancel=False))
    _add_timezone(calendar)
    return calendar.to_ical()
