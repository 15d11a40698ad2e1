"""傍聴者数: the check-in count goes into the meeting record (the secretariat's meeting page, the public page
after the meeting) and into the minutes (their header, the print and PDF forms); the secretariat corrects it."""

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditAction, AuditEntry
from meetings import services as meeting_services
from meetings.models import Minutes
from participation import services

from .conftest import START, register

pytestmark = pytest.mark.usefixtures("eager_celery")

AFTER = START + dt.timedelta(hours=3)


@pytest.fixture
def checked_in(observation, secretariat):
    """Three registered observers came (a party of two and one), checked in on the day."""
    a = register(observation, "a@example.com", party=2, name="青森 一郎")
    b = register(observation, "b@example.com", name="弘前 花子")
    with time_machine.travel(START - dt.timedelta(minutes=20), tick=False):
        services.registration_check_in(actor=secretariat, registration=a, attended=2)
        services.registration_check_in(actor=secretariat, registration=b, attended=1)
    return observation


def _minutes_count(meeting) -> int | None:
    return Minutes.objects.get(meeting=meeting).observers_count


def test_minutes_started_after_the_check_in_begin_with_its_count(checked_in, secretariat):
    meeting = checked_in.meeting
    with time_machine.travel(AFTER, tick=False):
        meeting_services.minutes_start(actor=secretariat, meeting=meeting)
    assert _minutes_count(meeting) == 3


def test_check_in_after_the_minutes_started_updates_them(observation, secretariat):
    meeting = observation.meeting
    late = register(observation, "late@example.com", party=2)
    with time_machine.travel(AFTER, tick=False):
        meeting_services.minutes_start(actor=secretariat, meeting=meeting)
        assert _minutes_count(meeting) is None  # nobody checked in yet
        services.registration_check_in(actor=secretariat, registration=late, attended=2)
        assert _minutes_count(meeting) == 2
        services.registration_check_in(actor=secretariat, registration=late, attended=1)
        assert _minutes_count(meeting) == 1


def test_a_number_written_in_the_minutes_is_kept_when_the_check_in_changes(checked_in, secretariat):
    meeting = checked_in.meeting
    a = checked_in.registrations.get(email="a@example.com")
    with time_machine.travel(AFTER, tick=False):
        meeting_services.minutes_start(actor=secretariat, meeting=meeting)
        meeting_services.minutes_settings_update(
            actor=secretariat, meeting=meeting, kind=Minutes.Kind.SUMMARY, observers_count=5
        )
        services.registration_check_in(actor=secretariat, registration=a, attended=1)
    assert _minutes_count(meeting) == 5  # the secretariat's own number in the minutes stays
    checked_in.refresh_from_db()
    assert checked_in.observer_count == 2


def test_secretariat_corrects_the_number_and_the_minutes_follow(checked_in, secretariat):
    meeting = checked_in.meeting
    with time_machine.travel(START - dt.timedelta(hours=1), tick=False):
        with pytest.raises(services.ParticipationError):  # not before the meeting starts
            services.observer_count_correct(actor=secretariat, meeting=meeting, count=4)
    with time_machine.travel(AFTER, tick=False):
        meeting_services.minutes_start(actor=secretariat, meeting=meeting)
        services.observer_count_correct(actor=secretariat, meeting=meeting, count=5)  # two let in at the door
        checked_in.refresh_from_db()
        assert (checked_in.observers, checked_in.observer_count) == (5, 3)
        assert _minutes_count(meeting) == 5
        entries = AuditEntry.objects.filter(action=AuditAction.OBSERVER_COUNT_CORRECTED)
        assert entries.count() == 1 and entries.get().data == {"from": None, "to": 5, "checked_in": 3}

        services.observer_count_correct(actor=secretariat, meeting=meeting, count=5)  # twice: nothing new
        assert entries.count() == 1

        services.observer_count_correct(actor=secretariat, meeting=meeting, count=None)  # back to the check-in
        checked_in.refresh_from_db()
        assert checked_in.observers == 3 and _minutes_count(meeting) == 3

        with pytest.raises(services.ParticipationError):
            services.observer_count_correct(actor=secretariat, meeting=meeting, count=-1)


