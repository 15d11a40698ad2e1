"""Password-reset requests are throttled per client address and per address asked for (issue 11, W2),
with one translated answer whether or not an account has the address."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from tests import factories

URL = "/accounts/password_reset/"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _ask(email: str, *, addr: str = "192.0.2.10", lang: str = "ja", **extra):
    return Client(REMOTE_ADDR=addr).post(URL, {"email": email}, HTTP_ACCEPT_LANGUAGE=lang, **extra)


def _page(response, name: str) -> str:
    """The page with the address typed and the form's CSRF token (random per response) taken out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return html.replace(name, "X")


def test_the_url_is_the_reset_page():
    assert reverse("password_reset") == URL


@pytest.mark.django_db
def test_twenty_requests_for_one_address_from_one_client_are_not_all_accepted(settings):
    settings.DXPLAN_PASSWORD_RESET_RATE = "10/h"
    settings.DXPLAN_PASSWORD_RESET_ADDRESS_RATE = "3/h"
    factories.UserFactory(email="kanako@test.example")

    codes = [_ask("kanako@test.example").status_code for _ in range(20)]

    assert codes[:3] == [302, 302, 302]
    assert set(codes[3:]) == {429}


@pytest.mark.django_db
def test_one_client_is_limited_across_addresses(settings):
    settings.DXPLAN_PASSWORD_RESET_RATE = "5/h"
    settings.DXPLAN_PASSWORD_RESET_ADDRESS_RATE = "100/h"
    codes = [_ask(f"n{i}@test.example").status_code for i in range(8)]
    assert codes == [302] * 5 + [429] * 3
    assert _ask("n9@test.example", addr="192.0.2.99").status_code == 302  # another client is not held up


@pytest.mark.django_db
def test_one_address_is_limited_across_clients(settings):
    settings.DXPLAN_PASSWORD_RESET_RATE = "100/h"
    settings.DXPLAN_PASSWORD_RESET_ADDRESS_RATE = "2/h"
    codes = [_ask("Kanako@Test.example ", addr=f"192.0.2.{i}").status_code for i in range(1, 5)]
    assert codes == [302, 302, 429, 429]  # case and spaces do not make it another address


@pytest.mark.django_db
def test_the_throttled_answer_is_the_same_for_known_and_unknown_addresses(settings):
    settings.DXPLAN_PASSWORD_RESET_RATE = "100/h"
    settings.DXPLAN_PASSWORD_RESET_ADDRESS_RATE = "1/h"
    factories.UserFactory(email="kanako@test.example")
    for email in ("kanako@test.example", "nobody@test.example"):
        assert _ask(email).status_code == 302
    known, unknown = _ask("kanako@test.example"), _ask("nobody@test.example")

    assert known.status_code == unknown.status_code == 429
    assert _page(known, "kanako") == _page(unknown, "nobody")
    assert "パスワード再設定の依頼が多すぎます" in known.content.decode()


@pytest.mark.django_db
def test_the_throttled_answer_in_english_and_nothing_sent(settings, eager_celery):
    settings.DXPLAN_PASSWORD_RESET_RATE = "1/h"
    factories.UserFactory(email="kanako@test.example")
    _ask("kanako@test.example", lang="en")
    sent = len(mail.outbox)
    audited = AuditEntry.objects.filter(action="password_reset_requested").count()

    refused = _ask("kanako@test.example", lang="en")

    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == sent
    assert AuditEntry.objects.filter(action="password_reset_requested").count() == audited


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_client_is_counted(settings):
    settings.PROXY_COUNT = 1
    settings.DXPLAN_PASSWORD_RESET_RATE = "1/h"
    proxy = {"addr": "10.0.0.1"}
    assert _ask("a@test.example", HTTP_X_FORWARDED_FOR="192.0.2.1", **proxy).status_code == 302
    assert _ask("b@test.example", HTTP_X_FORWARDED_FOR="192.0.2.2", **proxy).status_code == 302
    # a forged entry on the left changes nothing: the proxy's entry is the client
    assert _ask("c@test.example", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.1", **proxy).status_code == 429
