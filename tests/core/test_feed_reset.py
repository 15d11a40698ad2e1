"""The private calendar-feed address can be reset by its member, and a new password resets it (issue 11, W6).
Logging out does not: the address is for a calendar application, which keeps polling after the member's
browser session ends, and logging out is daily routine rather than a sign that the address leaked."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from committee import accounts
from core.models import AuditEntry
from notices.tokens import FEED_SALT, feed_token

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long pass phrase 42"


def _feed(token: str) -> int:
    return Client().get(reverse("notices:member_calendar", args=[token])).status_code


def _signed_in(user) -> Client:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def feed(member, in_term):
    return feed_token(member)


def test_a_feed_never_reset_keeps_its_address(member, feed):
    """Addresses already subscribed before generations existed still work."""
    assert feed == signing.Signer(salt=FEED_SALT).sign(str(member.pk)).replace(":", ".")
    assert _feed(feed) == 200


def test_the_member_resets_the_address_on_their_page(member, feed):
    client = _signed_in(member)
    page = client.get(reverse("notices:my_calendar")).content.decode()
    assert f'action="{reverse("account_feed_reset")}"' in page

    response = client.post(reverse("account_feed_reset"))

    assert response.status_code == 302 and response["Location"] == reverse("notices:my_calendar")
    member.refresh_from_db()
    new = feed_token(member)
    assert new != feed
    assert _feed(feed) == 404
    assert _feed(new) == 200
    assert new in client.get(reverse("notices:my_calendar")).content.decode()
    entry = AuditEntry.objects.get(action="feed_reset")
    assert entry.actor == member and entry.target_id == str(member.pk)


def test_an_older_generation_stays_retired(member, feed):
    client = _signed_in(member)
    client.post(reverse("account_feed_reset"))
    member.refresh_from_db()
    second = feed_token(member)
    client.post(reverse("account_feed_reset"))
    member.refresh_from_db()
    assert [_feed(feed), _feed(second), _feed(feed_token(member))] == [404, 404, 200]


def test_the_reset_is_a_post(member):
    assert _signed_in(member).get(reverse("account_feed_reset")).status_code == 405
    anonymous = Client().post(reverse("account_feed_reset"))
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]


def test_a_password_change_resets_the_address(member, feed):
    client = _signed_in(member)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert _feed(feed) == 404
    assert _feed(feed_token(member)) == 200


@pytest.mark.parametrize("via", ["reset", "invitation"])
def test_a_password_set_by_link_resets_the_address(member, feed, via):
    accounts.account_password_set(user=member, password=NEW_PASSWORD, via=via)
    member.refresh_from_db()
    assert _feed(feed) == 404
    assert _feed(feed_token(member)) == 200


def test_logout_keeps_the_address(member, feed):
    client = _signed_in(member)
    client.post(reverse("logout"))
    assert _feed(feed) == 200


def test_a_generation_not_reached_is_refused(member, feed):
    ahead = signing.Signer(salt=FEED_SALT).sign(f"{member.pk}-7").replace(":", ".")  # signed with the real key
    assert member.feed_generation == 0 and _feed(ahead) == 404
    assert _feed(feed.replace(f"{member.pk}.", f"{member.pk}-0.", 1)) == 404  # altered: the signature breaks
