"""Public pages are cached for visitors who are not signed in, and no change leaves one stale
(core/pagecache.py; issue 13, STYLE 16). Each change goes through the service a secretariat's page calls;
the page read after it must be exactly what a fresh render shows, and differ from what was cached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from committee import services as committee_services
from documents import services
from meetings import services as meeting_services
from meetings.models import Meeting
from tests.documents.conftest import MEMBERS, PUBLIC, client_for, pdf_bytes, upload


@pytest.fixture(autouse=True)
def page_cache(page_cache_on):
    """Every test here runs with the page cache on (tests/conftest.py)."""


def _page(url: str, **headers) -> bytes:
    response = Client(**headers).get(url)
    assert response.status_code == 200
    return response.content


def _fresh(settings, url: str) -> bytes:
    settings.DXPLAN_PAGE_CACHE = False
    try:
        return _page(url)
    finally:
        settings.DXPLAN_PAGE_CACHE = True


def test_a_public_page_is_served_from_the_cache_without_a_query(meeting, add_material, django_assert_num_queries):
    add_material(PUBLIC, title="公開の資料")
    url = reverse("meetings:detail", args=[meeting.pk])
    first = _page(url)
    with django_assert_num_queries(0):
        again = _page(url)
    assert again == first
    assert "公開の資料" in again.decode()


def test_signed_in_visitors_always_get_a_fresh_page(meeting, member, add_material):
    add_material(PUBLIC)
    url = reverse("meetings:detail", args=[meeting.pk])
    client = client_for(member)
    client.get(url)
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]
    assert member.email in response.content.decode()  # their own header, not a visitor's page


def test_each_language_is_kept_apart(meeting):
    url = reverse("meetings:detail", args=[meeting.pk])
    japanese = _page(url, HTTP_ACCEPT_LANGUAGE="ja")
    english = _page(url, HTTP_ACCEPT_LANGUAGE="en")
    assert japanese != english
    assert _page(url, HTTP_ACCEPT_LANGUAGE="en") == english


def test_a_language_cookie_chooses_the_kept_copy_too(meeting, settings):
    url = reverse("meetings:detail", args=[meeting.pk])
    english = _page(url, HTTP_ACCEPT_LANGUAGE="en")
    by_cookie = Client(HTTP_ACCEPT_LANGUAGE="ja")
    by_cookie.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert by_cookie.get(url).content == english
    assert _page(url, HTTP_ACCEPT_LANGUAGE="ja") != english


class _CountingCache:
    """The cache, with the name of every method called on it recorded."""

    def __init__(self, cache):
        self._cache, self.calls = cache, []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self._cache, name)


def test_a_kept_page_costs_one_round_trip_and_carries_the_headers_of_a_fresh_one(meeting, monkeypatch):
    """The page and the generation are read together, and the middleware answers before the session and
    locale middleware: what they and the security headers added when the page was rendered is kept with it."""
    from core import pagecache

    url = reverse("meetings:detail", args=[meeting.pk])
    fresh = Client(HTTP_ACCEPT_LANGUAGE="en").get(url)
    counting = _CountingCache(pagecache.cache)
    monkeypatch.setattr(pagecache, "cache", counting)
    resolved = []
    monkeypatch.setattr(pagecache, "resolve", lambda *args: resolved.append(args) or pytest.fail("resolved again"))
    kept = Client(HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert counting.calls == ["get_many"]
    assert resolved == []  # the path's view is remembered in the process
    assert kept.content == fresh.content
    assert dict(kept.headers) == dict(fresh.headers)
    assert kept["Content-Language"] == "en" and "Accept-Language" in kept["Vary"]
    assert kept["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in kept


def test_nothing_is_kept_before_its_transaction_commits(settings, meeting):
    """Until the change commits, the generation stays: a page rendered from the old data in the meantime
    is kept under it, and the commit makes it unreachable."""
    url = reverse("meetings:detail", args=[meeting.pk])
    before = _page(url)
    row = Meeting.objects.get(pk=meeting.pk)
    row.venue_room = "第三会議室"
    row.save()  # inside the test's transaction, which never commits
    assert _page(url) == before


def _public_material(add_material):
    return add_material(PUBLIC, title="推進体制について")


CHANGES = {
    "publish": lambda secretariat, meeting, material: services.material_set_visibility(
        actor=secretariat, material=material, visibility=PUBLIC
    ),
    "withdraw": lambda secretariat, meeting, material: services.material_withdraw(
        actor=secretariat, material=material, reason="誤りがあったため"
    ),
    "replace (差替)": lambda secretariat, meeting, material: services.material_replace(
        actor=secretariat, material=material, upload=upload("差替.pdf", pdf_bytes(3)), note="数値の修正"
    ),
    "closed (非公開)": lambda secretariat, meeting, material: services.material_set_closed(
        actor=secretariat, material=material, is_closed=True
    ),
    "venue changed": lambda secretariat, meeting, material: meeting_services.meeting_update(
        actor=secretariat, meeting=meeting, venue_name="青森県観光物産館アスパム"
    ),
    "cancelled": lambda secretariat, meeting, material: meeting_services.meeting_cancel(
        actor=secretariat, meeting=meeting, reason="台風接近のため"
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_no_change_leaves_the_meeting_page_stale(
    change, settings, meeting, secretariat, add_material, django_capture_on_commit_callbacks
):
    level = MEMBERS if change == "publish" else PUBLIC
    material = add_material(level, title="推進体制について")
    url = reverse("meetings:detail", args=[meeting.pk])
    before = _page(url)
    assert _page(url) == before  # now served from the cache
    with django_capture_on_commit_callbacks(execute=True):  # the service's transaction commits
        CHANGES[change](secretariat, Meeting.objects.get(pk=meeting.pk), material)
    after = _page(url)
    assert after != before, f"the page still shows what it showed before: {change}"
    assert after == _fresh(settings, url)


@pytest.mark.parametrize("page", ["committee:body_detail", "committee:home"])
def test_a_roster_change_reaches_the_body_pages(
    page, settings, body, chair, secretariat, in_term, django_capture_on_commit_callbacks
):
    url = reverse(page, args=[body.slug]) if page == "committee:body_detail" else reverse(page)
    appointment = chair.person.appointments.get(body=body)
    before = _page(url)
    assert _page(url) == before
    with django_capture_on_commit_callbacks(execute=True):
        committee_services.appointment_end(
            actor=secretariat, appointment=appointment, ended_on=in_term - dt.timedelta(days=1),
            reason="resigned",
        )
    after = _page(url)
    assert after == _fresh(settings, url)
    if page == "committee:body_detail":
        assert after != before


def test_a_write_outside_a_service_drops_the_pages_too(settings, meeting, django_capture_on_commit_callbacks):
    """The admin and data migrations save models without a service: their saves drop the pages as well."""
    url = reverse("meetings:detail", args=[meeting.pk])
    before = _page(url)
    row = Meeting.objects.get(pk=meeting.pk)
    row.venue_room = "第三会議室"
    with django_capture_on_commit_callbacks(execute=True):
        row.save()
    after = _page(url)
    assert after != before and "第三会議室" in after.decode()
