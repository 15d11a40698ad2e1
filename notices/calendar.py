"""iCalendar (RFC 5545) for notices and subscription feeds: one stable UID per meeting, SEQUENCE from the
meeting's revision (raised by every change), times in Asia/Tokyo with a VTIMEZONE.

An invitation (METHOD:REQUEST) and its cancellation (METHOD:CANCEL) carry, as RFC 5546 (iTIP) requires,
the ORGANIZER (the body's secretariat: its unit name and address) and one ATTENDEE: the recipient, with
their name (CN), ROLE (CHAIR for the presiding officer, REQ-PARTICIPANT for members and invited
attendees, OPT-PARTICIPANT for observers, NON-PARTICIPANT for a copy), RSVP and PARTSTAT from their
attendance answer (会場・オンライン → ACCEPTED, 欠席 → DECLINED, none yet → NEEDS-ACTION; the project
has no "maybe", so TENTATIVE is never sent). A notice goes to many recipients: `Invitation` builds the
calendar once and puts each recipient's ATTENDEE line in.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

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


def _param(value: str) -> str:
    """A parameter value: one line, without the double quote RFC 5545 does not allow in one."""
    return single_line(value).replace('"', "")


def _organizer(meeting: Meeting, *, unit_name: bool) -> vCalAddress:
    """The secretariat's address (else the site's sender address), named as the unit stands on the meeting
    day (青森県企画政策部DX推進課) in an invitation; feeds, with many meetings and no per-meeting query to
    spare, name the body."""
    from email.utils import parseaddr

    unit = meeting.body.secretariat
    address = unit.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    name = unit.full_name_on(meeting.date or meeting.reference_date) if unit_name else ""
    name = name or meeting.body.short_name
    organizer = vCalAddress(f"mailto:{single_line(address)}")
    organizer.params["cn"] = vText(_param(name))
    return organizer


PARTSTAT_OF_REPLY = {"venue": "ACCEPTED", "online": "ACCEPTED", "absent": "DECLINED", "": "NEEDS-ACTION"}
ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")


@dataclass(frozen=True)
class CalendarAttendee:
    """The recipient as the invitation's ATTENDEE."""

    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True

    @classmethod
    def for_reply(cls, *, email: str, name: str, reply: str, role: str = "REQ-PARTICIPANT") -> CalendarAttendee:
        """From an Attendance.reply ("venue", "online", "absent" or "")."""
        return cls(email=email, name=name, role=role, partstat=PARTSTAT_OF_REPLY.get(reply, "NEEDS-ACTION"),
                   rsvp=role != "NON-PARTICIPANT")


def _attendee(attendee: CalendarAttendee, *, method: str) -> vCalAddress:
    if attendee.role not in ROLES or attendee.partstat not in PARTSTAT_OF_REPLY.values():
        raise ValueError(attendee)
    address = vCalAddress(f"mailto:{single_line(attendee.email)}")
    if attendee.name:
        address.params["cn"] = vText(_param(attendee.name))
    address.params["cutype"] = "INDIVIDUAL"
    address.params["role"] = attendee.role
    address.params["partstat"] = attendee.partstat
    # A cancellation asks for no answer.
    address.params["rsvp"] = "TRUE" if attendee.rsvp and method == "REQUEST" else "FALSE"
    return address


# The ATTENDEE line written here rather than by icalendar, for the names and addresses whose line has one
# form (tests/notices/test_calendar.py compares the two over many names): nothing in them that icalendar
# escapes, replaces or quotes but the space (a CN with a space is quoted), nothing that changes its folding.
_PLAIN_CN = re.compile(r"[^\\;,:’'\"^\x00-\x1f\x7f]+")  # noqa: RUF001 - the right single quote, as icalendar's
_PLAIN_MAILTO = re.compile(r"[A-Za-z0-9.!#$%&*+/=?_`{|}~@-]{3,254}")


def _fold(line: str) -> str:
    """RFC 5545 folding as icalendar does it for a line without backslash or caret: at most 74 octets a
    line, never inside a character."""
    if line.isascii():
        return "\r\n ".join(line[i : i + 74] for i in range(0, len(line), 74))
    lines: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= 75:
            lines.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    lines.append("".join(current))
    return "\r\n ".join(lines)


