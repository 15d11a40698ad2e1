"""RFC 5546 (iTIP): every invitation (METHOD:REQUEST) and cancellation (METHOD:CANCEL) names the ORGANIZER
(the secretariat: unit name and address) and the recipient as ATTENDEE (CN, ROLE, RSVP, PARTSTAT from
their answer). Checked with icalendar, with a second parser (vobject) and with a strict line check of
RFC 5545's content-line grammar."""

from __future__ import annotations

import email
import email.policy
import os
import re

import pytest
from django.core import mail
from icalendar import Calendar

from meetings import services as meeting_services
from meetings.models import Attendance, Attendee
from notices import services
from notices.models import Notice

pytestmark = pytest.mark.django_db



def unit_name(meeting) -> str:
    """The secretariat's unit name on the meeting day, with its parents (…DX推進課)."""
    name = meeting.body.secretariat.full_name_on(meeting.date)
    assert name.endswith("DX推進課")
    return name


def ics_text(message) -> str:
    raw = message.message()
    parts = [p for p in raw.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0].get_payload(decode=True).decode("utf-8")


def by_recipient(kind: str) -> dict[str, str]:
    return {m.to[0]: ics_text(m) for m in mail.outbox if m.subject.startswith(kind)}


def send(meeting, actor, kind, capture):
    with capture(execute=True):
        return services.notice_send(actor=actor, meeting=meeting, kind=kind)


# --- a strict reading of RFC 5545 §3.1 (content lines), independent of both parsers ----------------

NAME = r"[A-Za-z0-9-]+"
SAFE = r'[^\x00-\x08\x0a-\x1f\x7f";:,]*'
QSAFE = r'[^\x00-\x08\x0a-\x1f\x7f"]*'
PARAM = rf'{NAME}=(?:"{QSAFE}"|{SAFE})(?:,(?:"{QSAFE}"|{SAFE}))*'
CONTENT_LINE = re.compile(rf"^{NAME}(?:;{PARAM})*:[^\x00-\x08\x0a-\x1f\x7f]*$")


