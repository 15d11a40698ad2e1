"""Roster services: terms under the 設置要綱, successors, reappointment, ending, officers, audit."""

import datetime as dt

import pytest

from committee import services
from committee.models import Appointment, Guideline, OfficerTerm
from committee.selectors import guideline_in_force, officers_on
from committee.services import RosterError
from core.models import AuditEntry
from tests import factories
from tests.conftest import APPOINTED, appoint

FIXED_END = dt.date(2024, 3, 31)
RESIGNED = Appointment.EndReason.RESIGNED


def make_body(**rules):
    """A body with one version of guidelines (in force from 2023-04-13) carrying `rules`."""
    body = factories.BodyFactory()
    if rules.get("term_rule", Guideline.TermRule.FIXED_DATE) != Guideline.TermRule.FIXED_DATE:
        rules.setdefault("term_fixed_end", None)
    factories.GuidelineFactory(body=body, **rules)
    return body


def make_person(family="山本", reading="やまもと", **kwargs):
    return factories.PersonFactory(family_name=family, family_name_kana=reading, given_name_kana="", **kwargs)


def create(body, person, **kwargs) -> Appointment:
    kwargs.setdefault("appointed_on", APPOINTED)
    kwargs.setdefault("actor", None)
    return services.appointment_create(body=body, person=person, **kwargs)


@pytest.fixture
def years_body(db):
    """Terms of two years from the day of appointment."""
    return make_body(term_rule=Guideline.TermRule.YEARS, term_years=2)


# --- terms -------------------------------------------------------------------------------------


def test_fixed_date_rule_ends_every_term_on_that_date(body, guideline):
    appointment = appoint(body, "森", "もり")

    appointment.refresh_from_db()
    assert appointment.term_start == APPOINTED
    assert appointment.term_end == FIXED_END
    assert appointment.guideline == guideline
    assert appointment.appointed_by == guideline.appointing_authority


@pytest.mark.parametrize(
    ("rule", "start", "expected_end"),
    [
        (Guideline.TermRule.YEARS, dt.date(2023, 5, 10), dt.date(2025, 5, 9)),
        (Guideline.TermRule.YEARS, dt.date(2023, 4, 1), dt.date(2025, 3, 31)),
        # 民法第143条: no 29 February in 2026, so the term ends on the last day of that February.
        (Guideline.TermRule.YEARS, dt.date(2024, 2, 29), dt.date(2026, 2, 28)),
        (Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END, dt.date(2023, 5, 10), dt.date(2026, 3, 31)),
        (Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END, dt.date(2023, 4, 1), dt.date(2025, 3, 31)),
        (Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END, dt.date(2024, 3, 31), dt.date(2026, 3, 31)),
    ],
)
def test_years_rules_count_from_the_first_day(db, rule, start, expected_end):
    body = make_body(term_rule=rule, term_years=2, effective_on=dt.date(2020, 4, 1))

    appointment = create(body, make_person(), appointed_on=start)

    appointment.refresh_from_db()
    assert (appointment.term_start, appointment.term_end) == (start, expected_end)


def test_no_term_rule_leaves_the_term_open(db):
    body = make_body(term_rule=Guideline.TermRule.NONE)

    appointment = create(body, make_person())

    assert Appointment.objects.get(pk=appointment.pk).term_end is None


def test_amended_guidelines_apply_only_to_terms_starting_from_their_effective_date(body, guideline, secretariat):
    factories.GuidelineArticleFactory(guideline=guideline, position=1, text="審議会を置く。")
    amended = services.guideline_amend(
        actor=secretariat,
        guideline=guideline,
        effective_on=dt.date(2024, 4, 1),
        amendment_note="任期を2年に改める",
        term_rule=Guideline.TermRule.YEARS,
        term_years=2,
        term_fixed_end=None,
    )

    assert guideline_in_force(body=body, day=dt.date(2024, 3, 31)) == guideline
    assert guideline_in_force(body=body, day=dt.date(2024, 4, 1)) == amended
    before = create(body, make_person("原", "はら"), appointed_on=dt.date(2024, 3, 1))
    after = create(body, make_person("馬場", "ばば"), appointed_on=dt.date(2024, 4, 1))
    assert (before.guideline, before.term_end) == (guideline, FIXED_END)
    assert (after.guideline, after.term_end) == (amended, dt.date(2026, 3, 31))
    guideline.refresh_from_db()
    assert (guideline.term_rule, guideline.term_fixed_end) == (Guideline.TermRule.FIXED_DATE, FIXED_END)
    assert list(amended.articles.values_list("position", "text")) == [(1, "審議会を置く。")]
    assert (
        AuditEntry.objects.filter(action="guideline_amended", target_id=str(amended.pk), actor=secretariat).count() == 1
    )


