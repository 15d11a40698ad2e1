"""Notices through a real Celery worker and a real SMTP server (issue 5, Acceptance).

A 開催通知 to all members arrives once each with a parseable .ics whose DTSTART is the meeting's start in
Asia/Tokyo; a date change and a 変更通知 keep the UID and raise SEQUENCE; a cancellation sends METHOD:CANCEL.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.integration.conftest import TOKYO, calendar_of, deliveries, wait_for, wait_settled

pytestmark = pytest.mark.integration

SETTLE = 30  # seconds: a dozen mails take well under a second


def _event(received):
    cal, part = calendar_of(received)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1, f"one VEVENT expected, found {len(events)}"
    return cal, events[0], part


def _send(committee, kind):
    from notices import services

    return services.notice_send(actor=committee.secretariat, meeting=committee.meeting, kind=kind)


def _one_each(smtp, committee, timeout=SETTLE):
    wait_for(
        lambda: set(smtp.per_recipient(committee.addresses)) == committee.addresses,
        timeout=timeout,
        message=f"a mail to each of the {len(committee.addresses)} members",
    )
    counts = smtp.per_recipient(committee.addresses)
    assert set(counts) == committee.addresses
    assert all(n == 1 for n in counts.values()), f"sent more than once: { {a: n for a, n in counts.items() if n > 1} }"


def test_convocation_reaches_every_member_once_with_an_invitation(worker, smtp, committee):
    meeting = committee.meeting
    notice = _send(committee, "convocation")

    rows = wait_settled(notice, timeout=SETTLE, expected=12)
    _one_each(smtp, committee)
    assert {d.state for d in rows} == {"sent"}, {d.email: (d.state, d.last_error) for d in rows}
    assert {d.email.lower() for d in rows} == committee.addresses
    for d in rows:
        assert d.sent_at is not None and d.attempts >= 1
        assert d.message_id

    uids = set()
    domain = None
    for address in sorted(committee.addresses):
        [received] = smtp.to(address)
        message = received.message
        # the deterministic Message-ID names the notice and the delivery
        delivery = next(d for d in rows if d.email.lower() == address)
        match = re.fullmatch(r"<notice-(\d+)-delivery-(\d+)@([^>]+)>", message["Message-ID"].strip())
        assert match, message["Message-ID"]
        assert (int(match[1]), int(match[2])) == (notice.pk, delivery.pk)
        assert delivery.message_id.strip("<>") == message["Message-ID"].strip().strip("<>")
        domain = match[3]

        cal, event, part = _event(received)
        assert str(cal["METHOD"]).upper() == "REQUEST"
        assert "method=request" in part.get("Content-Type", "").lower().replace('"', "")
        start = event.decoded("DTSTART")
        assert start == meeting.start_at, (start, meeting.start_at)
        assert start.utcoffset() == dt.timedelta(hours=9)
        assert start.astimezone(TOKYO).replace(tzinfo=None) == dt.datetime.combine(
            meeting.start_at.astimezone(TOKYO).date(), dt.time(14, 0)
        )
        assert str(event["DTSTART"].params.get("TZID")) == "Asia/Tokyo", event["DTSTART"].to_ical()
        assert any(c.name == "VTIMEZONE" and str(c["TZID"]) == "Asia/Tokyo" for c in cal.walk())
        uids.add(str(event["UID"]))
    assert uids == {f"meeting-{meeting.pk}@{domain}"}


def test_date_change_sends_change_notice_with_same_uid_and_higher_sequence(worker, smtp, committee):
    from meetings import services as meetings

    meeting = committee.meeting
    first = _send(committee, "convocation")
    wait_settled(first, timeout=SETTLE, expected=12)
    _one_each(smtp, committee)
    address = sorted(committee.addresses)[0]
    _, before, _ = _event(smtp.to(address)[0])

    new_start = meeting.start_at + dt.timedelta(days=7, hours=-4)  # a week later, 10:00
    meeting = meetings.meeting_update(
        actor=committee.secretariat, meeting=meeting, start_at=new_start, end_at=new_start + dt.timedelta(hours=2)
    )
    committee.meeting = meeting
    smtp.reset()
    change = _send(committee, "change")
    rows = wait_settled(change, timeout=SETTLE, expected=12)
    assert {d.state for d in rows} == {"sent"}, {d.email: (d.state, d.last_error) for d in rows}
    _one_each(smtp, committee)

    for received in smtp.snapshot():
        cal, after, _ = _event(received)
        assert str(cal["METHOD"]).upper() == "REQUEST"
        assert str(after["UID"]) == str(before["UID"])
        assert int(after["SEQUENCE"]) > int(before["SEQUENCE"]), (after["SEQUENCE"], before["SEQUENCE"])
        assert after.decoded("DTSTART") == new_start
        assert after.decoded("DTSTART").astimezone(TOKYO).hour == 10
    assert change.sequence > first.sequence


def test_cancellation_sends_method_cancel(worker, smtp, committee):
    from meetings import services as meetings

    first = _send(committee, "convocation")
    wait_settled(first, timeout=SETTLE, expected=12)
    _one_each(smtp, committee)
    _, before, _ = _event(smtp.snapshot()[0])

    committee.meeting = meetings.meeting_cancel(
        actor=committee.secretariat, meeting=committee.meeting, reason="台風接近のため"
    )
    smtp.reset()
    cancel = _send(committee, "cancellation")
    rows = wait_settled(cancel, timeout=SETTLE, expected=12)
    assert {d.state for d in rows} == {"sent"}, {d.email: (d.state, d.last_error) for d in deliveries(cancel)}
    _one_each(smtp, committee)
    for received in smtp.snapshot():
        cal, event, part = _event(received)
        assert str(cal["METHOD"]).upper() == "CANCEL"
        assert "method=cancel" in part.get("Content-Type", "").lower().replace('"', "")
        assert str(event["UID"]) == str(before["UID"])
        assert int(event["SEQUENCE"]) > int(before["SEQUENCE"])
        assert str(event.get("STATUS", "")).upper() == "CANCELLED"
