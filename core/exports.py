"""What every published export (open data, calendar feeds) has in common: conditional GET with ETag and
Last-Modified, and a rate limit per client address. The apps above decide their cache headers, their
language and how a refusal reads; the page cache (core.pagecache) answers its stored copies with the same
rules, so a cached export still says 304 and still counts against the limit."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Protocol, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import get_conditional_response
from django.utils.decorators import decorator_from_middleware
from django.utils.http import http_date, parse_http_date_safe
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from .http import client_ip

View = Callable[..., HttpResponse]

# django-stubs types decorator_from_middleware loosely (a view or a class may come back); applied to a
# view it returns a view, and ConditionalGetMiddleware answers with the view's response or a 304 (an HttpResponse).
conditional = cast(Callable[[View], View], decorator_from_middleware(ConditionalGetMiddleware))

SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_address(group: str, request: HttpRequest) -> str:
    """The client's address, behind the PROXY_COUNT trusted proxies too (core.http.client_ip)."""
    return client_ip(request) or ""


def limited(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this request against `rate` ("120/m") for its client address in `group`; true once over it."""
    return is_ratelimited(request, group=group, key=client_address, rate=rate, method=ALL, increment=True)


def retry_after(rate: str) -> int:
    """The seconds of the period of `rate` ("120/m": 60), for Retry-After."""
    return SECONDS[rate[-1]]


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


class Throttle(Protocol):
    def __call__(self, request: HttpRequest) -> HttpResponse | None: ...


def throttle(*, group: str, refuse: Callable[[HttpRequest, int], HttpResponse]) -> Throttle:
    """The check of an export's rate limit: count the request per client address in `group` against
    DXPLAN_OPENDATA_RATE (the one rate of every export); over it, `refuse(request, seconds to wait)`, else None."""

    def check(request: HttpRequest) -> HttpResponse | None:
        rate = settings.DXPLAN_OPENDATA_RATE
        return refuse(request, retry_after(rate)) if limited(request, group=group, rate=rate) else None

    return check


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
