"""What every export answers with: a rate limit per client address, ETag and Last-Modified with conditional
GET, cache headers a proxy may act on, CORS for browser clients, and one fixed language."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.decorators import decorator_from_middleware
from django.utils.http import http_date
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

from core.http import client_ip

# Public exports may be kept this long by a proxy or a browser; a change shows within five minutes.
MAX_AGE = 300
# django-stubs types decorator_from_middleware loosely (a view or a class may come back); applied to a
# view it returns a view, and ConditionalGetMiddleware answers with the view's response or a 304 (an HttpResponse).
conditional = cast(
    Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]],
    decorator_from_middleware(ConditionalGetMiddleware),
)


def client_address(group: str, request: HttpRequest) -> str:
    """The client's address, behind the PROXY_COUNT trusted proxies too (core.http.client_ip)."""
    return client_ip(request) or ""


def limited(request: HttpRequest) -> bool:
    return is_ratelimited(
        request,
        group="opendata",
        key=client_address,
        rate=settings.DXPLAN_OPENDATA_RATE,
        method=ALL,
        increment=True,
    )


def too_many(request: HttpRequest) -> HttpResponse:
    """429 with a page in the visitor's language saying when to try again."""
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[settings.DXPLAN_OPENDATA_RATE[-1]]
    response = render(request, "opendata/429.html", {"retry_after": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    patch_cache_control(response, no_store=True)
    return response


def export(*, language: str | None = "ja") -> Callable:
    """Wrap a view that publishes open data. Data exports are rendered in Japanese whatever the visitor's
    language, so one cached copy serves everyone; pages (language=None) follow the visitor."""

    def wrap(view: Callable) -> Callable:
        conditional_view = conditional(view)

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                response = HttpResponse(status=405)
                response["Allow"] = "GET, HEAD"
                return response
            if limited(request):
                return too_many(request)
            if language:
                with translation.override(language):
                    response = conditional_view(request, *args, **kwargs)
            else:
                response = conditional_view(request, *args, **kwargs)
            if language and response.status_code in (200, 304):
                # Data is the same for everyone. Pages (language=None) carry the site's forms and their
                # CSRF token, so no shared cache may keep them.
                patch_cache_control(response, public=True, max_age=MAX_AGE)
                response["Access-Control-Allow-Origin"] = "*"
            if not language:
                patch_vary_headers(response, ["Accept-Language", "Cookie"])
            return response

        wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # Django reads this flag set on view functions
        return wrapped

    return wrap


def set_last_modified(response: HttpResponse, when: dt.datetime | None) -> HttpResponse:
    if when is not None:
        response["Last-Modified"] = http_date(when.timestamp())
    return response
