"""W5: a password reset does the same work for a known and an unknown address (and for a known one asked
again within the cooldown), so the time of the answer does not tell whether an account exists. The mail
goes through the outbox: its row is written in the request's transaction and sent by the thin task."""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee import accounts
from core import outbox
from core.models import AuditEntry, User
from notices.models import OutboxMail

pytestmark = pytest.mark.django_db

SITE = "https://committees.pref.example.jp"
UNKNOWN = "nobody@example.jp"


@pytest.fixture(autouse=True)
def mail_and_celery(settings, eager_celery):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE
    settings.DXPLAN_REQUIRE_2FA = False


def _steps(statements: list[str]) -> list[str]:
    """The statements without their values and savepoint names. Ending a savepoint is one step whether it
    is released (RELEASE) or rolled back (ROLLBACK TO, then RELEASE: a few microseconds more)."""
    steps: list[str] = []
    for sql in statements:
        sql = re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\"?s\d+_x\d+\"?", "?", sql)
        if sql == "RELEASE SAVEPOINT ?" and steps and steps[-1] == "ROLLBACK TO SAVEPOINT ?":
            steps[-1] = "END SAVEPOINT ?"
            continue
        steps.append("END SAVEPOINT ?" if sql == "RELEASE SAVEPOINT ?" else sql)
    return steps


def run(email: str, capture) -> tuple[list[str], list]:
    with capture(execute=False) as callbacks, CaptureQueriesContext(connection) as queries:
        accounts.password_reset_request(email=email, language="ja", ip_address="192.0.2.1")
    return _steps([q["sql"] for q in queries.captured_queries]), callbacks


def test_known_unknown_and_cooling_down_run_the_same_statements(member, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    ContentType.objects.get_for_model(User)  # cached for the life of a server process
    known, known_callbacks = run(member.email, django_capture_on_commit_callbacks)
    again, again_callbacks = run(member.email, django_capture_on_commit_callbacks)  # within the cooldown
    unknown, unknown_callbacks = run(UNKNOWN, django_capture_on_commit_callbacks)
    assert len(known) >= 4  # find and lock, cooldown, audit entry, outbox row
    assert known == unknown == again
    assert len(known_callbacks) == len(unknown_callbacks) == len(again_callbacks) == 1
    # What stays: one audit entry and one mail, for the known account's first request only.
    assert AuditEntry.objects.filter(action="password_reset_requested").count() == 1
    assert list(OutboxMail.objects.values_list("to", "topic")) == [(member.email, accounts.RESET_TOPIC)]


def test_each_hands_one_id_to_the_sending_task(member, monkeypatch, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    from notices import services as notices

    handed: list[list[int]] = []

    def queue(ids):
        handed.append(list(ids))
        return len(ids)

    # Both hand their row to the same function: the notices' queue, registered in core.outbox.
    monkeypatch.setattr(notices, "queue_outbox", queue)
    monkeypatch.setattr(outbox, "_queue", queue)
    with django_capture_on_commit_callbacks(execute=True):
        accounts.password_reset_request(email=UNKNOWN, language="ja")
    with django_capture_on_commit_callbacks(execute=True):
        accounts.password_reset_request(email=member.email.upper(), language="ja")
    assert [len(ids) for ids in handed] == [1, 1]
    (unknown_id,), (known_id,) = handed
    assert not OutboxMail.objects.filter(pk=unknown_id).exists()  # the task finds nothing to send
    row = OutboxMail.objects.get(pk=known_id)
    assert row.to == member.email and row.state == OutboxMail.State.PENDING
    assert f"{SITE}/accounts/reset/" in row.text


def test_the_outbox_sends_the_known_and_nothing_for_the_unknown(client, member, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    pages = []
    for email in (UNKNOWN, member.email):
        with django_capture_on_commit_callbacks(execute=True):
            pages.append(Client().post(reverse("password_reset"), {"email": email}, follow=True))
    assert pages[0].redirect_chain == pages[1].redirect_chain == [(reverse("password_reset_done"), 302)]
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", pages[0].content.decode()) == strip.sub("", pages[1].content.decode())
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert OutboxMail.objects.get().state == OutboxMail.State.SENT


def test_a_rolled_back_request_leaves_no_mail(member):
    member.save(update_fields=["password"])

    class Rollback(Exception):  # noqa: N818 - only raised to roll back
        pass

    with pytest.raises(Rollback), transaction.atomic():
        accounts.password_reset_request(email=member.email, language="ja")
        assert OutboxMail.objects.count() == 1  # written in the request's transaction
        raise Rollback
    assert not OutboxMail.objects.exists()
    assert not AuditEntry.objects.filter(action="password_reset_requested").exists()
    assert mail.outbox == []
