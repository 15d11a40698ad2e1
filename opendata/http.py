"""What every open-data export answers with: a rate limit per client address, ETag and Last-Modified with
conditional GET (both from core.exports, shared with the calendar feeds), cache headers a proxy may act on,
CORS for browser clients, and one fixed language."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from core.exports import conditional, throttle

# Public exports may be kept this long by a proxy or a browser; a change shows within five minutes.
MAX_AGE = 300


def too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    """429 with a page in the visitor's language saying when to try again."""
    response = render(request, "opendata/429.html", {"retry_after": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    patch_cache_control(response, no_store=True)
    return response


# Every open-data request counts per client address (core.exports.throttle; the calendar feeds count apart).
limited = throttle(group="opendata", refuse=too_many)


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
            refusal = limited(request)
            if refusal is not None:
                return refusal
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
        wrapped.throttle = limited  # type: ignore[attr-defined]  # as core.exports.rate_limited, for the page cache
        return wrapped

    return wrap