def test_an_amendment_must_take_effect_after_the_version_it_amends(guideline):
    with pytest.raises(RosterError):
        services.guideline_amend(
            actor=None, guideline=guideline, effective_on=guideline.effective_on, amendment_note=""
        )

    assert Guideline.objects.filter(body=guideline.body).count() == 1


# --- successors (補欠) ---------------------------------------------------------------------------


def _resign(appointment, day=dt.date(2023, 9, 30), actor=None):
    return services.appointment_end(actor=actor, appointment=appointment, ended_on=day, reason=RESIGNED)


def test_successor_serves_the_predecessors_remaining_term(years_body):
    predecessor = create(years_body, make_person("原", "はら"))
    _resign(predecessor)

    successor = create(
        years_body, make_person("馬場", "ばば"), appointed_on=dt.date(2023, 10, 1), predecessor=predecessor
    )

    successor.refresh_from_db()
    assert successor.predecessor == predecessor
    assert successor.term_start == dt.date(2023, 10, 1)
    assert successor.term_end == dt.date(2025, 5, 9)  # a fresh term would run to 2025-09-30


def test_successor_gets_a_full_term_where_the_guidelines_say_so(db):
    body = make_body(term_rule=Guideline.TermRule.YEARS, term_years=2, successor_serves_remainder=False)
    predecessor = create(body, make_person("原", "はら"))
    _resign(predecessor)

    successor = create(body, make_person("馬場", "ばば"), appointed_on=dt.date(2023, 10, 1), predecessor=predecessor)

    assert successor.term_end == dt.date(2025, 9, 30)


def test_successor_is_refused_while_the_predecessor_is_in_office(years_body):
    predecessor = create(years_body, make_person("原", "はら"))

    with pytest.raises(RosterError, match="Record how the predecessor's appointment ended"):
        create(years_body, make_person("馬場", "ばば"), appointed_on=dt.date(2023, 10, 1), predecessor=predecessor)

    _resign(predecessor)
    with pytest.raises(RosterError, match="after the predecessor left"):
        create(years_body, make_person("馬場", "ばば"), appointed_on=dt.date(2023, 9, 30), predecessor=predecessor)
    assert Appointment.objects.filter(body=years_body).count() == 1


def test_successor_to_an_open_ended_appointment_needs_its_end_recorded(db):
    body = make_body(term_rule=Guideline.TermRule.NONE)
    predecessor = create(body, make_person("原", "はら"))

    with pytest.raises(RosterError, match="Record how the predecessor's appointment ended"):
        create(body, make_person("馬場", "ばば"), appointed_on=dt.date(2030, 4, 1), predecessor=predecessor)

    assert list(Appointment.objects.filter(body=body)) == [predecessor]


def test_a_predecessor_has_at_most_one_successor(years_body):
    predecessor = create(years_body, make_person("原", "はら"))
    _resign(predecessor)
    first = create(years_body, make_person("馬場", "ばば"), appointed_on=dt.date(2023, 10, 1), predecessor=predecessor)

    with pytest.raises(RosterError, match="already has a successor"):
        create(years_body, make_person("朴", "ぱく"), appointed_on=dt.date(2023, 10, 2), predecessor=predecessor)

    assert list(Appointment.objects.filter(predecessor=predecessor)) == [first]


# --- reappointment (再任) ------------------------------------------------------------------------


def test_reappointment_starts_the_day_after_the_term(years_body, secretariat):
    first = create(years_body, make_person("原", "はら"), affiliation="青森大学教授")

    second = services.appointment_reappoint(actor=secretariat, appointment=first)

    second.refresh_from_db()
    assert second.pk != first.pk
    assert (second.person, second.body) == (first.person, years_body)
    assert (second.term_start, second.term_end) == (dt.date(2025, 5, 10), dt.date(2027, 5, 9))
    assert second.affiliation_on(second.term_start) == "青森大学教授"
    assert Appointment.objects.filter(person=first.person, body=years_body).count() == 2


