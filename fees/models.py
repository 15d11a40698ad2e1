"""報酬・謝金 and 費用弁償・旅費: the rules per body (versioned by the date they take effect), who is
excluded, and one statement per member per meeting with its approval. No bank details are stored."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from committee.models import Appointment, Body, Person
from core.validation import local_date
from meetings.models import Meeting


class FeeKind(models.TextChoices):
    REMUNERATION = "remuneration", _("Remuneration (報酬): part-time special officials, 附属機関")
    HONORARIUM = "honorarium", _("Honorarium (謝金): committees set up by guidelines, 要綱設置")


class Post(models.TextChoices):
    CHAIR = "chair", _("Chair (会長・委員長)")
    VICE_CHAIR = "vice_chair", _("Vice chair (副会長・副委員長)")
    MEMBER = "member", _("Member (委員)")


class RuleSet(models.Model):
    """支給基準: what a body's members are paid and reimbursed, in force from a date until the next version."""

    class Travel(models.TextChoices):
        NONE = "none", _("No travel expenses")
        BAND = "band", _("A fixed amount by distance band")
        ACTUAL = "actual", _("The actual fare, entered per trip")

    class Withholding(models.TextChoices):
        RATE = "rate", _("A rate of the amount (報酬・料金, e.g. 10.21%)")
        TABLE = "table", _("By the withholding table (給与所得): the amount is entered")
        NONE = "none", _("No withholding")

    class Rounding(models.TextChoices):
        FLOOR = "floor", _("Round down below 1 yen (切り捨て)")
        HALF_UP = "half_up", _("Round half up (四捨五入)")
        CEILING = "ceiling", _("Round up (切り上げ)")

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.PROTECT, related_name="fee_rule_sets")
    effective_on = models.DateField(_("in force from"))
    kind = models.CharField(_("kind"), max_length=16, choices=FeeKind.choices)
    basis = models.CharField(
        _("basis"), max_length=250, blank=True, help_text=_("e.g. 青森県特別職の職員の報酬等に関する条例 別表")
    )
    is_example = models.BooleanField(
        _("example only (例)"), default=False, help_text=_("Amounts made up for the demo, not a real rule.")
    )
    travel = models.CharField(_("travel"), max_length=8, choices=Travel.choices, default=Travel.NONE)
    travel_for_online = models.BooleanField(_("travel is also paid for online attendance"), default=False)
    withholding = models.CharField(_("withholding"), max_length=8, choices=Withholding.choices)
    withholding_rate = models.DecimalField(
        _("withholding rate (%)"), max_digits=5, decimal_places=3, null=True, blank=True
    )
    rounding = models.CharField(
        _("rounding of the tax"), max_length=8, choices=Rounding.choices, default=Rounding.FLOOR
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fee rules")
        verbose_name_plural = _("fee rules")
        ordering = ["body", "-effective_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "effective_on"],
                violation_error_message=_("This body already has fee rules in force from this date."),
                name="feeruleset_one_version_per_day",
            ),
            models.CheckConstraint(
                condition=~Q(withholding="rate") | Q(withholding_rate__gt=0, withholding_rate__lt=100),
                violation_error_message=_("Withholding at a rate needs a rate above 0 and below 100 percent."),
                name="feeruleset_rate_needs_rate",
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.body.short_name} {self.get_kind_display()} ({local_date(self.effective_on)})"
        return f"[例] {label}" if self.is_example else label

    def clean(self) -> None:
        if self.withholding == self.Withholding.RATE and not self.withholding_rate:
            raise ValidationError({"withholding_rate": _("Give the withholding rate, e.g. 10.21.")})

    def round_yen(self, amount: Decimal) -> int:
        mode = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceiling": ROUND_CEILING}[self.rounding]
        return int(amount.quantize(Decimal(1), rounding=mode))


class Rate(models.Model):
    """The amount per attendance for one post, at the venue (会場) and online (オンライン), in yen."""

    rule_set = models.ForeignKey(RuleSet, verbose_name=_("rules"), on_delete=models.CASCADE, related_name="rates")
    post = models.CharField(_("post"), max_length=16, choices=Post.choices)
    venue_amount = models.PositiveIntegerField(_("at the venue (yen)"))
    online_amount = models.PositiveIntegerField(_("online (yen)"))

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ["rule_set", "post"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "post"],
                violation_error_message=_("These fee rules already have a rate for this post."),
                name="feerate_one_per_post",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_post_display()}: {self.venue_amount} / {self.online_amount}"


