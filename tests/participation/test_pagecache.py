"""The public meeting page in the page cache (core/pagecache.py) says what 傍聴 allows at the moment it is
read: registration opening or closing at its set time changes the page with no write to drop the cache,
so a cached page is never kept past that moment (issue 13's "no stale public page", issue 17)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.conftest import TOKYO


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.DXPLAN_PAGE_CACHE = True
    settings.DXPLAN_PAGE_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


def _page(meeting) -> str:
    response = Client(HTTP_ACCEPT_LANGUAGE="ja").get(reverse("meetings:detail", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_cached_page_is_not_kept_past_the_opening_of_registration(observation, django_assert_num_queries):
    register_url = reverse("participation:register", args=[observation.meeting.pk])
    opens = observation.opens_at
    with time_machine.travel(opens - dt.timedelta(minutes=2), tick=False):
        before = _page(observation.meeting)
        assert register_url not in before  # not yet open
        with django_assert_num_queries(0):
            assert _page(observation.meeting) == before  # served from the cache meanwhile
    with time_machine.travel(opens + dt.timedelta(seconds=30), tick=False):  # within the cache's 300 s
        assert register_url in _page(observation.meeting)


def test_a_cached_page_is_not_kept_past_the_close_of_registration(observation):
    register_url = reverse("participation:register", args=[observation.meeting.pk])
    closes = observation.closes_at
    with time_machine.travel(closes - dt.timedelta(seconds=60), tick=False):
        assert register_url in _page(observation.meeting)
    with time_machine.travel(closes + dt.timedelta(seconds=1), tick=False):
        assert register_url not in _page(observation.meeting)


def test_a_page_with_nothing_due_keeps_the_usual_time(observation):
    """Long before anything changes, the page is cached for the usual time: the bound only shortens it."""
    with time_machine.travel(dt.datetime(2023, 5, 1, 9, 0, tzinfo=TOKYO), tick=False):
        first = _page(observation.meeting)
    with time_machine.travel(dt.datetime(2023, 5, 1, 9, 4, tzinfo=TOKYO), tick=False):
        assert _page(observation.meeting) == first
