"""What every published export (open data, calendar feeds) has in common: conditional GET with ETag and
Last-Modified, and a rate limit per client address. The apps above decide their cache headers, their
language and how a refusal reads; the page cache (core.pagecache) answers its stored copies with the same
rules, so a cached export still says 304 and still counts against the limit."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import get_conditional_response
from django.utils.decorators import decorator_from_middleware
from django.utils.http import http_date, parse_http_date_safe

from .cache import count
from .http import client_ip

View = Callable[..., HttpResponse]

# django-stubs types decorator_from_middleware loosely (a view or a class may come back); applied to a
# view it returns a view, and ConditionalGetMiddleware answers with the view's response or a 304 (an HttpResponse).
conditional = cast(Callable[[View], View], decorator_from_middleware(ConditionalGetMiddleware))

SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_address(group: str, request: HttpRequest) -> str:
    """The client's address, behind the PROXY_COUNT trusted proxies too (core.http.client_ip)."""
    return client_ip(request) or ""


def limited(request: HttpRequest, *, group: str, rate: str, counted: int | None = None) -> bool:
    """Count this request against `rate` ("120/m") for its client address in `group`; true once over it.

    A fixed window of the rate's period, as django-ratelimit counts, but in one round trip to Redis
    (core.cache.count: INCR, and the expiry set with the key) where django-ratelimit takes two (`add`, then
    `incr`): every request to an export is counted, the kept copies of the page cache too (issue 13), which
    count in the same round trip as they read the copy (`counted`: the count that made)."""
    key, number, period = rate_counter(request, group=group, rate=rate)
    if counted is None:
        counted = count(cache, key, period + 1)
    return counted > number


def rate_counter(request: HttpRequest, *, group: str, rate: str) -> tuple[str, int, int]:
    """The cache key counting this request's window for its client address in `group`, the number of
    requests `rate` allows in a window and the window's seconds."""
    number, period = _rate(rate)
    address = hashlib.sha256(client_address(group, request).encode()).hexdigest()[:32]
    return f"dxplan:rate:{group}:{number}/{period}:{int(time.time()) // period}:{address}", number, period


def _rate(rate: str) -> tuple[int, int]:
    """("120/m") → (120, 60)."""
    number, unit = rate.split("/")
    return int(number), SECONDS[unit[-1]] * int(unit[:-1] or 1)


def retry_after(rate: str) -> int:
    """The seconds of the period of `rate` ("120/m": 60), for Retry-After."""
    return _rate(rate)[1]


def set_last_modified(response: HttpResponse, when: dt.datetime | None) -> HttpResponse:
    if when is not None:
        response["Last-Modified"] = http_date(when.timestamp())
    return response


def answer_conditionally(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A stored response, or 304 when the request's If-None-Match / If-Modified-Since match the ETag /
    Last-Modified it carries (ConditionalGetMiddleware's rule, without computing an ETag: it has one or not)."""
    etag = response.get("ETag")
    last_modified = parse_http_date_safe(response.get("Last-Modified") or "")
    if request.method != "GET" or not (etag or last_modified):
        return response
    # Given a response, get_conditional_response returns it or a 304; never None.
    answer = get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)
    return cast(HttpResponse, answer)


class Throttle:
    """The check of an export's rate limit: count the request per client address in `group` against
    DXPLAN_OPENDATA_RATE (the one rate of every export); over it, `refuse(request, seconds to wait)`, else
    None. The page cache counts a request in the round trip that reads its kept copy (`counter`) and hands the
    count over (`counted`); the check, in front of the kept copy or the view, then uses that count instead of
    counting again."""

    def __init__(self, *, group: str, refuse: Callable[[HttpRequest, int], HttpResponse]) -> None:
        self.group, self.refuse = group, refuse

    def counter(self, request: HttpRequest) -> tuple[str, int]:
        """The cache key of this request's count and its expiry (seconds)."""
        key, _number, period = rate_counter(request, group=self.group, rate=settings.DXPLAN_OPENDATA_RATE)
        return key, period + 1

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        rate = settings.DXPLAN_OPENDATA_RATE
        counted = getattr(request, "_dxplan_counted", {}).get(self.group)
        return self.refuse(request, retry_after(rate)) if limited(request, group=self.group, rate=rate,
                                                                   counted=counted) else None

    def counted(self, request: HttpRequest, number: int) -> None:
        """`request` was counted (`number`) on its way to the view: the view's check does not count it again."""
        request._dxplan_counted = {**getattr(request, "_dxplan_counted", {}), self.group: number}  # type: ignore[attr-defined]


def throttle(*, group: str, refuse: Callable[[HttpRequest, int], HttpResponse]) -> Throttle:
    return Throttle(group=group, refuse=refuse)


def rate_limited(*, group: str, refuse: Callable[[HttpRequest, int], HttpResponse]) -> Callable[[View], View]:
    """A view counted by `throttle(group, refuse)` before it runs. The view carries the check as `throttle`,
    which the page cache calls for the copies it serves without running the view."""
    check = throttle(group=group, refuse=refuse)

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            return check(request) or view(request, *args, **kwargs)

        wrapped.throttle = check  # type: ignore[attr-defined]  # read by core.pagecache
        return wrapped

    return wrap


def throttle_of(view: object) -> Throttle | None:
    """The rate limit check of a view decorated with `rate_limited`, else None."""
    return cast(Throttle | None, getattr(view, "throttle", None))
