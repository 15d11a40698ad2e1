import datetime as dt
import re

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from meetings import services as meeting_services
from meetings.models import Attendance
from notices import selectors, services
from notices.models import Delivery, Notice
from notices.tokens import ANSWER_SALT, answer_token, feed_token
from tests.meetings.conftest import plan, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def notified(approved, meeting, secretariat, chair, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    return meeting


def confirm_and_send(client: Client, meeting, data: dict):
    """The two steps of sending from the page: the confirmation page, then its button (with its token)."""
    url = reverse("notices:send", args=[meeting.pk])
    page = client.post(url, data).content.decode()
    token = re.search(r'name="recipients" value="([0-9a-f]{64})"', page)
    assert token, "no confirm button"
    return client.post(url, {**data, "recipients": token.group(1)}, follow=True)


def row_of(meeting, user) -> Attendance:
    return Attendance.objects.get(meeting=meeting, appointment__person__user=user)


# --- the status page and sending ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("secretariat", 200), ("superuser", 200), ("member", 404), ("chair", 404), ("other_secretariat", 404)],
)
def test_status_page_matrix(notified, who, status, request):
    client = Client()
    sign_in(client, request.getfixturevalue(who))
    assert client.get(reverse("notices:status", args=[notified.pk])).status_code == status
    assert client.get(reverse("notices:preview", args=[notified.pk, "reminder"])).status_code == status
    response = client.post(reverse("notices:send", args=[notified.pk]), {"kind": "materials"})
    assert response.status_code == (200 if status == 200 else 404)  # the confirmation step


def test_status_page_lists_deliveries_and_members_without_email(
    notified, secretariat, django_assert_max_num_queries
):
    from tests.meetings.conftest import appoint_others

    appoint_others(notified.body, 2)
    client = Client()
    sign_in(client, secretariat)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("notices:status", args=[notified.pk])).content.decode()
    assert "chair@test.example" in page and "送信済" in page or "Sent" in page
    assert "青木" in page and reverse("print:notice_pdf", args=[notified.pk, notified.body.appointments.get(
        person__family_name="青木").pk]) in page


def test_send_from_the_page_and_resend(notified, secretariat, settings, django_capture_on_commit_callbacks):
    client = Client()
    sign_in(client, secretariat)
    settings.EMAIL_BACKEND = "tests.notices.test_services.Refusing"
    with django_capture_on_commit_callbacks(execute=True):
        confirm_and_send(client, notified, {"kind": "materials", "note": "資料1を差し替えました"})
    failed = Delivery.objects.filter(notice__kind="materials", state="failed")
    assert failed.count() == 2
    page = client.get(reverse("notices:status", args=[notified.pk])).content.decode()
    assert "user unknown" in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notices:resend", args=[failed.first().pk]))
    assert Delivery.objects.filter(notice__kind="materials", state="sent").count() == 1
    assert "資料1を差し替えました" in mail.outbox[-1].body


def test_resend_by_another_secretariat_is_404(notified, other_secretariat):
    delivery = Delivery.objects.first()
    Delivery.objects.filter(pk=delivery.pk).update(state="failed")
    client = Client()
    sign_in(client, other_secretariat)
    assert client.post(reverse("notices:resend", args=[delivery.pk])).status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).state == "failed"


def test_preview_sends_nothing(approved, meeting, secretariat, chair):
    client = Client()
    sign_in(client, secretariat)
    response = client.get(reverse("notices:preview", args=[meeting.pk, "convocation"]))
    assert response.status_code == 200
    assert "開催通知" in response.content.decode()
    assert mail.outbox == [] and not Notice.objects.exists()
    assert client.get(reverse("notices:preview", args=[meeting.pk, "nonsense"])).status_code == 404


# --- answer by link ----------------------------------------------------------------------------------