def _plain_attendee_line(attendee: CalendarAttendee, *, method: str) -> str | None:
    """The folded ATTENDEE line of `_attendee`, when its name and address are plain; else None."""
    if attendee.role not in ROLES or attendee.partstat not in PARTSTAT_OF_REPLY.values():
        raise ValueError(attendee)
    email = single_line(attendee.email)
    if not _PLAIN_MAILTO.fullmatch(email):
        return None
    cn = ""
    if attendee.name:
        name = _param(attendee.name)
        if not _PLAIN_CN.fullmatch(name):
            return None
        cn = f'CN="{name}";' if " " in name else f"CN={name};"
    rsvp = "TRUE" if attendee.rsvp and method == "REQUEST" else "FALSE"
    return _fold(
        f"ATTENDEE;{cn}CUTYPE=INDIVIDUAL;PARTSTAT={attendee.partstat};ROLE={attendee.role};RSVP={rsvp}"
        f":mailto:{email}"
    )


_PLACEHOLDER = "mailto:zq7dxplan-attendee@placeholder.invalid"
PLACEHOLDER_LINE = f"ATTENDEE:{_PLACEHOLDER}"


def _event(
    meeting: Meeting, *, stamp: dt.datetime, private: bool, cancel: bool, attendee: vCalAddress | None = None
) -> Event:
    start = timezone.localtime(meeting.start_at)
    end = timezone.localtime(meeting.end_at) if meeting.end_at else start + DEFAULT_LENGTH
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
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
    event.add("organizer", _organizer(meeting, unit_name=attendee is not None))
    if attendee is not None:
        event.add("attendee", attendee)
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


class Invitation:
    """One notice's .ics (METHOD:REQUEST, or METHOD:CANCEL with STATUS:CANCELLED), built once; `for_attendee`
    gives each recipient's, with their ATTENDEE line. The online link only when `private` (members and
    invitees)."""

    def __init__(self, meeting: Meeting, *, method: str, private: bool):
        if method not in ("REQUEST", "CANCEL"):
            raise ValueError(method)
        self.method = method
        calendar = _calendar(method)
        calendar.add_component(
            _event(
                meeting,
                stamp=timezone.now(),  # an iTIP message: when it was created (RFC 5545 §3.8.7.2)
                private=private,
                cancel=method == "CANCEL",
                attendee=vCalAddress(_PLACEHOLDER),
            )
        )
        _add_timezone(calendar)
        self.before, self.after = calendar.to_ical().decode("utf-8").split(PLACEHOLDER_LINE + "\r\n")

    def attendee_line(self, attendee: CalendarAttendee) -> str:
        """The folded ATTENDEE content line (without its final CRLF), as icalendar writes it (written here
        for a plain name and address: about a fifth of the time, once per recipient)."""
        plain = _plain_attendee_line(attendee, method=self.method)
        if plain is not None:
            return plain
        return self.icalendar_attendee_line(attendee)

    def icalendar_attendee_line(self, attendee: CalendarAttendee) -> str:
        event = Event()
        event.add("attendee", _attendee(attendee, method=self.method))
        text = event.to_ical().decode("utf-8")
        return text.removeprefix("BEGIN:VEVENT\r\n").removesuffix("\r\nEND:VEVENT\r\n")

    def with_line(self, line: str) -> str:
        return f"{self.before}{line}\r\n{self.after}"

    def for_attendee(self, attendee: CalendarAttendee) -> str:
        return self.with_line(self.attendee_line(attendee))


def meeting_ics(meeting: Meeting, *, method: str, private: bool, attendee: CalendarAttendee) -> bytes:
    """The invitation of one recipient (see Invitation)."""
    return Invitation(meeting, method=method, private=private).for_attendee(attendee).encode("utf-8")


def revised_at(meeting: Meeting) -> dt.datetime:
    """When the meeting was last changed: `revised_at` as notices.selectors.with_revision annotates it."""
    return getattr(meeting, "revised_at", None) or meeting.created_at


def feed_ics(meetings: Iterable[Meeting], *, private: bool, name: str) -> bytes:
    """A subscription feed; dated meetings only, cancelled ones as STATUS:CANCELLED.

    DTSTAMP is when each meeting was last changed (the meetings come through notices.selectors.with_revision),
    not the time of the request: the same meetings give the same bytes, so the feed's ETag holds until
    something changes and a client that asks again gets 304. RFC 5545 §3.8.7.2 reads DTSTAMP as the last
    revision "in the calendar store" when an object has no METHOD, and as the creation of the instance when it
    has one; the feed keeps METHOD:PUBLISH (clients import by it), and its instance is created when its
    content last changed: every request since gets the same bytes. Invitations (iTIP) keep the time they are
    made."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", single_line(name))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for meeting in meetings:
        if meeting.start_at is not None:
            calendar.add_component(_event(meeting, stamp=revised_at(meeting), private=private, cancel=False))
    _add_timezone(calendar)
    return calendar.to_ical()
