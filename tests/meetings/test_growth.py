"""The secretariat's dashboard and a meeting's manage page at many times the demo's size (issue 13): an
absolute cap on queries, under 200 KB of HTML, lists paginated with nothing lost between pages, and the
dashboard's counts right (each in its own subquery, not a join of attendance × items × materials)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from documents.models import Material
from meetings.models import Agenda, AgendaItem, Attendance, Meeting
from meetings.views.secretariat import AGENDA_SHOWN, ATTENDANCE_PAGE, DASHBOARD_PAGE, UNANSWERED_NAMED

from .conftest import add_attendance, add_members, at, sign_in

MAX_BYTES = 200 * 1024
OPEN, STALE = 70, 30  # the demo has about a dozen meetings


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, user)
    return client


def _manage_links(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/manage/meetings/(\d+)/"', html)]


@pytest.fixture
def many_meetings(body, guideline, in_term):
    """OPEN meetings to come (from 2023-06-10 on) and STALE ones whose day passed still 予定 (before
    2023-06-01), each with its 次第; bulk rows."""
    first = dt.date(2023, 6, 10)
    rows = [Meeting(body=body, number=n + 1, title=body.name, fiscal_year=2023,
                    start_at=at(first + dt.timedelta(days=n % 250), 14 + n % 4)) for n in range(OPEN)]
    rows += [Meeting(body=body, number=1000 + n, title=body.name, fiscal_year=2022,
                     start_at=at(dt.date(2023, 5, 31) - dt.timedelta(days=n))) for n in range(STALE)]
    meetings = Meeting.objects.bulk_create(rows)
    Agenda.objects.bulk_create(Agenda(meeting=m) for m in meetings)
    return meetings


def test_the_dashboard_counts_right_with_capped_queries_and_pages(
    many_meetings, body, guideline, secretariat, django_assert_max_num_queries
):
    counted = many_meetings[0]  # the first to come: on the first page
    members = add_members(body, guideline, 0, 40)
    add_attendance(counted, members)
    Attendance.objects.filter(appointment__in=members[:7]).update(reply="")
    Attendance.objects.filter(appointment__in=members[10:13]).update(actual=Attendance.Actual.PRESENT)
    AgendaItem.objects.bulk_create(AgendaItem(agenda=counted.agenda, title=f"議題{n}", position=n) for n in range(9))
    Material.objects.bulk_create(
        Material(meeting=counted, label=f"資料{n}", title="資料", position=n) for n in range(4)
    )
    for other in many_meetings[1:40]:  # rows elsewhere must not count here
        add_attendance(other, members[:5])
    client = _client(secretariat)
    url = reverse("meetings:dashboard")
    client.get(url)

    with django_assert_max_num_queries(14):
        response = client.get(url)
    html = response.content.decode()
    assert len(response.content) < MAX_BYTES, len(response.content)
    row = html[html.index(f'href="/manage/meetings/{counted.pk}/"'):]
    row = row[: row.index("</tr>")]
    assert "7 of 40 not answered" in row
    assert "<td>9</td>" in row  # agenda items
    assert "none" in row  # the 4 materials have no file: none uploaded
    assert f"1–{DASHBOARD_PAGE} of {OPEN}" in html

    seen = []
    for number in range(1, OPEN // DASHBOARD_PAGE + 2):
        with django_assert_max_num_queries(14):
            page = client.get(url, {"page": number}).content.decode()
        table = page[page.index('id="open-h"'): page.index('id="stale-h"')]
        seen += _manage_links(table)
    assert sorted(seen) == sorted(m.pk for m in many_meetings[:OPEN])  # each open meeting once

    stale_seen = []
    for number in range(1, STALE // DASHBOARD_PAGE + 2):
        page = client.get(url, {"stale": number}).content.decode()
        stale_seen += _manage_links(page[page.index('id="stale-h"'):])
    assert sorted(stale_seen) == sorted(m.pk for m in many_meetings[OPEN:])


def test_the_dashboard_counts_in_subqueries_not_a_join(many_meetings, secretariat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(secretariat)
    client.get(reverse("meetings:dashboard"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("meetings:dashboard"))
    listing = [q["sql"] for q in queries.captured_queries if "meetings_agendaitem" in q["sql"]]
    assert listing, "the meetings' counts are read"
    for sql in listing:
        # Each relation is counted in its own subquery: no GROUP BY over a join of the relations.
        assert "COUNT(DISTINCT" not in sql.upper()
        assert sql.upper().count("SELECT") >= 5  # the outer query and one subquery per count


@pytest.fixture
def crowded_meeting(body, guideline, secretariat, in_term):
    """A meeting with 300 members invited (half not answered), 200 agenda items and 200 materials."""
    from meetings import services

    meeting = services.meeting_create(actor=secretariat, body=body, start_at=at(dt.date(2023, 6, 7)))
    members = add_members(body, guideline, 0, 300)
    add_attendance(meeting, members)
    Attendance.objects.filter(meeting=meeting, appointment__in=members[::2]).update(reply="")
    AgendaItem.objects.bulk_create(AgendaItem(agenda=meeting.agenda, title=f"議題{n:03d}", position=n)
                                   for n in range(200))
    Material.objects.bulk_create(Material(meeting=meeting, label=f"資料{n}", title="資料", position=n)
                                 for n in range(200))
    return meeting


def test_the_manage_page_is_bounded_with_capped_queries(
    crowded_meeting, secretariat, django_assert_max_num_queries
):
    client = _client(secretariat)
    url = reverse("meetings:manage", args=[crowded_meeting.pk])
    client.get(url)
    with django_assert_max_num_queries(30):
        response = client.get(url)
    html = response.content.decode()
    assert len(response.content) < MAX_BYTES, len(response.content)
    assert html.count('name="actual-') == ATTENDANCE_PAGE
    assert f"and {150 - UNANSWERED_NAMED} more" in html  # the unanswered: named up to a point, then counted
    assert "議題000" in html and f"議題{AGENDA_SHOWN - 1:03d}" in html and f"議題{AGENDA_SHOWN:03d}" not in html
    assert f"and {200 - AGENDA_SHOWN} more items" in html

    with django_assert_max_num_queries(30):
        third = client.get(url, {"att": 3}).content.decode()
    rows = list(Attendance.objects.filter(meeting=crowded_meeting).values_list("pk", flat=True))
    on_third = {int(pk) for pk in re.findall(r'name="actual-(\d+)"', third)}
    on_first = {int(pk) for pk in re.findall(r'name="actual-(\d+)"', html)}
    assert len(on_third) == ATTENDANCE_PAGE and not on_third & on_first and on_third <= set(rows)
    # The forms of a page post back to that page (htmx redraws the same page of the table).
    assert "/record/?att=3" in third


def test_recording_one_page_leaves_the_other_pages_alone(crowded_meeting, secretariat, after_meeting):
    client = _client(secretariat)
    url = reverse("meetings:manage", args=[crowded_meeting.pk])
    second = client.get(url, {"att": 2}).content.decode()
    on_second = [int(pk) for pk in re.findall(r'name="actual-(\d+)"', second)]
    data = {f"actual-{pk}": Attendance.Actual.ABSENT for pk in on_second}
    client.post(reverse("meetings:manage_action", args=[crowded_meeting.pk, "record"]) + "?att=2", data)
    recorded = set(Attendance.objects.filter(meeting=crowded_meeting).exclude(actual="").values_list("pk", flat=True))
    assert recorded == set(on_second)


def test_the_meeting_page_is_bounded_with_capped_queries(
    crowded_meeting, guideline, secretariat, django_assert_max_num_queries
):
    """300 members and 200 materials: one page of each (the 出席者名簿, the ZIP and the PDF hold them all),
    nothing lost between pages, the quorum counted over every member."""
    from meetings.views._common import MATERIALS_PAGE
    from meetings.views.public import ATTENDANCE_PAGE as MEETING_ATTENDANCE_PAGE

    Meeting.objects.filter(pk=crowded_meeting.pk).update(status=Meeting.Status.HELD)
    guideline.quorum_rule = guideline.Quorum.HALF_OR_MORE
    guideline.save(update_fields=["quorum_rule"])
    Attendance.objects.filter(meeting=crowded_meeting).exclude(reply="").update(actual=Attendance.Actual.PRESENT)
    client = _client(secretariat)
    url = reverse("meetings:detail", args=[crowded_meeting.pk])
    client.get(url)
    with django_assert_max_num_queries(16):
        response = client.get(url)
    html = response.content.decode()
    assert len(response.content) < MAX_BYTES, len(response.content)
    first = {int(n) for n in re.findall(r"資料(\d+) 資料 <span", html)}
    assert first == set(range(MATERIALS_PAGE))
    assert "200 materials" in html
    assert html.count('class="fw-normal"') == MEETING_ATTENDANCE_PAGE
    assert "Quorum: 150 / 150" in " ".join(html.split())  # 150 present of 300 (half or more), from every row

    seen = set(first)
    for number in range(2, 200 // MATERIALS_PAGE + 1):
        with django_assert_max_num_queries(16):
            page = client.get(url, {"materials": number}).content.decode()
        shown = {int(n) for n in re.findall(r"資料(\d+) 資料 <span", page)}
        assert not shown & seen
        seen |= shown
    assert seen == set(range(200))
    names = set()
    for number in range(1, 300 // MEETING_ATTENDANCE_PAGE + 1):
        page = client.get(url, {"att": number}).content.decode()
        names |= set(re.findall(r'<th scope="row" class="fw-normal">([^<]+)</th>', page))
    assert len(names) == 300


@pytest.mark.parametrize("online_counts", [True, False])
def test_the_quorum_counted_in_sql_is_the_quorum_counted_over_the_rows(
    crowded_meeting, guideline, online_counts
):
    """The meeting page counts the quorum in the database; the manage page over the rows it holds."""
    from meetings import selectors

    guideline.quorum_rule = guideline.Quorum.MAJORITY
    guideline.online_counts_for_quorum = online_counts
    guideline.save(update_fields=["quorum_rule", "online_counts_for_quorum"])
    rows = list(Attendance.objects.filter(meeting=crowded_meeting).order_by("pk"))
    answers = ["", "venue", "online", "absent"]
    records = [("", ""), ("present", "venue"), ("present", "online"), ("late", "online"), ("left_early", "venue"),
               ("absent", "")]
    for n, row in enumerate(rows):
        row.reply = answers[n % len(answers)]
        row.actual, row.actual_mode = records[(n // 4) % len(records)]
    Attendance.objects.bulk_update(rows, ["reply", "actual", "actual_mode"])

    in_sql = selectors.quorum(crowded_meeting)
    over_rows = selectors.quorum(crowded_meeting, selectors.attendance_rows(crowded_meeting))
    assert in_sql == over_rows
    assert 0 < in_sql.counted < in_sql.members == 300


def test_the_manage_pages_rows_come_in_the_order_of_the_attendance_list(crowded_meeting, secretariat):
    """Ordered in SQL a page at a time, the rows run as attendance_rows orders them all: members 五十音順,
    then the other attendees by role and order."""
    from meetings import selectors
    from meetings.models import Attendee

    for role, position in (("secretariat", 1), ("explainer", 2), ("official", 3)):
        guest = Attendee.objects.create(meeting=crowded_meeting, role=role, title=f"{role}の所属", position=position)
        Attendance.objects.create(meeting=crowded_meeting, attendee=guest)
    client = _client(secretariat)
    url = reverse("meetings:manage", args=[crowded_meeting.pk])
    shown = []
    for number in range(1, 303 // ATTENDANCE_PAGE + 2):
        page = client.get(url, {"att": number}).content.decode()
        shown += [int(pk) for pk in re.findall(r'name="actual-(\d+)"', page)]
    assert shown == [row.pk for row in selectors.attendance_rows(crowded_meeting)]