def test_answer_link_records_the_members_answer(notified, member):
    row = row_of(notified, member)
    url = reverse("notices:answer", args=[answer_token(row)])
    client = Client()
    page = client.get(url)
    assert page.status_code == 200 and "佐藤 志穂" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    assert client.post(url, {"reply": "online"}).status_code == 302
    row.refresh_from_db()
    assert row.reply == "online" and row.replied_by == member


def test_the_answer_page_shows_which_answer_is_chosen(notified, member):
    """Issue 19: of the three answer buttons, the one given so far is filled and marked (aria-current)."""
    import re

    row = row_of(notified, member)
    url = reverse("notices:answer", args=[answer_token(row)])
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    assert "aria-current" not in client.get(url).content.decode()  # nothing chosen yet
    client.post(url, {"reply": "online"})
    html = client.get(url).content.decode()
    current = re.findall(r'<button class="btn btn-primary[^"]*"[^>]*value="(\w+)"[^>]*aria-current="true">', html)
    assert current == ["online"], current
    assert html.count('class="btn btn-outline-primary') == 2  # the other two stay outlined
    assert "（現在の回答）" in html or "(現在の回答)" in html


def test_answer_link_in_the_mail_works(notified, member):
    message = next(m for m in mail.outbox if m.to == ["member@test.example"])
    path = next(line for line in message.body.splitlines() if "/answer/" in line).split("dxplan.example.jp")[1]
    Client().post(path, {"reply": "absent"})
    assert row_of(notified, member).reply == "absent"


