"""Writes of 傍聴 and subscriptions: each locks the meeting's observation settings row (or the
subscription), checks the state, saves, records the audit entry and writes its mail to the outbox."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from typing import Any

from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from committee.models import Body
from core.audit import AuditAction, audit_record
from core.models import AuditEntry
from core.text import single_line
from core.types import AnyUser
from meetings import services as meeting_services
from meetings.models import Meeting, Openness
from notices import services as outbox

from .models import ObservationGuide, ObservationSettings, Registration, Subscription

REGISTRATION_TOPIC = "participation.registration"
SUBSCRIPTION_TOPIC = "participation.subscription"
# 傍聴 is possible for a meeting that is to be held, in public or partly in public.
OPEN_STATUSES = (Meeting.Status.PLANNED, Meeting.Status.NOTIFIED)
OPEN_OPENNESS = (Openness.PUBLIC, Openness.PARTLY_CLOSED)


class ParticipationError(ValidationError):
    """A request the state of the meeting or the registration does not allow; the message says why."""


def observation_allowed(meeting: Meeting) -> bool:
    """Whether the meeting can have observers at all (to be held, not 非公開)."""
    return meeting.status in OPEN_STATUSES and meeting.openness in OPEN_OPENNESS


def observation_offered(meeting: Meeting, observation: ObservationSettings) -> bool:
    """Whether the public is offered 傍聴 of the meeting with these settings (the meeting page's form, the
    open data's 申込 columns): a public body's meeting that can have observers, registration not stopped."""
    return meeting.body.is_public and observation_allowed(meeting) and observation.closed_at is None


def _lock(observation: ObservationSettings) -> ObservationSettings:
    # Every change of a meeting's registrations locks this one row first: seats are counted under it.
    return ObservationSettings.objects.select_for_update(of=("self",)).select_related("meeting__body").get(
        pk=observation.pk
    )


def _url(name: str, *args: object) -> str:
    return str(django_settings.SITE_URL) + reverse(name, args=list(args))


def _mail(registration: Registration, template: str, **context: Any) -> None:
    meeting = registration.settings.meeting
    context = {
        "registration": registration,
        "meeting": meeting,
        "meeting_url": _url("meetings:detail", meeting.pk),
        "confirm_url": _url("participation:confirm", meeting.pk, registration.token),
        "cancel_url": _url("participation:cancel", meeting.pk, registration.token),
        **context,
    }
    subject = render_to_string(f"participation/email/{template}_subject.txt", context)
    text = render_to_string(f"participation/email/{template}.txt", context)
    outbox.outbox_write(topic=REGISTRATION_TOPIC, to=registration.email, subject=subject.strip(), text=text)


def _seats_used(observation: ObservationSettings, kind: str) -> int:
    used = observation.registrations.filter(kind=kind, state=Registration.State.SEATED).aggregate(n=Sum("party_size"))
    return int(used["n"] or 0)


def _next_position(observation: ObservationSettings) -> int:
    last = observation.registrations.exclude(position=None).order_by("-position").values_list("position", flat=True)
    return int(last.first() or 0) + 1


# --- the secretariat's settings ------------------------------------------------------------------


@transaction.atomic
def guide_save(*, actor: AnyUser, body: Body, text: str) -> ObservationGuide:
    """Save the body's 傍聴要領, which visitors accept when they register."""
    if not text.strip():
        raise ParticipationError(_("Write the rules for observers (傍聴要領)."))
    guide, _created = ObservationGuide.objects.select_for_update().get_or_create(body=body, defaults={"text": text})
    guide.text = text.strip()
    guide.save()
    audit_record(actor=actor, action=AuditAction.OBSERVATION_GUIDE_SAVED, target=body)
    return guide


@transaction.atomic
def observation_settings_save(
    *,
    actor: AnyUser,
    meeting: Meeting,
    public_seats: int,
    press_seats: int,
    max_party: int,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    method: str,
) -> ObservationSettings:
    """Set or change 傍聴 for a meeting that can have observers. Seats cannot drop below those already
    given; the allotment cannot change once the lottery is drawn."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not observation_allowed(meeting):
        raise ParticipationError(_("This meeting cannot have observers: it is closed (非公開), held, postponed or "
                                   "cancelled."))
    observation = ObservationSettings.objects.filter(meeting=meeting).first()
    if observation is None:
        observation = ObservationSettings(meeting=meeting, opens_at=opens_at, closes_at=closes_at)
    else:
        observation = _lock(observation)
        if observation.drawn_at and method != observation.method:
            raise ParticipationError(_("The lottery has been drawn; the allotment cannot change."))
        for kind, seats in ((Registration.Kind.PUBLIC, public_seats), (Registration.Kind.PRESS, press_seats)):
            if seats < _seats_used(observation, kind):
                raise ParticipationError(_("More seats are already given than that; cancel registrations first."))
    # Registration stopped by the meeting's state opens again when the secretariat saves the settings of
    # a meeting that can have observers again (a postponed meeting notified for its new date).
    observation.closed_at, observation.closed_reason = None, ""
    observation.public_seats, observation.press_seats, observation.max_party = public_seats, press_seats, max_party
    observation.opens_at, observation.closes_at, observation.method = opens_at, closes_at, method
    observation.full_clean()
    observation.save()
    audit_record(
        actor=actor,
        action=AuditAction.OBSERVATION_SETTINGS_SAVED,
        target=meeting,
        data={"public": public_seats, "press": press_seats, "method": method},
    )
    return observation


# --- a visitor's registration --------------------------------------------------------------------


@transaction.atomic
def registration_create(
    *,
    observation: ObservationSettings,
    kind: str,
    name: str,
    email: str,
    party_size: int,
    organisation: str = "",
    accepted_guide: bool,
    ip_address: str | None = None,
) -> Registration:
    """Register to observe: the seat counts only once the address is confirmed by the mailed link. A second
    registration from an address already registered gets the mail again rather than a new row (the page
    says the same either way, so it tells nobody who registered)."""
    observation = _lock(observation)
    if not observation_allowed(observation.meeting) or not observation.is_open():
        raise ParticipationError(_("Registration for observing this meeting is closed."), code="closed")
    if not accepted_guide:
        raise ParticipationError(_("Accept the rules for observers (傍聴要領) to register."))
    if kind not in Registration.Kind.values or observation.seats_for(kind) == 0:
        raise ParticipationError(_("There are no seats of this kind."))
    if not 1 <= party_size <= observation.max_party:
        raise ParticipationError(
            _("A party may have from 1 to %(n)d people.") % {"n": observation.max_party}, code="party"
        )
    if kind == Registration.Kind.PRESS and not organisation.strip():
        raise ParticipationError(_("Give the name of your organisation."))
    email = email.strip().lower()
    existing = (
        observation.registrations.filter(email=email)
        .exclude(state=Registration.State.CANCELLED)
        .first()
    )
    if existing is not None:
        _mail(existing, "confirm" if existing.state == Registration.State.UNCONFIRMED else "already")
        return existing
    registration = Registration(
        settings=observation,
        kind=kind,
        name=single_line(name, 100),
        organisation=single_line(organisation, 150),
        email=email,
        party_size=party_size,
    )
    registration.full_clean()
    registration.save()
    audit_record(actor=None, action=AuditAction.OBSERVER_REGISTERED, target=registration, ip_address=ip_address)
    _mail(registration, "confirm")
    return registration


def registration_by_token(meeting_pk: int, token: str) -> Registration:
    """The registration of a mailed link, or DoesNotExist."""
    return Registration.objects.select_related("settings__meeting__body").get(
        token=token, settings__meeting_id=meeting_pk
    )


@transaction.atomic
def registration_confirm(*, registration: Registration, ip_address: str | None = None) -> Registration:
    """The address is confirmed: the seat counts now (first come), or the application waits for the
    lottery. When the seats are taken the registration goes on the waiting list. Confirming twice
    changes nothing."""
    observation = _lock(registration.settings)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.state != Registration.State.UNCONFIRMED:
        return registration
    if not observation_allowed(observation.meeting) or not observation.is_open():
        raise ParticipationError(_("Registration for observing this meeting is closed."), code="closed")
    registration.confirmed_at = timezone.now()
    registration.position = _next_position(observation)
    if observation.method == ObservationSettings.Method.LOTTERY and observation.drawn_at is None:
        registration.state = Registration.State.APPLIED
    elif _seats_used(observation, registration.kind) + registration.party_size <= observation.seats_for(
        registration.kind
    ):
        registration.state = Registration.State.SEATED
    else:
        registration.state = Registration.State.WAITING
    registration.save(update_fields=["state", "confirmed_at", "position"])
    audit_record(
        actor=None,
        action=AuditAction.OBSERVER_CONFIRMED,
        target=registration,
        data={"state": registration.state},
        ip_address=ip_address,
    )
    _mail(registration, registration.state)
    return registration


@transaction.atomic
def registration_cancel(
    *, registration: Registration, actor: AnyUser | None = None, ip_address: str | None = None
) -> Registration:
    """Cancel (by the visitor's link, or by the secretariat). A seat given back goes to the waiting list
    in its order. Cancelling twice changes nothing."""
    observation = _lock(registration.settings)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.state == Registration.State.CANCELLED:
        return registration
    if observation.meeting.is_past:
        raise ParticipationError(_("The meeting has started; the registration can no longer be cancelled."))
    was_seated = registration.state == Registration.State.SEATED
    registration.state, registration.cancelled_at = Registration.State.CANCELLED, timezone.now()
    registration.save(update_fields=["state", "cancelled_at"])
    moved = _move_up(observation, registration.kind) if was_seated else []
    audit_record(
        actor=actor,
        action=AuditAction.OBSERVER_CANCELLED,
        target=registration,
        data={"moved_up": [r.pk for r in moved]},
        ip_address=ip_address,
    )
    _mail(registration, "cancelled")
    return registration


def _move_up(observation: ObservationSettings, kind: str) -> list[Registration]:
    """Seat waiting registrations in their order while seats are left (a party too large for what is
    left keeps its place and the next one that fits moves up). Called with the settings row locked."""
    if not observation_allowed(observation.meeting):
        return []
    left = observation.seats_for(kind) - _seats_used(observation, kind)
    moved = []
    waiting = observation.registrations.select_for_update().filter(kind=kind, state=Registration.State.WAITING)
    for registration in waiting.order_by("position", "pk"):
        if left <= 0:
            break
        if registration.party_size <= left:
            registration.state = Registration.State.SEATED
            registration.save(update_fields=["state"])
            left -= registration.party_size
            moved.append(registration)
            _mail(registration, "moved_up")
    return moved


def lottery_order(seed: str, kind: str, ids: list[int]) -> list[int]:
    """The drawn order of the applications `ids`: the same seed always gives the same order."""
    order = sorted(ids)
    random.Random(f"{seed}:{kind}").shuffle(order)  # noqa: S311 - a recorded, replayable draw, not a secret
    return order


@transaction.atomic
def lottery_draw(*, actor: AnyUser, observation: ObservationSettings) -> ObservationSettings:
    """抽選 after registration closed: applications in the drawn order get seats while they fit, the rest
    go on the waiting list in that order. The seed is recorded, so the draw can be replayed."""
    observation = _lock(observation)
    if observation.method != ObservationSettings.Method.LOTTERY:
        raise ParticipationError(_("Seats of this meeting are given first come, first served."))
    if observation.drawn_at is not None:
        raise ParticipationError(_("The lottery has been drawn already."))
    if timezone.now() < observation.closes_at and observation.closed_at is None:
        raise ParticipationError(_("Draw the lottery after registration has closed."))
    observation.lottery_seed = secrets.token_hex(16)
    applied = list(observation.registrations.select_for_update().filter(state=Registration.State.APPLIED))
    by_pk = {r.pk: r for r in applied}
    result: dict[str, list[int]] = {}
    for kind in Registration.Kind.values:
        order = lottery_order(observation.lottery_seed, kind, [r.pk for r in applied if r.kind == kind])
        left = observation.seats_for(kind) - _seats_used(observation, kind)
        position = _next_position(observation)
        for pk in order:
            registration = by_pk[pk]
            seated = registration.party_size <= left
            left -= registration.party_size if seated else 0
            registration.state = Registration.State.SEATED if seated else Registration.State.WAITING
            registration.position = position
            position += 1
            registration.save(update_fields=["state", "position"])
            _mail(registration, registration.state)
        result[kind] = order
    observation.drawn_at = timezone.now()
    observation.save(update_fields=["lottery_seed", "drawn_at"])
    audit_record(
        actor=actor,
        action=AuditAction.OBSERVATION_LOTTERY_DRAWN,
        target=observation.meeting,
        data={"seed": observation.lottery_seed, "order": result},
    )
    return observation


@transaction.atomic
def observation_close(*, meeting: Meeting, reason: str) -> ObservationSettings | None:
    """Stop registration because the meeting became 非公開, was postponed or cancelled: every registration
    is cancelled and told by mail. Runs in the transaction of the meeting's change; twice changes nothing."""
    observation = ObservationSettings.objects.filter(meeting_id=meeting.pk).first()
    if observation is None:
        return None
    observation = _lock(observation)
    if observation.closed_at is not None:
        return observation
    observation.closed_at, observation.closed_reason = timezone.now(), single_line(reason, 200)
    observation.save(update_fields=["closed_at", "closed_reason", "updated_at"])
    told = list(observation.registrations.select_for_update().exclude(state=Registration.State.CANCELLED))
    observation.registrations.filter(pk__in=[r.pk for r in told]).update(
        state=Registration.State.CANCELLED, cancelled_at=observation.closed_at
    )
    for registration in told:
        _mail(registration, "closed", reason=observation.closed_reason)
    audit_record(
        actor=None,
        action=AuditAction.OBSERVATION_CLOSED,
        target=observation.meeting,
        data={"reason": observation.closed_reason, "told": len(told)},
    )
    return observation


# --- the day of the meeting, and afterwards --------------------------------------------------------


@transaction.atomic
def registration_check_in(*, actor: AnyUser, registration: Registration, attended: int) -> Registration:
    """Record how many of the party came (0 undoes it); the meeting's 傍聴者数 follows."""
    observation = _lock(registration.settings)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.state not in (Registration.State.SEATED, Registration.State.WAITING):
        raise ParticipationError(_("Only a registration with a seat or on the waiting list can be checked in."))
    if not 0 <= attended <= registration.party_size:
        raise ParticipationError(_("At most the number in the party can come."))
    registration.attended = attended or None
    registration.checked_in_at = timezone.now() if attended else None
    registration.save(update_fields=["attended", "checked_in_at"])
    previous = observation.observers
    total = observation.registrations.aggregate(n=Sum("attended"))["n"] or 0
    observation.observer_count = int(total)
    observation.save(update_fields=["observer_count"])
    audit_record(
        actor=actor,
        action=AuditAction.OBSERVER_CHECKED_IN,
        target=registration,
        data={"attended": attended, "observer_count": observation.observer_count},
    )
    _minutes_follow(observation, actor=actor, previous=previous)
    return registration


def _minutes_follow(observation: ObservationSettings, *, actor: AnyUser | None, previous: int | None) -> None:
    # The minutes' 傍聴者数 follows the meeting record unless the secretariat wrote another number there.
    if observation.observers != previous:
        meeting_services.minutes_observers_follow(
            actor=actor, meeting=observation.meeting, observers_count=observation.observers, previous=previous
        )


@transaction.atomic
def observer_count_correct(*, actor: AnyUser, meeting: Meeting, count: int | None) -> ObservationSettings:
    """Correct the meeting's 傍聴者数 (e.g. people let in without registering); None goes back to the number
    checked in. The minutes follow while they can change. Twice with the same number changes nothing."""
    observation = ObservationSettings.objects.filter(meeting_id=meeting.pk).first()
    if observation is None:
        raise ParticipationError(_("Observation is not set up for this meeting."))
    observation = _lock(observation)
    if count is not None and not 0 <= count <= 9999:
        raise ParticipationError(_("Give the number of observers as a whole number from 0."))
    if not observation.meeting.is_past:
        raise ParticipationError(_("The number of observers can be recorded once the meeting has started."))
    if observation.observer_count_correction == count:
        return observation
    previous = observation.observers
    old_correction = observation.observer_count_correction
    observation.observer_count_correction = count
    observation.save(update_fields=["observer_count_correction"])
    audit_record(
        actor=actor,
        action=AuditAction.OBSERVER_COUNT_CORRECTED,
        target=observation.meeting,
        data={"from": old_correction, "to": count, "checked_in": observation.observer_count},
    )
    _minutes_follow(observation, actor=actor, previous=previous)
    return observation


def minutes_started(*, meeting_pk: int, actor: AnyUser | None) -> None:
    """Minutes just started (in their transaction): they begin with the meeting's 傍聴者数 of record."""
    observation = ObservationSettings.objects.filter(meeting_id=meeting_pk).select_related("meeting").first()
    if observation is not None and observation.observers is not None:
        meeting_services.minutes_observers_follow(
            actor=actor, meeting=observation.meeting, observers_count=observation.observers, previous=None
        )


def personal_data_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the observers' personal data of meetings held more than DXPLAN_OBSERVER_DATA_DAYS days ago
    (the registrations and the mails written to them); the 傍聴者数 stays. Each meeting in its own
    transaction, recorded in the audit. Returns how many registrations were deleted."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=django_settings.DXPLAN_OBSERVER_DATA_DAYS)
    due = ObservationSettings.objects.filter(purged_at__isnull=True, meeting__start_at__lt=cutoff)
    deleted = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            observation = (
                ObservationSettings.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("meeting__body")
                .filter(pk=pk, purged_at__isnull=True)
                .first()
            )
            if observation is None:
                continue
            emails = list(observation.registrations.values_list("email", flat=True))
            registration_ids = [str(pk) for pk in observation.registrations.values_list("pk", flat=True)]
            # The addresses the registrations came from are personal data too: the audit keeps what happened
            # ("傍聴 #12 registered") but no longer where from.
            cleared = AuditEntry.objects.filter(
                target_type=ContentType.objects.get_for_model(Registration), target_id__in=registration_ids
            ).exclude(ip_address=None).update(ip_address=None)
            count, _rows = observation.registrations.all().delete()
            outbox.outbox_forget(topic=REGISTRATION_TOPIC, addresses=emails)
            observation.purged_at = now
            observation.save(update_fields=["purged_at"])
            audit_record(
                actor=None,
                action=AuditAction.OBSERVER_DATA_DELETED,
                target=observation.meeting,
                data={
                    "registrations": count,
                    "days": django_settings.DXPLAN_OBSERVER_DATA_DAYS,
                    "addresses_cleared": cleared,
                },
            )
            deleted += count
    return deleted


# --- subscriptions to a body --------------------------------------------------------------------


def _subscription_mail(subscription: Subscription, template: str) -> None:
    context = {
        "subscription": subscription,
        "body": subscription.body,
        "confirm_url": _url("participation:subscription_confirm", subscription.token),
        "unsubscribe_url": _url("participation:unsubscribe", subscription.token),
    }
    subject = render_to_string(f"participation/email/{template}_subject.txt", context)
    text = render_to_string(f"participation/email/{template}.txt", context)
    outbox.outbox_write(topic=SUBSCRIPTION_TOPIC, to=subscription.email, subject=subject.strip(), text=text)


@transaction.atomic
def subscription_request(*, body: Body, email: str, ip_address: str | None = None) -> Subscription:
    """Ask to be told of a body's news: a mail with a link to confirm the address (double opt-in). An
    address already subscribed gets the mail again; the page answers the same either way."""
    email = email.strip().lower()
    subscription, created = Subscription.objects.select_for_update().get_or_create(body=body, email=email)
    if subscription.state == Subscription.State.ENDED:
        subscription.state = Subscription.State.UNCONFIRMED
        subscription.save(update_fields=["state"])
    if created:
        subscription.full_clean()
        audit_record(actor=None, action=AuditAction.SUBSCRIPTION_REQUESTED, target=body, ip_address=ip_address)
    _subscription_mail(subscription, "subscription_confirm")
    return subscription


@transaction.atomic
def subscription_confirm(*, subscription: Subscription) -> Subscription:
    """The address is confirmed: the subscription starts. Twice changes nothing."""
    subscription = Subscription.objects.select_for_update().select_related("body").get(pk=subscription.pk)
    if subscription.state == Subscription.State.ACTIVE:
        return subscription
    subscription.state, subscription.confirmed_at = Subscription.State.ACTIVE, timezone.now()
    subscription.save(update_fields=["state", "confirmed_at"])
    audit_record(actor=None, action=AuditAction.SUBSCRIPTION_CONFIRMED, target=subscription.body)
    return subscription


@transaction.atomic
def subscription_end(*, subscription: Subscription) -> Subscription:
    """Unsubscribe (one click, no account): the row and with it the address are deleted; the object
    returned (not saved) says it ended. Twice changes nothing."""
    locked = Subscription.objects.select_for_update().select_related("body").filter(pk=subscription.pk).first()
    if locked is not None:
        locked.delete()
        audit_record(actor=None, action=AuditAction.SUBSCRIPTION_ENDED, target=locked.body)
    subscription.state, subscription.ended_at = Subscription.State.ENDED, timezone.now()
    return subscription


def subscribers_notify(*, body_id: int, subject: str, text: str) -> int:
    """Write one mail per active subscriber of the body to the outbox, in the caller's transaction; each
    carries its one-click unsubscribe (RFC 8058). Returns how many were written."""
    subscribers = list(
        Subscription.objects.filter(body_id=body_id, state=Subscription.State.ACTIVE).values_list("email", "token")
    )
    mails = []
    for email, token in subscribers:
        url = _url("participation:unsubscribe", token)
        body_text = text + "\n\n" + _("To stop these mails: %(url)s") % {"url": url}
        headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        mails.append((email, subject, body_text, headers))
    if mails:
        outbox.outbox_write_many(topic=SUBSCRIPTION_TOPIC, mails=mails)
    return len(mails)
