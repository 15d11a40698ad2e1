"""The visitor's pages (no account) and the secretariat's: registration, honeypot, throttling,
one-click unsubscribe, the list, check-in, the 受付簿 and capped queries."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from participation import services
from participation.models import ObservationSettings, Registration, Subscription

from .conftest import register

pytestmark = pytest.mark.usefixtures("eager_celery")


def _post(client, meeting, email="v@example.com", **extra):
    data = {"kind": "public", "name": "傍聴 花子", "email": email, "party_size": "1", "accept": "on", **extra}
    return client.post(reverse("participation:register", args=[meeting.pk]), data)


def test_meeting_page_says_whether_seats_are_left_until_when_and_how(client, observation):
    page = client.get(reverse("meetings:detail", args=[observation.meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    text = page.content.decode()
    assert "傍聴できます。一般傍聴席の残りは3席です。" in text
    assert "令和5年7月3日" in text  # until when, in 和暦
    assert reverse("participation:register", args=[observation.meeting.pk]) in text


def test_meeting_page_without_settings_says_no_registration(client, planned):
    page = client.get(reverse("meetings:detail", args=[planned.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    assert "この会議は傍聴の受付を行っていません。" in page.content.decode()


def test_visitor_registers_confirms_by_the_mailed_link_and_cancels(client, observation):
    meeting = observation.meeting
    response = _post(client, meeting)
    assert response.status_code == 200
    registration = Registration.objects.get()
    assert registration.state == "unconfirmed"
    confirm_url = reverse("participation:confirm", args=[meeting.pk, registration.token])
    assert confirm_url in mail.outbox[-1].body
    assert client.get(confirm_url).status_code == 200  # a GET (a mail scanner) changes nothing
    registration.refresh_from_db()
    assert registration.state == "unconfirmed"
    client.post(confirm_url)
    registration.refresh_from_db()
    assert registration.state == "seated"
    cancel_url = reverse("participation:cancel", args=[meeting.pk, registration.token])
    client.post(cancel_url)
    registration.refresh_from_db()
    assert registration.state == "cancelled"


def test_full_and_closed_have_clear_messages(client, observation, secretariat):
    register(observation, "a@example.com", party=2)
    register(observation, "b@example.com", party=1)
    page = client.get(reverse("participation:register", args=[observation.meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    assert "一般傍聴席は満席です。" in page.content.decode()
    from meetings import services as meeting_services

    meeting_services.meeting_cancel(actor=secretariat, meeting=observation.meeting, reason="台風")
    page = client.get(reverse("participation:register", args=[observation.meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    assert "この会議の傍聴受付は終了しました。" in page.content.decode()
    response = _post(client, observation.meeting, email="c@example.com")
    assert "この会議の傍聴受付は終了しました。" in response.content.decode()
    assert not Registration.objects.filter(email="c@example.com").exists()


def test_honeypot_answers_as_if_it_worked_and_does_nothing(client, observation):
    response = _post(client, observation.meeting, website="http://spam.example")
    assert response.status_code == 200
    assert not Registration.objects.exists()
    assert mail.outbox == []


def test_throttled_per_client_and_per_address(client, observation, settings):
    settings.DXPLAN_PARTICIPATION_RATE = "3/h"
    settings.DXPLAN_PARTICIPATION_ADDRESS_RATE = "2/h"
    meeting = observation.meeting
    assert _post(client, meeting, email="same@example.com").status_code == 200
    assert _post(client, meeting, email="same@example.com").status_code == 200
    assert _post(client, meeting, email="same@example.com").status_code == 429  # the address
    assert _post(client, meeting, email="other@example.com").status_code == 429  # the client: 4th request
    other_client = client.__class__(REMOTE_ADDR="192.0.2.7")
    assert _post(other_client, meeting, email="third@example.com").status_code == 200


def test_subscription_double_opt_in_and_one_click_unsubscribe_without_login(client, body, planned, secretariat):
    response = client.post(reverse("participation:subscribe", args=[body.slug]), {"email": "news@example.com"})
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.state == "unconfirmed"
    confirm_url = reverse("participation:subscription_confirm", args=[subscription.token])
    assert confirm_url in mail.outbox[-1].body
    client.post(confirm_url)
    subscription.refresh_from_db()
    assert subscription.state == "active"

    mail.outbox.clear()
    from meetings import services as meeting_services

    meeting_services.meeting_postpone(actor=secretariat, meeting=planned, reason="台風")
    [news] = [m for m in mail.outbox if m.to == ["news@example.com"]]
    unsubscribe_url = reverse("participation:unsubscribe", args=[subscription.token])
    assert news.extra_headers["List-Unsubscribe"] == f"<http://testserver{unsubscribe_url}>" or news.extra_headers[
        "List-Unsubscribe"].endswith(f"{unsubscribe_url}>")
    assert news.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # RFC 8058: the mail client POSTs without a session or a CSRF token.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(unsubscribe_url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not Subscription.objects.filter(pk=subscription.pk).exists()  # the address is forgotten
    assert strict.post(unsubscribe_url).status_code == 200  # twice: says it ended
    mail.outbox.clear()
    meeting_services.meeting_cancel(actor=secretariat, meeting=planned, reason="台風")
    assert [m for m in mail.outbox if m.to == ["news@example.com"]] == []


def test_secretariat_list_check_in_and_register_pdf(client, observation, secretariat):
    a = register(observation, "a@example.com", party=2, name="青森 一郎")
    client.force_login(secretariat)
    url = reverse("participation:manage", args=[observation.meeting.pk])
    page = client.get(url)
    assert "青森 一郎" in page.content.decode()
    client.post(reverse("participation:manage_action", args=[observation.meeting.pk, "check-in"]),
                {"registration": a.pk, "attended": "2"})
    observation.refresh_from_db()
    assert observation.observer_count == 2
    pdf = client.get(reverse("participation:register_pdf", args=[observation.meeting.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].startswith("attachment;")


def test_secretariat_sets_up_observation_through_the_form(client, planned, secretariat, guide):
    client.force_login(secretariat)
    url = reverse("participation:manage", args=[planned.pk])
    response = client.post(url, {
        "public_seats": "5", "press_seats": "2", "max_party": "3", "method": "lottery",
        "opens_at": "2023-06-01T09:00", "closes_at": "2023-07-20T17:00",  # after the meeting starts
    })
    assert response.status_code == 400
    response = client.post(url, {
        "public_seats": "5", "press_seats": "2", "max_party": "3", "method": "lottery",
        "opens_at": "2023-06-01T09:00", "closes_at": "2023-07-03T17:00",
    })
    assert response.status_code == 302
    assert ObservationSettings.objects.get(meeting=planned).method == "lottery"


def test_pages_run_a_fixed_number_of_queries(client, observation, secretariat, django_assert_max_num_queries):
    for i in range(150):
        Registration.objects.create(settings=observation, name=f"n{i}", email=f"n{i}@example.com",
                                    state="waiting", position=i + 1)
    meeting = observation.meeting
    with django_assert_max_num_queries(25):
        assert client.get(reverse("meetings:detail", args=[meeting.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("participation:register", args=[meeting.pk])).status_code == 200
    client.force_login(secretariat)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("participation:manage", args=[meeting.pk])).status_code == 200


def test_waiting_list_moves_up_when_a_visitor_cancels_by_link(client, observation):
    seated = register(observation, "a@example.com", party=2)
    register(observation, "b@example.com", party=1)
    waiting = register(observation, "c@example.com", party=2)
    client.post(reverse("participation:cancel", args=[observation.meeting.pk, seated.token]))
    waiting.refresh_from_db()
    assert waiting.state == "seated"


def test_lottery_draw_by_the_secretariat(client, observation, secretariat):
    import time_machine

    from tests.conftest import TOKYO

    observation.method = "lottery"
    observation.save(update_fields=["method"])
    register(observation, "a@example.com")
    with time_machine.travel(dt.datetime(2023, 7, 4, tzinfo=TOKYO)):
        client.force_login(secretariat)
        client.post(reverse("participation:manage_action", args=[observation.meeting.pk, "draw"]))
    observation.refresh_from_db()
    assert observation.drawn_at and observation.lottery_seed
    assert services.lottery_order(observation.lottery_seed, "public", [1, 2, 3])


def test_subscribers_hear_of_new_meetings_and_public_materials_in_batches(body, planned, secretariat):
    from documents import services as document_services
    from meetings import services as meeting_services
    from participation import receivers

    for i in range(3):
        subscription = services.subscription_request(body=body, email=f"s{i}@example.com")
        services.subscription_confirm(subscription=subscription)
    services.subscription_request(body=body, email="unconfirmed@example.com")
    mail.outbox.clear()
    meeting_services.meeting_create(actor=secretariat, body=body, start_at=planned.start_at + dt.timedelta(days=30))
    assert sorted(m.to[0] for m in mail.outbox) == ["s0@example.com", "s1@example.com", "s2@example.com"]
    assert all("第2回" in m.subject for m in mail.outbox)

    mail.outbox.clear()
    material = document_services.material_create(actor=secretariat, meeting=planned, title="骨子案")
    receivers.on_material_published(sender=None, material=material)  # members only: nothing
    assert mail.outbox == []
    material.visibility = "public"
    receivers.on_material_published(sender=None, material=material)
    assert len(mail.outbox) == 3 and "骨子案" in mail.outbox[0].body


def test_held_meeting_page_shows_the_number_of_observers(client, observation, secretariat):
    a = register(observation, "a@example.com", party=2)
    services.registration_check_in(actor=secretariat, registration=a, attended=2)
    ObservationSettings.objects.filter(pk=observation.pk).update(closed_at=observation.closes_at)
    with time_machine.travel(observation.meeting.start_at + dt.timedelta(hours=3), tick=False):  # held
        page = client.get(reverse("meetings:detail", args=[observation.meeting.pk]), HTTP_ACCEPT_LANGUAGE="ja")
    assert "傍聴者数: 2" in page.content.decode()


@pytest.mark.parametrize("value", ["abc", "", "999999"])
def test_check_in_of_an_unknown_registration_is_404(client, observation, secretariat, value):
    client.force_login(secretariat)
    url = reverse("participation:manage_action", args=[observation.meeting.pk, "check-in"])
    assert client.post(url, {"registration": value, "attended": "1"}).status_code == 404


def test_another_units_secretariat_cannot_act_on_registrations(client, observation, other_secretariat):
    registration = register(observation, "a@example.com")
    client.force_login(other_secretariat)
    url = reverse("participation:manage_action", args=[observation.meeting.pk, "cancel"])
    assert client.post(url, {"registration": registration.pk}).status_code == 404
    registration.refresh_from_db()
    assert registration.state == "seated"


@pytest.mark.parametrize(("language", "heading"), [("ja", "傍聴を申し込む"), ("en", "Register to observe")])
def test_registration_page_in_both_languages(client, observation, language, heading):
    client.cookies["django_language"] = language
    page = client.get(reverse("participation:register", args=[observation.meeting.pk]), HTTP_ACCEPT_LANGUAGE=language)
    text = page.content.decode()
    assert heading in text
    assert "録音・録画は委員長の許可なくできません。" in text  # the body's 傍聴要領, to accept


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_registration_mail_greets_and_dates_in_the_visitors_language(client, observation, language):
    """The mail after registering names the meeting's day and its end in the visitor's language: 和暦 with the
    weekday and 様 after the name in Japanese, no 和暦 in English (it used the Japanese date in both)."""
    client.cookies["django_language"] = language
    _post(client, observation.meeting)
    body = mail.outbox[-1].body
    assert "16:00" in body
    if language == "ja":
        assert body.startswith("傍聴 花子 様\n") and "令和" in body and "(" in body
    else:
        assert body.startswith("傍聴 花子\n") and "令和" not in body and "様" not in body