def test_altered_token_is_refused(notified, member):
    token = answer_token(row_of(notified, member))
    altered = reverse("notices:answer", args=[token[:-2] + "xx"])
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(altered, {"reply": "venue"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert row_of(notified, member).reply == ""


def test_expired_token_is_refused(notified, member):
    token = answer_token(row_of(notified, member))
    with time_machine.travel(dt.timedelta(days=367)):
        response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("notices:answer", args=[token]))
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_a_link_mailed_weeks_before_the_meeting_works_until_it_starts(notified, member):
    """A 開催通知 mailed 40 days before the meeting: its answer link still works on the eve of the meeting (it
    expired after 30 days, before the meeting it was for)."""
    from django.utils import timezone

    with time_machine.travel(timezone.now() - dt.timedelta(days=40)):
        token = answer_token(row_of(notified, member))
    url = reverse("notices:answer", args=[token])
    assert Client().get(url).status_code == 200
    Client().post(url, {"reply": "venue"})
    assert row_of(notified, member).reply == "venue"


def test_token_refused_once_the_meeting_started(notified, member, after_meeting):
    token = answer_token(row_of(notified, member))
    assert Client().get(reverse("notices:answer", args=[token])).status_code == 400


def test_token_for_another_meeting_is_refused(notified, member, secretariat, body):
    row = row_of(notified, member)
    other = plan(body, secretariat, day=dt.date(2023, 6, 20))
    forged = signing.dumps({"a": row.pk, "m": other.pk}, salt=ANSWER_SALT)  # validly signed, wrong pair
    assert Client().post(reverse("notices:answer", args=[forged]), {"reply": "venue"}).status_code == 404
    assert row_of(notified, member).reply == ""


def test_answer_in_japanese_for_a_japanese_browser(notified, member):
    token = answer_token(row_of(notified, member))
    response = Client(HTTP_ACCEPT_LANGUAGE="ja").get(reverse("notices:answer", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    assert "このリンク" in response.content.decode()


def test_answer_for_a_person_without_account_is_recorded_on_behalf(notified, secretariat, member):
    person = member.person
    person.user = None
    person.save(update_fields=["user"])
    row = row_of_person(notified, person)
    Client().post(reverse("notices:answer", args=[answer_token(row)]), {"reply": "venue"})
    row.refresh_from_db()
    assert row.reply == "venue" and row.replied_by is None


def row_of_person(meeting, person):
    return Attendance.objects.get(meeting=meeting, appointment__person=person)


# --- calendar feeds ----------------------------------------------------------------------------------


def test_public_feed_hides_the_online_link(notified):
    response = Client().get(reverse("notices:body_calendar", args=[notified.body.slug]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    content = response.content.decode()
    assert f"meeting-{notified.pk}@" in content and "secret-room" not in content


def test_public_feed_of_a_private_body_is_404(notified):
    notified.body.is_public = False
    notified.body.save(update_fields=["is_public"])
    assert Client().get(reverse("notices:body_calendar", args=[notified.body.slug])).status_code == 404


def test_private_feed(notified, member, outsider, secretariat):
    response = Client().get(reverse("notices:member_calendar", args=[feed_token(member)]))
    assert response.status_code == 200 and "secret-room-4711" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    empty = Client().get(reverse("notices:member_calendar", args=[feed_token(outsider)])).content.decode()
    assert "VEVENT" not in empty
    assert Client().get(reverse("notices:member_calendar", args=["1.forged"])).status_code == 404
    assert Client().get(reverse("notices:member_calendar", args=[feed_token(member) + "x"])).status_code == 404


def test_cancelled_meeting_in_feed(notified, secretariat):
    meeting_services.meeting_cancel(actor=secretariat, meeting=notified, reason="台風のため")
    content = Client().get(reverse("notices:body_calendar", args=[notified.body.slug])).content.decode()
    assert "STATUS:CANCELLED" in content


def test_status_page_queries_do_not_grow_with_recipients(
    approved, meeting, secretariat, chair, guideline, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from tests.meetings.conftest import add_members

    add_members(meeting.body, guideline, 0, 200)
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    assert notice.deliveries.count() == 201 and len(mail.outbox) == 201
    client = Client()
    sign_in(client, secretariat)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("notices:status", args=[meeting.pk]))
    assert response.status_code == 200


def _feed_queries(client: Client, url: str) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def test_the_members_feed_runs_a_fixed_number_of_queries_with_a_real_token(notified, member, body):
    """The private feed with the member's own signed address: ten times the meetings, the same queries."""
    from tests.meetings.conftest import add_meetings

    client = Client()
    url = reverse("notices:member_calendar", args=[feed_token(member)])
    add_meetings(body, 100, 3)
    few, text = _feed_queries(client, url)
    assert text.count("BEGIN:VEVENT") == 4
    add_meetings(body, 200, 30)
    many, text = _feed_queries(client, url)
    # Six of the thirty fall on 1 April or 1 May, before the term began (10 May): not the member's.
    assert text.count("BEGIN:VEVENT") == 4 + 24
    assert many == few <= 8


def test_a_notice_nobody_would_receive_is_refused_and_nothing_changes(meeting, secretariat):
    """送信 is impossible with zero recipients (issue 10): nobody sits on the body on the meeting day, so a
    資料掲載のお知らせ is refused with the reason, and nothing is written."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, secretariat)
    url = reverse("notices:send", args=[meeting.pk])
    page = client.post(url, {"kind": Notice.Kind.MATERIALS}).content.decode()
    assert 'id="nobody"' in page and 'name="recipients"' not in page  # the confirmation offers no button
    assert reverse("committee:roster_manage", args=[meeting.body.slug]) in page
    # A forged confirmation (the fingerprint of nobody) is refused by the service.
    empty = selectors.recipients_token(meeting, Notice.Kind.MATERIALS, [])
    response = client.post(url, {"kind": Notice.Kind.MATERIALS, "recipients": empty}, follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and errors[0].startswith("Nobody would receive this notice")
    assert not Notice.objects.filter(meeting=meeting).exists()
    preview = client.get(reverse("notices:preview", args=[meeting.pk, Notice.Kind.MATERIALS])).content.decode()
    assert f'action="{url}"' not in preview  # nor does the preview


# --- the confirmation step before sending (issue 10, 2f) ----------------------------------------------


def test_sending_shows_the_recipients_first_and_sends_only_on_confirmation(
    approved, meeting, secretariat, chair, member, django_capture_on_commit_callbacks
):
    """The first POST sends nothing: it shows how many and who would get the 開催通知, who has no address
    (with the printed letter and the roster page); the confirm button then sends it."""
    from tests.meetings.conftest import appoint_others

    aoki = appoint_others(meeting.body, 1)[0]  # no address at all
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, secretariat)
    url = reverse("notices:send", args=[meeting.pk])
    page = client.post(url, {"kind": "convocation"}).content.decode()
    assert not Notice.objects.filter(meeting=meeting).exists() and mail.outbox == []
    assert "2 recipients" in page and chair.email in page and member.email in page
    assert "1 member has no email address and will not get it" in page and aoki.holder_name in page
    assert reverse("print:notice_pdf", args=[meeting.pk, aoki.pk]) in page
    assert reverse("committee:roster_manage", args=[meeting.body.slug]) in page
    assert "Send to 2 recipients" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm_and_send(client, meeting, {"kind": "convocation"})
    assert response.redirect_chain[-1][0] == reverse("notices:status", args=[meeting.pk])
    assert Notice.objects.get(meeting=meeting).deliveries.count() == 2 and len(mail.outbox) == 2


def test_recipients_changed_after_the_confirmation_page_send_nothing(approved, meeting, secretariat, member):
    """Someone's address was removed between the confirmation page and the click: nothing is sent, the
    user is told and shown the new count and a new button."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, secretariat)
    url = reverse("notices:send", args=[meeting.pk])
    page = client.post(url, {"kind": "convocation"}).content.decode()
    token = re.search(r'name="recipients" value="([0-9a-f]{64})"', page).group(1)
    person = member.person
    person.email = ""
    person.save(update_fields=["email"])
    member.email = ""
    member.save(update_fields=["email"])
    response = client.post(url, {"kind": "convocation", "recipients": token})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="recipients-changed"' in page
    assert "Now 1 person would receive it." in page and "Send to 1 recipient" in page
    assert not Notice.objects.filter(meeting=meeting).exists() and mail.outbox == []
    new_token = re.search(r'name="recipients" value="([0-9a-f]{64})"', page).group(1)
    assert new_token != token


def test_the_service_refuses_a_stale_fingerprint(approved, meeting, secretariat):
    from notices.services import RecipientsChangedError

    with pytest.raises(RecipientsChangedError):
        services.notice_send(actor=secretariat, meeting=meeting, kind="convocation", expected_recipients="0" * 64)
    assert not Notice.objects.filter(meeting=meeting).exists()
    meeting.refresh_from_db()
    assert meeting.status == "planned"  # not marked notified either


def test_the_preview_labels_the_subject_of_the_mail_in_japanese(approved, meeting, secretariat, chair, member):
    """The mail's subject is 「件名」 in the preview, not 「主な議題」 (issue 10)."""
    from django.utils import translation

    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    sign_in(client, secretariat)
    with translation.override("ja"):
        page = client.get(reverse("notices:preview", args=[meeting.pk, "convocation"])).content.decode()
    labels = re.findall(r'<dt class="col-sm-2">([^<]+)</dt>', page)
    assert labels[0] == "件名" and "主な議題" not in labels


def test_the_confirmation_page_runs_a_fixed_number_of_queries(
    approved, meeting, secretariat, chair, guideline, django_assert_max_num_queries
):
    """Two hundred members and twenty without an address: the same capped number of queries."""
    from tests.meetings.conftest import add_members, appoint_others

    add_members(meeting.body, guideline, 0, 200)
    appoint_others(meeting.body)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, secretariat)
    with django_assert_max_num_queries(25):
        page = client.post(reverse("notices:send", args=[meeting.pk]), {"kind": "convocation"}).content.decode()
    assert "201 recipients" in page and "have no email address" in page