def test_reappointing_twice_from_the_same_term_is_refused(years_body):
    first = create(years_body, make_person("原", "はら"))
    services.appointment_reappoint(actor=None, appointment=first)

    with pytest.raises(RosterError, match="原"):
        services.appointment_reappoint(actor=None, appointment=first)

    assert Appointment.objects.filter(person=first.person).count() == 2


def test_reappointment_is_refused_when_the_guidelines_forbid_it(db):
    body = make_body(term_rule=Guideline.TermRule.YEARS, term_years=2, reappointment_allowed=False)
    first = create(body, make_person())

    with pytest.raises(RosterError, match="reappointment"):
        services.appointment_reappoint(actor=None, appointment=first)

    assert Appointment.objects.filter(body=body).count() == 1


def test_max_consecutive_terms_allows_that_many_and_refuses_one_more(db):
    body = make_body(term_rule=Guideline.TermRule.YEARS, term_years=2, max_consecutive_terms=2)
    first = create(body, make_person())

    second = services.appointment_reappoint(actor=None, appointment=first)
    with pytest.raises(RosterError, match="at most 2 consecutive"):
        services.appointment_reappoint(actor=None, appointment=second)

    assert Appointment.objects.filter(body=body).count() == 2


def test_a_gap_between_terms_restarts_the_consecutive_count(db):
    body = make_body(term_rule=Guideline.TermRule.YEARS, term_years=2, max_consecutive_terms=2)
    person = make_person()
    first = create(body, person)
    services.appointment_reappoint(actor=None, appointment=first)  # 2025-05-10 to 2027-05-09

    third = create(body, person, appointed_on=dt.date(2028, 4, 1))

    assert (third.term_start, third.term_end) == (dt.date(2028, 4, 1), dt.date(2030, 3, 31))


# --- overlap -----------------------------------------------------------------------------------


def test_same_person_cannot_hold_overlapping_terms_on_one_body(body):
    person = make_person("原", "はら")
    create(body, person)

    with pytest.raises(RosterError, match="原") as excinfo:
        create(body, person, appointed_on=dt.date(2023, 6, 1))

    assert "terms may not overlap" in str(excinfo.value)
    assert Appointment.objects.filter(person=person).count() == 1


def test_a_term_may_not_run_into_a_later_term_of_the_same_person(years_body):
    person = make_person("原", "はら")
    later = create(years_body, person, appointed_on=dt.date(2023, 10, 1))

    with pytest.raises(RosterError, match="原"):
        create(years_body, person, appointed_on=dt.date(2023, 5, 10), term_end=dt.date(2023, 10, 1))
    earlier = create(years_body, person, appointed_on=dt.date(2023, 5, 10), term_end=dt.date(2023, 9, 30))

    assert set(Appointment.objects.filter(person=person)) == {later, earlier}


def test_same_person_may_sit_on_another_body_at_the_same_time(body, other_body):
    person = make_person("原", "はら")
    create(body, person)

    create(other_body, person)

    assert Appointment.objects.filter(person=person).active_on(dt.date(2023, 6, 1)).count() == 2


def test_after_an_early_end_a_new_term_may_start(body):
    person = make_person("原", "はら")
    first = create(body, person)
    _resign(first, dt.date(2023, 9, 30))

    with pytest.raises(RosterError):
        create(body, person, appointed_on=dt.date(2023, 9, 30))
    again = create(body, person, appointed_on=dt.date(2023, 10, 1))

    assert (again.term_start, again.term_end) == (dt.date(2023, 10, 1), FIXED_END)


# --- explicit term ends ------------------------------------------------------------------------


def test_explicit_term_end_past_the_guidelines_is_refused(body):
    with pytest.raises(RosterError, match="2024-03-31"):
        create(body, make_person(), term_end=dt.date(2024, 4, 1))

    assert not Appointment.objects.filter(body=body).exists()


def test_explicit_shorter_term_end_is_kept(body):
    appointment = create(body, make_person(), term_end=dt.date(2023, 12, 31))

    assert Appointment.objects.get(pk=appointment.pk).term_end == dt.date(2023, 12, 31)


def test_term_ending_before_it_starts_is_refused(body):
    with pytest.raises(RosterError, match="before it starts"):
        create(body, make_person(), term_end=dt.date(2023, 5, 9))

    assert not Appointment.objects.filter(body=body).exists()


