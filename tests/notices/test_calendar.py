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


# The ATTENDEE line written by hand for plain names and addresses (notices.calendar._plain_attendee_line) is
# the line icalendar writes, whatever the name's length, script, spaces or the attendee's role and answer.
_NAMES = [
    "", "委員001 花子", "森 樹男", "Taro Yamada", "x" * 80, "長い名前" * 20, "森\u3000樹男", "a b c d e f g h",
    "Ōno Ichirō", "김민준", "José Müller-Lüdenscheidt", "名" * 24 + "a", "a" + "名" * 24, "🎌 旗 " * 12,
    'a "quoted" name', "O'Brien", "a;b,c:d", "back\\slash", "caret^name", "tab\tname", "line\nbreak", "’apos",
]


def _random_names(n: int) -> list[str]:
    import random

    rng = random.Random(20261201)  # noqa: S311 - test data
    alphabet = "abcXYZ019 　・ー々森樹男花子あいうアイウ한국éü🎌.-_()（）" + "'\";:,\\^’"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(n)]


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_the_attendee_line_written_by_hand_is_icalendars(meeting, method):
    from notices.calendar import Invitation, _plain_attendee_line

    invitation = Invitation(meeting, method=method, private=True)
    plain = 0
    cases = [(name, role, partstat) for name in _NAMES + _random_names(600) for role, partstat in
             (("REQ-PARTICIPANT", "NEEDS-ACTION"), ("CHAIR", "ACCEPTED"), ("NON-PARTICIPANT", "DECLINED"))]
    for n, (name, role, partstat) in enumerate(cases):
        email = f"m{n:04d}@members.test" if n % 7 else f"very.long.address.{n}.{'x' * 40}@members.example.test"
        attendee = CalendarAttendee(email=email, name=name, role=role, partstat=partstat, rsvp=n % 2 == 0)
        line = invitation.attendee_line(attendee)
        assert line == invitation.icalendar_attendee_line(attendee), (name, role)
        plain += _plain_attendee_line(attendee, method=method) is not None
    assert plain > 3 * 14 + 100 and len(cases) - plain > 100  # both ways were compared, many times each
    for name in _NAMES[:14]:  # the plain names: Japanese, Latin, Korean, long, with spaces
        assert _plain_attendee_line(CalendarAttendee(email="m1@members.test", name=name), method=method)
    with pytest.raises(ValueError):
        invitation.attendee_line(CalendarAttendee(email="a@b.test", role="BOSS"))
