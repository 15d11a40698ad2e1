"""The secretariat keeps the roster in the site (committee/manage_views.py): an early end with its
reason, the successor for the remaining term (第5-2) in one step, a new affiliation from a date, and
the end of an officer's post. Only the body's own secretariat reaches any of it; bad input loses nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee.models import Appointment, OfficerTerm, Person
from committee.selectors import officers_on, roster_on
from core.models import AuditEntry
from tests.meetings.conftest import add_members

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
RESIGNED = dt.date(2023, 7, 31)


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        user.save(update_fields=["password"])
        client.force_login(user, backend=MODEL_BACKEND)
    return client


def action_url(body, appointment, action: str) -> str:
    return reverse("committee:roster_action", args=[body.slug, appointment.pk, action])


@pytest.fixture
def page(body):
    return reverse("committee:roster_manage", args=[body.slug])


def test_the_page_lists_the_roster_with_its_actions(in_term, secretariat, body, member_appointment, chair, page):
    response = client_for(secretariat).get(page)
    assert response.status_code == 200
    text = response.content.decode()
    assert "佐藤 志穂" in text and "森 樹男" in text
    assert action_url(body, member_appointment, "end") in text
    assert "End the post" in text  # the chair's post can be ended here


@pytest.mark.parametrize("who", ["member", "chair", "outsider", "other_secretariat"])
def test_nobody_but_its_secretariat_reaches_it(request, in_term, body, member_appointment, page, who):
    user = request.getfixturevalue(who)
    client = client_for(user)
    assert client.get(page).status_code == 404
    data = {"ended_on": "2023-07-31", "reason": "resigned"}
    response = client.post(action_url(body, member_appointment, "end"), data)
    assert response.status_code == 404
    assert Appointment.objects.get(pk=member_appointment.pk).ended_on is None


def test_a_resignation_then_the_successor_for_the_remaining_term(in_term, secretariat, body, member_appointment):
    client = client_for(secretariat)
    response = client.post(action_url(body, member_appointment, "end"),
                           {"ended_on": RESIGNED.isoformat(), "reason": Appointment.EndReason.RESIGNED})
    assert response.status_code == 302
    ended = Appointment.objects.get(pk=member_appointment.pk)
    assert (ended.ended_on, ended.end_reason) == (RESIGNED, Appointment.EndReason.RESIGNED)
    assert ended.person not in [a.person for a in roster_on(body=body, day=dt.date(2023, 8, 1))]

    response = client.post(action_url(body, ended, "successor"), {
        "family_name": "髙橋", "given_name": "花子", "family_name_kana": "タカハシ", "given_name_kana": "はなこ",
        "gender": Person.Gender.FEMALE, "email": "hanako@example.jp", "affiliation": "弘前大学 教授",
        "appointed_on": "2023-08-10",
    })
    assert response.status_code == 302
    successor = Appointment.objects.get(predecessor=ended)
    assert successor.person.family_name_kana == "たかはし"  # readings are kept in hiragana
    assert successor.term_start == dt.date(2023, 8, 10)
    assert successor.term_end == ended.term_end  # 第5-2: the remaining term, not a new one
    assert successor.affiliation_on(dt.date(2023, 8, 10)) == "弘前大学 教授"
    assert successor in roster_on(body=body, day=dt.date(2023, 8, 10))
    actions = set(AuditEntry.objects.filter(actor=secretariat).values_list("action", flat=True))
    assert {"appointment_ended", "person_created", "appointment_created"} <= actions


def test_a_successor_with_a_bad_reading_creates_nobody(in_term, secretariat, body, member_appointment):
    client = client_for(secretariat)
    client.post(action_url(body, member_appointment, "end"),
                {"ended_on": RESIGNED.isoformat(), "reason": Appointment.EndReason.DISMISSED})
    people = Person.objects.count()
    response = client.post(action_url(body, member_appointment, "successor"), {
        "family_name": "髙橋", "family_name_kana": "Takahashi", "appointed_on": "2023-08-10",
    }, follow=True)
    assert Person.objects.count() == people
    assert not Appointment.objects.filter(predecessor=member_appointment).exists()
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and errors[0]  # the reading's problem, in the page the secretariat returns to
    assert response.status_code == 400
    # What was typed is still there, in the successor's form shown open again: nothing is lost to one mistake.
    form = response.content.decode().split('action="' + action_url(body, member_appointment, "successor"))[1]
    form = form.split("</form>")[0]
    assert 'value="髙橋"' in form and 'value="Takahashi"' in form and 'value="2023-08-10"' in form


def test_the_secretariat_keeps_a_members_contact_details_on_the_roster(in_term, secretariat, body, member_appointment):
    """A member without an address gets one from the roster page (the notices' recipients check sends the
    secretariat there); a bad address is refused with what was typed kept, and nothing changes."""
    client = client_for(secretariat)
    person = member_appointment.person
    response = client.post(action_url(body, member_appointment, "contact"), {
        "email": "not an address", "phone": "017-734-9999", "postal_address": "青森市長島一丁目1-1",
    })
    assert response.status_code == 400
    form = response.content.decode().split('action="' + action_url(body, member_appointment, "contact"))[1]
    form = form.split("</form>")[0]
    assert 'value="not an address"' in form and 'value="017-734-9999"' in form and "青森市長島一丁目1-1" in form
    person.refresh_from_db()
    assert person.phone != "017-734-9999"

    response = client.post(action_url(body, member_appointment, "contact"), {
        "email": "sato@example.jp", "phone": "017-734-9999", "postal_address": "青森市長島一丁目1-1",
    })
    assert response.status_code == 302
    person.refresh_from_db()
    saved = (person.email, person.phone, person.postal_address)
    assert saved == ("sato@example.jp", "017-734-9999", "青森市長島一丁目1-1")
    entry = AuditEntry.objects.filter(action="contact_updated").latest("id")
    assert entry.actor == secretariat and "sato@example.jp" not in str(entry.data)


def test_no_successor_before_the_end_is_recorded(in_term, secretariat, body, member_appointment):
    response = client_for(secretariat).post(action_url(body, member_appointment, "successor"), {
        "family_name": "髙橋", "family_name_kana": "たかはし", "appointed_on": "2023-08-10",
    }, follow=True)
    assert not Appointment.objects.filter(predecessor=member_appointment).exists()
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors == ["Record how the predecessor's appointment ended before appointing a successor."]


def test_an_end_twice_is_harmless_and_a_different_one_is_refused(in_term, secretariat, body, member_appointment):
    client = client_for(secretariat)
    data = {"ended_on": RESIGNED.isoformat(), "reason": Appointment.EndReason.RESIGNED}
    client.post(action_url(body, member_appointment, "end"), data)
    client.post(action_url(body, member_appointment, "end"), data)
    assert AuditEntry.objects.filter(action="appointment_ended").count() == 1
    response = client.post(action_url(body, member_appointment, "end"),
                           {"ended_on": "2023-08-15", "reason": Appointment.EndReason.RESIGNED}, follow=True)
    assert Appointment.objects.get(pk=member_appointment.pk).ended_on == RESIGNED
    assert "already ended" in response.content.decode()


def test_a_new_affiliation_from_a_date(in_term, secretariat, body, member_appointment):
    client_for(secretariat).post(action_url(body, member_appointment, "affiliation"),
                                 {"valid_from": "2023-07-01", "text": "青森大学 学長"})
    appointment = Appointment.objects.get(pk=member_appointment.pk)
    assert appointment.affiliation_on(dt.date(2023, 6, 30)) == "佐藤の所属"
    assert appointment.affiliation_on(dt.date(2023, 7, 1)) == "青森大学 学長"


def test_the_chairs_post_ends_and_the_post_is_vacant(in_term, secretariat, body, chair_appointment):
    term = OfficerTerm.objects.get(appointment=chair_appointment)
    client_for(secretariat).post(action_url(body, chair_appointment, "officer-end"),
                                 {"officer_term": term.pk, "end_on": "2023-07-31", "note": "辞意"})
    assert officers_on(body=body, day=dt.date(2023, 7, 31)).chair is not None
    assert officers_on(body=body, day=dt.date(2023, 8, 1)).chair is None


def test_another_bodys_appointment_cannot_be_named(in_term, secretariat, body, other_body, other_member):
    foreign = Appointment.objects.get(person__user=other_member)
    response = client_for(secretariat).post(
        reverse("committee:roster_action", args=[body.slug, foreign.pk, "end"]),
        {"ended_on": "2023-07-31", "reason": Appointment.EndReason.RESIGNED},
    )
    assert response.status_code == 404
    assert Appointment.objects.get(pk=foreign.pk).ended_on is None


def test_the_page_runs_a_fixed_number_of_queries(in_term, secretariat, body, guideline, member_appointment, page):
    client = client_for(secretariat)
    client.get(page)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(page).status_code == 200
    add_members(body, guideline, 0, 120)
    with CaptureQueriesContext(connection) as many:
        assert client.get(page).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


def test_posts_are_named_as_the_guidelines_name_them(in_term, secretariat, body, guideline, chair, page):
    guideline.chair_title = "会長"
    guideline.save(update_fields=["chair_title"])
    text = client_for(secretariat).get(page).content.decode()
    assert '<span class="badge text-bg-light">会長</span>' in text
    assert "End the post (会長)" in text