def test_appointment_check_reports_the_term_end_without_saving(years_body):
    end = services.appointment_check(body=years_body, appointed_on=dt.date(2023, 5, 10), person=make_person())

    assert end == dt.date(2025, 5, 9)
    assert not Appointment.objects.filter(body=years_body).exists()


# --- ending ------------------------------------------------------------------------------------


def test_ending_twice_with_the_same_values_is_harmless(member_appointment, secretariat):
    _resign(member_appointment, actor=secretariat)
    again = _resign(member_appointment, actor=secretariat)

    member_appointment.refresh_from_db()
    assert (again.ended_on, again.end_reason) == (dt.date(2023, 9, 30), RESIGNED)
    assert (member_appointment.ended_on, member_appointment.end_reason) == (dt.date(2023, 9, 30), RESIGNED)
    assert AuditEntry.objects.filter(action="appointment_ended", target_id=str(member_appointment.pk)).count() == 1


@pytest.mark.parametrize(
    ("day", "reason"),
    [(dt.date(2023, 10, 31), RESIGNED), (dt.date(2023, 9, 30), Appointment.EndReason.DISMISSED)],
)
def test_ending_again_differently_is_refused(member_appointment, day, reason):
    _resign(member_appointment)

    with pytest.raises(RosterError, match="already ended on 2023-09-30"):
        services.appointment_end(actor=None, appointment=member_appointment, ended_on=day, reason=reason)

    member_appointment.refresh_from_db()
    assert (member_appointment.ended_on, member_appointment.end_reason) == (dt.date(2023, 9, 30), RESIGNED)


def test_a_term_expires_only_on_its_last_day(member_appointment):
    with pytest.raises(RosterError, match="expires on its last day"):
        services.appointment_end(
            actor=None,
            appointment=member_appointment,
            ended_on=dt.date(2024, 3, 30),
            reason=Appointment.EndReason.EXPIRED,
        )
    member_appointment.refresh_from_db()
    assert member_appointment.ended_on is None

    services.appointment_end(
        actor=None, appointment=member_appointment, ended_on=FIXED_END, reason=Appointment.EndReason.EXPIRED
    )

    member_appointment.refresh_from_db()
    assert (member_appointment.ended_on, member_appointment.end_reason) == (FIXED_END, Appointment.EndReason.EXPIRED)


@pytest.mark.parametrize("day", [dt.date(2023, 5, 9), dt.date(2024, 4, 1)])
def test_ending_outside_the_term_is_refused(member_appointment, day):
    with pytest.raises(RosterError):
        services.appointment_end(actor=None, appointment=member_appointment, ended_on=day, reason=RESIGNED)

    member_appointment.refresh_from_db()
    assert member_appointment.ended_on is None


def test_create_and_end_are_audited_with_the_actor(body, secretariat):
    appointment = create(body, make_person("原", "はら"), actor=secretariat)
    _resign(appointment, actor=secretariat)

    entries = AuditEntry.objects.filter(target_id=str(appointment.pk), target_type__model="appointment")
    assert sorted(entries.values_list("action", "actor", "data")) == [
        ("appointment_created", secretariat.pk, {"term_start": "2023-05-10", "term_end": "2024-03-31"}),
        ("appointment_ended", secretariat.pk, {"ended_on": "2023-09-30", "reason": "resigned"}),
    ]


def test_a_refused_change_leaves_no_audit_entry(body, secretariat):
    with pytest.raises(RosterError):
        create(body, make_person(), actor=secretariat, term_end=dt.date(2025, 1, 1))

    assert not AuditEntry.objects.filter(action="appointment_created").exists()


# --- officers ----------------------------------------------------------------------------------


def test_chair_elected_by_mutual_election(body, secretariat):
    appointment = appoint(body, "森", "もり")

    term = services.officer_elect_chair(
        actor=secretariat, body=body, appointment=appointment, selected_on=APPOINTED, meeting_label="第1回"
    )

    term.refresh_from_db()
    assert (term.role, term.appointment, term.selected_by) == (
        OfficerTerm.Role.CHAIR,
        appointment,
        Guideline.Selection.MUTUAL_ELECTION,
    )
    assert (term.start_on, term.end_on, term.meeting_label) == (APPOINTED, FIXED_END, "第1回")
    assert officers_on(body=body, day=APPOINTED).chair == term
    assert AuditEntry.objects.filter(action="officer_chair_chosen", actor=secretariat, target_id=str(term.pk)).exists()


