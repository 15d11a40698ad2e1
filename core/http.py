"""The client's address behind trusted reverse proxies (PROXY_COUNT), for audit entries and throttling; POST-only
views that send a GET back to their form (post_only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.translation import gettext as _


def valid_address(value: str) -> str | None:
    """`value` as an IP address in its normal form, or None if it is not one."""
    return _address(value)


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with PROXY_COUNT trusted proxies in front, the address the outermost of them saw.

    Each proxy appends the address it was reached from to X-Forwarded-For, so with N proxies the client is
    the N-th entry from the right; anything left of it was written by the client and is not trusted. A
    header with fewer entries (the request did not pass every proxy) or a malformed entry leaves REMOTE_ADDR.
    """
    remote = request.META.get("DXPLAN_PROXY_ADDR") or request.META.get("REMOTE_ADDR")
    count = settings.PROXY_COUNT
    if count <= 0:
        return remote
    entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if len(entries) < count:
        return remote
    return _address(entries[-count]) or remote


def post_only(page: Callable[..., str]) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Like require_POST, but a GET or HEAD goes to `page(*args, **kwargs)` (the page the form is on) with a
    message that nothing was sent, instead of a bare 405.

    The login page sends a user back to the address they last asked for: someone whose session ran out while
    they filled in a form (a member answering attendance on a phone) logs in and lands on the form's POST-only
    address. Their input cannot be replayed (the browser sent it to the login redirect), so they are brought
    back to the form and told to send it again. Put it under login_required; the page checks access itself.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method in ("GET", "HEAD"):
                messages.warning(
                    request,
                    _("Nothing was sent from this address: it only receives a form. If you had to log in on the "
                      "way, your session had ended; fill in the form again and send it."),
                )
                return HttpResponseRedirect(page(*args, **kwargs))
            return HttpResponseNotAllowed(["POST"])

        return wrapped

    return decorator
