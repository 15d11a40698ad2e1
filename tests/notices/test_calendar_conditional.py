"""The calendar feeds are exports like the open data (issue 16, point 5): ETag and Last-Modified with
conditional GET, also when the page cache answers; a DTSTAMP that stays the same between requests (the
meeting's last change), so the ETag does until a meeting changes; a rate limit per client address with a
clear 429. Invitations mailed (iTIP) keep the time they were made as DTSTAMP."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.http import http_date, parse_http_date
from icalendar import Calendar

from committee.models import Body
from meetings import services as meeting_services
from meetings.models import Meeting
from notices import services
from notices.models import Notice
from notices.tokens import feed_token
from tests.conftest import IN_TERM

pytestmark = pytest.mark.django_db

LATER = IN_TERM + dt.timedelta(hours=3)  # still before the meeting (2023-06-07)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The rate limit and the page cache both live in the cache: each test starts from nothing.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _body_set_up_before(body):
    """The body's history says it was set up long before "now" (its fixture is made before the clock is
    set to IN_TERM): the feed's Last-Modified is then its meetings' last change."""
    Body.history.filter(id=body.pk).update(history_date=IN_TERM - dt.timedelta(days=60))


@pytest.fixture
def page_cache(settings):
    settings.DXPLAN_PAGE_CACHE = True


def feed_url(meeting: Meeting) -> str:
    return reverse("notices:body_calendar", args=[meeting.body.slug])


def dtstamps(content: bytes) -> list[str]:
    return re.findall(r"^DTSTAMP:(\S+)\r$", content.decode(), flags=re.MULTILINE)


def test_the_public_feed_carries_etag_and_last_modified_and_answers_304(meeting):
    url = feed_url(meeting)
    response = Client().get(url)
    assert response.status_code == 200 and b"BEGIN:VEVENT" in response.content
    etag, modified = response["ETag"], response["Last-Modified"]
    assert "public" in response["Cache-Control"] and "max-age=900" in response["Cache-Control"]
    by_etag = Client().get(url, HTTP_IF_NONE_MATCH=etag)
    assert by_etag.status_code == 304 and not by_etag.content
    assert by_etag["ETag"] == etag and "public" in by_etag["Cache-Control"]
    by_date = Client().get(url, HTTP_IF_MODIFIED_SINCE=modified)
    assert by_date.status_code == 304 and not by_date.content

    with time_machine.travel(LATER, tick=False):  # hours later, the same answers
        later = Client().get(url, HTTP_IF_MODIFIED_SINCE=modified)
        assert later.status_code == 304 and later["ETag"] == etag and later["Last-Modified"] == modified
    # Last-Modified is the latest change: the meeting's (planned in the fixture, at IN_TERM).
    assert parse_http_date(modified) == int(IN_TERM.timestamp())


def test_dtstamp_is_the_meetings_last_change_and_the_same_for_every_request(meeting, member):
    url = feed_url(meeting)
    member_url = reverse("notices:member_calendar", args=[feed_token(member)])
    first = Client().get(url)
    with time_machine.travel(LATER, tick=False):
        again = Client().get(url)
        member_first = Client().get(member_url)
    with time_machine.travel(LATER + dt.timedelta(hours=1), tick=False):
        member_again = Client().get(member_url)
    history = Meeting.history.filter(id=meeting.pk).latest("history_date").history_date
    expected = history.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert dtstamps(first.content) == dtstamps(again.content) == [expected]
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert dtstamps(member_first.content) == dtstamps(member_again.content) == [expected]
    assert member_again["ETag"] == member_first["ETag"]


def test_a_change_of_a_meeting_changes_etag_last_modified_and_dtstamp(meeting, secretariat):
    url = feed_url(meeting)
    before = Client().get(url)
    with time_machine.travel(LATER, tick=False):
        meeting_services.meeting_update(actor=secretariat, meeting=meeting, venue_name="青森県観光物産館アスパム")
        after = Client().get(url, HTTP_IF_NONE_MATCH=before["ETag"])
        assert after.status_code == 200 and "アスパム" in after.content.decode()
        assert after["ETag"] != before["ETag"]
        assert parse_http_date(after["Last-Modified"]) == int(LATER.timestamp())
        assert dtstamps(after.content) == [LATER.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")]
        since = Client().get(url, HTTP_IF_MODIFIED_SINCE=before["Last-Modified"])
        assert since.status_code == 200, "a change after Last-Modified must not answer 304"


def test_the_page_cache_answers_304_with_the_same_validators(page_cache, meeting, django_assert_num_queries):
    url = feed_url(meeting)
    stored = Client().get(url)
    with django_assert_num_queries(0):  # from the cache, not the view
        again = Client().get(url)
        by_etag = Client().get(url, HTTP_IF_NONE_MATCH=stored["ETag"])
        by_date = Client().get(url, HTTP_IF_MODIFIED_SINCE=stored["Last-Modified"])
        other = Client().get(url, HTTP_IF_NONE_MATCH='"something-else"')
    assert again.content == stored.content
    assert (again["ETag"], again["Last-Modified"]) == (stored["ETag"], stored["Last-Modified"])
    assert by_etag.status_code == 304 and not by_etag.content and by_etag["ETag"] == stored["ETag"]
    assert by_date.status_code == 304 and by_date["Last-Modified"] == stored["Last-Modified"]
    assert other.status_code == 200 and other.content == stored.content


def test_a_change_is_not_hidden_by_the_page_cache(
    page_cache, meeting, secretariat, django_capture_on_commit_callbacks
):
    url = feed_url(meeting)
    stored = Client().get(url)
    assert Client().get(url, HTTP_IF_NONE_MATCH=stored["ETag"]).status_code == 304
    with time_machine.travel(LATER, tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # the service's transaction commits
            meeting_services.meeting_update(actor=secretariat, meeting=meeting, venue_name="青森県観光物産館アスパム")
        after = Client().get(url, HTTP_IF_NONE_MATCH=stored["ETag"])
        assert after.status_code == 200 and "アスパム" in after.content.decode()
        assert after["ETag"] != stored["ETag"]
        assert after["Last-Modified"] == http_date(LATER.timestamp())
        # the new copy is cached in turn, and answers its own validators
        assert Client().get(url, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


@pytest.mark.parametrize("cached", [False, True], ids=["view", "page cache"])
def test_the_public_feed_answers_429_per_client_address(cached, meeting, settings):
    settings.DXPLAN_PAGE_CACHE = cached
    settings.DXPLAN_OPENDATA_RATE = "2/m"
    url = feed_url(meeting)
    client = Client()
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60" and "no-store" in refused["Cache-Control"]
    assert "public" not in refused["Cache-Control"] and "ETag" not in refused
    assert refused["Content-Type"].startswith("text/plain")
    assert "リクエストが多すぎます" in refused.content.decode() and "60秒" in refused.content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 429
    assert "Too many requests" in english.content.decode() and "wait 60 seconds" in english.content.decode()
    # A 304 is counted too: it is a request all the same.
    assert client.get(url, HTTP_IF_NONE_MATCH="*").status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.10").get(url).status_code == 200


def test_the_member_feed_is_private_answers_304_and_is_limited(meeting, member, settings):
    url = reverse("notices:member_calendar", args=[feed_token(member)])
    response = Client().get(url)
    assert response.status_code == 200 and "secret-room-4711" in response.content.decode()
    control = response["Cache-Control"]
    assert "private" in control and "no-store" in control and "public" not in control
    not_modified = Client().get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert not_modified.status_code == 304 and not not_modified.content
    assert "private" in not_modified["Cache-Control"]
    settings.DXPLAN_OPENDATA_RATE = "1/m"
    cache.clear()
    assert Client().get(url).status_code == 200
    assert Client().get(url).status_code == 429


def test_the_member_feed_is_kept_until_a_change_and_never_for_a_retired_address(
    page_cache, meeting, member, secretariat, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """The member's feed is kept per address until the next write to the database (issue 13): the calendar
    client's next poll costs no query, a change of a meeting shows at once, and an address retired by a
    reset answers 404 from the moment the reset commits."""
    url = reverse("notices:member_calendar", args=[feed_token(member)])
    first = Client().get(url)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = Client().get(url)
    assert again.content == first.content and again["ETag"] == first["ETag"]

    with time_machine.travel(LATER, tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # the service's transaction commits
            meeting_services.meeting_update(actor=secretariat, meeting=meeting, venue_name="青森県観光物産館アスパム")
        changed = Client().get(url)
    assert changed.status_code == 200 and "アスパム" in changed.content.decode()
    assert changed["ETag"] != first["ETag"]

    kept = Client().get(url)
    assert kept.content == changed.content
    with django_capture_on_commit_callbacks(execute=True):
        member.feed_generation += 1  # what a password reset does to the old address
        member.save(update_fields=["feed_generation"])
    assert Client().get(url).status_code == 404


def test_an_invitation_is_stamped_when_it_is_made(
    approved, meeting, secretariat, member, django_capture_on_commit_callbacks
):
    """iTIP (RFC 5546): a REQUEST's DTSTAMP is when the message was made, not the meeting's last change."""
    revised = Meeting.history.filter(id=meeting.pk).latest("history_date").history_date
    with time_machine.travel(LATER, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    message = next(m for m in mail.outbox if m.to == [member.email])
    part = next(p for p in message.message().walk() if p.get_content_type() == "text/calendar")
    event = next(iter(Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")))
    assert event["DTSTAMP"].dt == LATER > revised
