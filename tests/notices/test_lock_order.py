"""One lock order (docs/locking.md): the meeting before its reminders. The reminder relay locked a reminder
and then the meeting, a 変更通知 the meeting and then its reminders. (The relay's first statement took both
rows with SKIP LOCKED, so it skipped a reminder whose meeting was busy instead of waiting: the reminder
went out a relay later, by luck rather than by design.) Now both lock the meeting first: whichever comes
second waits, and both orders end in one consistent state."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection, transaction

from meetings import services as meeting_services
from meetings.models import Meeting
from notices import services
from notices.models import Notice, Reminder
from tests.conftest import TOKYO

needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (SELECT … FOR UPDATE); CI runs it"
)


def _in_thread(target) -> threading.Thread:
    errors: list[BaseException] = []

    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_reminder_relay_racing_a_change_notice_does_not_deadlock(approved, meeting, secretariat, chair):
    services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    # The day before the meeting, 09:30: the 1-day reminder (09:00) is due.
    with time_machine.travel(dt.datetime(2023, 6, 6, 9, 30, tzinfo=TOKYO), tick=True):
        reminder = Reminder.objects.get(meeting=meeting, offset_days=1)
        assert reminder.sent_at is None and reminder.due_at <= dt.datetime.now(tz=TOKYO)
        meeting_locked = threading.Event()
        outcome: dict[str, int] = {}

        def change_notice():
            # The secretariat moves the meeting by an hour and sends the 変更通知; the meeting is locked
            # first (as every meeting service does), and the relay runs while the change is under way.
            with transaction.atomic():
                locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
                meeting_locked.set()
                time.sleep(0.5)
                start = locked.start_at + dt.timedelta(hours=1)
                changed = meeting_services.meeting_update(
                    actor=secretariat, meeting=locked, start_at=start, end_at=start + dt.timedelta(hours=2)
                )
                services.notice_send(actor=secretariat, meeting=changed, kind=Notice.Kind.CHANGE)

        def relay():
            meeting_locked.wait(5)
            outcome["reminders"] = services.reminders_send_due()

        changing = _in_thread(change_notice)
        relaying = _in_thread(relay)
        changing.join(20)
        relaying.join(20)

    assert not changing.is_alive() and not relaying.is_alive()
    assert changing.errors == [] and relaying.errors == []  # no deadlock detected, no other error
    # One consistent end: the change was written, then the reminder (still due: the day did not change)
    # went out once, after it, with the new time.
    assert outcome == {"reminders": 1}
    kinds = list(Notice.objects.filter(meeting=meeting).order_by("pk").values_list("kind", "sequence"))
    meeting.refresh_from_db()
    assert [kind for kind, _sequence in kinds] == [Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.REMINDER]
    assert kinds[1][1] == kinds[2][1] == meeting.sequence
    reminder.refresh_from_db()
    assert reminder.sent_at is not None and reminder.notice.kind == Notice.Kind.REMINDER
    assert Reminder.objects.filter(meeting=meeting, offset_days=1).count() == 1


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_change_notice_waits_for_a_reminder_being_sent(approved, meeting, secretariat, chair, monkeypatch):
    services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    relay_inside, original = threading.Event(), services.notice_send

    def slow_reminder(**kwargs):
        # The relay holds the meeting and the reminder while it writes the reminder's deliveries.
        if kwargs["kind"] == Notice.Kind.REMINDER:
            relay_inside.set()
            time.sleep(0.5)
        return original(**kwargs)

    monkeypatch.setattr(services, "notice_send", slow_reminder)
    with time_machine.travel(dt.datetime(2023, 6, 6, 9, 30, tzinfo=TOKYO), tick=True):
        outcome: dict[str, int] = {}

        def relay():
            outcome["reminders"] = services.reminders_send_due()

        def change_notice():
            relay_inside.wait(5)
            with transaction.atomic():
                locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
                start = locked.start_at + dt.timedelta(hours=1)
                changed = meeting_services.meeting_update(
                    actor=secretariat, meeting=locked, start_at=start, end_at=start + dt.timedelta(hours=2)
                )
                original(actor=secretariat, meeting=changed, kind=Notice.Kind.CHANGE)

        relaying = _in_thread(relay)
        changing = _in_thread(change_notice)
        relaying.join(20)
        changing.join(20)

    assert relaying.errors == [] and changing.errors == []
    assert outcome == {"reminders": 1}
    meeting.refresh_from_db()
    kinds = list(Notice.objects.filter(meeting=meeting).order_by("pk").values_list("kind", flat=True))
    assert kinds == [Notice.Kind.CONVOCATION, Notice.Kind.REMINDER, Notice.Kind.CHANGE]
    # The reminder went out for the old time and the change came after it: the day is the same, so the
    # reminder stays sent (not twice), and the 変更通知 tells everyone the new time.
    reminder = Reminder.objects.get(meeting=meeting, offset_days=1)
    assert reminder.sent_at is not None and reminder.notice.kind == Notice.Kind.REMINDER
    assert Notice.objects.get(kind=Notice.Kind.CHANGE).sequence == meeting.sequence
