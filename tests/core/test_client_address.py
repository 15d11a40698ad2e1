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


def test_nothing_but_core_http_reads_the_client_address_itself():
    """Every audit entry, download record and throttle key takes the address from core.http.client_ip;
    a module reading REMOTE_ADDR or X-Forwarded-For directly would show the proxy, or trust a forged header."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {root / "core" / "http.py", root / "core" / "middleware.py"}
    readers = []
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in {".venv", "tests", "bench", "var", "node_modules"} or path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        if "REMOTE_ADDR" in text or "HTTP_X_FORWARDED_FOR" in text:
            readers.append(str(path.relative_to(root)))
    assert readers == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "10.0.0.9"),
        (0, "203.0.113.66", "10.0.0.9"),  # spoofed: no proxy is trusted
        (1, "198.51.100.4", "198.51.100.4"),
        (1, "203.0.113.66, 198.51.100.4", "198.51.100.4"),  # spoofed entry left of the proxy's
        (2, "203.0.113.66, 198.51.100.4, 10.1.1.1", "198.51.100.4"),
        (2, "198.51.100.4", "10.0.0.9"),  # did not pass both proxies
    ],
)
def test_failed_login_and_its_lockout_record_the_client_behind_the_proxies(
    client, settings, proxies, forwarded, expected
):
    from axes.models import AccessAttempt
    from django.urls import reverse

    from core.models import AuditEntry

    settings.PROXY_COUNT = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    client.post(reverse("login"), {"username": "x@test.example", "password": "y" * 12}, REMOTE_ADDR="10.0.0.9", **extra)

    assert AuditEntry.objects.get(action="login_failed").ip_address == expected
    assert AccessAttempt.objects.get().ip_address == expected


@pytest.mark.django_db
def test_password_reset_audit_records_the_client_behind_a_proxy(client, settings):
    from django.urls import reverse

    from core.models import AuditEntry
    from tests import factories

    settings.PROXY_COUNT = 1
    factories.UserFactory(email="kanako@test.example")
    client.post(
        reverse("password_reset"),
        {"email": "kanako@test.example"},
        REMOTE_ADDR="10.0.0.9",
        HTTP_X_FORWARDED_FOR="203.0.113.66, 198.51.100.4",
    )
    assert AuditEntry.objects.get(action="password_reset_requested").ip_address == "198.51.100.4"


@pytest.mark.django_db
def test_an_action_a_service_records_while_serving_a_request_says_from_where(settings):
    """A service writes its audit entry without being told the address (an approval, a publication, a send):
    the entry still records the client's address, behind the proxy too; in a task, none."""
    settings.PROXY_COUNT = 1
    seen = {}

    def view(request):
        seen["entry"] = audit_record(actor=None, action="test")  # as every service calls it
        return None

    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.44")
    ClientAddressMiddleware(view)(request)
    assert seen["entry"].ip_address == "192.0.2.44"
    assert audit_record(actor=None, action="test").ip_address is None  # outside a request: a task, a command
    settings.PROXY_COUNT = 0
    ClientAddressMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=""))
    assert seen["entry"].ip_address is None  # no well-formed address: none recorded
