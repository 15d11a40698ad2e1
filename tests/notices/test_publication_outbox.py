"""資料掲載のお知らせ cannot be lost: what announces a publication is written in the publishing transaction
(documents.recorders), not by a receiver after commit that only logs its failures."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from core.models import AuditEntry
from documents import services as documents
from documents.models import Material
from notices import services
from notices.models import MaterialAnnouncement, Notice, OutboxMail
from participation import services as participation
from tests.conftest import IN_TERM
from tests.documents.conftest import pdf_bytes, upload

pytestmark = pytest.mark.django_db

MEMBERS = Material.Visibility.MEMBERS
PUBLIC = Material.Visibility.PUBLIC


class BoomError(Exception):
    pass


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def create(meeting, secretariat, title="骨子案", visibility=MEMBERS) -> Material:
    return documents.material_create(
        actor=secretariat, meeting=meeting, title=title, upload=upload("資料.pdf", pdf_bytes()), visibility=visibility
    )


@pytest.fixture
def subscribers(meeting):
    meeting.body.is_public = True
    meeting.body.save(update_fields=["is_public"])
    for n in range(2):
        subscription = participation.subscription_request(body=meeting.body, email=f"s{n}@example.com")
        participation.subscription_confirm(subscription=subscription)
    OutboxMail.objects.all().delete()
    mail.outbox.clear()


def test_the_announcement_is_written_before_commit(meeting, secretariat, chair, member):
    # No on-commit callback runs in this test: what exists was written in the publishing transaction.
    material = create(meeting, secretariat)
    row = MaterialAnnouncement.objects.get(material=material)
    assert row.notice is None and row.replaced is False


@pytest.mark.parametrize("change", ["create", "show", "replace", "restore"])
def test_every_publishing_service_records_in_its_transaction(change, meeting, secretariat, chair, member):
    if change == "create":
        material = create(meeting, secretariat)
    else:
        material = create(meeting, secretariat, visibility=Material.Visibility.SECRETARIAT)
        assert not MaterialAnnouncement.objects.exists()
        if change == "show":
            documents.material_set_visibility(actor=secretariat, material=material, visibility=MEMBERS)
        elif change == "replace":
            documents.material_set_visibility(actor=secretariat, material=material, visibility=MEMBERS)
            MaterialAnnouncement.objects.all().delete()
            documents.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes()))
        else:
            documents.material_set_visibility(actor=secretariat, material=material, visibility=MEMBERS)
            documents.material_withdraw(actor=secretariat, material=material, reason="誤り")
            assert not MaterialAnnouncement.objects.exists()  # withdrawn: off the list, in the same way
            documents.material_restore(actor=secretariat, material=material)
    row = MaterialAnnouncement.objects.get(material=material)
    assert row.replaced is (change == "replace")


def test_a_rolled_back_publication_writes_no_row(meeting, secretariat, chair, member, subscribers):
    with pytest.raises(BoomError), transaction.atomic():
        material = create(meeting, secretariat, visibility=PUBLIC)
        assert MaterialAnnouncement.objects.filter(material=material).exists()
        assert OutboxMail.objects.count() == 2  # the subscribers' mails, in the same transaction
        raise BoomError
    assert not Material.objects.exists()
    assert not MaterialAnnouncement.objects.exists()
    assert not OutboxMail.objects.exists()


def test_a_failing_recorder_fails_the_publication(meeting, secretariat, chair, member, monkeypatch):
    from notices import announcements

    material = create(meeting, secretariat, visibility=Material.Visibility.SECRETARIAT)

    def broken(**kwargs):
        raise BoomError("database hiccup")

    monkeypatch.setattr(announcements, "material_announce", broken)
    with pytest.raises(BoomError):
        documents.material_set_visibility(actor=secretariat, material=material, visibility=MEMBERS)
    material.refresh_from_db()
    assert material.visibility == Material.Visibility.SECRETARIAT  # not published without its notice
    assert not AuditEntry.objects.filter(action="material_visibility_changed", target_id=str(material.pk)).exists()


def test_a_failed_send_leaves_the_row_to_be_retried(
    meeting, secretariat, chair, member, monkeypatch, django_capture_on_commit_callbacks
):
    create(meeting, secretariat)
    original = services.notice_send

    def broken(**kwargs):
        raise BoomError("SMTP relay host not resolvable")

    monkeypatch.setattr(services, "notice_send", broken)
    with time_machine.travel(IN_TERM + dt.timedelta(minutes=10), tick=False):
        with pytest.raises(BoomError):
            services.relay()
    waiting = MaterialAnnouncement.objects.get()
    assert waiting.notice is None  # still waiting: the next relay takes it

    monkeypatch.setattr(services, "notice_send", original)
    with time_machine.travel(IN_TERM + dt.timedelta(minutes=11), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.relay()["materials"] == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert services.relay()["materials"] == 0  # once
    waiting.refresh_from_db()
    assert waiting.notice is not None and waiting.notice.kind == Notice.Kind.MATERIALS
    assert [m for m in mail.outbox if m.subject.startswith("【資料掲載のお知らせ】")]


def test_subscriber_mail_left_pending_by_a_failed_send_is_sent_later(
    meeting, secretariat, chair, member, subscribers, monkeypatch, django_capture_on_commit_callbacks, eager_celery
):
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    def down(self, messages):
        raise smtplib.SMTPConnectError(421, b"service not available")

    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", down)
        with django_capture_on_commit_callbacks(execute=True):
            create(meeting, secretariat, visibility=PUBLIC)
    rows = list(OutboxMail.objects.all())
    assert len(rows) == 2 and {r.state for r in rows} == {OutboxMail.State.PENDING}
    assert mail.outbox == []

    with time_machine.travel(IN_TERM + dt.timedelta(minutes=30), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.relay()["outbox"] == 2
    assert {r.state for r in OutboxMail.objects.all()} == {OutboxMail.State.SENT}
    to_subscribers = sorted(m.to[0] for m in mail.outbox if m.to[0].endswith("@example.com"))
    assert to_subscribers == ["s0@example.com", "s1@example.com"]  # each once
