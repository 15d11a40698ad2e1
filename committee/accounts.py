"""Login accounts of the people on the rosters: invitations, passwords, and the contact details a member keeps
up to date themselves.

Services write (one per state change: lock, check, save, audit, queue on commit); `account_states` reads the
roster's account column. Every mail (invitations, password resets) is a row of the one outbox, written
through core.outbox in the transaction of the action; notices sends it (core sits below notices).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, get_random_string
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _

from core import outbox
from core.audit import AuditAction, audit_record
from core.models import AuditEntry, Invitation, User
from core.text import single_line

from .models import Person

logger = logging.getLogger(__name__)

# An invitation's link works this long (DXPLAN_INVITATION_DAYS); an invitation written before the outbox
# carried them, taken by a sending task that died, is taken over after STALE_AFTER.
INVITATION_DAYS_DEFAULT = 14
STALE_AFTER = dt.timedelta(minutes=10)
# One reset mail per account in this window, whatever the number of requests (no mail bombing).
RESET_COOLDOWN = dt.timedelta(minutes=2)


class AccountError(ValidationError):
    """An account action refused, with a message for the secretariat or the member."""


# --- signed links ------------------------------------------------------------------------------------


class TokenCheck:
    OK = "ok"
    EXPIRED = "expired"
    INVALID = "invalid"  # altered, for another account, or already used (the password changed since)


class _ExplainedTokens(PasswordResetTokenGenerator):
    """Django's token (HMAC over the account's password hash, last login and a timestamp), which can also
    say why a link fails, so the page can tell "expired" from "invalid or used"."""

    def timeout(self) -> int:
        return settings.PASSWORD_RESET_TIMEOUT

    def check_token(self, user, token) -> bool:
        return self.verify(user, token) == TokenCheck.OK

    def verify(self, user, token) -> str:
        if not (user and token) or not isinstance(token, str):
            return TokenCheck.INVALID
        try:
            ts_b36, _hash = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return TokenCheck.INVALID
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token):
                break
        else:
            return TokenCheck.INVALID
        if self._num_seconds(self._now()) - timestamp > self.timeout():
            return TokenCheck.EXPIRED
        return TokenCheck.OK

    def expires_at(self) -> dt.datetime:
        """When a link made now stops working."""
        return timezone.now() + dt.timedelta(seconds=self.timeout())


class InvitationTokenGenerator(_ExplainedTokens):
    """The invitation's link: a salt of its own (a reset link is no invitation link and the reverse), a longer
    life, and only the account's latest invitation counts, so a new invitation retires the earlier links."""

    key_salt = "dxplan.core.accounts.InvitationTokenGenerator"

    def timeout(self) -> int:
        return int(getattr(settings, "DXPLAN_INVITATION_DAYS", INVITATION_DAYS_DEFAULT)) * 24 * 3600

    def _make_hash_value(self, user, timestamp) -> str:
        latest = Invitation.objects.filter(user=user).order_by("-pk").values_list("pk", flat=True).first()
        return f"{super()._make_hash_value(user, timestamp)}:{latest or ''}"


class ResetTokenGenerator(_ExplainedTokens):
    """Password reset links (PASSWORD_RESET_TIMEOUT: an hour unless set)."""


invitation_tokens = InvitationTokenGenerator()
reset_tokens = ResetTokenGenerator()


# --- invitations -------------------------------------------------------------------------------------


