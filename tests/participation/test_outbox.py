"""The outbox entry point for mails that are not notices (notices.services.outbox_write)."""

import smtplib

import pytest
from django.core import mail

from notices import services as notice_services
from notices.models import OutboxMail
from notices.tasks import send_outbox_batch

pytestmark = pytest.mark.usefixtures("eager_celery")


def test_a_mail_is_sent_once_even_when_its_task_runs_twice(db):
    row = notice_services.outbox_write(
        topic="test", to="a@example.com", subject="件名\r\nBcc: evil@example.com", text="本文",
        headers={"List-Unsubscribe": "<https://example.com/u>\r\nX-Evil: 1"},
    )
    assert len(mail.outbox) == 1
    assert send_outbox_batch([row.pk]) == {"claimed": 0, "sent": 0, "failed": 0}
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.state == OutboxMail.State.SENT
    message = mail.outbox[0].message()
    assert message["Bcc"] is None and message["X-Evil"] is None  # no header from user input


def test_a_permanent_refusal_marks_it_failed_and_a_temporary_one_leaves_it_for_the_relay(db, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    row = notice_services.outbox_write(topic="test", to="a@example.com", subject="s", text="t")
    row.refresh_from_db()
    assert row.state == OutboxMail.State.FAILED and "550" in row.last_error

    def later(self, messages):
        raise smtplib.SMTPRecipientsRefused({"b@example.com": (451, b"try later")})

    monkeypatch.setattr(EmailBackend, "send_messages", later)
    row = notice_services.outbox_write(topic="test", to="b@example.com", subject="s", text="t")
    row.refresh_from_db()
    assert row.state == OutboxMail.State.PENDING


def test_the_relay_queues_mails_left_pending_when_the_broker_was_down(db):
    row = OutboxMail.objects.create(topic="test", to="a@example.com", subject="s", text="t")
    assert notice_services.relay()["outbox"] == 1
    row.refresh_from_db()
    assert row.state == OutboxMail.State.SENT and len(mail.outbox) == 1
    assert notice_services.relay()["outbox"] == 0
