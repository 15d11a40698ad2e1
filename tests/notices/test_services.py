import datetime as dt
import smtplib

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from core.models import AuditEntry
from meetings import services as meeting_services
from meetings.models import Meeting
from notices import selectors, services
from notices.models import BodyNoticeSettings, Delivery, Notice, Reminder
from notices.tasks import deliver
from tests.conftest import TOKYO
from tests.meetings.conftest import appoint_others

pytestmark = pytest.mark.django_db

CONVOCATION = Notice.Kind.CONVOCATION


def send(meeting, actor, kind=CONVOCATION, capture=None, **kwargs):
    with capture(execute=True):
        return services.notice_send(actor=actor, meeting=meeting, kind=kind, **kwargs)


def test_convocation_refused_before_approval(meeting, secretariat, member, django_capture_on_commit_callbacks):
    with pytest.raises(services.NoticeError, match="approved"):
        send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    assert not Notice.objects.exists() and mail.outbox == []
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.PLANNED


def test_convocation_one_delivery_per_recipient(
    approved, meeting, secretariat, chair, member, unit_email, django_capture_on_commit_callbacks
):
    appoint_others(meeting.body, 3)  # no email: listed for a letter
    notice = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    addresses = sorted(d.email for d in notice.deliveries.filter(role=Delivery.Role.RECIPIENT))
    assert addresses == ["chair@test.example", "member@test.example"]
    assert notice.sequence == meeting.sequence
    assert {d.state for d in notice.deliveries.all()} == {Delivery.State.SENT}
    # one message per row: the two recipients and one copy to the secretariat, no Cc on any
    assert sorted(m.to[0] for m in mail.outbox) == sorted([*addresses, unit_email])
    assert all(m.cc == [] for m in mail.outbox)
    assert len(selectors.recipients_without_email(meeting)) == 3
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.NOTIFIED
    assert AuditEntry.objects.filter(action="notice_sent").count() == 1


def test_person_email_wins_over_account_and_duplicates_are_merged(
    approved, meeting, secretariat, chair, member, django_capture_on_commit_callbacks
):
    person = member.person
    person.email = "chair@test.example"  # the same address as the chair's account: one delivery
    person.save(update_fields=["email"])
    notice = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    assert notice.deliveries.count() == 1


