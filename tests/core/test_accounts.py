"""Accounts: the secretariat's invitation, the link that sets the password, password reset by email, "my account"
with the member's own contact details, and the second factor's exemptions (committee/accounts.py and
committee/account_views.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from committee import accounts
from committee.models import Person
from committee.tasks import send_invitation
from core.models import AuditEntry, Invitation, User
from notices.models import OutboxMail
from notices.tasks import send_outbox_batch
from tests import factories
from tests.conftest import TOKYO, appoint

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "ねぶた祭りと八甲田山2023"
SITE = "https://committees.pref.example.jp"
NOW = dt.datetime(2023, 6, 1, 10, 0, tzinfo=TOKYO)


@pytest.fixture(autouse=True)
def mail_and_celery(settings, eager_celery):
    settings.LANGUAGE_CODE = "en"  # pages and mails in English: the assertions name the English msgids
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE
    settings.DXPLAN_REQUIRE_2FA = False


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def sign_in(client: Client, user) -> Client:
    user.save(update_fields=["password"])  # UserFactory hashes in memory only
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def newcomer(body, now):
    """A member on the roster with a contact address and no login account yet."""
    person = appoint(body, "田中", "たなか", given="花子").person
    person.email = "Hanako.Tanaka@Example.JP"
    person.phone = "017-734-0000"
    person.save()
    return person


def invite(person, actor, capture) -> Invitation:
    with capture(execute=True):
        return accounts.account_invite(actor=actor, person=person)


def link_in(message) -> str:
    found = re.search(r"https?://\S+/accounts/(?:invitation|reset)/\S+/", message.body)
    assert found, message.body
    return found.group(0)


def path_of(link: str) -> str:
    assert link.startswith(SITE), link  # the configured address, never the request's Host
    return link[len(SITE) :]


def set_password(client: Client, link: str, password: str = NEW_PASSWORD):
    response = client.get(path_of(link))
    assert response.status_code == 302 and response["Location"].endswith("/set-password/")
    form_url = response["Location"]
    assert client.get(form_url).status_code == 200
    return client.post(form_url, {"new_password1": password, "new_password2": password})


# --- invitation --------------------------------------------------------------------------------------


def test_invitation_creates_the_account_and_sends_exactly_one_mail(
    newcomer, secretariat, django_capture_on_commit_callbacks
):
    invitation = invite(newcomer, secretariat, django_capture_on_commit_callbacks)

    newcomer.refresh_from_db()
    user = newcomer.user
    assert user is not None and user.email == "hanako.tanaka@example.jp"
    assert not user.has_usable_password() and user.is_active and not user.is_staff
    assert invitation.user == user and invitation.invited_by == secretariat
    invitation.refresh_from_db()
    row = OutboxMail.objects.get(pk=invitation.outbox_id)  # the mail is a row of the one outbox …
    assert row.topic == accounts.INVITATION_TOPIC and row.to == "hanako.tanaka@example.jp"
    assert row.state == OutboxMail.State.SENT and row.sent_at is not None  # … sent by its task
    assert OutboxMail.objects.count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hanako.tanaka@example.jp"]
    assert "\n" not in message.subject and "青森県" in message.subject
    assert "田中 花子" in message.body
    assert link_in(message).startswith(f"{SITE}/accounts/invitation/")
    entry = AuditEntry.objects.get(action="account_invited")
    assert entry.actor == secretariat and entry.target_id == str(newcomer.pk)
    assert entry.data["account_created"] is True
    assert "hanako" not in str(entry.data).lower()  # no address in the audit details


def test_the_link_sets_the_password_logs_in_and_leads_to_my_meetings(
    client, newcomer, secretariat, django_capture_on_commit_callbacks
):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    response = set_password(client, link_in(mail.outbox[0]))

    assert response.status_code == 302 and response["Location"] == reverse("meetings:my_meetings")
    user = User.objects.get(email="hanako.tanaka@example.jp")
    assert client.session[SESSION_KEY] == str(user.pk)
    assert user.check_password(NEW_PASSWORD)
    assert Invitation.objects.get(user=user).accepted_at is not None
    assert AuditEntry.objects.filter(action="password_set", actor=user, data__via="invitation").count() == 1
    assert client.get(reverse("meetings:my_meetings")).status_code == 200
    # The password works at the login form too.
    other = Client()
    login = other.post(reverse("login"), {"username": "Hanako.Tanaka@example.jp", "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_the_password_validators_apply(client, newcomer, secretariat, django_capture_on_commit_callbacks):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    response = set_password(client, link_in(mail.outbox[0]), password="short")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-describedby="' in page and "is-invalid" in page
    assert not User.objects.get(email="hanako.tanaka@example.jp").has_usable_password()
    assert SESSION_KEY not in client.session


def test_the_form_page_has_one_h1_and_the_autocomplete_hints(
    client, newcomer, secretariat, django_capture_on_commit_callbacks
):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    response = client.get(path_of(link_in(mail.outbox[0])), follow=True)
    page = response.content.decode()
    assert page.count("<h1") == 1
    assert page.count('autocomplete="new-password"') == 2 and 'autocomplete="username"' in page
    assert re.search(r'<label\s+for="id_new_password1"', page)


def test_a_used_link_is_refused_clearly(client, newcomer, secretariat, django_capture_on_commit_callbacks):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    set_password(client, link)

    again = Client().get(path_of(link))
    assert again.status_code == 400
    page = again.content.decode()
    assert page.count("<h1") == 1
    assert reverse("password_reset") in page and reverse("login") in page
    assert "already been used" in page


def test_an_expired_link_is_refused_clearly(client, newcomer, secretariat, now, django_capture_on_commit_callbacks):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    now.shift(dt.timedelta(days=13, hours=23))
    assert Client().get(path_of(link)).status_code == 302  # still valid within 14 days
    now.shift(dt.timedelta(days=1, hours=2))
    response = client.get(path_of(link))
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not User.objects.get(email="hanako.tanaka@example.jp").has_usable_password()


@pytest.mark.parametrize("alter", ["token", "uid", "garbage"])
def test_an_altered_link_is_refused_clearly(client, newcomer, secretariat, django_capture_on_commit_callbacks, alter):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    path = path_of(link_in(mail.outbox[0]))
    _, uid, token, _ = path.rsplit("/", 3)
    if alter == "token":
        token = token[:-1] + ("0" if token[-1] != "0" else "1")
    elif alter == "uid":
        uid = urlsafe_base64_encode(force_bytes(999999))
    else:
        uid, token = "%%%", "not-a-token"
    response = client.get(reverse("account_invitation", kwargs={"uidb64": uid, "token": token}))
    assert response.status_code == 400
    assert "cannot be used" in response.content.decode()


def test_the_set_password_page_without_a_link_is_refused(client, newcomer, secretariat):
    uid = urlsafe_base64_encode(force_bytes(newcomer.pk))
    response = client.get(reverse("account_invitation", kwargs={"uidb64": uid, "token": "set-password"}))
    assert response.status_code == 400
    response = client.post(
        reverse("account_invitation", kwargs={"uidb64": uid, "token": "set-password"}),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 400


def test_one_persons_link_does_not_open_another_account(body, secretariat, django_capture_on_commit_callbacks):
    first, second = appoint(body, "青木", "あおき").person, appoint(body, "上田", "うえだ").person
    for person, address in ((first, "aoki@example.jp"), (second, "ueda@example.jp")):
        person.email = address
        person.save()
        invite(person, secretariat, django_capture_on_commit_callbacks)
    first_path = path_of(link_in(mail.outbox[0]))
    token = first_path.rstrip("/").rsplit("/", 1)[1]
    second_user = User.objects.get(email="ueda@example.jp")
    forged = reverse(
        "account_invitation", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(second_user.pk)), "token": token}
    )
    assert Client().get(forged).status_code == 400
    # An invitation link is no password reset link, and the reverse.
    reset = first_path.replace("/accounts/invitation/", "/accounts/reset/")
    assert Client().get(reset).status_code == 400


def test_inviting_again_sends_a_new_link_and_retires_the_old_one(
    client, newcomer, secretariat, django_capture_on_commit_callbacks
):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2 and User.objects.filter(email="hanako.tanaka@example.jp").count() == 1
    old, new = (link_in(m) for m in mail.outbox)
    assert old != new
    assert Client().get(path_of(old)).status_code == 400
    assert set_password(client, new).status_code == 302


def test_running_the_task_twice_sends_one_mail(newcomer, secretariat, django_capture_on_commit_callbacks):
    invitation = invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    # The outbox task again, and the old task's name (messages queued before the outbox carried them).
    assert send_outbox_batch.apply(args=[[invitation.outbox_id]]).get() == {"claimed": 0, "sent": 0, "failed": 0}
    assert send_invitation.apply(args=[invitation.pk]).get() == "skipped"
    assert len(mail.outbox) == 1 and OutboxMail.objects.count() == 1


def test_the_mail_is_written_with_the_invitation_and_sent_after_commit(
    newcomer, secretariat, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation = accounts.account_invite(actor=secretariat, person=newcomer)
        row = OutboxMail.objects.get(pk=invitation.outbox_id)  # in the invitation's transaction
        assert row.state == OutboxMail.State.PENDING and mail.outbox == []
    assert callbacks and mail.outbox == []  # nothing goes out before the commit
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.state == OutboxMail.State.SENT and len(mail.outbox) == 1
    assert mail.outbox[0].subject == row.subject and mail.outbox[0].body == row.text


def test_a_rolled_back_invitation_sends_nothing(newcomer, secretariat, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                accounts.account_invite(actor=secretariat, person=newcomer)
                assert OutboxMail.objects.count() == 1
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert mail.outbox == [] and not Invitation.objects.exists() and not OutboxMail.objects.exists()
    newcomer.refresh_from_db()
    assert newcomer.user is None


def test_a_mail_that_cannot_be_sent_is_marked_failed(
    newcomer, secretariat, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.core.test_accounts.RefusingBackend"
    invitation = invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    invitation.refresh_from_db()
    row = OutboxMail.objects.get(pk=invitation.outbox_id)
    assert row.state == OutboxMail.State.FAILED and "550" in row.last_error and "no such user" in row.last_error
    state = accounts.account_states([newcomer.pk])[newcomer.pk]
    assert state.code == "invite_failed" and state.reason == row.last_error
    entry = AuditEntry.objects.get(action="invitation_failed")
    assert entry.target_id == str(invitation.user_id) and entry.data["invitation"] == invitation.pk
    assert "550" in entry.data["reason"]


def test_a_temporary_refusal_leaves_it_waiting_and_a_retry_sends_it_once(
    newcomer, secretariat, settings, now, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.core.test_accounts.GreylistingBackend"
    invitation = invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    row = OutboxMail.objects.get(pk=invitation.outbox_id)
    assert row.state == OutboxMail.State.PENDING and row.retry_at is not None and "451" in row.last_error
    state = accounts.account_states([newcomer.pk])[newcomer.pk]
    assert state.code == "invited" and state.label == "Invitation waiting to be sent" and "451" in state.reason
    assert not AuditEntry.objects.filter(action="invitation_failed").exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now.shift(dt.timedelta(hours=1))
    from notices import services as notice_services

    notice_services.relay()  # the retry is past due (its Celery message may be lost): queued again
    row.refresh_from_db()
    assert row.state == OutboxMail.State.SENT and len(mail.outbox) == 1
    notice_services.relay()
    assert len(mail.outbox) == 1
    assert accounts.account_states([newcomer.pk])[newcomer.pk].label == "Invited"


def test_a_failed_invitation_is_sent_again_with_a_new_row(
    client, body, newcomer, secretariat, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.core.test_accounts.RefusingBackend"
    failed = invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    sign_in(client, secretariat)
    page_url = reverse("committee:body_detail", args=[body.slug]) + "?on=2023-06-01"
    page = client.get(page_url).content.decode()
    assert "Invitation could not be sent" in page and "no such user" in page and "Invite again" in page

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_invite", args=[newcomer.pk]), {"next": page_url})
    assert response.status_code == 302
    again = Invitation.objects.exclude(pk=failed.pk).get()
    assert again.outbox_id not in (None, failed.outbox_id)
    assert OutboxMail.objects.get(pk=failed.outbox_id).state == OutboxMail.State.FAILED  # the old row stays
    assert OutboxMail.objects.get(pk=again.outbox_id).state == OutboxMail.State.SENT and len(mail.outbox) == 1
    page = client.get(page_url).content.decode()
    assert "Invitation could not be sent" not in page and "no such user" not in page
    assert set_password(Client(), link_in(mail.outbox[0])).status_code == 302


class GreylistingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"x@example.jp": (451, b"greylisted, try again later")})


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"x@example.jp": (550, b"no such user")})


def test_what_cannot_be_invited(body, secretariat, member, django_capture_on_commit_callbacks):
    no_address = appoint(body, "木村", "きむら").person
    with pytest.raises(accounts.AccountError, match="no email address"):
        accounts.account_invite(actor=secretariat, person=no_address)
    # A member who has set a password logs in or resets it; no invitation.
    with pytest.raises(accounts.AccountError, match="already set a password"):
        accounts.account_invite(actor=secretariat, person=member.person)
    # An address that is another person's login.
    twin = appoint(body, "佐藤", "さとう", given="次郎").person
    twin.email = member.email
    twin.save()
    with pytest.raises(accounts.AccountError, match="another person"):
        accounts.account_invite(actor=secretariat, person=twin)
    assert mail.outbox == [] and not Invitation.objects.exists()


def test_an_existing_account_without_a_person_is_reused(body, secretariat, django_capture_on_commit_callbacks):
    existing = User.objects.create_user(email="reuse@example.jp")
    person = appoint(body, "工藤", "くどう").person
    person.email = "REUSE@example.jp"
    person.save()
    invite(person, secretariat, django_capture_on_commit_callbacks)
    person.refresh_from_db()
    assert person.user == existing and User.objects.filter(email__iexact="reuse@example.jp").count() == 1
    assert AuditEntry.objects.get(action="account_invited").data["account_created"] is False


@pytest.mark.parametrize("who", ["member", "outsider", "other_secretariat"])
def test_only_the_persons_secretariat_may_invite(newcomer, request, who):
    with pytest.raises(PermissionDenied):
        accounts.account_invite(actor=request.getfixturevalue(who), person=newcomer)
    assert not Invitation.objects.exists()


# --- the roster's invite button and the admin action --------------------------------------------------


def test_the_secretariat_invites_from_the_roster(
    client, body, newcomer, secretariat, django_capture_on_commit_callbacks
):
    sign_in(client, secretariat)
    page_url = reverse("committee:body_detail", args=[body.slug]) + "?on=2023-06-01"
    page = client.get(page_url).content.decode()
    assert "Login account" in page and reverse("account_invite", args=[newcomer.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_invite", args=[newcomer.pk]), {"next": page_url})
    assert response.status_code == 302 and response["Location"] == page_url
    assert len(mail.outbox) == 1
    page = client.get(page_url).content.decode()
    assert "Invited" in page and "Invite again" in page


@pytest.mark.parametrize("who", ["member", "outsider", "other_secretariat"])
def test_others_see_no_account_column_and_cannot_invite(client, body, newcomer, request, who):
    sign_in(client, request.getfixturevalue(who))
    page = client.get(reverse("committee:body_detail", args=[body.slug]) + "?on=2023-06-01").content.decode()
    assert "Login account" not in page and "/invite/" not in page
    assert client.post(reverse("account_invite", args=[newcomer.pk])).status_code == 404
    assert mail.outbox == []


def test_invite_is_a_post_and_next_stays_on_this_site(
    client, newcomer, secretariat, django_capture_on_commit_callbacks
):
    assert client.post(reverse("account_invite", args=[newcomer.pk]))["Location"].startswith(reverse("login"))
    sign_in(client, secretariat)
    assert client.get(reverse("account_invite", args=[newcomer.pk])).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_invite", args=[newcomer.pk]), {"next": "//evil.example/"})
    assert response["Location"] == reverse("committee:home")


def test_the_roster_shows_each_state_in_a_fixed_number_of_queries(
    client, body, secretariat, member, now, django_capture_on_commit_callbacks
):
    def add_people(n: int, start: int) -> None:
        for i in range(start, start + n):
            person = appoint(body, f"委員{i}", "いいん").person
            person.email = f"m{i}@example.jp"
            person.save()
            if i % 2:
                invite(person, secretariat, django_capture_on_commit_callbacks)

    sign_in(client, secretariat)
    url = reverse("committee:body_detail", args=[body.slug])
    add_people(3, 0)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add_people(30, 3)
    with CaptureQueriesContext(connection) as large:
        page = client.get(url).content.decode()
    assert len(large) == len(small)
    assert page.count("Invite again") == 16 and "Password set, not logged in yet" in page


def test_the_admin_action_invites(client, newcomer, secretariat, django_capture_on_commit_callbacks):
    sign_in(client, secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:committee_person_changelist"),
            {"action": "invite", "_selected_action": [newcomer.pk]},
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["hanako.tanaka@example.jp"]


# --- password reset ----------------------------------------------------------------------------------


def _request_reset(client: Client, email: str, capture):
    with capture(execute=True):
        return client.post(reverse("password_reset"), {"email": email}, follow=True)


def test_reset_does_not_reveal_whether_an_address_exists(client, member, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    unknown = _request_reset(Client(), "nobody@example.jp", django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action="password_reset_requested").exists()
    known = _request_reset(Client(), member.email.upper(), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [member.email]
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())


def test_the_reset_link_sets_a_new_password_once(client, member, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    _request_reset(client, member.email, django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    assert link.startswith(f"{SITE}/accounts/reset/")
    response = set_password(client, link)
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="password_set", actor=member, data__via="reset").count() == 1
    used = Client().get(path_of(link))
    assert used.status_code == 400 and reverse("password_reset") in used.content.decode()


def test_a_reset_link_expires(member, now, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    _request_reset(Client(), member.email, django_capture_on_commit_callbacks)
    now.shift(dt.timedelta(days=3, minutes=1))
    response = Client().get(path_of(link_in(mail.outbox[0])))
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_an_invited_member_whose_link_expired_can_use_reset(
    client, newcomer, secretariat, now, django_capture_on_commit_callbacks
):
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    now.shift(dt.timedelta(days=20))
    _request_reset(client, "hanako.tanaka@example.jp", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert set_password(client, link_in(mail.outbox[1])).status_code == 302


def test_reset_is_not_mailed_to_a_disabled_account_nor_twice_in_a_row(member, now, django_capture_on_commit_callbacks):
    member.save(update_fields=["password"])
    _request_reset(Client(), member.email, django_capture_on_commit_callbacks)
    _request_reset(Client(), member.email, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1  # one mail per account every two minutes, however often it is asked
    now.shift(dt.timedelta(minutes=3))
    User.objects.filter(pk=member.pk).update(is_active=False)
    _request_reset(Client(), member.email, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_the_login_page_links_to_reset(client):
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()


# --- my account --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client):
    for name in ("account", "password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_my_account_shows_and_edits_the_members_own_contact_details(client, member):
    person = member.person
    person.email, person.phone = "work@example.jp", "017-000-0000"
    person.save()
    sign_in(client, member)
    page = client.get(reverse("account")).content.decode()
    assert member.email in page and "work@example.jp" in page and "017-000-0000" in page
    assert page.count("<h1") == 1 and 'autocomplete="email"' in page and 'autocomplete="tel"' in page
    assert reverse("password_change") in page and reverse("notices:my_calendar") in page

    response = client.post(
        reverse("account"), {"email": "home@example.jp", "phone": "090-1111-2222", "postal_address": "青森市長島1-1-1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("account")
    person.refresh_from_db()
    saved = (person.email, person.phone, person.postal_address)
    assert saved == ("home@example.jp", "090-1111-2222", "青森市長島1-1-1")
    entry = AuditEntry.objects.get(action="contact_updated")
    assert entry.actor == member and entry.data == {"fields": ["email", "phone", "postal_address"], "by_self": True}
    assert "090" not in str(entry.data)
    member.refresh_from_db()
    assert member.email == "member@test.example"  # the login address is not the contact address


def test_saving_unchanged_details_writes_no_audit_entry(client, member):
    sign_in(client, member)
    client.post(reverse("account"), {"email": "", "phone": "", "postal_address": ""})
    assert not AuditEntry.objects.filter(action="contact_updated").exists()


def test_an_invalid_address_is_shown_at_its_field(client, member):
    sign_in(client, member)
    response = client.post(reverse("account"), {"email": "not an address", "phone": "", "postal_address": ""})
    assert response.status_code == 200
    page = response.content.decode()
    field = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
    assert "is-invalid" in field and "aria-describedby" in field
    assert not AuditEntry.objects.filter(action="contact_updated").exists()


def test_an_account_without_a_person_has_no_contact_form(client, outsider):
    sign_in(client, outsider)
    response = client.get(reverse("account"))
    assert response.status_code == 200 and 'name="phone"' not in response.content.decode()
    assert client.post(reverse("account"), {"phone": "1"}).status_code == 404


def test_contact_details_change_only_through_the_right_people(member, other_member, secretariat, outsider):
    with pytest.raises(PermissionDenied):
        accounts.person_update_contact(actor=other_member, person=member.person, email="", phone="1", postal_address="")
    with pytest.raises(PermissionDenied):
        accounts.person_update_contact(actor=outsider, person=member.person, email="", phone="1", postal_address="")
    accounts.person_update_contact(actor=secretariat, person=member.person, email="", phone="1", postal_address="")
    assert Person.objects.get(pk=member.person.pk).phone == "1"
    assert AuditEntry.objects.get(action="contact_updated").data["by_self"] is False


def test_my_account_runs_a_fixed_number_of_queries(client, body, member):
    sign_in(client, member)
    client.get(reverse("account"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("account"))
    for i in range(30):
        appoint(body, f"追加{i}", "ついか")
        factories.UserFactory()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("account"))
    assert len(few) == len(many) <= 8


def test_password_change_goes_through_the_service_and_keeps_the_session(client, member):
    sign_in(client, member)
    page = client.get(reverse("password_change")).content.decode()
    assert 'autocomplete="current-password"' in page and page.count('autocomplete="new-password"') == 2
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("account")
    assert client.get(reverse("account")).status_code == 200  # still logged in
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="password_set", actor=member, data__via="change").count() == 1


def test_the_header_links_to_my_account(client, member):
    sign_in(client, member)
    assert f'href="{reverse("account")}"' in client.get(reverse("committee:home")).content.decode()


# --- second factor -----------------------------------------------------------------------------------


def test_account_pages_before_login_are_open_with_the_second_factor_on(
    client, settings, secretariat, newcomer, django_capture_on_commit_callbacks
):
    settings.DXPLAN_REQUIRE_2FA = True
    sign_in(client, secretariat)  # logged in, no code given yet
    assert client.get(reverse("password_reset")).status_code == 200
    uid = urlsafe_base64_encode(force_bytes(secretariat.pk))
    assert client.get(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": "x-y"})).status_code == 400
    assert client.get(reverse("account_invitation", kwargs={"uidb64": uid, "token": "x-y"})).status_code == 400
    # "My account", the password change and the invite button need the code.
    for url in (reverse("account"), reverse("password_change")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("otp_verify"))
    response = client.post(reverse("account_invite", args=[newcomer.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("otp_verify"))
    assert mail.outbox == []


def test_members_use_every_account_page_with_the_second_factor_on(
    client, settings, newcomer, secretariat, django_capture_on_commit_callbacks
):
    settings.DXPLAN_REQUIRE_2FA = True
    invite(newcomer, secretariat, django_capture_on_commit_callbacks)
    response = set_password(client, link_in(mail.outbox[0]))
    assert response["Location"] == reverse("meetings:my_meetings")
    assert client.get(reverse("meetings:my_meetings")).status_code == 200
    assert client.get(reverse("account")).status_code == 200
    assert client.get(reverse("password_change")).status_code == 200


# --- the relay: invitations left waiting -------------------------------------------------------------


def test_an_invitation_written_while_the_broker_was_down_is_sent_by_the_relay_once(
    newcomer, secretariat, now, django_capture_on_commit_callbacks
):
    from notices import services as notice_services

    with django_capture_on_commit_callbacks(execute=False):  # the task is never queued
        invitation = accounts.account_invite(actor=secretariat, person=newcomer)
    assert mail.outbox == []
    assert accounts.account_states([newcomer.pk])[newcomer.pk].label == "Invitation waiting to be sent"

    now.shift(dt.timedelta(minutes=2))
    assert notice_services.relay()["outbox"] == 1  # the outbox's relay: the one for every mail
    row = OutboxMail.objects.get(pk=invitation.outbox_id)
    assert row.state == OutboxMail.State.SENT
    assert len(mail.outbox) == 1
    assert notice_services.relay()["outbox"] == 0 and len(mail.outbox) == 1


def test_the_relay_sends_only_the_newest_of_replaced_invitations(
    newcomer, secretariat, now, django_capture_on_commit_callbacks
):
    from notices import services as notice_services

    with django_capture_on_commit_callbacks(execute=False):
        first = accounts.account_invite(actor=secretariat, person=newcomer)
        second = accounts.account_invite(actor=secretariat, person=newcomer)
    now.shift(dt.timedelta(minutes=2))
    notice_services.relay()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Invitation.Status.SUPERSEDED
    assert not OutboxMail.objects.filter(pk=first.outbox_id).exists()  # its waiting mail was withdrawn
    assert OutboxMail.objects.get(pk=second.outbox_id).state == OutboxMail.State.SENT
    assert len(mail.outbox) == 1
    assert set_password(Client(), link_in(mail.outbox[0])).status_code == 302


def legacy_invitation(person, secretariat) -> Invitation:
    """An invitation written before the outbox carried them: no outbox row, waiting for the old task."""
    user = User.objects.create_user(email=person.email.lower(), password=None)
    person.user = user
    person.save(update_fields=["user"])
    return Invitation.objects.create(user=user, invited_by=secretariat)


def test_an_invitation_from_before_the_outbox_is_handed_to_it_once(
    newcomer, secretariat, now, django_capture_on_commit_callbacks
):
    from committee.tasks import relay_invitations

    invitation = legacy_invitation(newcomer, secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        assert relay_invitations() == 1
    invitation.refresh_from_db()
    assert OutboxMail.objects.get(pk=invitation.outbox_id).state == OutboxMail.State.SENT
    assert len(mail.outbox) == 1 and "田中 花子" in mail.outbox[0].body
    # Again, or its old message arriving late: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert relay_invitations() == 0
        assert send_invitation.apply(args=[invitation.pk]).get() == "skipped"
    assert len(mail.outbox) == 1 and OutboxMail.objects.count() == 1
    assert set_password(Client(), link_in(mail.outbox[0])).status_code == 302


def test_the_relay_leaves_expired_invitations_alone(newcomer, secretariat, now):
    from committee.tasks import relay_invitations

    legacy_invitation(newcomer, secretariat)
    now.shift(dt.timedelta(days=15))  # past the link's 14 days
    assert relay_invitations() == 0
    assert mail.outbox == [] and not OutboxMail.objects.exists()


def test_migrate_registers_the_relay_with_celery_beat(db):
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(name="core.relay_invitations")
    assert entry.task == "committee.tasks.relay_invitations" and entry.enabled