class TravelBand(models.Model):
    """A fixed travel amount for journeys up to a distance (片道 km); the last band may have no limit."""

    rule_set = models.ForeignKey(RuleSet, verbose_name=_("rules"), on_delete=models.CASCADE, related_name="bands")
    up_to_km = models.PositiveIntegerField(_("up to (km, one way)"), null=True, blank=True)
    amount = models.PositiveIntegerField(_("amount (yen)"))

    class Meta:
        verbose_name = _("distance band")
        verbose_name_plural = _("distance bands")
        ordering = ["rule_set", models.F("up_to_km").asc(nulls_last=True)]

    def __str__(self) -> str:
        return f"≤{self.up_to_km} km: {self.amount}" if self.up_to_km is not None else f"> : {self.amount}"


class PayeeSetting(models.Model):
    """One person's settings on one body: excluded from payment (officials) with the reason, and the
    one-way distance used for a distance band."""

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="payee_settings")
    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+")
    excluded = models.BooleanField(_("not paid"), default=False)
    excluded_reason = models.CharField(_("reason"), max_length=200, blank=True, help_text=_("e.g. 県職員のため"))
    distance_km = models.PositiveIntegerField(_("distance (km, one way)"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("payee setting")
        verbose_name_plural = _("payee settings")
        constraints = [
            models.UniqueConstraint(
                fields=["body", "person"],
                violation_error_message=_("This person already has a payee setting for this body."),
                name="payeesetting_one_per_person",
            ),
            models.CheckConstraint(
                condition=Q(excluded=False) | ~Q(excluded_reason=""),
                violation_error_message=_("Give the reason why this person is not paid."),
                name="payee_excluded_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} / {self.body.short_name}"


class FeeSheet(models.Model):
    """支出内訳 of one meeting: its statements are approved together by the secretariat's approver."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open (未承認)")
        APPROVED = "approved", _("Approved (承認済)")

    meeting = models.OneToOneField(
        Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="fee_sheet"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_reason = models.CharField(_("why it was reopened"), max_length=250, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fee sheet")
        verbose_name_plural = _("fee sheets")
        permissions = [("approve_feesheet", _("Can approve fee statements (決裁)"))]

    def __str__(self) -> str:
        return f"{self.meeting} 支出内訳"


class Statement(models.Model):
    """支給明細: what one member is owed for one meeting. Computed from attendance and the rules in force on
    the meeting day; the secretariat may correct it with a reason (kept in history)."""

    sheet = models.ForeignKey(
        FeeSheet, verbose_name=_("fee sheet"), on_delete=models.CASCADE, related_name="statements"
    )
    appointment = models.ForeignKey(Appointment, verbose_name=_("member"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="fee_statements"
    )
    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("rules applied"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FeeKind.choices, blank=True)
    post = models.CharField(_("post"), max_length=16, choices=Post.choices, default=Post.MEMBER)
    mode = models.CharField(_("attended"), max_length=8, blank=True)  # "venue", "online" or "" (absent)
    excluded_reason = models.CharField(_("not paid because"), max_length=200, blank=True)
    # Entered by the secretariat where the rules ask for it:
    fare = models.PositiveIntegerField(_("actual fare (yen)"), null=True, blank=True)
    table_tax = models.PositiveIntegerField(_("tax by the table (yen)"), null=True, blank=True)
    # Corrections (empty: the computed amount stands):
    base_override = models.PositiveIntegerField(_("corrected amount (yen)"), null=True, blank=True)
    travel_override = models.PositiveIntegerField(_("corrected travel (yen)"), null=True, blank=True)
    tax_override = models.PositiveIntegerField(_("corrected tax (yen)"), null=True, blank=True)
    correction_reason = models.CharField(_("reason for the correction"), max_length=250, blank=True)
    # The result:
    base_amount = models.PositiveIntegerField(_("amount"), default=0)
    travel_amount = models.PositiveIntegerField(_("travel"), default=0)
    tax_amount = models.PositiveIntegerField(_("tax withheld"), default=0)
    net_amount = models.IntegerField(_("net"), default=0)
    notes = models.CharField(_("notes"), max_length=250, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fee statement")
        verbose_name_plural = _("fee statements")
        ordering = ["sheet", "person__sort_key", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "appointment"],
                violation_error_message=_("This fee sheet already has a statement for this member."),
                name="statement_one_per_member",
            ),
            models.CheckConstraint(
                condition=Q(net_amount=models.F("base_amount") + models.F("travel_amount") - models.F("tax_amount")),
                violation_error_message=_("The net amount must be the base amount plus travel minus the tax withheld."),
                name="statement_net_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sheet.meeting}: {self.person}"

    @property
    def gross_amount(self) -> int:
        return self.base_amount + self.travel_amount

    @property
    def needs_input(self) -> bool:
        """The rules ask for an amount the secretariat has not entered yet (the tax by the table)."""
        return "tax_table_missing" in self.notes.split()

    @property
    def is_corrected(self) -> bool:
        return any(v is not None for v in (self.base_override, self.travel_override, self.tax_override))

    @property
    def meeting_date(self) -> dt.date:
        return self.sheet.meeting.reference_date