@transaction.atomic
def account_invite(*, actor, person, ip_address: str | None = None) -> Invitation:
    """Invite `person` to log in: create (or reuse) their login account with the person's email address and
    no usable password, record the invitation, and mail the link after commit. Inviting again sends a new link
    and retires the earlier ones."""
    if not actor.has_perm("committee.change_person", person):
        raise PermissionDenied
    person = Person.objects.select_for_update().get(pk=person.pk)
    user = User.objects.select_for_update().filter(pk=person.user_id).first() if person.user_id else None
    created = False
    if user is None:
        email = (person.email or "").strip().lower()
        if not email:
            raise AccountError(_("%(name)s has no email address to send an invitation to.") % {"name": person})
        try:
            validate_email(email)
        except ValidationError:
            raise AccountError(_("%(name)s's email address is not valid.") % {"name": person}) from None
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=None)
            created = True
        elif Person.objects.filter(user=user).exclude(pk=person.pk).exists():
            raise AccountError(
                _("The address of %(name)s already belongs to another person's account.") % {"name": person}
            )
        person.user = user
        person.save(update_fields=["user"])
    if not user.is_active:
        raise AccountError(_("The account of %(name)s is disabled; an administrator can enable it.") % {"name": person})
    if user.has_usable_password():
        raise AccountError(
            _(
                "%(name)s has already set a password. "
                "They can log in, or reset a forgotten password from the login page."
            )
            % {"name": person}
        )
    earlier = list(Invitation.objects.filter(user=user).exclude(status=Invitation.Status.SUPERSEDED))
    invitation = Invitation.objects.create(user=user, invited_by=actor if actor.is_authenticated else None)
    audit_record(
        actor=actor,
        action=AuditAction.ACCOUNT_INVITED,
        target=person,
        data={"invitation": invitation.pk, "account": user.pk, "account_created": created},
        ip_address=ip_address,
    )
    # The earlier links stop working now (the token names the latest invitation): their mails, if still
    # waiting, are not sent.
    if earlier:
        Invitation.objects.filter(pk__in=[e.pk for e in earlier]).update(status=Invitation.Status.SUPERSEDED)
        outbox.outbox_discard([e.outbox_id for e in earlier if e.outbox_id is not None])
    _write_mail(invitation, person)
    return invitation


INVITATION_TOPIC = "account_invitation"


def _token_link(url_name: str, user: User, token: str) -> str:
    """The absolute link of a token view for `user`, made from the configured address (SITE_URL), never
    the request's Host header (SECURITY.md, Accounts)."""
    path = reverse(url_name, kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token})
    return f"{settings.SITE_URL}{path}"


