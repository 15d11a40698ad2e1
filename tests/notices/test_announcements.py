"""資料掲載のお知らせ without a button: materials published to members or replaced are collected per meeting
and announced in one notice by the relay, a few minutes after the last one (notices.announcements)."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core import mail

from documents import services as documents
from documents.models import Material
from meetings import services as meeting_services
from notices import services
from notices.models import BodyNoticeSettings, MaterialAnnouncement, Notice
from tests.conftest import IN_TERM
from tests.documents.conftest import pdf_bytes, upload

pytestmark = pytest.mark.django_db

MEMBERS = Material.Visibility.MEMBERS
MATERIALS = Notice.Kind.MATERIALS


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def publish(meeting, secretariat, chair, member, django_capture_on_commit_callbacks):
    """publish(title, visibility=MEMBERS): a material with a PDF through the documents service, its
    on-commit signal run."""

    def add(title: str, visibility: str = MEMBERS) -> Material:
        with django_capture_on_commit_callbacks(execute=True):
            return documents.material_create(
                actor=secretariat, meeting=meeting, title=title, upload=upload("資料.pdf", pdf_bytes()),
                visibility=visibility,
            )

    return add


@pytest.fixture
def run(django_capture_on_commit_callbacks, secretariat):
    """run(callable, **kwargs) with its on-commit callbacks (signals, queued deliveries) run."""

    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return call


def relay_at(minutes: float, run) -> dict:
    """The periodic relay, `minutes` after "now" (2023-06-01 10:00)."""
    with time_machine.travel(IN_TERM + dt.timedelta(minutes=minutes), tick=False):
        return run(services.relay)


def materials_mails():
    return [m for m in mail.outbox if m.subject.startswith("【資料掲載のお知らせ】")]


def test_five_uploads_in_a_row_make_one_notice(publish, run, meeting):
    for n in range(1, 6):
        publish(f"資料その{n}")
    waiting = MaterialAnnouncement.objects.filter(meeting=meeting, notice__isnull=True)
    assert waiting.count() == 5
    assert {a.due_at for a in waiting} == {IN_TERM + dt.timedelta(minutes=10)}

    assert relay_at(9, run)["materials"] == 0
    assert materials_mails() == []
    assert relay_at(10, run)["materials"] == 1
    notice = Notice.objects.get(meeting=meeting, kind=MATERIALS)
    assert notice.created_by is None and notice.announced_materials.count() == 5
    messages = materials_mails()
    assert sorted(m.to[0] for m in messages) == ["chair@test.example", "member@test.example"]
    body = messages[0].body
    for n in range(1, 6):
        assert f"資料{n} 資料その{n}(新規)" in body
    assert "資料その1" in messages[0].alternatives[0].content
    assert relay_at(30, run)["materials"] == 0  # announced once
    assert len(materials_mails()) == 2


def test_another_material_pushes_the_notice_back(publish, run, meeting):
    publish("最初の資料")
    with time_machine.travel(IN_TERM + dt.timedelta(minutes=8), tick=False):
        publish("次の資料")
    assert relay_at(11, run)["materials"] == 0  # the first one's time has passed, but a second came
    assert relay_at(18, run)["materials"] == 1
    [notice] = Notice.objects.filter(kind=MATERIALS)
    assert sorted(a.material.title for a in notice.announced_materials.all()) == ["最初の資料", "次の資料"]


def test_a_steady_stream_still_goes_out_within_the_hour(publish, run):
    for minute in range(0, 60, 7):  # every seven minutes, the last at 56
        with time_machine.travel(IN_TERM + dt.timedelta(minutes=minute), tick=False):
            publish(f"資料 {minute}分")
    assert {a.due_at for a in MaterialAnnouncement.objects.all()} == {IN_TERM + dt.timedelta(hours=1)}
    assert relay_at(60, run)["materials"] == 1


def test_replacement_is_announced_as_such(publish, run, meeting, secretariat):
    material = publish("骨子案")
    relay_at(10, run)
    run(documents.material_replace, actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)),
        note="誤字の訂正")
    [row] = MaterialAnnouncement.objects.filter(notice__isnull=True)
    assert row.replaced and row.due_at == IN_TERM + dt.timedelta(minutes=10)  # the frozen clock
    relay_at(20, run)
    notices = list(Notice.objects.filter(kind=MATERIALS).order_by("pk"))
    assert len(notices) == 2
    assert "資料1 骨子案(差替)" in materials_mails()[-1].body


def test_published_then_replaced_before_the_notice_is_new(publish, run, secretariat):
    material = publish("骨子案")
    run(documents.material_replace, actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    [row] = MaterialAnnouncement.objects.filter(notice__isnull=True)
    assert row.replaced is False
    relay_at(10, run)
    assert "資料1 骨子案(新規)" in materials_mails()[0].body


def test_secretariat_only_materials_are_not_announced(publish, run, secretariat):
    material = publish("内部資料", visibility=Material.Visibility.SECRETARIAT)
    run(documents.material_replace, actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    assert not MaterialAnnouncement.objects.exists()
    assert relay_at(60, run)["materials"] == 0 and materials_mails() == []
    # made visible to members later: announced then
    run(documents.material_set_visibility, actor=secretariat, material=material, visibility=MEMBERS)
    assert MaterialAnnouncement.objects.filter(notice__isnull=True, replaced=False).count() == 1


def test_members_to_public_is_not_announced_again(publish, run, secretariat):
    material = publish("骨子案")
    relay_at(10, run)
    run(documents.material_publish, actor=secretariat, material=material)
    assert not MaterialAnnouncement.objects.filter(notice__isnull=True).exists()


def test_withdrawn_before_the_notice_is_left_out(publish, run, secretariat):
    kept = publish("残る資料")
    gone = publish("取り下げる資料")
    run(documents.material_withdraw, actor=secretariat, material=gone, reason="差し替え予定のため")
    relay_at(10, run)
    [notice] = Notice.objects.filter(kind=MATERIALS)
    assert [a.material for a in notice.announced_materials.all()] == [kept]
    assert "取り下げる資料" not in materials_mails()[0].body


def test_everything_withdrawn_or_hidden_sends_nothing(publish, run, secretariat):
    first = publish("資料A")
    second = publish("資料B")
    run(documents.material_withdraw, actor=secretariat, material=first, reason="誤り")
    run(documents.material_set_visibility, actor=secretariat, material=second,
        visibility=Material.Visibility.SECRETARIAT)
    assert relay_at(30, run)["materials"] == 0
    assert not Notice.objects.filter(kind=MATERIALS).exists() and materials_mails() == []


def test_cancelled_or_past_meetings_get_no_notice(publish, run, meeting, secretariat):
    publish("資料A")
    run(meeting_services.meeting_cancel, actor=secretariat, meeting=meeting, reason="台風のため")
    assert relay_at(10, run)["materials"] == 0
    assert not MaterialAnnouncement.objects.exists()
    publish("資料B")  # after the cancellation: not even recorded
    assert not MaterialAnnouncement.objects.exists()
    assert materials_mails() == []


def test_past_meeting_gets_no_notice(publish, run, meeting):
    publish("資料A")
    with time_machine.travel(meeting.start_at + dt.timedelta(hours=1), tick=False):
        assert run(services.relay)["materials"] == 0
        publish("当日配布資料")
    assert not Notice.objects.filter(kind=MATERIALS).exists()
    assert not MaterialAnnouncement.objects.filter(notice__isnull=True).exists()


def test_body_setting_sets_the_delay(publish, run, meeting):
    BodyNoticeSettings.objects.create(body=meeting.body, materials_delay=3)
    publish("資料A")
    assert MaterialAnnouncement.objects.get().due_at == IN_TERM + dt.timedelta(minutes=3)
    assert relay_at(3, run)["materials"] == 1


def test_the_button_takes_the_waiting_list(publish, run, meeting, secretariat):
    publish("資料A")
    run(services.notice_send, actor=secretariat, meeting=meeting, kind=MATERIALS)
    assert "資料1 資料A(新規)" in materials_mails()[0].body
    assert relay_at(10, run)["materials"] == 0
    assert Notice.objects.filter(kind=MATERIALS).count() == 1


def test_send_due_notices_command_sends_it(publish, run):
    from django.core.management import call_command

    publish("資料A")
    with time_machine.travel(IN_TERM + dt.timedelta(minutes=10), tick=False):
        run(call_command, command_name="send_due_notices")
    assert len(materials_mails()) == 2


def test_documents_does_not_import_notices():
    import documents

    for path in Path(documents.__file__).parent.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import notices" not in text and "from notices" not in text, path
