"""The daily reminder of minutes past their body's deadline: to the secretariat only, once a day, through
the outbox, and registered with celery beat."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from notices import services, tasks
from notices.models import Notice
from tests.conftest import TOKYO
from tests.meetings.conftest import held, notified  # noqa: F401  (fixtures)

OVERDUE = dt.datetime(2023, 7, 8, 9, 0, tzinfo=TOKYO)  # the meeting was on 6/7; 30 days by default


def test_the_reminder_is_registered_with_beat_every_morning(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="notices.remind_minutes_overdue")
    assert task.task == "notices.tasks.remind_minutes_overdue"
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("9", "0", "Asia/Tokyo")


def test_the_task_mails_the_secretariat_once_a_day(held, unit_email, django_capture_on_commit_callbacks):  # noqa: F811
    with time_machine.travel(OVERDUE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.remind_minutes_overdue.delay().get() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.remind_minutes_overdue.delay().get() == 0  # run twice: one mail
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [unit_email]
    assert message.subject.startswith("【議事録の公開期限を過ぎています】")
    assert f"https://dxplan.example.jp/manage/meetings/{held.pk}/minutes/" in message.body
    assert "令和5年7月7日(金)" in message.body


def test_published_minutes_are_not_reminded(held, secretariat, unit_email):  # noqa: F811
    from meetings.models import Meeting

    Meeting.objects.filter(pk=held.pk).update(status=Meeting.Status.MINUTES_PUBLISHED)
    with time_machine.travel(OVERDUE, tick=False):
        assert services.minutes_overdue_remind() == 0


def test_without_a_unit_address_the_staff_are_reminded(held, secretariat):  # noqa: F811
    with time_machine.travel(OVERDUE, tick=False):
        assert services.minutes_overdue_remind() == 1
    notice = Notice.objects.get(meeting=held, kind=Notice.Kind.MINUTES_OVERDUE)
    assert list(notice.deliveries.values_list("email", flat=True)) == ["secretariat@test.example"]


def test_the_reminder_cannot_be_sent_to_the_members_by_hand(held, secretariat):  # noqa: F811
    with pytest.raises(services.NoticeError):
        services.notice_send(actor=secretariat, meeting=held, kind=Notice.Kind.MINUTES_OVERDUE)
