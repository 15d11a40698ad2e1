"""Points of issue 17 checked once more against the code: the mail of closing goes through the outbox, the
purge's default of 90 days and its daily job, every kind of news reaching subscribers, and the public page's
wording before registration opens and for a lottery."""

import datetime as dt
import io

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditAction, AuditEntry
from meetings import services as meeting_services
from meetings.models import Minutes, MinutesEntry
from notices.models import OutboxMail
from participation import services
from participation.models import Registration, Subscription

from .conftest import START, register

pytestmark = pytest.mark.usefixtures("eager_celery")


def test_closing_tells_those_registered_through_the_outbox(observation, secretariat):
    seated = register(observation, "seated@example.com")
    unconfirmed = register(observation, "new@example.com", confirm=False)
    OutboxMail.objects.all().delete()
    mail.outbox.clear()
    meeting_services.meeting_update(actor=secretariat, meeting=observation.meeting, openness="closed",
                                    openness_basis="委員の承諾")
    rows = OutboxMail.objects.filter(topic=services.REGISTRATION_TOPIC).order_by("to")
    assert [r.to for r in rows] == ["new@example.com", "seated@example.com"]
    assert all(r.state == OutboxMail.State.SENT for r in rows)  # written in the change's transaction, then sent
    assert all("非公開" in m.body for m in mail.outbox)  # the reason is in the mail
    for registration in (seated, unconfirmed):
        registration.refresh_from_db()
        assert registration.state == Registration.State.CANCELLED


def test_personal_data_is_kept_90_days_by_default_by_a_daily_job(observation, settings):
    from django_celery_beat.models import PeriodicTask

    from dxplan import settings as project_settings

    assert project_settings.DXPLAN_OBSERVER_DATA_DAYS == 90
    job = PeriodicTask.objects.get(name="participation.purge")
    assert job.enabled and job.task == "participation.tasks.purge_personal_data"
    assert (job.crontab.hour, job.crontab.day_of_week) == ("3", "*")  # every night

    settings.DXPLAN_OBSERVER_DATA_DAYS = project_settings.DXPLAN_OBSERVER_DATA_DAYS
    register(observation, "a@example.com")
    assert services.personal_data_purge(now=START + dt.timedelta(days=89)) == 0
    assert services.personal_data_purge(now=START + dt.timedelta(days=91)) == 1
    entry = AuditEntry.objects.get(action=AuditAction.OBSERVER_DATA_DELETED)
    assert entry.data == {"registrations": 1, "days": 90, "addresses_cleared": 0}  # no client address recorded here


@pytest.fixture
def subscriber(body):
    subscription = services.subscription_request(body=body, email="news@example.com")
    services.subscription_confirm(subscription=subscription)
    mail.outbox.clear()
    return subscription


def _news():
    return [m for m in mail.outbox if m.to == ["news@example.com"]]


@pytest.mark.parametrize("change", ["changed", "cancelled", "minutes"])
def test_subscribers_hear_of_changes_cancellations_and_minutes(planned, secretariat, chair, subscriber, change):
    if change == "changed":
        meeting_services.meeting_update(actor=secretariat, meeting=planned, venue_room="第2会議室")
        expected = "変更"
    elif change == "cancelled":
        meeting_services.meeting_cancel(actor=secretariat, meeting=planned, reason="台風")
        expected = "中止"
    else:
        with time_machine.travel(START + dt.timedelta(hours=3), tick=False):
            meeting_services.meeting_mark_held(actor=secretariat, meeting=planned)
            minutes = meeting_services.minutes_start(actor=secretariat, meeting=planned)
            MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
            meeting_services.minutes_send_for_confirmation(
                actor=secretariat, meeting=planned, confirm_by=START.date() + dt.timedelta(days=7)
            )
            meeting_services.minutes_finalise(actor=chair, meeting=planned)
            mail.outbox.clear()
            meeting_services.minutes_publish(actor=secretariat, meeting=planned)
            assert Minutes.objects.get(meeting=planned).status == Minutes.Status.PUBLISHED
        expected = "議事録"
    [news] = _news()
    assert expected in news.subject, news.subject
    assert news.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert OutboxMail.objects.filter(topic=services.SUBSCRIPTION_TOPIC, to="news@example.com").exists()


def test_public_page_before_registration_opens_says_when_it_opens_and_closes(client, planned, secretariat):
    services.observation_settings_save(
        actor=secretariat, meeting=planned, public_seats=5, press_seats=0, max_party=2,
        opens_at=dt.datetime(2023, 6, 10, 9, 0, tzinfo=START.tzinfo),
        closes_at=dt.datetime(2023, 7, 3, 17, 0, tzinfo=START.tzinfo), method="first_come",
    )
    text = client.get(reverse("meetings:detail", args=[planned.pk]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "傍聴できます。" in text
    assert "令和5年6月10日" in text and "令和5年7月3日" in text
    register_page = client.get(reverse("participation:register", args=[planned.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    assert "令和5年6月10日" in register_page.content.decode()
    assert 'name="accept"' not in register_page.content.decode()  # no form before it opens


def test_public_page_of_a_lottery_says_seats_are_drawn(client, observation, secretariat):
    services.observation_settings_save(
        actor=secretariat, meeting=observation.meeting, public_seats=3, press_seats=1, max_party=2,
        opens_at=observation.opens_at, closes_at=observation.closes_at, method="lottery",
    )
    text = client.get(reverse("meetings:detail", args=[observation.meeting.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "3 seats for the public, allotted by lottery if more apply" in text.content.decode()


def test_subscription_form_has_the_honeypot_and_the_throttle(client, body, settings):
    url = reverse("participation:subscribe", args=[body.slug])
    assert client.post(url, {"email": "bot@example.com", "website": "http://spam.example"}).status_code == 200
    assert not Subscription.objects.exists() and mail.outbox == []  # answered as if it worked
    settings.DXPLAN_PARTICIPATION_RATE = "10/h"
    settings.DXPLAN_PARTICIPATION_ADDRESS_RATE = "1/h"
    assert client.post(url, {"email": "reader@example.com"}).status_code == 200
    answer = client.post(url, {"email": "reader@example.com"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.status_code == 429 and "しばらくしてから" in answer.content.decode()
    assert len(mail.outbox) == 1


def test_reception_list_pdf_carries_the_number_of_observers_of_record(client, observation, secretariat):
    a = register(observation, "a@example.com", party=2, name="青森 一郎")
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        services.registration_check_in(actor=secretariat, registration=a, attended=2)
        services.observer_count_correct(actor=secretariat, meeting=observation.meeting, count=4)
        client.force_login(secretariat)
        pdf = client.get(reverse("participation:register_pdf", args=[observation.meeting.pk]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = "".join(text.split())
    assert "青森一郎" in flat and "傍聴者数4名(受付2名から訂正)" in flat


def test_a_meeting_moved_before_the_close_of_registration_takes_no_registration_once_started(
    client, observation, secretariat
):
    meeting = observation.meeting
    earlier = dt.datetime(2023, 6, 20, 14, 0, tzinfo=START.tzinfo)  # registration would close on 7月3日
    meeting_services.meeting_update(
        actor=secretariat, meeting=meeting, start_at=earlier, end_at=earlier + dt.timedelta(hours=2)
    )
    with time_machine.travel(earlier + dt.timedelta(minutes=5), tick=False):
        with pytest.raises(services.ParticipationError) as refused:
            register(observation, "late@example.com")
        assert refused.value.code == "closed"
        page = client.get(reverse("participation:register", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
        assert "この会議の傍聴受付は終了しました。" in page.content.decode()
