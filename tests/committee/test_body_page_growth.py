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
