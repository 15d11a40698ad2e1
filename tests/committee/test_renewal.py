"""改選: the secretariat renews a whole body for a new term on one page (committee/manage_views.py
body_renew, services.body_renew): who continues, who is new, under which guidelines version, a preview
against the 定数, then the confirmation. The composition report flags seats over the 定数."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from committee import reports, services
from committee.models import Affiliation, Appointment, Body, Guideline, OfficerTerm, Person
from core.models import AuditAction, AuditEntry
from tests import factories
from tests.conftest import TOKYO, appoint

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OLD_END = dt.date(2024, 3, 31)
NEW_START = dt.date(2024, 4, 1)
NEW_END = dt.date(2026, 3, 31)  # 2 years, to the end of the fiscal year (the amended guidelines)
BEFORE_RENEWAL = dt.datetime(2024, 3, 15, 10, 0, tzinfo=TOKYO)
NAMES = [("相川", "あいかわ"), ("伊藤", "いとう"), ("上田", "うえだ"), ("江口", "えぐち"), ("小野", "おの"),
         ("加藤", "かとう"), ("木村", "きむら"), ("久保", "くぼ"), ("小池", "こいけ"), ("佐々木", "ささき")]


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def before_renewal():
    with time_machine.travel(BEFORE_RENEWAL, tick=False):
        yield BEFORE_RENEWAL.date()


@pytest.fixture
def committee(body) -> list[Appointment]:
    """A committee like the demo's: ten members in office to 2024-03-31."""
    body.seats = 10
    body.save(update_fields=["seats"])
    return [appoint(body, family, reading) for family, reading in NAMES]


@pytest.fixture
def amended(guideline) -> Guideline:
    """The guidelines as amended from the new term: 2 years to the end of the fiscal year, at most 2 terms in a row."""
    return services.guideline_amend(
        actor=None, guideline=guideline, effective_on=NEW_START, amendment_note="任期の改正",
        term_rule=Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END, term_years=2, term_fixed_end=None,
        max_consecutive_terms=2,
    )


def page(body) -> str:
    return reverse("committee:body_renew", args=[body.slug])


def form_data(*, guideline, continuing, new=(), term_start=NEW_START, rows=3) -> dict:
    data = {
        "term_start": term_start.isoformat(), "guideline": str(guideline.pk), "appointed_on": "",
        "continue": [str(a.pk) for a in continuing],
        "new-TOTAL_FORMS": str(rows), "new-INITIAL_FORMS": "0", "new-MIN_NUM_FORMS": "0", "new-MAX_NUM_FORMS": "1000",
    }
    for i in range(rows):
        data[f"new-{i}-category"] = Appointment.Category.MEMBER  # what the browser sends for an empty row
    for i, fields in enumerate(new):
        data |= {f"new-{i}-{name}": value for name, value in fields.items()}
    return data


NEWCOMERS = [
    {"family_name": "髙橋", "given_name": "花子", "family_name_kana": "タカハシ", "given_name_kana": "はなこ",
     "gender": Person.Gender.FEMALE, "affiliation": "弘前大学 教授"},
    {"family_name": "千葉", "given_name": "一郎", "family_name_kana": "ちば", "given_name_kana": "いちろう",
     "affiliation": "青森商工会議所 専務理事"},
]


def new_term(body) -> list[Appointment]:
    return list(Appointment.objects.filter(body=body, term_start=NEW_START).select_related("person", "guideline"))


# --- the page, in two steps ------------------------------------------------------------------------