def test_sending_the_convocation_twice_sends_once(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    first = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    again = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    assert first.pk == again.pk
    assert len(mail.outbox) == 1


def test_running_deliver_twice_sends_one_mail(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    notice = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    delivery = notice.deliveries.get()
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert len(mail.outbox) == 1


def test_stale_sending_row_is_claimed_again(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
    delivery = notice.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.SENDING, claimed_at=dt.datetime.now(tz=TOKYO))
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"  # another worker is on it
    with time_machine.travel(dt.timedelta(minutes=11)):
        assert deliver.apply(args=[delivery.pk]).get() == "sent"  # that worker died
    assert len(mail.outbox) == 1


def test_rolled_back_transaction_sends_nothing(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
            raise RuntimeError("the action failed after the notice was written")
    assert callbacks == []
    assert not Notice.objects.exists() and not Delivery.objects.exists()
    assert mail.outbox == []


class Refusing:
    """A mail backend that answers like an SMTP server refusing one address."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPResponseException(550, b"5.1.1 user unknown")


class Busy(Refusing):
    def send_messages(self, messages):
        raise smtplib.SMTPResponseException(421, b"4.3.2 try again later")


def test_permanent_error_marks_failed_and_resend_works(
    approved, meeting, secretariat, chair, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.notices.test_services.Refusing"
    notice = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    delivery = notice.deliveries.get()
    assert delivery.state == Delivery.State.FAILED
    assert "550" in delivery.last_error and "user unknown" in delivery.last_error
    assert AuditEntry.objects.filter(action="delivery_failed").count() == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(actor=secretariat, delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="delivery_resent").count() == 1
    with pytest.raises(services.NoticeError):
        services.delivery_resend(actor=secretariat, delivery=delivery)  # only failed ones


def test_temporary_errors_never_use_up_a_delivery_until_the_retry_period_ends(
    approved, meeting, secretariat, chair, settings, django_capture_on_commit_callbacks
):
    """421 on every try: the delivery waits for its next try (backoff doubling up to the cap) however many
    tries it took, and is failed only once it has failed for DXPLAN_MAIL_RETRY_HOURS."""
    settings.EMAIL_BACKEND = "tests.notices.test_services.Busy"
    start = dt.datetime(2023, 6, 1, 10, tzinfo=TOKYO)
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=False):
            notice = services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
        delivery = notice.deliveries.get()
        waits = []
        for _try in range(12):
            assert deliver.apply(args=[delivery.pk]).get() == "retry"
            delivery.refresh_from_db()
            assert delivery.state == Delivery.State.PENDING and "421" in delivery.last_error
            waits.append((delivery.retry_at - dt.datetime.now(tz=TOKYO)).total_seconds())
            assert deliver.apply(args=[delivery.pk]).get() == "skipped"  # not due yet: not sent early
            clock.move_to(delivery.retry_at)
        assert waits[:6] == [30, 60, 120, 240, 480, 600] and set(waits[6:]) == {600}
        clock.move_to(start + dt.timedelta(hours=48, minutes=1))
        assert deliver.apply(args=[delivery.pk]).get() == "failed"
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED
    assert delivery.attempts == 13 and "421" in delivery.last_error


def test_relay_requeues_pending_deliveries(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: nothing queued
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
    assert notice.deliveries.get().state == Delivery.State.PENDING
    services.relay()
    assert notice.deliveries.get().state == Delivery.State.SENT
    services.relay()
    assert len(mail.outbox) == 1


def test_change_notice_refused_before_convocation(meeting, secretariat, django_capture_on_commit_callbacks):
    with pytest.raises(services.NoticeError):
        send(meeting, secretariat, kind=Notice.Kind.CHANGE, capture=django_capture_on_commit_callbacks)


def test_cancellation_needs_a_cancelled_meeting(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    with pytest.raises(services.NoticeError):
        send(meeting, secretariat, kind=Notice.Kind.CANCELLATION, capture=django_capture_on_commit_callbacks)
    meeting_services.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風のため")
    send(meeting, secretariat, kind=Notice.Kind.CANCELLATION, capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert not Reminder.objects.filter(sent_at__isnull=True).exists()


def test_answer_reminder_goes_to_those_who_have_not_answered(
    approved, meeting, secretariat, chair, member, django_capture_on_commit_callbacks
):
    send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    row = meeting.attendances.get(appointment__person__user=member)
    meeting_services.attendance_reply(actor=member, attendance=row, reply="venue")
    notice = send(meeting, secretariat, kind=Notice.Kind.ANSWER_REMINDER, capture=django_capture_on_commit_callbacks)
    assert [d.email for d in notice.deliveries.all()] == ["chair@test.example"]


def test_reminders_move_with_the_meeting(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    # Now is 2023-06-01; the meeting is on 06-07: the 7-day reminder (05-31) is past and skipped.
    due = {r.offset_days: (r.due_at, r.sent_at) for r in Reminder.objects.filter(meeting=meeting)}
    assert due[1] == (dt.datetime(2023, 6, 6, 9, tzinfo=TOKYO), None)
    assert due[7][1] is not None

    new_start = dt.datetime(2023, 6, 21, 14, tzinfo=TOKYO)
    meeting_services.meeting_update(
        actor=secretariat, meeting=meeting, start_at=new_start, end_at=new_start + dt.timedelta(hours=2)
    )
    send(meeting, secretariat, kind=Notice.Kind.CHANGE, capture=django_capture_on_commit_callbacks)
    due = {r.offset_days: (r.due_at, r.sent_at) for r in Reminder.objects.filter(meeting=meeting)}
    assert due == {
        7: (dt.datetime(2023, 6, 14, 9, tzinfo=TOKYO), None),
        1: (dt.datetime(2023, 6, 20, 9, tzinfo=TOKYO), None),
    }
    services.reminders_schedule(meeting=meeting)  # idempotent
    assert Reminder.objects.filter(meeting=meeting).count() == 2

    with time_machine.travel(dt.datetime(2023, 6, 14, 9, 1, tzinfo=TOKYO)):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.relay()["reminders"] == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert services.relay()["reminders"] == 0
    assert Notice.objects.filter(kind=Notice.Kind.REMINDER).count() == 1
    assert mail.outbox[-1].subject.startswith("【開催のご案内")


def test_body_settings_change_the_offsets(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    BodyNoticeSettings.objects.create(body=meeting.body, reminder_days="3")
    send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    assert list(Reminder.objects.filter(meeting=meeting).values_list("offset_days", flat=True)) == [3]


def test_relay_is_registered_with_beat(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="notices.relay")
    assert task.task == "notices.tasks.relay" and task.interval.every == 15


def test_send_due_notices_command(
    approved, meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=False):
        services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
    call_command("send_due_notices")
    assert len(mail.outbox) == 1


class FakeSMTP:
    """smtplib.SMTP that accepts the copy to the secretariat and refuses the recipient (550 at RCPT)."""

    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def sendmail(self, sender, recipients, data):
        FakeSMTP.sent.append(recipients)
        refused = {r: (550, b"5.1.1 no such user") for r in recipients if not r.startswith("dx@")}
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        return refused

    def quit(self):
        pass

    def close(self):
        pass


def test_refused_recipient_with_accepted_copy_is_failed(
    approved, meeting, secretariat, chair, unit_email, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    monkeypatch.setattr("django.core.mail.backends.smtp.smtplib.SMTP", FakeSMTP)
    FakeSMTP.sent = []
    notice = send(meeting, secretariat, capture=django_capture_on_commit_callbacks)
    delivery = notice.deliveries.get(role=Delivery.Role.RECIPIENT)
    copy = notice.deliveries.get(role=Delivery.Role.COPY)
    assert FakeSMTP.sent == [["chair@test.example"], [unit_email]]  # the copy is a mail of its own
    assert delivery.state == Delivery.State.FAILED and "550" in delivery.last_error
    assert copy.state == Delivery.State.SENT


def _draft_minutes(meeting):
    from meetings.models import Minutes, MinutesEntry

    minutes = Minutes.objects.create(meeting=meeting)
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="ただいまから開会します。")
    return minutes


def test_asking_to_confirm_the_minutes_mails_those_who_attended_and_have_not_answered(
    held, secretariat, chair, vice_chair, member, django_capture_on_commit_callbacks
):
    """議事録案の確認を依頼 writes the 議事録確認のお願い in the same transaction: to the chair and the member, who
    attended, not to the vice chair, who was absent. Asking again (a later deadline) mails only those who have
    not answered."""
    _draft_minutes(held)
    today = dt.date(2023, 6, 8)
    with django_capture_on_commit_callbacks(execute=True):
        asked = meeting_services.minutes_send_for_confirmation(
            actor=secretariat, meeting=held, confirm_by=today + dt.timedelta(days=7)
        )
    assert asked == 2
    requests = [m for m in mail.outbox if m.subject.startswith("【議事録確認のお願い】")]
    assert sorted(m.to[0] for m in requests) == ["chair@test.example", "member@test.example"]
    assert all("令和5年6月15日(木)までに" in m.body for m in requests)
    notice = Notice.objects.get(meeting=held, kind=Notice.Kind.MINUTES)
    assert notice.created_by == secretariat

    meeting_services.minutes_confirm(actor=member, meeting=held)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        meeting_services.minutes_send_for_confirmation(
            actor=secretariat, meeting=held, confirm_by=today + dt.timedelta(days=14)
        )
    assert [m.to for m in mail.outbox if m.subject.startswith("【議事録確認のお願い】")] == [["chair@test.example"]]


def test_the_minutes_request_is_not_sent_before_the_draft_is_sent_for_confirmation(held):
    _draft_minutes(held)
    with pytest.raises(services.NoticeError, match="確認を依頼|for confirmation"):
        services.notice_check(meeting=held, kind=Notice.Kind.MINUTES)
