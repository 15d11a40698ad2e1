"""Composition report (委員構成): women's share, multiple posts, terms ending, vacancies, query count."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from committee import reports, services
from committee.models import Appointment, Body, Guideline, OfficerTerm, Person
from core import kana
from tests import factories
from tests.conftest import APPOINTED

FIXED_END = dt.date(2024, 3, 31)
DURING = dt.date(2023, 6, 1)
F, M, OTHER = Person.Gender.FEMALE, Person.Gender.MALE, Person.Gender.OTHER


def make_body(*, seats=None, **rules) -> Body:
    body = factories.BodyFactory(seats=seats)
    if rules.get("term_rule", Guideline.TermRule.FIXED_DATE) != Guideline.TermRule.FIXED_DATE:
        rules.setdefault("term_fixed_end", None)
    factories.GuidelineFactory(body=body, **rules)
    return body


def seat(body, *, gender="", person=None, **kwargs) -> Appointment:
    person = person or factories.PersonFactory(gender=gender)
    kwargs.setdefault("appointed_on", APPOINTED)
    return services.appointment_create(actor=None, body=body, person=person, **kwargs)


def report_on(day=DURING, *bodies):
    return reports.composition(bodies=Body.objects.filter(pk__in=[b.pk for b in bodies]).order_by("id"), day=day)


def row_for(report, body):
    [row] = [row for row in report.rows if row.body == body]
    return row


# --- women's share -----------------------------------------------------------------------------


@pytest.fixture
def mixed_body(db):
    """Two women, one man, two whose gender is not recorded, and a woman observer (not a member)."""
    body = make_body(seats=10)
    for gender in (F, F, M, "", ""):
        seat(body, gender=gender)
    seat(body, gender=F, category=Appointment.Category.OBSERVER)
    return body


def test_women_share_counts_only_members_whose_gender_is_recorded(mixed_body):
    row = row_for(report_on(DURING, mixed_body), mixed_body)

    assert (row.members, row.women, row.gender_unknown) == (5, 2, 2)
    assert row.women_share == pytest.approx(2 / 3)


@pytest.mark.parametrize(("target", "below"), [(0.5, False), (2 / 3, False), (0.7, True)])
def test_below_target_compares_with_the_configured_target(mixed_body, settings, target, below):
    settings.DXPLAN_WOMEN_SHARE_TARGET = target

    report = report_on(DURING, mixed_body)

    assert report.target == target
    assert row_for(report, mixed_body).below_target is below


def test_other_gender_is_recorded_and_not_a_woman(db):
    body = make_body()
    seat(body, gender=F)
    seat(body, gender=OTHER)

    row = row_for(report_on(DURING, body), body)

    assert (row.women, row.gender_unknown, row.women_share) == (1, 0, 0.5)


def test_no_gender_recorded_gives_no_share_and_no_warning(db, settings):
    settings.DXPLAN_WOMEN_SHARE_TARGET = 0.4
    body = make_body()
    seat(body)
    seat(body)

    row = row_for(report_on(DURING, body), body)

    assert (row.members, row.women, row.gender_unknown) == (2, 0, 2)
    assert row.women_share is None
    assert row.below_target is False


def test_total_adds_the_bodies_up(mixed_body):
    other = make_body()
    seat(other, gender=M)
    seat(other, gender="")

    total = report_on(DURING, mixed_body, other).total

    assert (total.members, total.women, total.gender_unknown) == (7, 2, 3)
    assert total.women_share == pytest.approx(2 / 4)


def test_a_seat_held_by_a_post_is_a_member_whose_gender_is_not_recorded(mixed_body):
    services.appointment_create(actor=None, body=mixed_body, post_title="企画政策部次長", appointed_on=APPOINTED)

    report = report_on(DURING, mixed_body)

    assert (row_for(report, mixed_body).members, row_for(report, mixed_body).gender_unknown) == (6, 3)
    assert (report.total.members, report.total.women, report.total.gender_unknown) == (6, 2, 3)


def test_rows_for_a_page_of_the_bodies_and_totals_of_all(mixed_body, settings):
    """The view builds the rows of one page; the totals and the multi-post holders stay those of every body."""
    settings.DXPLAN_MAX_CONCURRENT_POSTS = 1
    other = make_body()
    seat(other, gender=M)
    busy = factories.PersonFactory(family_name="多忙")
    seat(other, person=busy)
    seat(make_body(), person=busy)  # a body outside the report: counted, not shown

    report = reports.composition(
        bodies=Body.objects.filter(pk__in=[mixed_body.pk, other.pk]).order_by("id"), day=DURING, rows_for=[other]
    )

    assert [(row.body, row.members) for row in report.rows] == [(other, 2)]
    assert (report.total.members, report.total.women, report.total.gender_unknown) == (7, 2, 3)
    assert [(h.person, h.count) for h in report.multi_post_holders] == [(busy, 2)]


def test_only_members_in_office_that_day_are_counted(mixed_body):
    woman = Appointment.objects.filter(body=mixed_body, person__gender=F).members().first()
    services.appointment_end(
        actor=None, appointment=woman, ended_on=dt.date(2023, 9, 30), reason=Appointment.EndReason.RESIGNED
    )

    before = row_for(report_on(dt.date(2023, 9, 30), mixed_body), mixed_body)
    after = row_for(report_on(dt.date(2023, 10, 1), mixed_body), mixed_body)

    assert (before.members, before.women) == (5, 2)
    assert (after.members, after.women) == (4, 1)
    assert after.women_share == pytest.approx(1 / 2)


# --- people holding many posts (兼職) ------------------------------------------------------------


def test_people_holding_more_posts_than_allowed_are_listed(db, settings):
    settings.DXPLAN_MAX_CONCURRENT_POSTS = 2
    first, second, third = make_body(), make_body(), make_body()
    busy = factories.PersonFactory(family_name="多忙", family_name_kana="たぼう")
    two_posts = factories.PersonFactory(family_name="二役", family_name_kana="ふたやく")
    for body in (first, second, third):
        seat(body, person=busy)
    for body in (first, second):
        seat(body, person=two_posts)

    report = report_on(DURING, first, second, third)

    assert report.max_posts == 2
    assert [(h.person, h.count, set(h.bodies)) for h in report.multi_post_holders] == [
        (busy, 3, {first, second, third})
    ]


def test_posts_are_counted_across_bodies_outside_the_report(db, settings):
    settings.DXPLAN_MAX_CONCURRENT_POSTS = 2
    mine, elsewhere_1, elsewhere_2 = make_body(), make_body(), make_body()
    busy = factories.PersonFactory(family_name="多忙", family_name_kana="たぼう")
    for body in (mine, elsewhere_1, elsewhere_2):
        seat(body, person=busy)
    stranger = factories.PersonFactory(family_name="他所", family_name_kana="よそ")
    for body in (elsewhere_1, elsewhere_2, make_body()):
        seat(body, person=stranger)

    holders = report_on(DURING, mine).multi_post_holders

    # Only people sitting on a body of the report are listed (a secretariat sees its own people).
    assert [(h.person, h.count) for h in holders] == [(busy, 3)]


def test_ended_and_observer_posts_do_not_count(db, settings):
    settings.DXPLAN_MAX_CONCURRENT_POSTS = 2
    bodies = [make_body() for _ in range(4)]
    person = factories.PersonFactory()
    seat(bodies[0], person=person)
    seat(bodies[1], person=person)
    seat(bodies[2], person=person, category=Appointment.Category.OBSERVER)
    resigned = seat(bodies[3], person=person)
    services.appointment_end(
        actor=None, appointment=resigned, ended_on=dt.date(2023, 5, 31), reason=Appointment.EndReason.RESIGNED
    )

    assert report_on(dt.date(2023, 5, 31), *bodies).multi_post_holders[0].count == 3
    assert report_on(DURING, *bodies).multi_post_holders == []


# --- terms ending ------------------------------------------------------------------------------


@pytest.fixture
def ending_body(db):
    """Terms: two to 2024-03-31, one that resigns on 2023-12-31 (recorded ahead), one to 2025-05-09."""
    body = make_body()
    fixed = [seat(body, person=factories.PersonFactory(family_name=n)) for n in ("甲", "乙")]
    leaving = seat(body, person=factories.PersonFactory(family_name="丙"))
    services.appointment_end(
        actor=None, appointment=leaving, ended_on=dt.date(2023, 12, 31), reason=Appointment.EndReason.RESIGNED
    )
    Guideline.objects.filter(body=body).update(term_rule=Guideline.TermRule.YEARS, term_years=2, term_fixed_end=None)
    long = seat(body, person=factories.PersonFactory(family_name="丁"))
    assert long.term_end == dt.date(2025, 5, 9)
    return body, fixed, leaving


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (dt.date(2023, 11, 1), 60, {"丙"}),  # horizon 2023-12-31: the early end counts
        (dt.date(2024, 1, 30), 60, set()),  # horizon 2024-03-30
        (dt.date(2024, 1, 31), 60, {"甲", "乙"}),  # horizon 2024-03-31
        (dt.date(2024, 1, 30), 61, {"甲", "乙"}),
        (FIXED_END, 60, {"甲", "乙"}),
    ],
)
def test_terms_ending_within_the_configured_days(ending_body, settings, day, days, expected):
    settings.DXPLAN_TERM_ENDING_DAYS = days
    body, _fixed, _leaving = ending_body

    report = report_on(day, body)

    assert report.ending_days == days
    assert {a.person.family_name for a in row_for(report, body).ending_soon} == expected


def test_ending_named_keeps_the_first_few_and_counts_them_all(ending_body):
    body, fixed, _leaving = ending_body

    [row] = reports.composition(
        bodies=Body.objects.filter(pk=body.pk), day=dt.date(2024, 1, 31), ending_named=1
    ).rows

    assert (row.ending_soon, row.ending_soon_count) == ([fixed[0]], 2)
    assert row_for(report_on(dt.date(2024, 1, 31), body), body).ending_soon_count == 2


# --- vacancies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("seats", "members", "vacancies"), [(12, 3, 9), (3, 3, 0), (2, 3, 0), (None, 3, 0)])
def test_vacant_seats_are_seats_minus_members(db, seats, members, vacancies):
    body = make_body(seats=seats)
    for _ in range(members):
        seat(body)
    seat(body, category=Appointment.Category.OBSERVER)

    row = row_for(report_on(DURING, body), body)

    assert (row.seats, row.members, row.vacancies) == (seats, members, vacancies)


@pytest.fixture
def council(db):
    """A 審議会 whose officers are called 会長 and 副会長."""
    return make_body(chair_title="会長", vice_chair_title="副会長")


def test_vacant_vice_chair_post_is_shown_by_its_title(council):
    chair = seat(council)
    services.officer_elect_chair(actor=None, body=council, appointment=chair, selected_on=APPOINTED)

    assert row_for(report_on(DURING, council), council).vacant_posts == ["副会長"]


def test_no_vacant_posts_when_both_are_held(council):
    chair, vice = seat(council), seat(council)
    services.officer_elect_chair(actor=None, body=council, appointment=chair, selected_on=APPOINTED)
    services.officer_nominate_vice_chair(actor=None, body=council, appointment=vice, selected_on=APPOINTED)

    assert row_for(report_on(DURING, council), council).vacant_posts == []


def test_chair_post_is_vacant_after_the_chair_resigns(council):
    chair, vice = seat(council), seat(council)
    services.officer_elect_chair(actor=None, body=council, appointment=chair, selected_on=APPOINTED)
    services.officer_nominate_vice_chair(actor=None, body=council, appointment=vice, selected_on=APPOINTED)
    services.appointment_end(
        actor=None, appointment=chair, ended_on=dt.date(2023, 9, 30), reason=Appointment.EndReason.RESIGNED
    )

    assert row_for(report_on(dt.date(2023, 9, 30), council), council).vacant_posts == []
    assert row_for(report_on(dt.date(2023, 10, 1), council), council).vacant_posts == ["会長"]


def test_an_officer_whose_appointment_ended_leaves_the_post_vacant_whatever_the_officer_row_says(council):
    chair = seat(council)
    # As imported from the old spreadsheet: the officer row has no end, the 委嘱 ended on 2023-09-30.
    OfficerTerm.objects.create(
        body=council,
        role="chair",
        appointment=chair,
        selected_by="mutual_election",
        selected_on=APPOINTED,
        start_on=APPOINTED,
    )
    Appointment.objects.filter(pk=chair.pk).update(ended_on=dt.date(2023, 9, 30), end_reason="resigned")

    assert row_for(report_on(dt.date(2023, 9, 30), council), council).vacant_posts == ["副会長"]
    assert row_for(report_on(dt.date(2023, 10, 1), council), council).vacant_posts == ["会長", "副会長"]


def test_posts_the_guidelines_do_not_provide_are_never_vacant(db):
    body = make_body(vice_chair_selection=Guideline.Selection.NONE)
    without_guidelines = factories.BodyFactory()

    report = report_on(DURING, body, without_guidelines)

    assert row_for(report, body).vacant_posts == ["委員長"]
    assert row_for(report, without_guidelines).vacant_posts == []


def test_amended_titles_apply_from_their_effective_date(council):
    services.guideline_amend(
        actor=None,
        guideline=council.guidelines.get(),
        effective_on=dt.date(2023, 10, 1),
        amendment_note="名称変更",
        vice_chair_title="会長代理",
    )

    assert "副会長" in row_for(report_on(dt.date(2023, 9, 30), council), council).vacant_posts
    assert "会長代理" in row_for(report_on(dt.date(2023, 10, 1), council), council).vacant_posts


# --- query count -------------------------------------------------------------------------------


def _bulk_bodies(count: int) -> list[Body]:
    """`count` bodies under one unit, each with guidelines, 3 members, a chair and one shared busy member."""
    unit = factories.OrgUnitFactory()
    bodies = [factories.BodyFactory(secretariat=unit, seats=5) for _ in range(count)]
    Guideline.objects.bulk_create(
        Guideline(
            body=b, title="要綱", effective_on=dt.date(2023, 4, 1), term_rule="fixed_date", term_fixed_end=FIXED_END
        )
        for b in bodies
    )
    genders = (F, M, "")
    people = Person.objects.bulk_create(
        Person(
            family_name=f"委員{i}", family_name_kana="いいん", sort_key=kana.sort_key("いいん"), gender=genders[i % 3]
        )
        for i in range(3 * count)
    )
    busy = Person.objects.create(family_name="多忙", family_name_kana="たぼう")
    rows = [(b, p) for i, b in enumerate(bodies) for p in people[3 * i : 3 * i + 3]]
    rows += [(b, busy) for b in bodies]
    appointments = Appointment.objects.bulk_create(
        Appointment(body=b, person=p, appointed_on=APPOINTED, term_start=APPOINTED, term_end=FIXED_END) for b, p in rows
    )
    OfficerTerm.objects.bulk_create(
        OfficerTerm(
            body_id=a.body_id,
            role="chair",
            appointment=a,
            selected_by="mutual_election",
            selected_on=APPOINTED,
            start_on=APPOINTED,
            end_on=FIXED_END,
        )
        for a in appointments[: 3 * count : 3]
    )
    return bodies


def _render_with_queries(bodies, day):
    """Build the report and touch everything the template shows; returns the rows and the query count."""
    with CaptureQueriesContext(connection) as queries:
        report = report_on(day, *bodies)
        shown = [
            (
                r.body.short_name,
                r.members,
                r.women,
                r.gender_unknown,
                r.vacancies,
                tuple(r.vacant_posts),
                tuple((a.holder_name, a.effective_end) for a in r.ending_soon),
            )
            for r in report.rows
        ]
        shown += [(h.person.full_name, tuple(b.short_name for b in h.bodies)) for h in report.multi_post_holders]
    return shown, len(queries.captured_queries)


def test_composition_runs_the_same_queries_for_5_and_50_bodies(db, settings):
    settings.DXPLAN_MAX_CONCURRENT_POSTS = 4
    small, large = _bulk_bodies(5), _bulk_bodies(50)
    day = dt.date(2024, 3, 1)  # every term ends within 60 days

    small_rows, small_queries = _render_with_queries(small, day)
    large_rows, large_queries = _render_with_queries(large, day)

    assert (len(small_rows), len(large_rows)) == (5 + 1, 50 + 1)
    assert small_rows[0][1:6] == (4, 1, 2, 1, ("副委員長",))
    assert small_queries == large_queries
