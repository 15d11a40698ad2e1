"""Roster reads: 五十音順, rosters on a date, presiding officer, visibility."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from committee import services
from committee.access import bodies_managed_by
from committee.models import Affiliation, Appointment, Guideline, OfficerTerm, Person
from committee.selectors import (
    is_member_of_body_on,
    people_managed_by,
    presiding_officer_on,
    roster_day,
    roster_on,
)
from core import kana
from tests import factories
from tests.conftest import APPOINTED, TOKYO, appoint

FIXED_END = dt.date(2024, 3, 31)
DURING = dt.date(2023, 6, 1)


def _resign(appointment, day):
    return services.appointment_end(
        actor=None, appointment=appointment, ended_on=day, reason=Appointment.EndReason.RESIGNED
    )


def _names(body, day, **kwargs):
    return [a.holder_name for a in roster_on(body=body, day=day, **kwargs)]


# --- 五十音順 ------------------------------------------------------------------------------------


def test_roster_orders_by_reading_ignoring_dakuten_first(body):
    # JIS X 4061: compare without 濁点/半濁点 first (ぱく=はく < はは=ばば < はら < はらた=はらだ),
    # then break ties unvoiced < voiced < semi-voiced (はら < ばら < ぱら).
    for family, reading in [
        ("原", "はら"),
        ("馬場", "ばば"),
        ("原田", "はらだ"),
        ("朴", "ぱく"),
        ("佐藤", "さとう"),
        ("蔵王", "ザオウ"),  # katakana is stored as hiragana
        ("波良", "ぱら"),
        ("馬良", "ばら"),
    ]:
        appoint(body, family, reading)
    services.appointment_create(actor=None, body=body, post_title="企画政策部次長", appointed_on=APPOINTED)

    roster = roster_on(body=body, day=DURING)

    assert [a.person.family_name_kana if a.person else a.post_title for a in roster] == [
        "ざおう",
        "さとう",
        "ぱく",
        "ばば",
        "はら",
        "ばら",
        "ぱら",
        "はらだ",
        "企画政策部次長",  # seats held by posts come after named people
    ]


def test_roster_orders_by_given_name_within_a_family_name(body):
    for given, reading in [("次郎", "じろう"), ("一郎", "いちろう"), ("四郎", "しろう")]:
        person = factories.PersonFactory(
            family_name="佐藤", given_name=given, family_name_kana="さとう", given_name_kana=reading
        )
        services.appointment_create(actor=None, body=body, person=person, appointed_on=APPOINTED)

    assert _names(body, DURING) == ["佐藤 一郎", "佐藤 四郎", "佐藤 次郎"]


# --- rosters on a date -------------------------------------------------------------------------


def test_roster_on_shows_who_was_in_office_that_day(body, chair_appointment, member_appointment):
    _resign(member_appointment, dt.date(2023, 9, 30))

    assert _names(body, dt.date(2023, 5, 9)) == []
    assert _names(body, dt.date(2023, 9, 30)) == ["佐藤 志穂", "森 樹男"]
    assert _names(body, dt.date(2023, 10, 1)) == ["森 樹男"]
    assert _names(body, FIXED_END) == ["森 樹男"]
    assert _names(body, dt.date(2024, 4, 1)) == []


def test_roster_members_only_leaves_out_observers(body, member_appointment):
    person = factories.PersonFactory(family_name="青木", given_name="", family_name_kana="あおき", given_name_kana="")
    services.appointment_create(
        actor=None, body=body, person=person, appointed_on=APPOINTED, category=Appointment.Category.OBSERVER
    )

    assert _names(body, DURING) == ["青木", "佐藤 志穂"]
    assert _names(body, DURING, members_only=True) == ["佐藤 志穂"]


def test_roster_shows_the_affiliation_held_on_that_day(body, member_appointment):
    services.affiliation_change(
        actor=None, appointment=member_appointment, text="青森大学学長", valid_from=dt.date(2023, 10, 1)
    )

    [before] = roster_on(body=body, day=dt.date(2023, 9, 30))
    [after] = roster_on(body=body, day=dt.date(2023, 10, 1))
    assert before.affiliation_on(dt.date(2023, 9, 30)) == "佐藤の所属"
    assert after.affiliation_on(dt.date(2023, 10, 1)) == "青森大学学長"


def test_roster_day_falls_back_to_the_last_day_anyone_was_in_office(body, chair_appointment, member_appointment):
    _resign(member_appointment, dt.date(2023, 9, 30))

    with time_machine.travel(dt.datetime(2024, 6, 1, 9, 0, tzinfo=TOKYO), tick=False):
        assert roster_day(body=body, requested=None) == (FIXED_END, False)
        assert roster_day(body=body, requested=dt.date(2024, 6, 1)) == (dt.date(2024, 6, 1), True)


def test_roster_day_uses_early_ends(body):
    first, second = appoint(body, "原", "はら"), appoint(body, "馬場", "ばば")
    _resign(first, dt.date(2023, 9, 30))
    _resign(second, dt.date(2023, 11, 30))

    with time_machine.travel(dt.datetime(2023, 12, 15, 9, 0, tzinfo=TOKYO), tick=False):
        assert roster_day(body=body, requested=None) == (dt.date(2023, 11, 30), False)


def test_roster_day_is_today_while_someone_is_in_office(body, member_appointment, in_term):
    assert roster_day(body=body, requested=None) == (in_term, True)


def test_roster_day_of_an_empty_body_is_today(body, in_term):
    assert roster_day(body=body, requested=None) == (in_term, True)


def _bulk_body(size: int):
    """A body with `size` members and an affiliation each, built without the services for speed."""
    body = factories.BodyFactory()
    readings = ["はら", "ばば", "さとう", "もり", "いしい"]
    people = Person.objects.bulk_create(
        Person(
            family_name=f"委員{i}",
            family_name_kana=readings[i % len(readings)],
            sort_key=kana.sort_key(readings[i % len(readings)]),
        )
        for i in range(size)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(body=body, person=p, appointed_on=APPOINTED, term_start=APPOINTED, term_end=FIXED_END)
        for p in people
    )
    Affiliation.objects.bulk_create(
        Affiliation(appointment=a, text=f"所属{a.person.family_name}", valid_from=APPOINTED) for a in appointments
    )
    return body


def _roster_with_queries(body):
    with CaptureQueriesContext(connection) as queries:
        rows = [(a.person.full_name, a.affiliation_on(DURING)) for a in roster_on(body=body, day=DURING)]
    return rows, len(queries.captured_queries)


def test_roster_on_runs_the_same_queries_for_12_and_500_members(db, django_assert_num_queries):
    small_body, large_body = _bulk_body(12), _bulk_body(500)

    small, small_queries = _roster_with_queries(small_body)
    large, large_queries = _roster_with_queries(large_body)

    assert (len(small), len(large)) == (12, 500)
    assert all(affiliation == f"所属{name}" for name, affiliation in large)
    assert small_queries == large_queries
    with django_assert_num_queries(small_queries):
        roster_on(body=large_body, day=DURING)


# --- presiding officer (第3-6) -------------------------------------------------------------------


def test_the_chair_presides_when_present(body, chair_appointment, vice_chair_appointment):
    presiding = presiding_officer_on(body=body, day=DURING)

    assert presiding.appointment == chair_appointment
    assert (presiding.role, presiding.reason) == (OfficerTerm.Role.CHAIR, "chair")


def test_the_vice_chair_acts_for_an_absent_chair(body, chair_appointment, vice_chair_appointment):
    presiding = presiding_officer_on(body=body, day=DURING, absent_person_ids={chair_appointment.person_id})

    assert presiding.appointment == vice_chair_appointment
    assert (presiding.role, presiding.reason) == (OfficerTerm.Role.VICE_CHAIR, "chair_absent")


def test_the_vice_chair_acts_while_the_chair_post_is_vacant(body, chair_appointment, vice_chair_appointment):
    _resign(chair_appointment, dt.date(2023, 9, 30))

    on_last_day = presiding_officer_on(body=body, day=dt.date(2023, 9, 30))
    after = presiding_officer_on(body=body, day=dt.date(2023, 10, 1))

    assert on_last_day.appointment == chair_appointment
    assert after.appointment == vice_chair_appointment
    assert (after.role, after.reason) == (OfficerTerm.Role.VICE_CHAIR, "chair_vacant")


def test_nobody_presides_when_chair_and_vice_chair_are_absent(body, chair_appointment, vice_chair_appointment):
    absent = {chair_appointment.person_id, vice_chair_appointment.person_id}

    assert presiding_officer_on(body=body, day=DURING, absent_person_ids=absent) is None


def test_nobody_presides_when_the_guidelines_do_not_let_the_vice_chair_act(
    body, guideline, chair_appointment, vice_chair_appointment
):
    Guideline.objects.filter(pk=guideline.pk).update(vice_chair_acts_for_chair=False)

    assert presiding_officer_on(body=body, day=DURING, absent_person_ids={chair_appointment.person_id}) is None
    assert presiding_officer_on(body=body, day=DURING).appointment == chair_appointment


def test_nobody_presides_before_the_chair_is_elected(body, member_appointment):
    assert presiding_officer_on(body=body, day=DURING) is None


def test_a_vice_chair_chosen_before_the_first_chair_does_not_preside(db):
    body = factories.BodyFactory()
    factories.GuidelineFactory(body=body, vice_chair_selection=Guideline.Selection.MUTUAL_ELECTION)
    vice, chair = appoint(body, "石井", "いしい"), appoint(body, "森", "もり")
    services.officer_nominate_vice_chair(actor=None, body=body, appointment=vice, selected_on=APPOINTED)
    services.officer_elect_chair(actor=None, body=body, appointment=chair, selected_on=dt.date(2023, 6, 1))

    assert presiding_officer_on(body=body, day=dt.date(2023, 5, 20)) is None
    assert presiding_officer_on(body=body, day=dt.date(2023, 6, 1)).appointment == chair
    _resign(chair, dt.date(2023, 9, 30))
    assert presiding_officer_on(body=body, day=dt.date(2023, 10, 1)).reason == "chair_vacant"


# --- visibility --------------------------------------------------------------------------------


@pytest.fixture
def people(member, other_member, body, other_body):
    """Who is where: `mine` on the secretariat's body, `theirs` only on another unit's, `both`, `loose` on none."""
    both = appoint(body, "原", "はら").person
    services.appointment_create(actor=None, body=other_body, person=both, appointed_on=APPOINTED)
    return {
        "mine": member.person,
        "theirs": other_member.person,
        "both": both,
        "loose": factories.PersonFactory(family_name="未委嘱"),
    }


def test_secretariat_sees_people_on_its_bodies_and_people_on_none(secretariat, people, body):
    # A second term on the same body must not list the person twice.
    factories.GuidelineFactory(body=body, effective_on=dt.date(2024, 4, 1), term_fixed_end=dt.date(2025, 3, 31))
    services.appointment_create(actor=None, body=body, person=people["mine"], appointed_on=dt.date(2024, 4, 1))

    visible = list(people_managed_by(secretariat))

    assert sorted(p.pk for p in visible) == sorted(people[k].pk for k in ("mine", "both", "loose"))


def test_other_secretariat_sees_only_its_own_people(other_secretariat, people):
    assert set(people_managed_by(other_secretariat)) == {people["theirs"], people["both"], people["loose"]}


def test_superuser_sees_everybody(superuser, people):
    assert set(people_managed_by(superuser)) == set(Person.objects.all())
    assert len(people) == 4


@pytest.mark.parametrize("who", ["member", "outsider", "anonymous"])
def test_people_who_are_not_secretariat_see_nobody(request, people, who):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)

    assert list(people_managed_by(user)) == []
    assert not user.has_perm("committee.view_person", people["loose"])


def test_a_former_secretariat_sees_nobody(secretariat, people):
    secretariat.staff_assignments.update(end_on=dt.date(2021, 3, 31))

    assert list(people_managed_by(secretariat)) == []


def test_bodies_managed_by(secretariat, other_secretariat, superuser, outsider, body, other_body):
    assert list(bodies_managed_by(secretariat)) == [body]
    assert list(bodies_managed_by(other_secretariat)) == [other_body]
    assert set(bodies_managed_by(superuser)) == {body, other_body}
    assert list(bodies_managed_by(outsider)) == []
    assert list(bodies_managed_by(AnonymousUser())) == []


def test_an_inactive_secretariat_manages_nothing(secretariat, people):
    secretariat.is_active = False

    assert list(bodies_managed_by(secretariat)) == []
    assert list(people_managed_by(secretariat)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2023, 5, 9), False),
        (APPOINTED, True),
        (dt.date(2023, 9, 30), True),
        (dt.date(2023, 10, 1), False),
    ],
)
def test_is_member_of_body_on(body, member, member_appointment, day, expected):
    _resign(member_appointment, dt.date(2023, 9, 30))

    assert is_member_of_body_on(user=member, body=body, day=day) is expected


def test_is_member_of_body_on_is_false_for_others(body, other_body, member, outsider, other_member):
    assert is_member_of_body_on(user=member, body=other_body, day=DURING) is False
    assert is_member_of_body_on(user=outsider, body=body, day=DURING) is False
    assert is_member_of_body_on(user=AnonymousUser(), body=body, day=DURING) is False
    assert is_member_of_body_on(user=other_member, body=other_body, day=DURING) is True


def test_nobody_in_office_says_why(body, member_appointment):
    """In office: None. After the terms: the last day. Before the first: the first day. No appointment at all:
    neither."""
    from committee.selectors import members_in_office_on, nobody_in_office

    assert nobody_in_office(body=body, day=dt.date(2023, 6, 1)) is None
    assert members_in_office_on(body=body, day=dt.date(2023, 6, 1)) == [member_appointment]
    after = nobody_in_office(body=body, day=dt.date(2024, 5, 1))
    assert after is not None and after.ended_on == dt.date(2024, 3, 31) and after.begins_on is None
    before = nobody_in_office(body=body, day=dt.date(2023, 4, 1))
    assert before is not None and before.ended_on is None and before.begins_on == dt.date(2023, 5, 10)
    member_appointment.delete()
    empty = nobody_in_office(body=body, day=dt.date(2023, 6, 1))
    assert empty is not None and empty.ended_on is None and empty.begins_on is None