def test_the_secretariat_renews_the_committee_in_two_steps(
    before_renewal, body, committee, amended, secretariat, chair_appointment
):
    assert not secretariat.is_superuser
    client = client_for(secretariat)
    response = client.get(page(body))
    assert response.status_code == 200
    text = response.content.decode()
    assert all(family in text for family, _reading in NAMES)
    assert 'value="2024-04-01"' in text  # the day after the current term ends
    assert text.count('name="continue"') == 11 and text.count("checked") >= 10  # the chair's fixture too

    body.seats = 11
    body.save(update_fields=["seats"])
    staying = [a for a in committee if a.person.family_name not in ("相川", "伊藤")]
    data = form_data(guideline=amended, continuing=[*staying, chair_appointment], new=NEWCOMERS)
    preview = client.post(page(body), data | {"preview": "1"})
    assert preview.status_code == 200
    shown = preview.content.decode()
    assert "Members: 11 / seats (定数) 11" in shown
    assert "髙橋 花子" in shown and "Confirm the renewal" in shown
    assert not new_term(body)  # a preview changes nothing
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', shown).group(1)

    done = client.post(page(body), data | {"confirm": "1", "plan": plan})
    assert done.status_code == 302
    assert done.url == page(body) + "?done=2024-04-01"
    appointments = new_term(body)
    assert len(appointments) == 11
    assert {a.term_end for a in appointments} == {NEW_END}
    assert {a.guideline for a in appointments} == {amended}
    names = {a.person.family_name for a in appointments}
    assert "相川" not in names and "伊藤" not in names and {"髙橋", "千葉", "森"} <= names
    takahashi = next(a for a in appointments if a.person.family_name == "髙橋")
    assert takahashi.person.family_name_kana == "たかはし"
    assert takahashi.affiliation_on(NEW_START) == "弘前大学 教授"
    kato = next(a for a in appointments if a.person.family_name == "加藤")
    assert kato.affiliation_on(NEW_START) == "加藤の所属"  # carried over
    # Officers are elected at the first meeting of the new term, not copied.
    assert not OfficerTerm.objects.filter(appointment__in=appointments).exists()
    renewal = AuditEntry.objects.get(action=AuditAction.BODY_RENEWED)
    assert renewal.actor == secretariat
    assert sorted(renewal.data["appointments"]) == sorted(a.pk for a in appointments)
    assert AuditEntry.objects.filter(
        action=AuditAction.APPOINTMENT_CREATED, target_id__in=[str(a.pk) for a in appointments]
    ).count() == 11
    letters = client.get(done.url).content.decode()
    assert reverse("print:renewal_letters", args=[body.slug]) + "?term_start=2024-04-01" in letters


def test_a_confirmation_that_differs_from_the_preview_changes_nothing(before_renewal, body, committee, amended,
                                                                      secretariat):
    client = client_for(secretariat)
    data = form_data(guideline=amended, continuing=committee[:8])
    shown = client.post(page(body), data | {"preview": "1"}).content.decode()
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', shown).group(1)
    other = form_data(guideline=amended, continuing=committee[:9])
    response = client.post(page(body), other | {"confirm": "1", "plan": plan})
    assert response.status_code == 200
    assert "The form changed after the preview" in response.content.decode()
    assert not new_term(body)
    response = client.post(page(body), other | {"confirm": "1"})  # no preview at all
    assert response.status_code == 200 and not new_term(body)


def test_the_page_and_the_roster_link_to_each_other(before_renewal, body, committee, secretariat):
    client = client_for(secretariat)
    roster = client.get(reverse("committee:roster_manage", args=[body.slug])).content.decode()
    assert page(body) in roster
    detail = client.get(reverse("committee:body_detail", args=[body.slug])).content.decode()
    assert page(body) in detail
    content = client.get(page(body)).content.decode().split("<h1", 1)[1]  # the page, not the site's menu
    assert "/admin/" not in content


