"""The one outbox (issue 11): temporary failures never use up a delivery (a two-hour outage, on a time
machine), permanent ones fail at once, the copy of a notice is a row of its own, 失敗分をすべて再送, and the
other mails go through the same machinery."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocMem
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from notices import outbox, services
from notices.models import Delivery, Notice, OutboxMail
from tests.conftest import TOKYO
from tests.meetings.conftest import appoint_others, sign_in

pytestmark = pytest.mark.django_db

CONVOCATION = Notice.Kind.CONVOCATION


class Flaky(LocMem):
    """Django's in-memory backend behind a mail server that can be down (connection refused), answer 4xx or
    5xx for some addresses, and counts what it accepted."""

    down = False
    answers: dict[str, list[int]] = {}  # address -> codes answered, one per try, then accepted
    accepted: list[str] = []

    def open(self):
        if Flaky.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return super().open()

    def send_messages(self, messages):
        for message in messages:
            [to] = message.to
            codes = Flaky.answers.get(to) or []
            if codes:
                code = codes.pop(0) if len(codes) > 1 or codes[0] < 500 else codes[0]
                raise smtplib.SMTPRecipientsRefused({to: (code, b"answer")})
            Flaky.accepted.append(to)
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.notices.test_outbox.Flaky"
    Flaky.down, Flaky.answers, Flaky.accepted = False, {}, []
    return Flaky


@pytest.fixture
def members(approved, meeting, chair, member, unit_email):
    """Eight more members with addresses: ten recipients and the secretariat's copy."""
    for n, appointment in enumerate(appoint_others(meeting.body, 8)):
        person = appointment.person
        person.email = f"other{n}@test.example"
        person.save(update_fields=["email"])
    return meeting


def send(meeting, secretariat, capture, kind=CONVOCATION):
    with capture(execute=True):
        return services.notice_send(actor=secretariat, meeting=meeting, kind=kind)


def relay(capture):
    with capture(execute=True):
        return services.relay()


def test_a_two_hour_outage_every_recipient_gets_exactly_one_mail(
    members, secretariat, flaky, django_capture_on_commit_callbacks
):
    """The server refuses connections for two hours; beat runs the relay every minute. No delivery fails,
    every recipient (and the secretariat's copy) gets one mail, soon after the server is back."""
    start = dt.datetime(2023, 6, 1, 10, tzinfo=TOKYO)
    with time_machine.travel(start, tick=False) as clock:
        flaky.down = True
        notice = send(members, secretariat, django_capture_on_commit_callbacks)
        rows = list(notice.deliveries.all())
        assert len(rows) == 11 and {d.state for d in rows} == {"pending"}
        minutes = 0
        while minutes < 120:
            minutes += 1
            clock.move_to(start + dt.timedelta(minutes=minutes))
            relay(django_capture_on_commit_callbacks)
            assert not notice.deliveries.filter(state="failed").exists(), f"a delivery failed at {minutes} min"
        tries = max(notice.deliveries.values_list("attempts", flat=True))
        assert tries >= 10  # tried all along, the backoff capped at ten minutes
        flaky.down = False
        back = minutes
        while notice.deliveries.exclude(state="sent").exists():
            minutes += 1
            assert minutes - back <= 11, "not sent within the longest backoff after the outage"
            clock.move_to(start + dt.timedelta(minutes=minutes))
            relay(django_capture_on_commit_callbacks)
    addresses = sorted(d.email for d in notice.deliveries.all())
    assert sorted(flaky.accepted) == addresses  # exactly one each
    assert sorted(m.to[0] for m in mail.outbox) == addresses
    print(f"two-hour outage: served {len(set(flaky.accepted))}/{len(addresses)}, "
          f"doubled {len(flaky.accepted) - len(set(flaky.accepted))}, {tries} tries, "
          f"all sent {minutes - back} min after the server came back")


