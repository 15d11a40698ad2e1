"""The client's address behind trusted reverse proxies (PROXY_COUNT), for audit entries and throttling."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