@pytest.mark.parametrize("who", ["outsider", "member", "chair", "other_secretariat"])
def test_nobody_but_its_secretariat_reaches_it(request, before_renewal, body, committee, amended, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(page(body)).status_code == 404
    data = form_data(guideline=amended, continuing=committee)
    assert client.post(page(body), data | {"confirm": "1", "plan": "0"}).status_code == 404
    assert not new_term(body)


# --- the rules ----------------------------------------------------------------------------------


@pytest.fixture
def second_termer(body, committee) -> Appointment:
    """上田 served the term before too (2022-05-10 to 2023-05-09), so 2024 would be a third term in a row."""
    ueda = next(a for a in committee if a.person.family_name == "上田")
    factories.AppointmentFactory(body=body, person=ueda.person, appointed_on=dt.date(2022, 5, 10),
                                 term_start=dt.date(2022, 5, 10), term_end=dt.date(2023, 5, 9))
    return ueda


def test_a_member_over_the_reappointment_limit_cannot_continue(
    before_renewal, body, committee, amended, second_termer, secretariat
):
    client = client_for(secretariat)
    text = client.get(page(body)).content.decode()
    row = re.search(rf'name="continue" value="{second_termer.pk}"[^>]*>', text).group(0)
    assert "checked" not in row  # not ticked by default, with the reason
    assert "The guidelines allow at most 2 consecutive terms." in text
    others = [a for a in committee if a != second_termer]
    assert all("checked" in re.search(rf'name="continue" value="{a.pk}"[^>]*>', text).group(0) for a in others)

    data = form_data(guideline=amended, continuing=committee)
    shown = client.post(page(body), data | {"preview": "1"}).content.decode()
    assert "上田 太郎: The guidelines allow at most 2 consecutive terms." in shown
    assert "Confirm the renewal" not in shown
    with pytest.raises(services.RosterError, match="at most 2 consecutive terms"):
        services.body_renew(actor=None, body=body, term_start=NEW_START, guideline=amended,
                            continuing=committee, new_members=[])
    assert not new_term(body)
    created = services.body_renew(actor=None, body=body, term_start=NEW_START, guideline=amended,
                                  continuing=others, new_members=[])
    assert len(created) == 9


def test_more_members_than_seats_are_refused_with_the_count(before_renewal, body, committee, amended, secretariat):
    newcomers = [services.NewMember(family_name=n["family_name"], family_name_kana=n["family_name_kana"])
                 for n in NEWCOMERS]
    with pytest.raises(services.RosterError) as refused:
        services.body_renew(actor=None, body=body, term_start=NEW_START, guideline=amended,
                            continuing=committee, new_members=newcomers)
    assert "10 seats" in str(refused.value) and "12 members" in str(refused.value) and "2 too many" in str(
        refused.value)
    with translation.override("ja"):
        message = services.renewal_seat_problem(body=body, count=12)
    assert "定数" in message and "10" in message and "12" in message
    assert not new_term(body) and not Person.objects.filter(family_name="髙橋").exists()

    shown = client_for(secretariat).post(
        page(body), form_data(guideline=amended, continuing=committee, new=NEWCOMERS) | {"preview": "1"}
    ).content.decode()
    assert "Members: 12 / seats (定数) 10" in shown and "2 too many" in shown
    assert "Confirm the renewal" not in shown


def test_the_guidelines_version_must_be_in_force_on_the_first_day(before_renewal, body, committee, amended):
    with pytest.raises(services.RosterError, match="not yet in force"):
        services.body_renew(actor=None, body=body, term_start=dt.date(2024, 3, 1), guideline=amended,
                            continuing=[], new_members=[services.NewMember(family_name="新", family_name_kana="しん")])
    other = factories.GuidelineFactory(effective_on=dt.date(2020, 4, 1))
    with pytest.raises(services.RosterError, match="this body's guidelines"):
        services.body_renew(actor=None, body=body, term_start=NEW_START, guideline=other, continuing=[],
                            new_members=[services.NewMember(family_name="新", family_name_kana="しん")])


def test_the_version_in_force_is_the_default_and_one_whose_terms_ended_is_refused(before_renewal, body, committee,
                                                                            guideline, amended):
    created = services.body_renew(actor=None, body=body, term_start=NEW_START, continuing=committee[:2],
                                  new_members=[])
    assert {a.guideline for a in created} == {amended} and {a.term_end for a in created} == {NEW_END}
    # The old version's terms all end on 2024-03-31: a term from 2024-04-01 cannot follow it.
    with pytest.raises(services.RosterError, match="before the new term starts"):
        services.body_renew(actor=None, body=body, term_start=NEW_START, guideline=guideline,
                            continuing=committee[2:3], new_members=[])


def test_renewing_twice_is_refused_as_overlapping(before_renewal, body, committee, amended):
    services.body_renew(actor=None, body=body, term_start=NEW_START, continuing=committee, new_members=[])
    with pytest.raises(services.RosterError, match="terms may not overlap"):
        services.body_renew(actor=None, body=body, term_start=NEW_START, continuing=committee, new_members=[])
    assert len(new_term(body)) == 10


def test_the_page_runs_a_fixed_number_of_queries(before_renewal, body, amended, secretariat,
                                                 django_assert_max_num_queries):
    body.seats = 300
    body.save(update_fields=["seats"])
    people = Person.objects.bulk_create(
        Person(family_name=f"委員{i}", given_name="太郎", family_name_kana="いいん", sort_key=f"いいん{i:04}")
        for i in range(200)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(body=body, person=p, appointed_on=dt.date(2023, 5, 10), term_start=dt.date(2023, 5, 10),
                    term_end=OLD_END, guideline=body.guidelines.earliest()) for p in people
    )
    Affiliation.objects.bulk_create(
        Affiliation(appointment=a, text="所属", valid_from=a.term_start) for a in appointments
    )
    client = client_for(secretariat)
    with django_assert_max_num_queries(15):  # 13 today, with 5 members or 200
        response = client.get(page(body))
    assert response.content.decode().count('name="continue"') == 200
    data = form_data(guideline=amended, continuing=appointments, new=NEWCOMERS)
    with django_assert_max_num_queries(18):  # 15 today
        response = client.post(page(body), data | {"preview": "1"})
    assert "Members: 202 / seats (定数) 300" in response.content.decode()


# --- the composition report ------------------------------------------------------------------------


def test_the_composition_report_flags_seats_over_the_fixed_number(db):
    body = factories.BodyFactory(seats=2)
    crowded = [factories.AppointmentFactory(body=body) for _ in range(3)]
    short = factories.BodyFactory(seats=4)
    factories.AppointmentFactory(body=short)
    report = reports.composition(bodies=Body.objects.filter(pk__in=[body.pk, short.pk]).order_by("id"),
                                 day=dt.date(2023, 6, 1))
    over, under = report.rows
    assert (over.members, over.over_seats, over.vacancies) == (3, 1, 0)
    assert (under.members, under.over_seats, under.vacancies) == (1, 0, 3)

    # A predecessor who resigned no longer counts; the successor for the remaining term does.
    services.appointment_end(actor=None, appointment=crowded[0], ended_on=dt.date(2023, 5, 31),
                             reason=Appointment.EndReason.RESIGNED)
    successor = factories.AppointmentFactory(body=body, predecessor=crowded[0], term_start=dt.date(2023, 6, 1))
    report = reports.composition(bodies=Body.objects.filter(pk=body.pk), day=dt.date(2023, 6, 1))
    [row] = report.rows
    assert successor.is_active_on(dt.date(2023, 6, 1))
    assert (row.members, row.over_seats, row.vacancies) == (3, 1, 0)
    services.appointment_end(actor=None, appointment=crowded[1], ended_on=dt.date(2023, 5, 31),
                             reason=Appointment.EndReason.DISMISSED)
    [row] = reports.composition(bodies=Body.objects.filter(pk=body.pk), day=dt.date(2023, 6, 1)).rows
    assert (row.members, row.over_seats, row.vacancies) == (2, 0, 0)


def test_the_composition_page_shows_seats_over(body, secretariat, in_term):
    for i in range(3):
        appoint(body, f"委員{i}", "いいん")
    body.seats = 2
    body.save(update_fields=["seats"])
    text = client_for(secretariat).get(reverse("committee:composition")).content.decode()
    assert 'data-over="1"' in text and "over the seats" in text


# --- amending the guidelines from a chosen day -------------------------------------------------------


def amend_url(body) -> str:
    return reverse("committee:guideline_amend", args=[body.slug])


def test_the_secretariat_amends_the_guidelines_from_the_first_day_of_the_new_term(
    before_renewal, body, committee, guideline, secretariat
):
    client = client_for(secretariat)
    renew = client.get(page(body)).content.decode()
    assert amend_url(body) + "?from=2024-04-01" in renew
    form = client.get(amend_url(body) + "?from=2024-04-01").content.decode()
    assert 'value="2024-04-01"' in form  # not "tomorrow": the day the secretariat chose
    response = client.post(amend_url(body), {
        "effective_on": "2024-04-01", "amendment_note": "任期を2年に改正", "term_rule": "years_fy_end",
        "term_years": "2", "term_fixed_end": "2024-03-31", "reappointment_allowed": "on",
        "max_consecutive_terms": "3", "appointing_authority": "青森県知事",
    })
    assert response.status_code == 302
    assert response.url == page(body) + "?term_start=2024-04-01"
    new = body.guidelines.get(effective_on=NEW_START)
    assert (new.term_rule, new.term_years, new.term_fixed_end, new.max_consecutive_terms) == (
        "years_fy_end", 2, None, 3)
    assert new.amendment_note == "任期を2年に改正" and new.articles.count() == guideline.articles.count()
    assert Guideline.objects.get(pk=guideline.pk).term_rule == Guideline.TermRule.FIXED_DATE  # kept as adopted
    assert AuditEntry.objects.filter(action=AuditAction.GUIDELINE_AMENDED, actor=secretariat).exists()
    renew = client.get(response.url).content.decode()
    assert re.search(rf'<option value="{new.pk}" selected>', renew)


def test_an_amendment_dated_before_the_version_in_force_is_refused(before_renewal, body, guideline, secretariat):
    response = client_for(secretariat).post(amend_url(body), {
        "effective_on": "2023-01-01", "amendment_note": "誤り", "term_rule": "fixed_date",
        "term_fixed_end": "2024-03-31",
    })
    assert response.status_code == 200
    assert "An amendment takes effect after the version it amends." in response.content.decode()
    assert body.guidelines.count() == 1


@pytest.mark.parametrize("who", ["outsider", "member", "other_secretariat"])
def test_nobody_else_amends(request, before_renewal, body, guideline, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(amend_url(body)).status_code == 404
    response = client.post(amend_url(body), {"effective_on": "2024-04-01", "amendment_note": "x",
                                             "term_rule": "none"})
    assert response.status_code == 404 and body.guidelines.count() == 1


def test_the_admin_amendment_takes_effect_on_the_day_given(before_renewal, body, guideline, superuser):
    client = client_for(superuser)
    url = reverse("admin:committee_guideline_changelist")
    data = {"action": "amend", "_selected_action": [str(guideline.pk)], "index": "0"}
    client.post(url, data)  # no day given: nothing, and a message saying why
    assert body.guidelines.count() == 1
    client.post(url, data | {"effective_on": "2024-04-01"})
    assert body.guidelines.filter(effective_on=NEW_START).exists()  # not "tomorrow" (2024-03-16)


def test_a_reappointment_under_guidelines_whose_terms_ended_says_to_amend_them(before_renewal, committee):
    with pytest.raises(services.RosterError, match="amend the guidelines from 2024-04-01 first"):
        services.appointment_reappoint(actor=None, appointment=committee[0])


def test_more_rows_and_someone_already_on_the_roster(before_renewal, body, committee, amended, secretariat):
    former = factories.AppointmentFactory(body=body, appointed_on=dt.date(2021, 4, 1), term_start=dt.date(2021, 4, 1),
                                          term_end=dt.date(2022, 3, 31)).person
    client = client_for(secretariat)
    data = form_data(guideline=amended, continuing=committee[:8])
    more = client.post(page(body), data | {"more": "1"})
    assert more.status_code == 200
    assert 'name="new-5-family_name"' in more.content.decode() and not new_term(body)
    data = form_data(guideline=amended, continuing=committee[:8], new=[{"person": str(former.pk)}], rows=6)
    shown = client.post(page(body), data | {"preview": "1"}).content.decode()
    assert f"{former.full_name}</td>" in shown and "Members: 9 / seats (定数) 10" in shown
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', shown).group(1)
    assert client.post(page(body), data | {"confirm": "1", "plan": plan}).status_code == 302
    assert Appointment.objects.get(body=body, person=former, term_start=NEW_START).term_end == NEW_END
    assert Person.objects.filter(pk=former.pk).count() == 1  # the same person, not a copy


def test_someone_the_secretariat_may_not_see_cannot_be_picked(before_renewal, body, committee, amended, secretariat,
                                                              other_member):
    stranger = Person.objects.get(user=other_member)
    data = form_data(guideline=amended, continuing=committee[:8], new=[{"person": str(stranger.pk)}])
    shown = client_for(secretariat).post(page(body), data | {"preview": "1"}).content.decode()
    assert "Confirm the renewal" not in shown and stranger.full_name not in shown
    assert not new_term(body)


def test_an_amendment_the_model_refuses_shows_the_reason_by_its_field(before_renewal, body, guideline, secretariat):
    """A refusal that names fields (the model's own checks) is shown on the form, not as a server error."""
    response = client_for(secretariat).post(amend_url(body), {
        "effective_on": "2024-04-01", "amendment_note": "任期の改正", "term_rule": "years",
        "term_years": "", "reappointment_allowed": "on",
    })
    assert response.status_code == 200
    assert body.guidelines.filter(effective_on=NEW_START).count() == 0
    assert 'class="text-danger' in response.content.decode() or "alert-danger" in response.content.decode()
