"""core.exports.answer_conditionally: how the page cache answers a stored copy (tests/notices/
test_calendar_conditional.py runs it through the cache)."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory

from core.exports import answer_conditionally, retry_after


def _stored(**headers: str) -> HttpResponse:
    response = HttpResponse(b"BEGIN:VCALENDAR")
    for name, value in headers.items():
        response[name] = value
    return response


def test_a_stored_copy_with_an_etag_answers_304():
    stored = _stored(ETag='"abc"', **{"Cache-Control": "public, max-age=900"})
    answer = answer_conditionally(RequestFactory().get("/", HTTP_IF_NONE_MATCH='"abc"'), stored)
    assert answer.status_code == 304 and answer["ETag"] == '"abc"'
    assert answer["Cache-Control"] == stored["Cache-Control"]
    assert answer_conditionally(RequestFactory().get("/", HTTP_IF_NONE_MATCH='"other"'), stored) is stored


def test_a_stored_copy_with_last_modified_answers_304():
    stored = _stored(**{"Last-Modified": "Thu, 01 Jun 2023 01:00:00 GMT"})
    since = RequestFactory().get("/", HTTP_IF_MODIFIED_SINCE="Thu, 01 Jun 2023 01:00:00 GMT")
    assert answer_conditionally(since, stored).status_code == 304
    before = RequestFactory().get("/", HTTP_IF_MODIFIED_SINCE="Thu, 01 Jun 2023 00:59:59 GMT")
    assert answer_conditionally(before, stored) is stored


def test_a_page_without_validators_is_served_as_stored():
    """No 412 for If-Match on a cached page that never had an ETag: it is answered as it was stored."""
    stored = _stored()
    assert answer_conditionally(RequestFactory().get("/", HTTP_IF_MATCH='"abc"'), stored) is stored
    assert answer_conditionally(RequestFactory().get("/", HTTP_IF_UNMODIFIED_SINCE="Thu, 01 Jun 2023 01:00:00 GMT"),
                                stored) is stored


def test_head_is_served_as_stored():
    stored = _stored(ETag='"abc"')
    assert answer_conditionally(RequestFactory().head("/", HTTP_IF_NONE_MATCH='"abc"'), stored) is stored


def test_retry_after_is_the_period_of_the_rate():
    assert [retry_after(rate) for rate in ("5/s", "120/m", "10/h", "1/d")] == [1, 60, 3600, 86400]
