"""Other attendees (issue 10, 2b): the secretariat invites 説明員, 参考人 and オブザーバー on its own page;
each answers and reads that one meeting's members' materials through their own link, without an account."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import AuditAction, AuditEntry
from documents import services as document_services
from meetings import services
from meetings.access import attendee_token
from meetings.models import Attendance, Attendee, Meeting, Seat
from notices import services as notice_services
from notices.models import Delivery, Notice
from tests.documents.conftest import pdf_bytes, upload

from .conftest import plan, sign_in

EXPLAINER = {
    "name": "説明 花子",
    "title": "青森県総務部財政課長",
    "role": "explainer",
    "email": "hanako@pref.example.jp",
}


@pytest.fixture(autouse=True)
def _mail_and_files(settings, tmp_path, eager_celery):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://dxplan.example.jp"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX = ""


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        sign_in(client, user)
    return client


def _material(meeting: Meeting, actor, visibility: str, title: str):
    return document_services.material_create(
        actor=actor, meeting=meeting, title=title, upload=upload("資料.pdf", pdf_bytes()), visibility=visibility
    )


@pytest.fixture
def other_meeting(body, secretariat, in_term) -> Meeting:
    import datetime as dt

    return plan(body, secretariat, day=dt.date(2023, 7, 5))


@pytest.fixture
def explainer(meeting, secretariat) -> Attendee:
    return services.attendee_add(actor=secretariat, meeting=meeting, **EXPLAINER)


def _guest_url(attendee: Attendee) -> str:
    return reverse("notices:guest", args=[attendee_token(attendee)])


def test_the_secretariat_invites_an_explainer_who_answers_and_reads_the_materials(
    meeting, other_meeting, secretariat, django_capture_on_commit_callbacks
):
    assert not secretariat.is_superuser
    members_only = _material(meeting, secretariat, "members", "委員限りの資料")
    staff_only = _material(meeting, secretariat, "secretariat", "事務局限りの資料")
    elsewhere = _material(other_meeting, secretariat, "members", "第2回の資料")
    client = _client(secretariat)

    # added on the secretariat's page, audited, with the attendance row its answer goes to
    response = client.post(reverse("meetings:attendees", args=[meeting.pk]), {**EXPLAINER, "invited_by_chair": "on"})
    assert response.status_code == 302
    attendee = Attendee.objects.get(meeting=meeting)
    assert (attendee.role, attendee.email, attendee.invited_by_chair) == ("explainer", EXPLAINER["email"], True)
    assert Attendance.objects.filter(attendee=attendee, reply="").exists()
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_ADDED, actor=secretariat).exists()
    page = client.get(reverse("meetings:attendees", args=[meeting.pk])).content.decode()
    assert "説明 花子" in page and "/admin/meetings/" not in page

    # the invitation goes through the outbox, with the attendee's own link
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notices:attendee_invite", args=[meeting.pk, attendee.pk]))
    assert response.status_code == 302
    notice = Notice.objects.get(kind=Notice.Kind.INVITATION, attendee=attendee)
    delivery = notice.deliveries.get()
    assert delivery.email == EXPLAINER["email"]
    assert delivery.state == Delivery.State.SENT
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_INVITED).count() == 1
    (message,) = mail.outbox
    assert message.to == [EXPLAINER["email"]]
    link = re.search(r"https://dxplan\.example\.jp(/guest/[^\s]+/)", message.body)
    assert link is not None
    url = link[1]
    assert url == _guest_url(attendee)

    # the guest, without an account: the meeting's members' side, then an answer
    guest = Client()
    page = guest.get(url).content.decode()
    assert "委員限りの資料" in page
    assert "事務局限りの資料" not in page and "第2回の資料" not in page
    response = guest.post(url, {"reply": "venue", "note": "13時50分に到着"})
    assert response.status_code == 302
    row = Attendance.objects.get(attendee=attendee)
    assert (row.reply, row.reply_note) == ("venue", "13時50分に到着")
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_ANSWERED).count() == 1
    listed = client.get(reverse("meetings:attendance_list", args=[meeting.pk])).content.decode()
    assert "説明 花子 (At the venue)" in listed

    # downloads: this meeting's members' material only; logged as the guest's
    token = attendee_token(attendee)
    response = guest.get(reverse("documents:guest_download", args=[token, members_only.pk]))
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED, data__guest=attendee.pk).exists()
    assert guest.get(reverse("documents:guest_download", args=[token, staff_only.pk])).status_code == 404
    assert guest.get(reverse("documents:guest_download", args=[token, elsewhere.pk])).status_code == 404
    # the ordinary download does not open to the anonymous guest
    assert guest.get(reverse("documents:download", args=[members_only.pk])).status_code == 404


def test_an_altered_or_revoked_link_opens_nothing(meeting, explainer, secretariat):
    members_only = _material(meeting, secretariat, "members", "委員限りの資料")
    token = attendee_token(explainer)
    guest = Client()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert guest.get(reverse("notices:guest", args=[tampered])).status_code == 404
    assert guest.get(reverse("documents:guest_download", args=[tampered, members_only.pk])).status_code == 404
    # another meeting's pk in a well-formed value signed with another salt
    assert guest.get(reverse("notices:guest", args=["eyJnIjoxLCJtIjoxfQ:forged"])).status_code == 404

    services.attendee_remove(actor=secretariat, attendee=explainer)
    assert guest.get(reverse("notices:guest", args=[token])).status_code == 404
    assert guest.get(reverse("documents:guest_download", args=[token, members_only.pk])).status_code == 404


def test_a_link_of_one_meeting_does_not_reach_another_meetings_attendee(meeting, other_meeting, secretariat):
    here = services.attendee_add(actor=secretariat, meeting=meeting, role="observer", name="観察 一郎")
    there = services.attendee_add(actor=secretariat, meeting=other_meeting, role="observer", name="観察 二郎")
    page = Client().get(_guest_url(here)).content.decode()
    assert "観察 一郎" in page and "観察 二郎" not in page
    assert there.pk != here.pk


def test_inviting_twice_sends_once(meeting, explainer, secretariat, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notice_services.attendee_invite(actor=secretariat, attendee=explainer)
    with django_capture_on_commit_callbacks(execute=True):
        second = notice_services.attendee_invite(actor=secretariat, attendee=explainer)
    assert first.pk == second.pk
    assert len(mail.outbox) == 1


def test_no_invitation_without_an_address(meeting, secretariat):
    attendee = services.attendee_add(actor=secretariat, meeting=meeting, role="observer", name="観察 一郎")
    with pytest.raises(notice_services.NoticeError):
        notice_services.attendee_invite(actor=secretariat, attendee=attendee)
    assert not Notice.objects.exists()


def test_the_meeting_notice_form_cannot_send_invitations(meeting, secretariat):
    with pytest.raises(notice_services.NoticeError):
        notice_services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.INVITATION)


def test_edit_and_remove(meeting, explainer, secretariat):
    client = _client(secretariat)
    url = reverse("meetings:attendee_edit", args=[meeting.pk, explainer.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {**EXPLAINER, "role": "witness", "invited_by_chair": "on"})
    assert response.status_code == 302
    explainer.refresh_from_db()
    assert (explainer.role, explainer.invited_by_chair) == ("witness", True)
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_CHANGED).count() == 1
    # saving the same again records nothing
    client.post(url, {**EXPLAINER, "role": "witness", "invited_by_chair": "on"})
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_CHANGED).count() == 1

    response = client.post(reverse("meetings:attendee_remove", args=[meeting.pk, explainer.pk]))
    assert response.status_code == 302
    assert not Attendee.objects.filter(pk=explainer.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_REMOVED).count() == 1


def test_a_name_or_title_is_required(meeting, secretariat):
    response = _client(secretariat).post(
        reverse("meetings:attendees", args=[meeting.pk]), {"role": "observer", "email": "a@example.jp"}
    )
    assert response.status_code == 200
    assert not Attendee.objects.exists()


def test_no_attendees_added_to_a_cancelled_meeting(meeting, secretariat):
    services.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風")
    with pytest.raises(services.MeetingError):
        services.attendee_add(actor=secretariat, meeting=meeting, role="observer", name="観察 一郎")


def test_a_guest_cannot_answer_once_the_meeting_started(meeting, explainer, after_meeting):
    with pytest.raises(services.MeetingError):
        services.attendee_reply(attendee=explainer, reply="venue")
    assert Attendance.objects.get(attendee=explainer).reply == ""


def test_answering_the_same_twice_records_once(meeting, explainer):
    services.attendee_reply(attendee=explainer, reply="absent")
    services.attendee_reply(attendee=explainer, reply="absent")
    assert AuditEntry.objects.filter(action=AuditAction.ATTENDEE_ANSWERED).count() == 1


@pytest.mark.parametrize("who", ["anonymous", "outsider", "member", "chair", "other_secretariat"])
def test_only_the_secretariat_reaches_the_attendee_pages(
    meeting, explainer, who, outsider, member, chair, other_secretariat
):
    user = {"anonymous": None, "outsider": outsider, "member": member, "chair": chair,
            "other_secretariat": other_secretariat}[who]
    client = _client(user)
    urls = [
        ("get", reverse("meetings:attendees", args=[meeting.pk])),
        ("get", reverse("meetings:attendee_edit", args=[meeting.pk, explainer.pk])),
        ("post", reverse("meetings:attendee_remove", args=[meeting.pk, explainer.pk])),
        ("post", reverse("notices:attendee_invite", args=[meeting.pk, explainer.pk])),
        ("post", reverse("meetings:attendees", args=[meeting.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"role": "observer", "name": "侵入者"} if method == "post" else {})
        if user is None:
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
        else:
            assert response.status_code == 404, url
    assert Attendee.objects.filter(meeting=meeting).count() == 1
    assert not Notice.objects.exists()


def test_the_attendee_list_runs_a_fixed_number_of_queries(
    meeting, secretariat, django_assert_max_num_queries
):
    Attendee.objects.bulk_create(
        Attendee(meeting=meeting, role="observer", name=f"観察 {i}号", email=f"o{i}@example.jp", position=i)
        for i in range(100)
    )
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    client = _client(secretariat)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("meetings:attendees", args=[meeting.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('id="attendee-') == 100


def test_the_manage_page_links_to_the_attendees_page_not_the_admin(meeting, secretariat):
    html = _client(secretariat).get(reverse("meetings:manage", args=[meeting.pk])).content.decode()
    assert reverse("meetings:attendees", args=[meeting.pk]) in html
    assert "/admin/meetings/meeting/" not in html


def test_the_seating_plan_follows_the_guests_answer(meeting, explainer, secretariat):
    observer = services.attendee_add(actor=secretariat, meeting=meeting, role="observer", name="観察 一郎")
    services.attendee_reply(attendee=explainer, reply="online")
    services.attendee_reply(attendee=observer, reply="absent")
    services.seating_generate(actor=secretariat, meeting=meeting)
    placed = Seat.objects.filter(meeting=meeting).select_related("attendance")
    seats = {s.attendance.attendee_id: s.zone for s in placed}
    assert seats.get(explainer.pk) == Seat.Zone.ONLINE
    assert observer.pk not in seats
