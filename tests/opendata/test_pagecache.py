"""The open data is served from the public page cache like the public pages (core/pagecache.py; issue 13):
OParl, the CSV datasets, Popolo and the Atom feeds, each kept per address (its query string included) and
dropped by every change that can alter it. A copy from the cache still counts against the rate limit per
client address and still answers conditional requests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from meetings import services as meetings
from tests.conftest import TOKYO, appoint

CODE = "020001"  # DXPLAN_LOCAL_GOVERNMENT_CODE's default: the OParl Body


@pytest.fixture(autouse=True)
def page_cache(page_cache_on):
    """Every test here runs with the page cache on (tests/conftest.py)."""


@pytest.fixture
def meeting(body, secretariat, chair, member_appointment, in_term):
    """第1回 on 2023-06-07 14:00, its 次第 approved and the notice sent: in every export."""
    start = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)
    meeting = meetings.meeting_create(
        actor=secretariat, body=body, start_at=start, end_at=start + dt.timedelta(hours=2), venue_name="青森県庁"
    )
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = meetings.agenda_submit(actor=secretariat, meeting=meeting)
    meetings.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    return meetings.meeting_mark_notified(actor=secretariat, meeting=meeting)


def _exports(meeting) -> list[str]:
    return [
        f"/oparl/body/{CODE}/meeting/",
        f"/oparl/body/{CODE}/person/",
        f"/oparl/body/{CODE}/membership/",
        f"/oparl/meeting/{meeting.pk}/",
        f"/oparl/organization/{meeting.body_id}/meeting/",
        "/opendata/meetings.csv",
        "/opendata/meetings.csv?bom=1",
        f"/opendata/bodies/{meeting.body.slug}/meetings.csv",
        f"/opendata/bodies/{meeting.body.slug}/roster.csv",
        f"/opendata/bodies/{meeting.body.slug}/popolo.json",
        "/opendata/feed.atom",
        f"/opendata/bodies/{meeting.body.slug}/feed.atom",
    ]


def _get(path: str, **headers):
    response = Client(**headers).get(path)
    assert response.status_code == 200, path
    return response


def _fresh(settings, path: str) -> bytes:
    settings.DXPLAN_PAGE_CACHE = False
    try:
        return _get(path).content
    finally:
        settings.DXPLAN_PAGE_CACHE = True


def test_every_export_is_served_from_the_cache_without_a_query(meeting, django_assert_num_queries):
    for path in ["/oparl/", "/oparl/body/", f"/oparl/body/{CODE}/", *_exports(meeting)]:
        first = _get(path)
        with django_assert_num_queries(0):
            again = _get(path)
        assert again.content == first.content, path
        assert again["ETag"] == first["ETag"] and again["Content-Type"] == first["Content-Type"], path


def test_what_is_kept_is_the_response_as_sent_without_the_data_it_was_rendered_from(meeting):
    """A REST framework response holds the data it was rendered from: kept with it, a page of 100 OParl
    meetings pickled to twice its size and took ten times as long to read back (issue 13)."""
    from django.core.cache import cache
    from django.http import HttpResponse
    from django.test import RequestFactory

    from core import pagecache

    path = f"/oparl/body/{CODE}/meeting/"
    fresh = _get(path)
    assert hasattr(fresh, "data")  # the REST framework's response
    key = pagecache._key(RequestFactory().get(path), "ja")
    _generation, kept = cache.get(key)
    assert type(kept) is HttpResponse and not hasattr(kept, "data")
    assert kept.content == fresh.content and kept.status_code == 200
    assert kept["ETag"] == fresh["ETag"] and kept["Content-Type"] == fresh["Content-Type"]
    # Every header it had when it was kept; the middleware outside the page cache adds its own to both.
    assert all(fresh[header] == value for header, value in kept.headers.items())


def test_each_address_is_kept_apart(meeting):
    """The query string is part of the key: the Excel variant and a page of a list are their own copies."""
    plain = _get("/opendata/meetings.csv").content
    excel = _get("/opendata/meetings.csv?bom=1").content
    assert excel == "\ufeff".encode() + plain
    assert _get("/opendata/meetings.csv").content == plain
    everything = _get(f"/oparl/body/{CODE}/person/").json()
    assert len(everything["data"]) == 2
    one = _get(f"/oparl/body/{CODE}/person/?limit=1").json()
    assert len(one["data"]) == 1


def test_no_change_leaves_an_export_stale(settings, meeting, body, secretariat, django_capture_on_commit_callbacks):
    """The meeting cancelled and a member appointed, each through its service: every export read after the
    commits is exactly what a fresh render shows, and differs from the copy kept before."""
    paths = _exports(meeting)
    before = {path: _get(path).content for path in paths}
    assert {path: _get(path).content for path in paths} == before  # now served from the cache

    with django_capture_on_commit_callbacks(execute=True):  # the services' transactions commit
        meetings.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風接近のため")
    with django_capture_on_commit_callbacks(execute=True):
        appoint(body, "新井", "あらい", given="光")

    after = {path: _get(path).content for path in paths}
    assert {path for path in paths if after[path] == before[path]} == set()
    assert {path for path in paths if after[path] != _fresh(settings, path)} == set()


def test_a_copy_from_the_cache_still_counts_against_the_rate_limit(settings, meeting):
    settings.DXPLAN_OPENDATA_RATE = "3/m"
    path = "/opendata/feed.atom"
    client = Client(REMOTE_ADDR="192.0.2.20")
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]  # rendered once, then the copy
    refused = client.get(path)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert Client(REMOTE_ADDR="192.0.2.21").get(path).status_code == 200  # another address has its own count


def test_a_refusal_in_front_of_a_kept_copy_is_in_the_visitors_language(settings, meeting):
    """The page cache answers before the locale middleware runs; its 429 is still written in the language
    the visitor asked for, whatever the process last answered in."""
    settings.DXPLAN_OPENDATA_RATE = "2/m"
    path = "/opendata/feed.atom"
    for address, language, words in (
        ("192.0.2.30", "en", "Too many requests"),
        ("192.0.2.31", "ja", "リクエストが多すぎます"),
    ):
        client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
        assert [client.get(path).status_code for _ in range(2)] == [200, 200]
        with translation.override("en" if language == "ja" else "ja"):  # what a previous request left active
            refused = client.get(path)
        assert refused.status_code == 429
        assert words in refused.content.decode(), language
        assert refused["Content-Language"] == language


def test_a_copy_from_the_cache_answers_conditional_requests(meeting, django_assert_num_queries):
    path = f"/oparl/meeting/{meeting.pk}/"
    first = _get(path)
    with django_assert_num_queries(0):
        assert Client().get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        assert Client().get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_a_feed_is_sent_in_one_piece_fresh_and_from_the_cache(meeting):
    """The syndication framework writes a feed a bit at a time; the server sends each piece of a response
    apart, so the feed is joined into one, as rendered and as kept (4 ms of a 10 KB feed through gunicorn)."""
    for path in ("/opendata/feed.atom", f"/opendata/bodies/{meeting.body.slug}/feed.atom"):
        fresh, kept = _get(path), _get(path)
        assert (len(list(fresh)), len(list(kept))) == (1, 1), path
        assert b"".join(kept) == fresh.content


def test_a_kept_export_is_read_and_counted_in_one_round_trip_to_redis(meeting):
    """On Redis (production), the copy, the generation it must carry and the request's count against the rate
    limit are one pipeline: nothing else is asked of Redis."""
    import uuid

    from django.core.cache import cache
    from django.test import override_settings

    from tests.servers import redis_calls, require_local_redis

    require_local_redis()
    prefix = f"dxplan-test-{uuid.uuid4().hex}"
    redis_cache = {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15", "KEY_PREFIX": prefix}
    with override_settings(CACHES={"default": redis_cache}):
        client = cache._cache.get_client(write=True)
        try:
            first = _get("/opendata/feed.atom")
            with redis_calls(client) as (commands, executed):
                kept = _get("/opendata/feed.atom")
            assert commands == [] and executed == [2]
            assert kept.content == first.content
        finally:
            mine = list(client.scan_iter(match=f"{prefix}:*"))
            if mine:
                client.delete(*mine)