def test_finalised_minutes_are_not_changed_by_a_correction(checked_in, secretariat, chair):
    meeting = checked_in.meeting
    with time_machine.travel(AFTER, tick=False):
        meeting_services.meeting_mark_held(actor=secretariat, meeting=meeting)
        meeting_services.minutes_start(actor=secretariat, meeting=meeting)
        Minutes.objects.filter(meeting=meeting).update(status=Minutes.Status.FINALISED)
        services.observer_count_correct(actor=secretariat, meeting=meeting, count=7)
    assert _minutes_count(meeting) == 3
    checked_in.refresh_from_db()
    assert checked_in.observers == 7


def test_secretariat_meeting_page_shows_the_count_and_corrects_it_through_the_form(client, checked_in, secretariat):
    meeting = checked_in.meeting
    with time_machine.travel(AFTER, tick=False):
        client.force_login(secretariat)  # a session of that day
        page = client.get(reverse("meetings:manage", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        assert "傍聴者数" in page and "<strong>3</strong>" in page
        assert reverse("participation:manage", args=[meeting.pk]) in page

        url = reverse("participation:manage_action", args=[meeting.pk, "count"])
        response = client.post(url, {"count": "abc"}, HTTP_ACCEPT_LANGUAGE="ja", follow=True)
        assert "傍聴者数は0以上の整数で入力してください。" in response.content.decode()
        checked_in.refresh_from_db()
        assert checked_in.observer_count_correction is None

        assert client.post(url, {"count": "4"}).status_code == 302
        checked_in.refresh_from_db()
        assert checked_in.observers == 4
        page = client.get(reverse("participation:manage", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
        assert 'id="observers-of-record">4<' in page.content.decode()
        page = client.get(reverse("meetings:manage", args=[meeting.pk])).content.decode()
        assert "<strong>4</strong>" in page


def test_public_page_shows_the_count_only_after_the_meeting(client, checked_in):
    meeting = checked_in.meeting
    url = reverse("meetings:detail", args=[meeting.pk])
    with time_machine.travel(START - dt.timedelta(minutes=10), tick=False):
        assert "傍聴者数" not in client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    with time_machine.travel(AFTER, tick=False):
        assert "傍聴者数: 3人" in client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        assert "Number of observers (傍聴者数): 3 people" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_published_minutes_show_the_count_in_their_header_print_and_pdf(client, checked_in, secretariat, chair):
    meeting = checked_in.meeting
    with time_machine.travel(AFTER, tick=False):
        meeting_services.meeting_mark_held(actor=secretariat, meeting=meeting)
        meeting_services.minutes_start(actor=secretariat, meeting=meeting)
        passage = meeting_services.PassageInput(text="開会します。", speaker="委員長")
        meeting_services.minutes_passage_add(actor=secretariat, meeting=meeting, data=passage)
        meeting_services.minutes_send_for_confirmation(
            actor=secretariat, meeting=meeting, confirm_by=AFTER.date() + dt.timedelta(days=7)
        )
        meeting_services.minutes_finalise(actor=chair, meeting=meeting)
        meeting_services.minutes_publish(actor=secretariat, meeting=meeting)

        page = client.get(reverse("meetings:detail", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        header = page.split('id="minutes-heading"')[1]
        assert "傍聴者数: 3" in header.split("開会します。")[0]  # in the minutes' header, before the text

        printed = client.get(reverse("print:minutes_html", args=[meeting.pk])).content.decode()
        assert "傍聴者数" in printed and "3人" in printed

        pdf = client.get(reverse("print:minutes_pdf", args=[meeting.pk]))
        data = b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        assert "傍聴者数" in text and "3人" in text
        client.force_login(secretariat)
        review = client.get(reverse("meetings:minutes_review", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
        assert 'id="minutes-observers">傍聴者数: 3<' in review.content.decode()
