"""Calendar feeds bounded to a window of 年度 (issue 13): by default the current and the previous 年度 and
what is planned after them, an older 年度 by ?year=; a fixed number of queries whatever the years."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from meetings.models import Meeting
from notices.tokens import feed_token
from tests.conftest import TOKYO

PER_YEAR = 12
YEARS = range(2012, 2025)  # 年度 2012 … 2024; "now" is 2023-06-01 (in_term): 2023 is the current one


@pytest.fixture
def years_of_meetings(body, in_term):
    """PER_YEAR dated meetings in each 年度 of YEARS, the first on 1 April 00:00 and the last on 31 March
    23:00 (the edges of the 年度), numbered (年度 − 2000) × 100 + n (the number is a small integer)."""
    rows = []
    for year in YEARS:
        first = dt.datetime(year, 4, 1, 0, 0, tzinfo=TOKYO)
        last = dt.datetime(year + 1, 3, 31, 23, 0, tzinfo=TOKYO)
        days = [first + (last - first) * n / (PER_YEAR - 1) for n in range(PER_YEAR)]
        rows += [
            Meeting(body=body, number=(year - 2000) * 100 + n, title=body.name, fiscal_year=year, start_at=day)
            for n, day in enumerate(days)
        ]
    return Meeting.objects.bulk_create(rows)


def numbers(content: str, meetings: list[Meeting]) -> set[int]:
    """The numbers of the meetings whose event the feed carries."""
    return {m.number for m in meetings if f"meeting-{m.pk}@" in content}


def test_the_public_feed_carries_the_current_and_previous_year_and_what_follows(
    years_of_meetings, body, django_assert_max_num_queries
):
    url = reverse("notices:body_calendar", args=[body.slug])
    with django_assert_max_num_queries(4):
        response = Client().get(url)
    assert response.status_code == 200
    carried = numbers(response.content.decode(), years_of_meetings)
    assert carried == {m.number for m in years_of_meetings if m.fiscal_year >= 2022}
    assert response.content.decode().count("BEGIN:VEVENT") == 3 * PER_YEAR


def test_an_older_year_is_one_parameter_away(years_of_meetings, body, django_assert_max_num_queries):
    url = reverse("notices:body_calendar", args=[body.slug])
    with django_assert_max_num_queries(4):
        response = Client().get(url, {"year": "2015"})
    assert response.status_code == 200
    # Both edges of 平成27年度 (2015-04-01 00:00 and 2016-03-31 23:00) are in, nothing of 2014 or 2016.
    assert numbers(response.content.decode(), years_of_meetings) == {15 * 100 + n for n in range(PER_YEAR)}


@pytest.mark.parametrize("year", ["R5", "20155", "-1", "1600", ""])
def test_a_year_that_is_not_one_is_refused_with_the_reason(years_of_meetings, body, member, year):
    for url in (reverse("notices:body_calendar", args=[body.slug]),
                reverse("notices:member_calendar", args=[feed_token(member)])):
        response = Client(HTTP_ACCEPT_LANGUAGE="en").get(url, {"year": year})
        assert response.status_code == 400
        assert "such as 2024 for 令和6年度" in response.content.decode()


def test_the_member_feed_has_the_same_window(years_of_meetings, member, body, django_assert_max_num_queries):
    url = reverse("notices:member_calendar", args=[feed_token(member)])
    with django_assert_max_num_queries(8):
        content = Client().get(url).content.decode()
    carried = numbers(content, years_of_meetings)
    assert carried and min(carried) // 100 >= 22  # nothing before the previous 年度
    assert not numbers(Client().get(url, {"year": "2015"}).content.decode(), years_of_meetings) - {
        15 * 100 + n for n in range(PER_YEAR)
    }


def test_the_window_is_documented_on_the_feed_pages(body, member):
    from tests.meetings.conftest import sign_in

    page = Client().get(reverse("opendata:datasets")).content.decode()
    assert "?year=2023" in page and "令和5年度" in page
    client = Client()
    sign_in(client, member)
    assert "?year=2023" in client.get(reverse("notices:my_calendar")).content.decode()