def strict_lines(text: str) -> list[str]:
    """Every physical line ends in CRLF and has at most 75 octets; unfolded, every line is
    name *(";" param) ":" value. Returns the unfolded lines."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text[:-2].split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical), [line for line in physical if len(line) > 75]
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")[:-2].split("\r\n")
    bad = [line for line in unfolded if not CONTENT_LINE.match(line)]
    assert not bad, bad
    return unfolded


def properties(unfolded: list[str], name: str) -> list[tuple[dict[str, str], str]]:
    """(params, value) of each `name` property, split by the grammar above."""
    found = []
    for line in unfolded:
        match = re.match(rf"^{name}((?:;{PARAM})*):(.*)$", line)
        if match is None:
            continue
        params = {
            m.group(1).upper(): m.group(2).strip('"')
            for m in re.finditer(rf';({NAME})=("{QSAFE}"|{SAFE})', match.group(1))
        }
        found.append((params, match.group(2)))
    return found


def vobject_or_skip():
    try:
        import vobject
    except ImportError:
        if os.environ.get("DXPLAN_CI_STRICT") == "1":
            raise
        pytest.skip("vobject (requirements-dev.txt) is not installed")
    return vobject


# --- the tests --------------------------------------------------------------------------------------


@pytest.fixture
def answered(approved, meeting, secretariat, chair, vice_chair, member, unit_email, django_capture_on_commit_callbacks):
    """A 開催通知 sent; then the member answers 会場 and the vice chair 欠席; the chair has not answered."""
    send(meeting, secretariat, Notice.Kind.CONVOCATION, django_capture_on_commit_callbacks)
    attendance = Attendance.objects.filter(meeting=meeting).select_related("appointment")
    rows = {a.appointment.person_id: a for a in attendance}
    meeting_services.attendance_reply(actor=member, attendance=rows[member.person.pk], reply="venue")
    meeting_services.attendance_reply(actor=vice_chair, attendance=rows[vice_chair.person.pk], reply="absent")
    return meeting


def test_request_has_organizer_and_the_recipient_as_attendee(
    approved, meeting, secretariat, chair, member, unit_email, django_capture_on_commit_callbacks
):
    send(meeting, secretariat, Notice.Kind.CONVOCATION, django_capture_on_commit_callbacks)
    invitations = by_recipient("【開催通知】")
    # The secretariat's copy is a delivery of its own (issue 11): its .ics names the unit as a
    # NON-PARTICIPANT asked for no answer.
    assert set(invitations) == {chair.email, member.email, unit_email}
    copy = next(iter(Calendar.from_ical(invitations.pop(unit_email)).walk("VEVENT")))["ATTENDEE"]
    assert copy.params["ROLE"] == "NON-PARTICIPANT" and copy.params["RSVP"] == "FALSE"
    for address, text in invitations.items():
        event = next(iter(Calendar.from_ical(text).walk("VEVENT")))
        assert Calendar.from_ical(text)["METHOD"] == "REQUEST"
        organizer = event["ORGANIZER"]
        assert str(organizer) == f"mailto:{unit_email}"
        assert organizer.params["CN"] == unit_name(meeting)
        attendees = event.get("ATTENDEE")
        assert not isinstance(attendees, list)  # exactly one: the recipient
        assert str(attendees) == f"mailto:{address}"
        assert attendees.params["PARTSTAT"] == "NEEDS-ACTION" and attendees.params["RSVP"] == "TRUE"
        assert attendees.params["CUTYPE"] == "INDIVIDUAL"
    chair_attendee = next(iter(Calendar.from_ical(invitations[chair.email]).walk("VEVENT")))["ATTENDEE"]
    member_attendee = next(iter(Calendar.from_ical(invitations[member.email]).walk("VEVENT")))["ATTENDEE"]
    assert chair_attendee.params["ROLE"] == "CHAIR" and chair_attendee.params["CN"] == chair.person.full_name
    assert member_attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert member_attendee.params["CN"] == member.person.full_name


def test_partstat_follows_the_answer_in_a_change_and_the_cancellation(
    answered, secretariat, chair, vice_chair, member, django_capture_on_commit_callbacks
):
    meeting = answered
    first = by_recipient("【開催通知】")
    meeting_services.meeting_update(actor=secretariat, meeting=meeting, venue_room="南棟2階 会議室")
    send(meeting, secretariat, Notice.Kind.CHANGE, django_capture_on_commit_callbacks)
    meeting_services.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風のため")
    send(meeting, secretariat, Notice.Kind.CANCELLATION, django_capture_on_commit_callbacks)
    change, cancel = by_recipient("【変更通知】"), by_recipient("【中止・延期のお知らせ】")
    expected = {member.email: "ACCEPTED", vice_chair.email: "DECLINED", chair.email: "NEEDS-ACTION"}
    sequences = []
    for kind, invitations in (("REQUEST", first), ("REQUEST", change), ("CANCEL", cancel)):
        for address, partstat in expected.items():
            calendar = Calendar.from_ical(invitations[address])
            event = next(iter(calendar.walk("VEVENT")))
            assert calendar["METHOD"] == kind
            assert str(event["ATTENDEE"]) == f"mailto:{address}"
            assert str(event["ORGANIZER"]).startswith("mailto:")
            if invitations is not first:
                assert event["ATTENDEE"].params["PARTSTAT"] == partstat, (kind, address)
            assert event["ATTENDEE"].params["RSVP"] == ("TRUE" if kind == "REQUEST" else "FALSE")
            sequences.append((str(event["UID"]), int(event["SEQUENCE"])))
    uids = {uid for uid, _sequence in sequences}
    assert len(uids) == 1  # the UID never changes
    first_seq, change_seq, cancel_seq = (sequences[i][1] for i in (0, 3, 6))
    assert first_seq < change_seq < cancel_seq  # every change raises it


def test_a_guest_invitation_names_the_guest(approved, meeting, secretariat, chair, django_capture_on_commit_callbacks):
    guest = meeting_services.attendee_add(
        actor=secretariat, meeting=meeting, role=Attendee.Role.OBSERVER, name="観察 一郎", email="kansatsu@example.jp"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.attendee_invite(actor=secretariat, attendee=guest)
    (message,) = [m for m in mail.outbox if m.to == ["kansatsu@example.jp"]]
    event = next(iter(Calendar.from_ical(ics_text(message)).walk("VEVENT")))
    assert str(event["ATTENDEE"]) == "mailto:kansatsu@example.jp"
    assert event["ATTENDEE"].params["CN"] == "観察 一郎"
    assert event["ATTENDEE"].params["ROLE"] == "OPT-PARTICIPANT"


def test_the_batch_bytes_carry_each_recipients_attendee(
    approved, meeting, secretariat, chair, member, django_capture_on_commit_callbacks
):
    from notices.email import MessageBuilder, answer_urls
    from notices.models import Delivery

    with django_capture_on_commit_callbacks(execute=False):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    rows = list(Delivery.objects.filter(notice=notice).select_related("person").order_by("pk"))
    builder = MessageBuilder(notice)
    urls = answer_urls(notice, rows)
    seen = set()
    for row in rows:
        data = builder.raw(row, urls[row.person_id])[3]
        assert data == builder.message_bytes(builder.build(row, urls[row.person_id]))
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        part = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
        event = next(iter(Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")))
        seen.add(str(event["ATTENDEE"]))
    assert builder._raw[(True, True, False)] is not None  # the fast way, with the ATTENDEE put in
    assert seen == {f"mailto:{row.email}" for row in rows}


def _invitations(kind, meeting, secretariat, capture) -> dict[str, str]:
    if kind == "CANCEL":
        meeting_services.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風のため")
        send(meeting, secretariat, Notice.Kind.CANCELLATION, capture)
        return by_recipient("【中止・延期のお知らせ】")
    send(meeting, secretariat, Notice.Kind.ANSWER_REMINDER, capture)  # no .ics
    meeting_services.meeting_update(actor=secretariat, meeting=meeting, venue_room="南棟2階 会議室")
    send(meeting, secretariat, Notice.Kind.CHANGE, capture)
    return by_recipient("【変更通知】")


@pytest.mark.parametrize("kind", ["REQUEST", "CANCEL"])
def test_the_content_lines_follow_rfc_5545(kind, answered, secretariat, member, vice_chair,
                                           django_capture_on_commit_callbacks):
    meeting = answered
    invitations = _invitations(kind, meeting, secretariat, django_capture_on_commit_callbacks)
    for address, partstat in ((member.email, "ACCEPTED"), (vice_chair.email, "DECLINED")):
        unfolded = strict_lines(invitations[address])
        assert properties(unfolded, "METHOD") == [({}, kind)]
        (organizer,) = properties(unfolded, "ORGANIZER")
        (attendee,) = properties(unfolded, "ATTENDEE")
        assert organizer[1].lower().startswith("mailto:") and organizer[0]["CN"] == unit_name(meeting)
        assert attendee[1] == f"mailto:{address}"
        assert attendee[0]["PARTSTAT"] == partstat and attendee[0]["ROLE"] in ("CHAIR", "REQ-PARTICIPANT")
        assert attendee[0]["RSVP"] == ("TRUE" if kind == "REQUEST" else "FALSE")


@pytest.mark.parametrize("kind", ["REQUEST", "CANCEL"])
def test_a_second_parser_reads_the_same(kind, answered, secretariat, member, vice_chair,
                                        django_capture_on_commit_callbacks):
    vobject = vobject_or_skip()
    meeting = answered
    invitations = _invitations(kind, meeting, secretariat, django_capture_on_commit_callbacks)
    for address, partstat in ((member.email, "ACCEPTED"), (vice_chair.email, "DECLINED")):
        text = invitations[address]
        parsed = vobject.readOne(text)
        assert parsed.method.value == kind
        event = parsed.vevent
        assert event.organizer.value.lower().startswith("mailto:")
        assert event.organizer.params["CN"] == [unit_name(meeting)]
        assert [a.value for a in event.contents["attendee"]] == [f"mailto:{address}"]
        assert event.attendee.params["PARTSTAT"] == [partstat]
        assert event.attendee.params["RSVP"] == ["TRUE" if kind == "REQUEST" else "FALSE"]
        assert event.uid.value == f"meeting-{meeting.pk}@dxplan.example.jp"
        assert int(event.sequence.value) == int(next(iter(Calendar.from_ical(text).walk("VEVENT")))["SEQUENCE"])
