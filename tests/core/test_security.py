"""SECURITY.md, as far as the roster's pages go: headers, caching, login and logout, audit of failed
logins, escaping, and the password rules."""
from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from tests import factories
from tests.conftest import appoint

PASSWORD = "correct horse battery staple"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 at production strength costs ~0.4 s per account (the configured hashers are checked below).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client: Client, user) -> None:
    # UserFactory hashes the password in memory only (skip_postgeneration_save); store it, or the
    # session's password-hash check logs the user straight out again.
    user.save(update_fields=["password"])
    client.force_login(user, backend=MODEL_BACKEND)


def login(client: Client, email: str, password: str, next_url: str | None = None):
    url = reverse("login") + (f"?next={next_url}" if next_url is not None else "")
    data = {"username": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(url, data, REMOTE_ADDR="192.0.2.10")


# --- headers -------------------------------------------------------------------------------------


def _signed_in_pages(body):
    return [
        reverse("committee:home"),
        reverse("committee:body_detail", args=[body.slug]),
        reverse("committee:guideline_current", args=[body.slug]),
        reverse("healthz"),
    ]


@pytest.mark.parametrize("role", ["member", "secretariat", "outsider"])
def test_pages_for_signed_in_users_are_never_stored(client, body, member, secretariat, outsider, in_term, role):
    sign_in(client, {"member": member, "secretariat": secretariat, "outsider": outsider}[role])
    urls = _signed_in_pages(body)
    if role == "secretariat":
        urls += [
            reverse("committee:composition"),
            reverse("committee:roster_export", args=[body.slug, "csv"]),
            reverse("admin:index"),
            reverse("admin:committee_person_changelist"),
        ]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control, url
        assert "public" not in cache_control


def test_not_found_for_a_signed_in_user_is_not_stored_either(client, outsider, db):
    sign_in(client, outsider)

    response = client.get(reverse("committee:body_detail", args=["no-such-body"]))

    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "url",
    [
        reverse("committee:home"),
        reverse("committee:body_detail", args=["dx-plan"]),
        reverse("committee:guideline_current", args=["dx-plan"]),
        reverse("login"),
    ],
)
def test_public_pages_carry_security_headers(client, body, member, in_term, url):
    response = client.get(url)

    assert response.status_code == 200
    csp = [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert not any("unsafe-inline" in directive or "unsafe-eval" in directive for directive in csp)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # A shared cache keeps the anonymous copy apart from what a signed-in user is sent.
    assert "Cookie" in response["Vary"]


def test_not_found_pages_carry_security_headers_too(client, db):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


# --- login and logout ----------------------------------------------------------------------------


@pytest.fixture
def account(db):
    user = factories.UserFactory(email="kanako@test.example")
    user.save(update_fields=["password"])  # UserFactory leaves the hashed password unsaved
    return user


def test_login_with_email_and_password(client, account):
    anonymous_key = client.session.session_key
    response = login(client, "kanako@test.example", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session[SESSION_KEY] == str(account.pk)
    assert client.session.session_key != anonymous_key  # a new session key on login
    assert AuditEntry.objects.filter(action="login", actor=account, ip_address="192.0.2.10").exists()


def test_login_ignores_the_case_of_the_email_address(client, account):
    response = login(client, "Kanako@Test.Example", PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(account.pk)


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "//evil.example/accounts/login/",
        "https://evil.example/",
        "javascript:alert(1)",
        "javascript%3Aalert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "http:evil.example",
        "evil.example",  # relative: would land on /accounts/login/evil.example
    ],
)
def test_login_never_redirects_off_site(client, account, next_url):
    form = client.get(reverse("login") + f"?next={next_url}")
    response = login(client, "kanako@test.example", PASSWORD, next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert form.context["next"] == ""
    assert '<input type="hidden" name="next" value="">' in form.content.decode()


def test_login_follows_a_local_next(client, account, body):
    target = reverse("committee:body_detail", args=[body.slug])

    response = login(client, "kanako@test.example", PASSWORD, next_url=target)

    assert response.status_code == 302
    assert response["Location"] == target


def test_failed_login_is_audited_without_the_password(client, account):
    secret = "wrong-but-secret-Pa55word!"

    response = login(client, "kanako@test.example", secret)

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.data["username"] == "kanako@test.example"
    assert entry.ip_address == "192.0.2.10"
    assert entry.actor is None
    recorded = json.dumps({f.name: str(getattr(entry, f.name)) for f in AuditEntry._meta.fields}, ensure_ascii=False)
    recorded += json.dumps(entry.data, ensure_ascii=False)
    assert secret not in recorded
    assert PASSWORD not in recorded


def test_failed_login_for_an_unknown_address_answers_like_a_known_one(client, account):
    known = login(client, "kanako@test.example", "wrong password here")
    unknown = login(client, "nobody@test.example", "wrong password here")

    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors


@pytest.mark.parametrize(
    ("attempted", "expected"),
    [
        ("evil@test.example\r\nFAKE login ok", "evil@test.example FAKE login ok"),
        ("evil@test.example\nFAKE", "evil@test.example FAKE"),
        ("a" * 5000 + "@test.example", "a" * 254),  # longer than any address: cut, still one entry
        ("nul\x00byte@test.example", "nul byte@test.example"),
        ("not an address at all", "not an address at all"),
        ("\u2028kanako@test.example\u2029", "kanako@test.example"),
    ],
)
def test_failed_login_with_line_breaks_in_the_address_is_one_line_in_the_audit(client, db, attempted, expected):
    """Whatever is typed as the address, each attempt leaves exactly one audit entry, on one line."""
    response = client.post(
        reverse("login"), {"username": attempted, "password": "x" * 12}, REMOTE_ADDR="192.0.2.10"
    )

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    entries = list(AuditEntry.objects.filter(action="login_failed"))
    assert len(entries) == 1, "one attempt, one entry"
    (entry,) = entries
    assert entry.data["username"] == expected
    assert entry.ip_address == "192.0.2.10"
    stored = json.dumps(entry.data, ensure_ascii=False)
    for control in ("\r", "\n", "\\r", "\\n", "\\u0000", "\u2028", "\u2029"):
        assert control not in stored


def test_failed_login_with_undecodable_bytes_is_audited_once(client, db):
    """A body that is not UTF-8 (a raw 0xff byte, half a multi-byte character) is still one entry."""
    body = b"username=%FF%FEevil%E3%81%40test.example%0D%0Aok&password=xxxxxxxxxxxx"
    response = client.post(reverse("login"), body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    (entry,) = AuditEntry.objects.filter(action="login_failed")
    assert "\n" not in entry.data["username"] and "\r" not in entry.data["username"]
    assert "evil" in entry.data["username"]


def test_failed_logins_with_bad_addresses_count_towards_the_lockout(client, db, settings):
    """Malformed addresses are failed logins for axes too: they cannot be used to try passwords for free."""
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": "x\r\n@test.example", "password": "x" * 12})
    assert AuditEntry.objects.filter(action="login_failed").count() == 3
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(failures_since_start__gte=3).exists()


def test_logout_is_a_post_and_ends_the_session(client, account):
    login(client, "kanako@test.example", PASSWORD)
    session_key = client.session.session_key

    refused = client.get(reverse("logout"))
    assert refused.status_code == 405
    assert client.session[SESSION_KEY] == str(account.pk)  # a GET (a link, an <img>) logs nobody out

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get(reverse("committee:composition")).status_code == 302  # back to the login page


def test_logout_form_is_on_every_page_for_signed_in_users(client, member, body, in_term):
    sign_in(client, member)

    html = client.get(reverse("committee:home")).content.decode()

    assert f'action="{reverse("logout")}" method="post"' in html


# --- escaping and log lines ----------------------------------------------------------------------


def test_markup_and_line_breaks_in_a_name_are_harmless(client, body, secretariat, in_term):
    appointment = appoint(body, "<script>alert(1)</script>", "すくりぷと", given="改\r\n行\u2028偽の行")

    page = client.get(reverse("committee:body_detail", args=[body.slug])).content.decode()
    sign_in(client, secretariat)
    admin_page = client.get(reverse("admin:committee_appointment_changelist")).content.decode()

    for html in (page, admin_page):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    entry = AuditEntry.objects.get(action="appointment_created", target_id=str(appointment.pk))
    assert "<script>alert(1)</script>" in entry.target_label  # recorded as written, escaped when shown
    for control in ("\r", "\n", "\u2028"):
        assert control not in entry.target_label


# --- passwords -----------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Kq8#vT2!mZp", "short", "Zx9!Zx9!Zx9"])
def test_passwords_shorter_than_12_characters_are_refused(password, db):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)

    assert "password_too_short" in {error.code for error in refused.value.error_list}


def test_a_long_unusual_password_is_accepted(db):
    validate_password("Kq8#vT2!mZp4")  # 12 characters: no error


def test_passwords_are_hashed_with_argon2_or_pbkdf2():
    from dxplan import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] in (
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    )
    assert all("MD5" not in name and "SHA1" not in name for name in project_settings.PASSWORD_HASHERS)