def test_temporary_and_permanent_answers(members, secretariat, flaky, django_capture_on_commit_callbacks):
    """451 is retried and sent once; 550 fails at once, tried once."""
    flaky.answers = {"other0@test.example": [451, 451], "other1@test.example": [550]}
    with time_machine.travel(dt.datetime(2023, 6, 1, 10, tzinfo=TOKYO), tick=False) as clock:
        notice = send(members, secretariat, django_capture_on_commit_callbacks)
        grey = notice.deliveries.get(email="other0@test.example")
        bad = notice.deliveries.get(email="other1@test.example")
        assert (grey.state, grey.attempts) == ("pending", 1) and grey.retry_at is not None
        assert (bad.state, bad.attempts) == ("failed", 1) and "550" in bad.last_error
        for _ in range(3):
            clock.shift(dt.timedelta(minutes=5))
            relay(django_capture_on_commit_callbacks)
    grey.refresh_from_db()
    assert (grey.state, grey.attempts) == ("sent", 2 + 1)
    assert flaky.accepted.count("other0@test.example") == 1 and "other1@test.example" not in flaky.accepted


# --- the copy: a row of its own ------------------------------------------------------------------


def test_the_copy_is_one_row_per_notice_without_an_answer_link(
    members, secretariat, unit_email, django_capture_on_commit_callbacks
):
    notice = send(members, secretariat, django_capture_on_commit_callbacks)
    [copy] = notice.deliveries.filter(role=Delivery.Role.COPY)
    assert copy.email == unit_email and copy.person is None and copy.state == "sent"
    assert [m.to for m in mail.outbox].count([unit_email]) == 1  # one copy for ten recipients
    assert all(m.cc == [] for m in mail.outbox)
    [to_unit] = [m for m in mail.outbox if m.to == [unit_email]]
    html = to_unit.alternatives[0].content
    assert "/answer/" not in to_unit.body and "/answer/" not in html
    assert "【写し】" in to_unit.body
    assert all("/answer/" in m.body for m in mail.outbox if m.to != [unit_email])


def test_a_refused_recipient_is_not_copied_again_nor_on_resend(
    members, secretariat, flaky, unit_email, django_capture_on_commit_callbacks
):
    """A 550 recipient: the copy went once; resending the failed one (alone, or all failed) copies nobody."""
    flaky.answers = {"chair@test.example": [550]}
    notice = send(members, secretariat, django_capture_on_commit_callbacks)
    failed = notice.deliveries.get(state="failed")
    assert failed.email == "chair@test.example"
    assert flaky.accepted.count(unit_email) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(actor=secretariat, delivery=failed)
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_resend_failed(actor=secretariat, notice=notice)
    flaky.answers = {}
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_resend_failed(actor=secretariat, notice=notice)
    assert flaky.accepted.count(unit_email) == 1
    assert flaky.accepted.count("chair@test.example") == 1
    assert notice.deliveries.get(pk=failed.pk).state == "sent"


def test_greylisted_retries_do_not_copy_again(
    members, secretariat, flaky, unit_email, django_capture_on_commit_callbacks
):
    flaky.answers = {"chair@test.example": [451, 451]}
    with time_machine.travel(dt.datetime(2023, 6, 1, 10, tzinfo=TOKYO), tick=False) as clock:
        notice = send(members, secretariat, django_capture_on_commit_callbacks)
        for _ in range(4):
            clock.shift(dt.timedelta(minutes=5))
            relay(django_capture_on_commit_callbacks)
    assert notice.deliveries.get(email="chair@test.example").attempts == 3
    assert flaky.accepted.count("chair@test.example") == 1
    assert flaky.accepted.count(unit_email) == 1  # three tries, one copy


def test_an_invitations_copy_carries_no_guest_link(
    approved, meeting, secretariat, unit_email, django_capture_on_commit_callbacks
):
    from meetings import services as meeting_services

    attendee = meeting_services.attendee_add(
        actor=secretariat, meeting=meeting, role="explainer", name="説明 花子", email="setsumei@example.jp"
    )
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.attendee_invite(actor=secretariat, attendee=attendee)
    assert sorted(notice.deliveries.values_list("role", "email")) == [("copy", unit_email), ("to", attendee.email)]
    [to_guest] = [m for m in mail.outbox if m.to == [attendee.email]]
    [to_unit] = [m for m in mail.outbox if m.to == [unit_email]]
    assert "/guest/" in to_guest.body
    assert "/guest/" not in to_unit.body and "/guest/" not in to_unit.alternatives[0].content
    assert "説明 花子 様あての通知の写し" in to_unit.body


# --- 失敗分をすべて再送 ---------------------------------------------------------------------------


