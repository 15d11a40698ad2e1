"""傍聴 (the public observing a meeting) and subscriptions to a body's news, without an account."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from committee.models import Body
from meetings.models import Meeting


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ObservationGuide(models.Model):
    """傍聴要領: the body's rules for observers, which each visitor accepts when registering."""

    body = models.OneToOneField(
        Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="observation_guide"
    )
    text = models.TextField(_("rules for observers (傍聴要領)"))
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("rules for observers (傍聴要領)")
        verbose_name_plural = _("rules for observers (傍聴要領)")

    def __str__(self) -> str:
        return f"{self.body.short_name} 傍聴要領"


class ObservationSettings(models.Model):
    """傍聴 of one meeting: seats, the registration period, first-come or lottery, and the outcome."""

    class Method(models.TextChoices):
        FIRST_COME = "first_come", _("First come, first served (先着順)")
        LOTTERY = "lottery", _("Lottery when full (抽選)")

    meeting = models.OneToOneField(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="observation"
    )
    public_seats = models.PositiveSmallIntegerField(_("seats for the public"), default=10)
    press_seats = models.PositiveSmallIntegerField(_("seats for the press (報道関係者)"), default=0)
    max_party = models.PositiveSmallIntegerField(
        _("largest party"), default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    opens_at = models.DateTimeField(_("registration opens"))
    closes_at = models.DateTimeField(_("registration closes"))
    method = models.CharField(_("allotment"), max_length=12, choices=Method.choices, default=Method.FIRST_COME)
    lottery_seed = models.CharField(_("lottery seed"), max_length=64, blank=True, editable=False)
    drawn_at = models.DateTimeField(_("lottery drawn at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("registration stopped at"), null=True, blank=True, editable=False)
    closed_reason = models.CharField(_("why registration stopped"), max_length=200, blank=True, editable=False)
    observer_count = models.PositiveSmallIntegerField(
        _("number of observers (傍聴者数)"), null=True, blank=True, editable=False
    )
    observer_count_correction = models.PositiveSmallIntegerField(
        _("number of observers as corrected by the secretariat"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("e.g. people who came without registering; empty: the number checked in counts"),
    )
    purged_at = models.DateTimeField(_("personal data deleted at"), null=True, blank=True, editable=False)
    # The last save of the settings (the open data's Last-Modified: seats and registration period are published).
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("observation settings")
        verbose_name_plural = _("observation settings")
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="observation_opens_first")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} 傍聴"

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("Registration must close after it opens.")})
        start = self.meeting.start_at if self.meeting_id else None
        if start is not None and self.closes_at and self.closes_at > start:
            raise ValidationError({"closes_at": _("Registration must close before the meeting starts.")})

    @property
    def observers(self) -> int | None:
        """傍聴者数 of record: the secretariat's correction, else the number checked in."""
        return self.observer_count_correction if self.observer_count_correction is not None else self.observer_count

    def seats_for(self, kind: str) -> int:
        return self.press_seats if kind == Registration.Kind.PRESS else self.public_seats

    def is_open(self, now: object = None) -> bool:
        """Whether a visitor may register now (the meeting's state is checked by the selector)."""
        now = now or timezone.now()
        # A meeting moved earlier than the close of registration: registration ends when it starts.
        start = self.meeting.start_at
        before_start = start is None or now < start  # type: ignore[operator]
        return self.closed_at is None and self.opens_at <= now < self.closes_at and before_start  # type: ignore[operator]


class Registration(models.Model):
    """傍聴申込: one visitor's request to observe, for a party of one or more."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public (一般)")
        PRESS = "press", _("Press (報道関係者)")

    class State(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Address not yet confirmed")
        APPLIED = "applied", _("Applied, waiting for the lottery")
        SEATED = "seated", _("Seat reserved")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", pgettext_lazy("registration", "Cancelled")

    ACTIVE = (State.APPLIED, State.SEATED, State.WAITING)

    settings = models.ForeignKey(
        ObservationSettings, verbose_name=_("observation"), on_delete=models.CASCADE, related_name="registrations"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PUBLIC)
    name = models.CharField(_("name"), max_length=100)
    organisation = models.CharField(_("organisation (press)"), max_length=150, blank=True)
    email = models.EmailField(_("email address"))
    party_size = models.PositiveSmallIntegerField(_("number in the party"), default=1)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.UNCONFIRMED)
    position = models.PositiveIntegerField(_("place in the queue"), null=True, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("address confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("came at"), null=True, blank=True)
    attended = models.PositiveSmallIntegerField(_("how many came"), null=True, blank=True)

    class Meta:
        verbose_name = _("observer registration")
        verbose_name_plural = _("observer registrations")
        ordering = ["settings", "kind", "position", "id"]
        indexes = [models.Index(fields=["settings", "state"], name="participation_reg_state")]
        constraints = [models.CheckConstraint(condition=Q(party_size__gte=1), name="registration_party_positive")]

    def __str__(self) -> str:
        return f"{self.settings.meeting} 傍聴 #{self.pk}"


class Subscription(models.Model):
    """A visitor's subscription to a body's news by mail (new meetings, changes, materials, minutes)."""

    class State(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Address not yet confirmed")
        ACTIVE = "active", _("Subscribed")
        ENDED = "ended", _("Unsubscribed")

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="subscriptions")
    email = models.EmailField(_("email address"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.UNCONFIRMED)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(_("subscribed at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("address confirmed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [models.UniqueConstraint(fields=["body", "email"], name="subscription_one_per_address")]

    def __str__(self) -> str:
        return f"{self.body.short_name} #{self.pk}"