def invitation_mail(invitation: Invitation, person: Person | None) -> tuple[str, str]:
    """(subject, text) of the invitation in the site's language (Japanese): who is invited, the link (made
    from the configured address, never the request's Host header), until when it works."""
    user = invitation.user
    context = {
        "ORGANISATION_NAME": settings.DXPLAN_ORGANISATION_NAME,
        "SITE_URL": settings.SITE_URL,
        "name": person.full_name if person else "",
        "email": user.email,
        "link": _token_link("account_invitation", user, invitation_tokens.make_token(user)),
        "expires_at": invitation_tokens.expires_at(),
        "login_url": f"{settings.SITE_URL}{reverse('login')}",
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = single_line(render_to_string("account/email/invitation_subject.txt", context), 200)
        return subject, render_to_string("account/email/invitation_body.txt", context)


def _write_mail(invitation: Invitation, person: Person | None) -> None:
    """Write the invitation's mail to the outbox in the caller's transaction (sent once it commits) and
    remember its row on the invitation."""
    subject, text = invitation_mail(invitation, person)
    headers = {"Reply-To": settings.DXPLAN_REPLY_TO} if getattr(settings, "DXPLAN_REPLY_TO", "") else {}
    invitation.outbox_id = outbox.outbox_write(
        topic=INVITATION_TOPIC, to=invitation.user.email, subject=subject, text=text, headers=headers
    )
    invitation.save(update_fields=["outbox_id"])


def invitation_mail_failed(row_id: int, reason: str) -> None:
    """The outbox gave up on an invitation's mail (core.outbox.on_failed, registered in CommitteeConfig):
    the audit says so; the roster shows it with the reason, read from the outbox row."""
    invitation = Invitation.objects.filter(outbox_id=row_id).select_related("user").first()
    if invitation is None:
        return
    audit_record(
        actor=None,
        action=AuditAction.INVITATION_FAILED,
        target=invitation.user,
        data={"invitation": invitation.pk, "reason": single_line(reason, 300)},
    )


# Invitations written before the outbox carried them (outbox_id empty) and not sent yet.


def _legacy_waiting() -> Q:
    now = timezone.now()
    return Q(outbox_id__isnull=True, created_at__gte=now - dt.timedelta(seconds=invitation_tokens.timeout())) & (
        Q(status=Invitation.Status.PENDING) | Q(status=Invitation.Status.SENDING, claimed_at__lt=now - STALE_AFTER)
    )


def legacy_invitations_waiting() -> list[int]:
    return list(Invitation.objects.filter(_legacy_waiting()).values_list("pk", flat=True))


@transaction.atomic
def invitation_to_outbox(invitation_id: int) -> bool:
    """Hand an invitation written before the outbox carried them to the outbox (once: the row is locked and
    must still be waiting, with no outbox row). One that a newer invitation replaced is marked so instead."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(_legacy_waiting(), pk=invitation_id)
        .first()
    )
    if invitation is None:
        return False
    if Invitation.objects.filter(user_id=invitation.user_id, pk__gt=invitation.pk).exists():
        invitation.status = Invitation.Status.SUPERSEDED
        invitation.save(update_fields=["status"])
        return False
    _write_mail(invitation, Person.objects.filter(user_id=invitation.user_id).first())
    return True


# --- passwords ---------------------------------------------------------------------------------------


@transaction.atomic
def account_password_set(*, user, password: str, via: str, ip_address: str | None = None) -> User:
    """Set the account's password (already validated by the form) after an invitation link, a reset link or
    a change by the member. The new hash ends every earlier link for the account."""
    if via not in {"invitation", "reset", "change"}:
        raise ValueError(via)
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise AccountError(_("This account is disabled."))
    user.set_password(password)
    # A new password also retires the private calendar-feed address: whoever learnt the old password could
    # have copied it from "my calendar".
    user.feed_generation += 1
    user.save(update_fields=["password", "feed_generation"])
    if via == "invitation":
        Invitation.objects.filter(user=user, accepted_at__isnull=True).update(accepted_at=timezone.now())
    audit_record(actor=user, action=AuditAction.PASSWORD_SET, target=user, data={"via": via}, ip_address=ip_address)
    return user


@transaction.atomic
def account_feed_reset(*, user, ip_address: str | None = None) -> User:
    """Give the member's private calendar feed a new address; the earlier one answers 404 from now on."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied
    user = User.objects.select_for_update().get(pk=user.pk)
    user.feed_generation += 1
    user.save(update_fields=["feed_generation"])
    audit_record(actor=user, action=AuditAction.FEED_RESET, target=user, ip_address=ip_address)
    return user


RESET_TOPIC = "password_reset"


def _stand_in(email: str) -> User:
    """An unsaved account for an address nobody has: the reset mail is made for it exactly as for a real one
    (its password field has the length of a real hash; the link can never be used)."""
    return User(pk=0, email=email, password="!" + get_random_string(88), is_active=True)


def password_reset_mail(user: User, language: str) -> tuple[str, str]:
    """(subject, text) of the reset mail in `language` (else the site's): the link made from the configured
    address, never the request's Host header (SECURITY.md, Accounts)."""
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    context = {
        "ORGANISATION_NAME": settings.DXPLAN_ORGANISATION_NAME,
        "SITE_URL": settings.SITE_URL,
        "email": user.email,
        "link": _token_link("password_reset_confirm", user, reset_tokens.make_token(user)),
        "expires_at": reset_tokens.expires_at(),
        "reset_url": f"{settings.SITE_URL}{reverse('password_reset')}",
    }
    with translation.override(language):
        subject = single_line(render_to_string("account/email/password_reset_subject.txt", context), 200)
        return subject, render_to_string("account/email/password_reset_body.txt", context)


def password_reset_request(*, email: str, language: str, ip_address: str | None = None) -> None:
    """Mail a reset link to the active account with this address, if there is one, through the outbox. The
    caller answers the same either way, and nothing is recorded for an unknown address. Invited members who
    never set a password may use it too (the link proves the address just as the invitation does).

    Equal work (W5): a known address, an unknown one and a known one asked again within RESET_COOLDOWN run
    the same statements, so the time of the answer does not tell whether an account exists. One query finds
    and locks the account (one request at a time per account), one looks for a recent request; the link is
    made and the mail rendered; the audit entry and the outbox row are written and the sending task is
    queued on commit. When nothing is to be sent, the two rows are written in a savepoint that is rolled
    back, and the task is handed the id of the row that is gone, so it finds nothing to send."""
    email = single_line(email or "", 254).strip().lower()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email, is_active=True).exclude(email="").first()
        account = user if user is not None else _stand_in(email)
        recent = AuditEntry.objects.filter(
            action=AuditAction.PASSWORD_RESET_REQUESTED,
            target_id=str(account.pk),
            created_at__gte=timezone.now() - RESET_COOLDOWN,
        ).exists()
        send = user is not None and not recent
        subject, text = password_reset_mail(account, language)
        headers = {"Reply-To": settings.DXPLAN_REPLY_TO} if getattr(settings, "DXPLAN_REPLY_TO", "") else {}
        with transaction.atomic():
            audit_record(actor=None, action=AuditAction.PASSWORD_RESET_REQUESTED, target=account, ip_address=ip_address)
            row_id = outbox.outbox_write(
                topic=RESET_TOPIC, to=account.email, subject=subject, text=text, headers=headers
            )
            transaction.set_rollback(not send)
        if not send:
            transaction.on_commit(lambda: outbox.outbox_queue([row_id]))