def test_resend_all_failed_of_a_notice(members, secretariat, flaky, other_secretariat,
                                       django_capture_on_commit_callbacks):
    flaky.answers = {f"other{n}@test.example": [550] for n in range(4)}
    notice = send(members, secretariat, django_capture_on_commit_callbacks)
    assert notice.deliveries.filter(state="failed").count() == 4
    url = reverse("notices:resend_failed", args=[notice.pk])

    intruder = Client()
    sign_in(intruder, other_secretariat)
    assert intruder.post(url).status_code == 404
    assert notice.deliveries.filter(state="failed").count() == 4

    client = Client()
    sign_in(client, secretariat)
    page = client.get(reverse("notices:status", args=[members.pk])).content.decode()
    assert url in page and "(4)" in page
    flaky.answers = {}
    sent_before = len(flaky.accepted)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert notice.deliveries.filter(state="sent").count() == 11
    assert sorted(flaky.accepted[sent_before:]) == [f"other{n}@test.example" for n in range(4)]  # no copy again
    [entry] = AuditEntry.objects.filter(action="delivery_resent")
    assert entry.data["notice"] == notice.pk and len(entry.data["deliveries"]) == 4
    with pytest.raises(services.NoticeError):
        services.notice_resend_failed(actor=secretariat, notice=notice)  # nothing failed now


# --- the other mails, through the same machinery ----------------------------------------------------


def test_an_outbox_mail_is_retried_like_a_delivery(db, flaky, django_capture_on_commit_callbacks):
    with time_machine.travel(dt.datetime(2023, 6, 1, 10, tzinfo=TOKYO), tick=False) as clock:
        flaky.down = True
        with django_capture_on_commit_callbacks(execute=True):
            row = services.outbox_write(topic="test", to="a@example.jp", subject="件名", text="本文")
        row.refresh_from_db()
        assert (row.state, row.attempts) == ("pending", 1) and row.retry_at is not None
        flaky.down = False
        clock.shift(dt.timedelta(minutes=2))
        relay(django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.state == OutboxMail.State.SENT and flaky.accepted == ["a@example.jp"]


def test_an_expired_lease_is_taken_back_and_a_live_one_is_not(
    approved, meeting, chair, secretariat, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
    [delivery] = notice.deliveries.all()
    claimed_at, rows = services.mail_claim(Delivery, [delivery.pk])
    assert rows and services.mail_claim(Delivery, [delivery.pk])[1] == []  # held
    with time_machine.travel(claimed_at + services.LEASE / 2):
        assert services.mail_renew(Delivery, [delivery.pk], claimed_at) == 1
    with time_machine.travel(claimed_at + services.LEASE + dt.timedelta(seconds=1)):
        assert services.mail_claim(Delivery, [delivery.pk])[1] == []  # renewed: still held
    with time_machine.travel(claimed_at + services.LEASE * 2):
        assert outbox.send("delivery", [delivery.pk]).sent == 1  # the worker died: taken back
        assert services.mail_mark_sent(Delivery, [delivery.pk], claimed_at) == 0  # the dead claim marks nothing
    assert len(mail.outbox) == 1


def test_the_task_hands_retries_to_celery_grouped_by_their_next_try(
    members, secretariat, flaky, monkeypatch, django_capture_on_commit_callbacks
):
    """In a worker, rows put back by a temporary failure go to Celery's retry of the same task (the earliest
    group) and a message of its own for a later group, each with its countdown."""
    from types import SimpleNamespace

    from celery.exceptions import Retry

    from notices import tasks

    with django_capture_on_commit_callbacks(execute=False):
        notice = services.notice_send(actor=secretariat, meeting=members, kind=CONVOCATION)
    ids = list(notice.deliveries.order_by("pk").values_list("pk", flat=True))
    # one row failed once before (its next wait is longer), the others are on their first try
    Delivery.objects.filter(pk=ids[0]).update(attempts=1)
    flaky.down = True
    calls = []

    class FakeTask:
        request = SimpleNamespace(is_eager=False, called_directly=False)

        def retry(self, **kwargs):
            calls.append(("retry", kwargs["args"], kwargs["countdown"]))
            return Retry()

        def apply_async(self, args, countdown):
            calls.append(("later", args, countdown))

    with time_machine.travel(dt.datetime(2023, 6, 1, 10, tzinfo=TOKYO), tick=False), pytest.raises(Retry):
        tasks._run(FakeTask(), "delivery", ids)
    assert calls == [("later", (ids[:1],), 60), ("retry", (ids[1:],), 30)]
    assert not notice.deliveries.exclude(state="pending").exists()