def test_electing_the_same_chair_twice_is_harmless(body, chair_appointment):
    first = OfficerTerm.objects.get(body=body)

    again = services.officer_elect_chair(actor=None, body=body, appointment=chair_appointment, selected_on=APPOINTED)

    assert again == first
    assert OfficerTerm.objects.filter(body=body).count() == 1
    assert AuditEntry.objects.filter(action="officer_chair_chosen").count() == 1


def test_vice_chair_nominated_by_the_chair_needs_a_chair(body):
    chair = appoint(body, "森", "もり")
    vice = appoint(body, "石井", "いしい")

    with pytest.raises(RosterError, match="choose the chair first"):
        services.officer_nominate_vice_chair(actor=None, body=body, appointment=vice, selected_on=APPOINTED)
    assert not OfficerTerm.objects.filter(body=body).exists()

    services.officer_elect_chair(actor=None, body=body, appointment=chair, selected_on=APPOINTED)
    term = services.officer_nominate_vice_chair(actor=None, body=body, appointment=vice, selected_on=APPOINTED)

    assert (term.role, term.selected_by) == (OfficerTerm.Role.VICE_CHAIR, Guideline.Selection.NOMINATED_BY_CHAIR)
    assert officers_on(body=body, day=APPOINTED).vice_chair == term


def test_chair_cannot_also_be_vice_chair(body, chair_appointment):
    with pytest.raises(RosterError, match="chair and vice chair"):
        services.officer_nominate_vice_chair(
            actor=None, body=body, appointment=chair_appointment, selected_on=APPOINTED
        )

    assert list(OfficerTerm.objects.filter(body=body).values_list("role", flat=True)) == [OfficerTerm.Role.CHAIR]


def test_vice_chair_cannot_also_be_chair(db):
    body = make_body(vice_chair_selection=Guideline.Selection.MUTUAL_ELECTION)
    vice = appoint(body, "石井", "いしい")
    services.officer_nominate_vice_chair(actor=None, body=body, appointment=vice, selected_on=APPOINTED)

    with pytest.raises(RosterError, match="chair and vice chair"):
        services.officer_elect_chair(actor=None, body=body, appointment=vice, selected_on=APPOINTED)

    assert officers_on(body=body, day=APPOINTED).chair is None


def test_an_observer_cannot_hold_a_post(body):
    observer = create(body, make_person(), category=Appointment.Category.OBSERVER)

    with pytest.raises(RosterError, match="not a member in office"):
        services.officer_elect_chair(actor=None, body=body, appointment=observer, selected_on=APPOINTED)

    assert not OfficerTerm.objects.exists()


def test_someone_no_longer_in_office_cannot_hold_a_post(body):
    former = appoint(body, "森", "もり")
    _resign(former, dt.date(2023, 6, 30))

    with pytest.raises(RosterError, match="not a member in office on 2023-07-01"):
        services.officer_elect_chair(actor=None, body=body, appointment=former, selected_on=dt.date(2023, 7, 1))

    assert not OfficerTerm.objects.exists()


def test_a_member_of_another_body_cannot_hold_a_post(body, other_body):
    stranger = appoint(other_body, "加藤", "かとう")

    with pytest.raises(RosterError, match="Only a member of this body"):
        services.officer_elect_chair(actor=None, body=body, appointment=stranger, selected_on=APPOINTED)

    assert not OfficerTerm.objects.exists()


def test_a_new_chair_ends_the_previous_chairs_term(body, chair_appointment):
    successor = appoint(body, "原", "はら")

    term = services.officer_elect_chair(actor=None, body=body, appointment=successor, selected_on=dt.date(2023, 10, 1))

    previous = OfficerTerm.objects.get(appointment=chair_appointment)
    assert previous.end_on == dt.date(2023, 9, 30)
    assert officers_on(body=body, day=dt.date(2023, 9, 30)).chair == previous
    assert officers_on(body=body, day=dt.date(2023, 10, 1)).chair == term


def test_chair_post_is_vacant_from_the_day_after_the_chairs_appointment_ends(body, chair_appointment):
    _resign(chair_appointment, dt.date(2023, 9, 30))

    term = OfficerTerm.objects.get(body=body, role=OfficerTerm.Role.CHAIR)
    assert term.end_on == dt.date(2023, 9, 30)
    assert officers_on(body=body, day=dt.date(2023, 9, 30)).chair == term
    assert officers_on(body=body, day=dt.date(2023, 10, 1)).chair is None
