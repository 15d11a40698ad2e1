"""The secretariat's admin: scoping to the user's units, appointments through the services, and
changelists that stay cheap with many rows."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee import services
from committee.models import Appointment, Body, OrgUnit, Person
from core.models import AuditEntry
from tests import factories
from tests.conftest import APPOINTED

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 at production strength costs ~0.4 s per account; the changelist tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> Client:
    client = Client()
    # UserFactory hashes the password in memory only (skip_postgeneration_save); store it, or the
    # session's password-hash check logs the user straight out again.
    user.save(update_fields=["password"])
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def form_data(response) -> dict[str, object]:
    """What the browser would post back from an admin add or change page, unchanged."""
    data: dict[str, object] = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.initial_forms:
            add(form)
    return data


def changelist(model: str) -> str:
    return reverse(f"admin:committee_{model}_changelist")


# --- scoping to the secretariat's units ----------------------------------------------------------


@pytest.fixture
def roster(in_term, body, chair_appointment, member_appointment, other_body, other_member):
    """Both bodies with members, and an officer on each."""
    other_appointment = Appointment.objects.get(body=other_body)
    services.officer_elect_chair(actor=None, body=other_body, appointment=other_appointment, selected_on=APPOINTED)
    return {"own": body, "foreign": other_body, "foreign_appointment": other_appointment}


@pytest.mark.parametrize(
    ("model", "own", "foreign"),
    [
        ("body", ["「(仮称)青森県DX推進プラン」策定委員会"], ["別の審議会"]),
        ("guideline", ["「(仮称)青森県DX推進プラン」策定委員会設置要綱"], ["別の審議会"]),
        ("appointment", ["森 樹男", "佐藤 志穂"], ["加藤 夢人", "別の審議会"]),
        ("officerterm", ["森 樹男"], ["加藤 夢人", "別の審議会"]),
        ("person", ["森 樹男", "佐藤 志穂"], ["加藤 夢人", "別の審議会"]),
    ],
)
def test_secretariat_changelist_shows_only_its_own_bodies(secretariat, roster, model, own, foreign):
    response = client_for(secretariat).get(changelist(model))

    assert response.status_code == 200
    html = response.content.decode()
    for text in own:
        assert text in html
    for text in foreign:  # neither in the rows nor in the filters
        assert text not in html
    for obj in response.context["cl"].result_list:
        assert "別の審議会" not in str(obj)


def test_secretariat_sees_people_not_yet_appointed_but_not_other_units_people(secretariat, roster):
    factories.PersonFactory(family_name="新井", given_name="未委嘱", family_name_kana="あらい")

    response = client_for(secretariat).get(changelist("person"))

    names = {person.full_name for person in response.context["cl"].result_list}
    assert names == {"森 樹男", "佐藤 志穂", "新井 未委嘱"}


@pytest.mark.parametrize("model", ["body", "guideline", "appointment", "officerterm", "person"])
def test_foreign_object_is_neither_shown_nor_editable(other_secretariat, roster, model):
    own_body = roster["own"]
    obj = {
        "body": own_body,
        "guideline": own_body.guidelines.get(),
        "appointment": Appointment.objects.get(body=own_body, person__family_name="佐藤"),
        "officerterm": own_body.officer_terms.get(),
        "person": Person.objects.get(family_name="佐藤"),
    }[model]
    client = client_for(other_secretariat)
    change_url = reverse(f"admin:committee_{model}_change", args=[obj.pk])

    response = client.get(change_url)
    posted = client.post(change_url, {"name": "乗っ取り", "family_name": "乗っ取り", "note": "乗っ取り"})
    history = client.get(reverse(f"admin:committee_{model}_history", args=[obj.pk]))

    # Django's admin answers an object outside get_queryset with a redirect to the index and a message.
    for answer in (response, posted):
        assert answer.status_code in (302, 404)
        if answer.status_code == 302:
            assert answer["Location"] == reverse("admin:index")
    followed = client.get(change_url, follow=True).content.decode()
    assert "佐藤 志穂" not in followed and "策定委員会設置要綱" not in followed
    assert history.status_code == 404  # not 403: a foreign object's existence is not confirmed
    obj.refresh_from_db()
    assert "乗っ取り" not in str(obj.__dict__)


def test_foreign_body_roster_import_is_not_found(other_secretariat, roster):
    response = client_for(other_secretariat).get(reverse("admin:committee_body_import", args=[roster["own"].pk]))

    assert response.status_code == 404


def test_secretariat_cannot_make_another_unit_the_secretariat_of_a_body(secretariat, unit, other_body, in_term):
    client = client_for(secretariat)
    add_url = reverse("admin:committee_body_add")
    data = form_data(client.get(add_url))
    data.update(name="新しい委員会", short_name="新委員会", slug="new-body", kind=Body.Kind.WORKING_GROUP)

    refused = client.post(add_url, {**data, "secretariat": other_body.secretariat_id}, **EN)
    accepted = client.post(add_url, {**data, "secretariat": unit.pk}, **EN)

    assert refused.status_code == 200
    assert "secretariat" in refused.context["adminform"].form.errors
    assert "Select a valid choice" in refused.content.decode()
    assert accepted.status_code == 302, accepted.context["adminform"].form.errors
    assert Body.objects.get(slug="new-body").secretariat == unit


def test_secretariat_cannot_move_its_body_to_another_unit(secretariat, body, other_body, in_term):
    client = client_for(secretariat)
    change_url = reverse("admin:committee_body_change", args=[body.pk])
    data = form_data(client.get(change_url))

    response = client.post(change_url, {**data, "secretariat": other_body.secretariat_id}, **EN)

    assert response.status_code == 200
    assert "secretariat" in response.context["adminform"].form.errors
    body.refresh_from_db()
    assert body.secretariat_id != other_body.secretariat_id


# --- appointments through the admin form ---------------------------------------------------------


def _appointment_post(client, **values):
    add_url = reverse("admin:committee_appointment_add")
    data = form_data(client.get(add_url))
    data.update(values)
    return client.post(add_url, data, **EN)


def test_adding_an_appointment_applies_the_guidelines_and_is_audited(secretariat, body, guideline, in_term):
    person = factories.PersonFactory(family_name="新井", given_name="花子", family_name_kana="あらい")
    client = client_for(secretariat)

    response = _appointment_post(
        client,
        body=body.pk,
        person=person.pk,
        category=Appointment.Category.MEMBER,
        affiliation="弘前大学教授",
        appointed_on="2023-06-01",
        term_start="2023-06-01",
        term_end="",
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    appointment = Appointment.objects.get(person=person)
    assert appointment.term_end == dt.date(2024, 3, 31)  # 設置要綱: terms end on 2024-03-31
    assert appointment.guideline == guideline
    assert appointment.appointed_by == guideline.appointing_authority
    assert appointment.affiliation_on(dt.date(2023, 6, 1)) == "弘前大学教授"
    entry = AuditEntry.objects.get(action="appointment_created", target_id=str(appointment.pk))
    assert entry.actor == secretariat
    assert entry.data == {"term_start": "2023-06-01", "term_end": "2024-03-31"}


def test_overlapping_appointment_shows_the_error_and_creates_nothing(secretariat, member_appointment, in_term):
    client = client_for(secretariat)
    before = (Appointment.objects.count(), AuditEntry.objects.count())

    response = _appointment_post(
        client,
        body=member_appointment.body_id,
        person=member_appointment.person_id,
        category=Appointment.Category.MEMBER,
        appointed_on="2023-06-01",
        term_start="2023-06-01",
        term_end="",
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert any("terms may not overlap" in error for error in form.non_field_errors())
    assert "佐藤 志穂 already holds an appointment on this body from 2023-05-10; terms may not overlap." in (
        response.content.decode()
    )
    assert (Appointment.objects.count(), AuditEntry.objects.count()) == before


def test_term_longer_than_the_guidelines_allow_is_refused_on_the_form(secretariat, body, in_term):
    person = factories.PersonFactory(family_name="新井", given_name="花子", family_name_kana="あらい")

    response = _appointment_post(
        client_for(secretariat),
        body=body.pk,
        person=person.pk,
        category=Appointment.Category.MEMBER,
        appointed_on="2023-06-01",
        term_start="2023-06-01",
        term_end="2025-03-31",
    )

    assert response.status_code == 200
    assert "The term may not run past 2024-03-31" in response.content.decode()
    assert not Appointment.objects.filter(person=person).exists()


def test_secretariat_cannot_appoint_to_another_units_body(secretariat, other_body, in_term):
    person = factories.PersonFactory(family_name="新井", given_name="花子", family_name_kana="あらい")

    response = _appointment_post(
        client_for(secretariat),
        body=other_body.pk,
        person=person.pk,
        category=Appointment.Category.MEMBER,
        appointed_on="2023-06-01",
        term_start="2023-06-01",
    )

    assert response.status_code == 200
    assert "body" in response.context["adminform"].form.errors
    assert not Appointment.objects.filter(person=person).exists()


# --- search and the composition report -----------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("さとう", {"佐藤 志穂"}),
        ("サトウ", {"佐藤 志穂"}),  # katakana finds the reading, which is stored in hiragana
        ("ｻﾄｳ", {"佐藤 志穂"}),
        ("もり", {"森 樹男"}),
        ("佐藤", {"佐藤 志穂"}),
        ("さいとう", {"斎藤 一"}),
    ],
)
def test_person_search_works_by_reading(secretariat, chair_appointment, member_appointment, body, term, expected):
    factories.PersonFactory(family_name="斎藤", given_name="一", family_name_kana="さいとう", given_name_kana="はじめ")

    response = client_for(secretariat).get(changelist("person"), {"q": term})

    assert response.status_code == 200
    assert {person.full_name for person in response.context["cl"].result_list} == expected


def test_appointment_search_works_by_reading(secretariat, chair_appointment, member_appointment, in_term):
    response = client_for(secretariat).get(changelist("appointment"), {"q": "モリ"})

    assert [a.holder_name for a in response.context["cl"].result_list] == ["森 樹男"]


def test_composition_report_link_on_the_admin_index_works(secretariat, member, in_term):
    client = client_for(secretariat)

    index = client.get(reverse("admin:index"))
    report_url = reverse("committee:composition")

    assert f'href="{report_url}"' in index.content.decode()
    report = client.get(report_url)
    assert report.status_code == 200
    assert "策定委員会" in report.content.decode()


def test_composition_report_link_is_not_offered_to_staff_outside_the_secretariat(db, in_term):
    staff = factories.UserFactory(email="staff-elsewhere@test.example", is_staff=True)
    client = client_for(staff)

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200
    assert reverse("committee:composition") not in index.content.decode()
    assert client.get(reverse("committee:composition")).status_code == 404


# --- every changelist, and its cost --------------------------------------------------------------


COMMITTEE_ADMINS = sorted(
    model._meta.model_name for model in admin.site._registry if model._meta.app_label == "committee"
)


def _populate(start: int, count: int) -> None:
    """`count` of everything the committee admin lists: units two levels deep, bodies under bodies,
    guidelines, people with appointments and affiliations, chairs and secretariat staff."""
    parent_body = Body.objects.order_by("-id").first()
    for n in range(start, start + count):
        department = factories.OrgUnitFactory(kind=OrgUnit.Kind.DEPARTMENT, name__name=f"部{n}")
        unit = factories.OrgUnitFactory(name__name=f"課{n}", name__parent=department)
        body = factories.BodyFactory(secretariat=unit, parent=parent_body)
        factories.GuidelineFactory(body=body)
        person = factories.PersonFactory(family_name=f"委員{n}", user=factories.UserFactory())
        appointment = services.appointment_create(
            actor=None, body=body, person=person, appointed_on=APPOINTED, affiliation=f"所属{n}"
        )
        services.officer_elect_chair(actor=None, body=body, appointment=appointment, selected_on=APPOINTED)
        factories.StaffAssignmentFactory(unit=unit)
        parent_body = body


def _changelist_queries(client, model: str) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(changelist(model))
    assert response.status_code == 200
    return response.context["cl"].result_count, len(queries), [q["sql"] for q in queries.captured_queries]


def test_every_committee_model_admin_is_covered():
    assert set(COMMITTEE_ADMINS) == {
        "appointment", "body", "guideline", "officerterm", "orgunit", "person", "staffassignment"
    }


def test_every_changelist_loads_and_its_queries_do_not_grow_with_rows(superuser, in_term):
    """Each committee admin's changelist, with 10 and then 100 of everything (the data is made once for
    all of them: making it is most of the cost)."""
    client = client_for(superuser)
    _populate(0, 10)
    small = {}
    for model in COMMITTEE_ADMINS:
        client.get(changelist(model))  # first request of the process: caches fill
        small[model] = _changelist_queries(client, model)

    _populate(10, 90)
    for model in COMMITTEE_ADMINS:
        rows_10, queries_10, _sql = small[model]
        rows_100, queries_100, sql = _changelist_queries(client, model)
        assert rows_10 >= 10, model
        assert rows_100 >= 100, model
        assert queries_100 == queries_10, f"{model}:\n" + "\n".join(sql)
