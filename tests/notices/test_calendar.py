import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from icalendar import Calendar

from meetings import services as meeting_services
from notices import services
from notices.calendar import CalendarAttendee, meeting_ics
from notices.models import Notice

pytestmark = pytest.mark.django_db
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def ics_of(message) -> Calendar:
    raw = message.message()
    part = next(p for p in raw.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


def event_of(calendar: Calendar):
    return next(c for c in calendar.walk("VEVENT"))


def send(meeting, actor, kind, capture):
    with capture(execute=True):
        return services.notice_send(actor=actor, meeting=meeting, kind=kind)


def test_invitation_parses_with_tokyo_time(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    send(meeting, secretariat, Notice.Kind.CONVOCATION, django_capture_on_commit_callbacks)
    calendar = ics_of(mail.outbox[0])
    event = event_of(calendar)
    assert calendar["METHOD"] == "REQUEST"
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2023, 6, 7, 14, tzinfo=TOKYO)
    assert str(start.tzinfo) == "Asia/Tokyo"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert str(event["UID"]) == f"meeting-{meeting.pk}@dxplan.example.jp"
    assert event.walk("VALARM")[0].decoded("TRIGGER") == dt.timedelta(days=-1)
    assert "青森県庁" in str(event["LOCATION"])
    assert "secret-room-4711" in str(event["DESCRIPTION"])


def test_change_keeps_uid_and_raises_sequence(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    send(meeting, secretariat, Notice.Kind.CONVOCATION, django_capture_on_commit_callbacks)
    new_start = dt.datetime(2023, 6, 9, 10, tzinfo=TOKYO)
    meeting_services.meeting_update(
        actor=secretariat, meeting=meeting, start_at=new_start, end_at=new_start + dt.timedelta(hours=2)
    )
    send(meeting, secretariat, Notice.Kind.CHANGE, django_capture_on_commit_callbacks)
    first, second = (event_of(ics_of(m)) for m in mail.outbox)
    assert first["UID"] == second["UID"]
    assert second["SEQUENCE"] > first["SEQUENCE"]
    assert second.decoded("DTSTART") == new_start


def test_cancellation_is_method_cancel(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    send(meeting, secretariat, Notice.Kind.CONVOCATION, django_capture_on_commit_callbacks)
    meeting_services.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風のため")
    send(meeting, secretariat, Notice.Kind.CANCELLATION, django_capture_on_commit_callbacks)
    calendar = ics_of(mail.outbox[-1])
    assert calendar["METHOD"] == "CANCEL"
    assert event_of(calendar)["STATUS"] == "CANCELLED"
    assert event_of(calendar)["SEQUENCE"] > event_of(ics_of(mail.outbox[0]))["SEQUENCE"]


def test_public_ics_has_no_online_link(meeting):
    guest = CalendarAttendee(email="guest@example.jp", name="傍聴 太郎")
    calendar = Calendar.from_ical(meeting_ics(meeting, method="REQUEST", private=False, attendee=guest))
    assert "secret-room" not in calendar.to_ical().decode()


def test_unknown_method_refused(meeting):
    with pytest.raises(ValueError):
        meeting_ics(meeting, method="PUBLISH!", private=True, attendee=CalendarAttendee(email="a@example.jp"))