# --- contact details ---------------------------------------------------------------------------------

CONTACT_FIELDS = ("email", "phone", "postal_address")


@transaction.atomic
def person_update_contact(
    *, actor, person, email: str, phone: str, postal_address: str, ip_address: str | None = None
):
    """Change a person's contact details (the contact email, not the login address): the person themselves,
    or the secretariat that manages them. The audit entry names the fields changed, never their values."""
    is_self = actor.is_authenticated and person.user_id == actor.pk
    if not (is_self or actor.has_perm("committee.change_person", person)):
        raise PermissionDenied
    person = Person.objects.select_for_update().get(pk=person.pk)
    values = {
        "email": (email or "").strip(),
        "phone": single_line(phone or "", 40),
        "postal_address": (postal_address or "").strip(),
    }
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            raise AccountError({"email": _("Enter a valid email address.")}) from None
    changed = [field for field in CONTACT_FIELDS if getattr(person, field) != values[field]]
    if not changed:
        return person
    for field in changed:
        setattr(person, field, values[field])
    person.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=AuditAction.CONTACT_UPDATED,
        target=person,
        data={"fields": changed, "by_self": is_self},
        ip_address=ip_address,
    )
    return person


# --- the roster's account column ---------------------------------------------------------------------


@dataclass(frozen=True)
class AccountState:
    """What the secretariat sees about one person's login account."""

    code: str  # no_email | none | not_invited | invited | invite_failed | active | disabled
    label: str
    at: dt.datetime | None = None  # invited at / last logged in at
    can_invite: bool = False
    reason: str = ""  # why the invitation failed, or why its mail is being retried


def account_states(person_ids) -> dict[int, AccountState]:
    """Account state of each person, in two queries whatever the number of people: the accounts with their
    latest invitation, then the state of those invitations' mails in the outbox."""
    latest = Invitation.objects.filter(user=OuterRef("user_id")).order_by("-created_at", "-pk")
    rows = list(
        Person.objects.filter(pk__in=list(person_ids))
        .annotate(
            has_password=Case(
                When(user__isnull=True, then=Value(False)),
                When(user__password__startswith="!", then=Value(False)),  # noqa: S106 (Django's unusable-password mark)
                When(user__password="", then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            ),
            invitation_status=Subquery(latest.values("status")[:1]),
            invitation_error=Subquery(latest.values("last_error")[:1]),
            invitation_outbox=Subquery(latest.values("outbox_id")[:1]),
            invited_at=Subquery(latest.values("created_at")[:1]),
        )
        .values("pk", "email", "user_id", "user__is_active", "user__last_login", "has_password", "invitation_status",
                "invitation_error", "invitation_outbox", "invited_at")
    )
    mails = outbox.outbox_states(
        [row["invitation_outbox"] for row in rows if row["invitation_outbox"] is not None and not row["has_password"]]
    )
    return {row["pk"]: _state(row, mails) for row in rows}


def _state(row, mails: dict[int, outbox.MailState]) -> AccountState:
    if row["user_id"] is None:
        if not row["email"]:
            return AccountState("no_email", _("No email address"))
        return AccountState("none", _("No account"), can_invite=True)
    if not row["user__is_active"]:
        return AccountState("disabled", _("Account disabled"))
    if row["has_password"]:
        if row["user__last_login"]:
            return AccountState("active", _("Last logged in"), at=row["user__last_login"])
        return AccountState("active", _("Password set, not logged in yet"))
    status, reason = row["invitation_status"], row["invitation_error"] or ""
    if status is None:
        return AccountState("not_invited", _("Account, not invited yet"), can_invite=True)
    if row["invitation_outbox"] is not None:  # the mail's state is its outbox row's
        mail = mails.get(row["invitation_outbox"])
        status, reason = (mail.state, mail.last_error) if mail else (Invitation.Status.SENT, "")
    if status == Invitation.Status.FAILED:
        return AccountState(
            "invite_failed", _("Invitation could not be sent"), at=row["invited_at"], can_invite=True, reason=reason
        )
    if status in (Invitation.Status.PENDING, Invitation.Status.SENDING):
        return AccountState(
            "invited", _("Invitation waiting to be sent"), at=row["invited_at"], can_invite=True, reason=reason
        )
    return AccountState("invited", _("Invited"), at=row["invited_at"], can_invite=True)
