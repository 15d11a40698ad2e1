"""The client's address behind trusted proxies (PROXY_COUNT): core.http.client_ip and its middleware."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.audit import audit_record
from core.http import client_ip
from core.middleware import ClientAddressMiddleware


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "10.0.0.9"),
        (0, "198.51.100.4", "10.0.0.9"),  # no proxy is trusted: the header is the client's own words
        (1, "198.51.100.4", "198.51.100.4"),
        (1, "203.0.113.66, 198.51.100.4", "198.51.100.4"),  # a forged entry on the left is ignored
        (2, "203.0.113.66, 198.51.100.4, 10.1.1.1", "198.51.100.4"),
        (2, "198.51.100.4", "10.0.0.9"),  # fewer entries than proxies: not through every proxy
        (1, "not-an-address", "10.0.0.9"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.PROXY_COUNT = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", **extra)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_the_middleware_gives_every_reader_of_remote_addr_the_client(settings):
    settings.PROXY_COUNT = 1
    seen = {}

    def view(request):
        seen["addr"] = request.META["REMOTE_ADDR"]
        seen["entry"] = audit_record(actor=None, action="test", ip_address=request.META["REMOTE_ADDR"])
        return None

    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44")
    ClientAddressMiddleware(view)(request)
    assert seen["addr"] == "192.0.2.44"
    assert seen["entry"].ip_address == "192.0.2.44"
    assert request.META["DXPLAN_PROXY_ADDR"] == "127.0.0.1"
    assert client_ip(request) == "192.0.2.44"  # reading it again gives the same answer
