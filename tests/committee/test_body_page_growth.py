"""The public body page and the home page at many times the demo's size (issue 13): members and bodies
paginated (nothing lost between pages, numbering carried on), the secretariat's name read with one flat
query per level of the organisation (no nested prefetch), and an absolute cap on queries."""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee.models import Body
from committee.selectors import load_unit_names
from committee.views import HOME_PAGE, ROSTER_PAGE
from tests import factories
from tests.meetings.conftest import add_members

MAX_BYTES = 200 * 1024
MEMBERS = 250  # the demo's committee has 12


def _names(html: str) -> list[str]:
    return re.findall(r"<td>(委員\d{4} 花子)</td>", html)


def test_the_roster_is_paginated_with_capped_queries(body, guideline, in_term, django_assert_max_num_queries):
    add_members(body, guideline, 0, MEMBERS)
    url = reverse("committee:body_detail", args=[body.slug])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.get(url)
    seen, numbers = [], []
    for page in range(1, MEMBERS // ROSTER_PAGE + 2):
        with django_assert_max_num_queries(16):
            response = client.get(url, {"page": page})
        html = response.content.decode()
        assert len(response.content) < MAX_BYTES, len(response.content)
        seen += _names(html)
        numbers += [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', html)]
    assert sorted(seen) == sorted(f"委員{n:04d} 花子" for n in range(MEMBERS))  # each member once
    assert numbers == list(range(1, MEMBERS + 1))  # No. runs on across the pages


def test_the_home_page_is_paginated(db, unit):
    Body.objects.bulk_create(
        Body(name=f"審議会{n:03d}", short_name=f"審{n:03d}", slug=f"b-{n:03d}", secretariat=unit, display_order=n)
        for n in range(HOME_PAGE + 20)
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    first = client.get(reverse("committee:home")).content.decode()
    second = client.get(reverse("committee:home"), {"page": 2}).content.decode()
    assert "審議会000" in first and f"審議会{HOME_PAGE - 1:03d}" in first and f"審議会{HOME_PAGE:03d}" not in first
    assert f"審議会{HOME_PAGE:03d}" in second and f"審議会{HOME_PAGE + 19:03d}" in second
    assert "審議会000" not in second


def test_unit_names_load_one_flat_query_per_level(db):
    """課 → 部 → 県: three queries, each a plain one, and the names read from them."""
    import datetime as dt

    government = factories.OrgUnitFactory(code="pref", kind="government", name__name="青森県")
    department = factories.OrgUnitFactory(code="kikaku", kind="department", name__name="企画政策部",
                                          name__parent=government)
    division = factories.OrgUnitFactory(code="dx", name__name="DX推進課", name__parent=department)
    division = type(division).objects.get(pk=division.pk)
    with CaptureQueriesContext(connection) as queries:
        load_unit_names([division])
    assert len(queries) == 3
    assert all(q["sql"].upper().count("SELECT") == 1 for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as again:
        assert division.full_name_on(dt.date(2030, 1, 1)) == "青森県企画政策部DX推進課"
        assert division.department_on(dt.date(2030, 1, 1)).pk == department.pk
    assert len(again) == 0



def test_the_composition_report_is_paginated_and_names_a_few_per_body(
    body, guideline, secretariat, in_term, django_assert_max_num_queries
):
    from committee.views import COMPOSITION_PAGE, ENDING_NAMED

    add_members(body, guideline, 0, 40)  # their terms end on 2024-03-31: not soon on 2023-06-01
    Body.objects.bulk_create(
        Body(name=f"審議会{n:03d}", short_name=f"審{n:03d}", slug=f"b-{n:03d}", secretariat=body.secretariat,
             display_order=n)
        for n in range(COMPOSITION_PAGE + 10)
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(secretariat, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("committee:composition")
    client.get(url)
    with django_assert_max_num_queries(20):
        first = client.get(url, {"on": "2024-03-01"}).content.decode()
    second = client.get(url, {"on": "2024-03-01", "page": 2}).content.decode()
    rows = re.compile(r'<th scope="row"><a href="/bodies/')
    assert len(rows.findall(first)) == COMPOSITION_PAGE and len(rows.findall(second)) == 11
    # 40 terms end within the horizon on 2024-03-01: ENDING_NAMED named, the rest counted and linked.
    named = re.findall(r"委員\d{4} 花子", first + second)
    assert len(named) == ENDING_NAMED
    assert f"and {40 - ENDING_NAMED} more</a>" in first + second


def test_the_roster_kept_by_the_secretariat_is_paginated_in_force_first(
    body, guideline, secretariat, in_term, django_assert_max_num_queries
):
    from committee.manage_views import ROSTER_MANAGE_PAGE
    from committee.models import Appointment

    appointments = add_members(body, guideline, 0, 120)
    gone = appointments[:5]  # ended last month: listed after everyone in office, whatever their reading
    Appointment.objects.filter(pk__in=[a.pk for a in gone]).update(ended_on="2023-05-20", end_reason="resigned")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(secretariat, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("committee:roster_manage", args=[body.slug])
    client.get(url)
    seen = []
    for page in range(1, 120 // ROSTER_MANAGE_PAGE + 2):
        with django_assert_max_num_queries(20):
            response = client.get(url, {"page": page})
        assert len(response.content) < MAX_BYTES
        seen += re.findall(r'<tr id="appointment-(\d+)">', response.content.decode())
    assert len(seen) == len(set(seen)) == 120
    assert [int(pk) for pk in seen[-5:]] == [a.pk for a in gone]


# --- the composition report at 10× the bodies and members -------------------------------------------

COMPOSITION_ROWS = 10  # a page of the report in this test (the site's page is larger)


def _grow_composition(unit, other_unit, busy, *, start: int, count: int) -> None:
    """`count` more bodies of `unit`, each with guidelines (a chair and a vice chair provided for, neither
    chosen), a woman, a man whose term ends next month, a member whose gender is not recorded, and on every
    fourth body a seat held by a post. Each batch adds one person holding four posts (as many as the test
    allows: not listed) and one holding five on `other_unit`'s bodies only (counted, not listed). The first
    batch gives `busy` two posts here and three on `other_unit`'s bodies (listed: posts are counted across
    every body)."""
    import datetime as dt

    from committee.models import Appointment, Guideline, Person
    from tests.conftest import APPOINTED

    fixed_end = dt.date(2024, 3, 31)
    bodies = Body.objects.bulk_create(
        Body(name=f"審議会{n:04d}", short_name=f"審{n:04d}", slug=f"c-{n:04d}", secretariat=unit, display_order=n)
        for n in range(start, start + count)
    )
    Guideline.objects.bulk_create(
        Guideline(body=b, title="要綱", effective_on=APPOINTED, term_rule="fixed_date", term_fixed_end=fixed_end)
        for b in bodies
    )
    others = Body.objects.bulk_create(
        Body(name=f"他審議会{start}-{n}", short_name=f"他{start}-{n}", slug=f"o-{start}-{n}", secretariat=other_unit)
        for n in range(5)
    )
    genders = (Person.Gender.FEMALE, Person.Gender.MALE, "")
    people = Person.objects.bulk_create(
        Person(family_name=f"委員{start}-{i}", family_name_kana="いいん", sort_key="いいん", gender=genders[i % 3])
        for i in range(3 * count)
    )
    allowed, stranger = Person.objects.bulk_create(
        Person(family_name=name, family_name_kana="たしょ", sort_key="たしょ") for name in (f"兼{start}", f"他{start}")
    )
    seat = {"appointed_on": APPOINTED, "term_start": APPOINTED, "term_end": fixed_end}
    ending = {**seat, "term_end": dt.date(2023, 7, 1)}
    seats = [
        Appointment(body=b, person=p, **(ending if p.gender == Person.Gender.MALE else seat))
        for i, b in enumerate(bodies)
        for p in people[3 * i : 3 * i + 3]
    ]
    seats += [Appointment(body=b, post_title="企画政策部次長", **seat) for b in bodies[::4]]
    seats += [Appointment(body=b, person=allowed, **seat) for b in bodies[:4]]
    seats += [Appointment(body=b, person=stranger, **seat) for b in others]
    if start == 0:
        seats += [Appointment(body=b, person=busy, **seat) for b in [bodies[-1], bodies[-2], *others[:3]]]
    Appointment.objects.bulk_create(seats)


def _expected_composition(unit, day, max_posts):
    """The totals and the multi-post holders counted here in Python, row by row, without the report."""
    from committee.models import Appointment

    in_office = [
        a for a in Appointment.objects.select_related("person", "body") if a.is_member and a.is_active_on(day)
    ]
    mine = [a for a in in_office if a.body.secretariat_id == unit.pk]
    totals = (
        len(mine),
        sum(1 for a in mine if a.person is not None and a.person.gender == "female"),
        sum(1 for a in mine if a.person is None or a.person.gender == ""),
    )
    posts: dict = {}
    for a in in_office:
        if a.person is not None:
            posts.setdefault(a.person, []).append(a.body)
    sitting = {a.person for a in mine}
    holders = sorted(
        (p.full_name, len(held), sorted(b.short_name for b in held))
        for p, held in posts.items()
        if len(held) > max_posts and p in sitting
    )
    return totals, holders


def test_the_composition_page_costs_the_same_at_ten_times_the_bodies_and_members(
    unit, secretariat, in_term, settings, monkeypatch, django_assert_max_num_queries
):
    """Only the bodies of the page are read and counted one by one: the queries, the rows read and the HTML
    stay the same from 3 to 30 pages of bodies, and the totals and multi-post holders are still those of
    every body."""
    from django.db.models.signals import post_init

    from committee import views
    from committee.models import Person

    monkeypatch.setattr(views, "COMPOSITION_PAGE", COMPOSITION_ROWS)
    settings.DXPLAN_MAX_CONCURRENT_POSTS = 4
    other_unit = factories.OrgUnitFactory()
    busy = Person.objects.create(family_name="多忙", given_name="花子", family_name_kana="たぼう")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(secretariat, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("committee:composition")
    loaded: list[type] = []

    def count_loaded(sender, **kwargs):
        loaded.append(sender)

    measured = []
    for start, count in ((0, 3 * COMPOSITION_ROWS), (3 * COMPOSITION_ROWS, 27 * COMPOSITION_ROWS)):
        _grow_composition(unit, other_unit, busy, start=start, count=count)
        client.get(url)
        loaded.clear()
        post_init.connect(count_loaded)
        try:
            with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(14):
                response = client.get(url)
        finally:
            post_init.disconnect(count_loaded)
        html = response.content.decode()
        assert len(re.findall(r'<th scope="row"><a href="/bodies/', html)) == COMPOSITION_ROWS
        assert len(response.content) < MAX_BYTES
        report = response.context["report"]
        shown = {(tuple(row.vacant_posts), len(row.ending_soon)) for row in report.rows}
        assert shown == {(("委員長", "副委員長"), 1)}  # each row of the page has its details
        totals, holders = _expected_composition(unit, in_term, settings.DXPLAN_MAX_CONCURRENT_POSTS)
        assert (report.total.members, report.total.women, report.total.gender_unknown) == totals
        assert sorted(
            (h.person.full_name, h.count, sorted(b.short_name for b in h.bodies)) for h in report.multi_post_holders
        ) == holders == [("多忙 花子", 5, sorted(["審0028", "審0029", "他0-0", "他0-1", "他0-2"]))]
        assert f'<td class="text-end">{totals[0]}</td>' in html.split("<tfoot>")[1]
        measured.append((len(queries), len(loaded), len(response.content)))
    (small_queries, small_loaded, small_size), (large_queries, large_loaded, large_size) = measured
    assert large_queries == small_queries
    assert large_loaded == small_loaded  # model instances built: the page's, not every body's
    assert 0 <= large_size - small_size <= 20  # longer numbers only: totals, "of 30 pages"
