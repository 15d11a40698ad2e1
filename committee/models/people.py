"""People, appointments (委嘱) with their terms, affiliations and officer terms."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core import kana
from core.validation import end_before_start

from .bodies import Body, Guideline


class Person(models.Model):
    """A person who sits on, observes or serves a body."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other / not stated")

    family_name = models.CharField(_("family name"), max_length=60)
    given_name = models.CharField(_("given name"), max_length=60, blank=True)
    family_name_kana = models.CharField(_("family name reading"), max_length=80)
    given_name_kana = models.CharField(_("given name reading"), max_length=80, blank=True)
    sort_key = models.CharField(_("sort key"), max_length=1700, editable=False, db_index=True)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    note = models.TextField(_("note (secretariat only)"), blank=True)

    history = HistoricalRecords(excluded_fields=["sort_key"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["sort_key", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900, birth_year__lte=2100),
                violation_error_message=_("The year of birth must be between 1900 and 2100."),
                name="person_birth_year_range",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.family_name_kana = kana.to_hiragana(self.family_name_kana)
        self.given_name_kana = kana.to_hiragana(self.given_name_kana)
        self.sort_key = kana.sort_key(self.family_name_kana, self.given_name_kana)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        for field, required in (("family_name_kana", True), ("given_name_kana", False)):
            try:
                setattr(self, field, kana.normalise_reading(getattr(self, field), required=required))
            except ValidationError as exc:
                errors[field] = exc
        current_year = timezone.localdate().year
        if self.birth_year and not 1900 <= self.birth_year <= current_year:
            errors["birth_year"] = ValidationError(_("Enter a year between 1900 and this year."))
        if errors:
            raise ValidationError(errors)

    @property
    def full_name(self) -> str:
        """氏名 as shown in rosters (敬称略): family and given name with a space."""
        return f"{self.family_name} {self.given_name}".strip()

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}".strip()


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def active_on(self, day: dt.date) -> AppointmentQuerySet:
        """Appointments in force on `day` (started, and neither expired nor ended early)."""
        return self.filter(term_start__lte=day).filter(
            Q(ended_on__isnull=True, term_end__isnull=True)
            | Q(ended_on__isnull=True, term_end__gte=day)
            | Q(ended_on__gte=day)
        )

    def not_ended_before(self, day: dt.date) -> AppointmentQuerySet:
        """Appointments whose last day in office is `day` or later (or not fixed)."""
        return self.filter(
            Q(ended_on__isnull=True, term_end__isnull=True)
            | Q(ended_on__isnull=True, term_end__gte=day)
            | Q(ended_on__gte=day)
        )

    def overlapping(self, start: dt.date, end: dt.date | None) -> AppointmentQuerySet:
        """Appointments whose effective period shares at least one day with [start, end]."""
        qs = self.filter(
            Q(ended_on__isnull=True, term_end__isnull=True)
            | Q(ended_on__isnull=True, term_end__gte=start)
            | Q(ended_on__gte=start)
        )
        return qs if end is None else qs.filter(term_start__lte=end)

    def members(self) -> AppointmentQuerySet:
        return self.filter(category__in=Appointment.MEMBER_CATEGORIES)


class Appointment(models.Model):
    """委嘱: one person's appointment to one body for one term."""

    class Category(models.TextChoices):
        MEMBER = "member", _("Member (委員)")
        EXPERT = "expert", _("Expert (有識者)")
        INTERNAL = "internal", _("Internal member (庁内構成員)")
        OBSERVER = "observer", _("Observer (オブザーバー)")
        SECRETARIAT = "secretariat", _("Secretariat (事務局)")

    class EndReason(models.TextChoices):
        EXPIRED = "expired", _("Term expired (任期満了)")
        RESIGNED = "resigned", _("Resigned (辞任)")
        DISMISSED = "dismissed", _("Dismissed (解嘱)")
        DIED = "died", _("Died (死亡)")

    MEMBER_CATEGORIES = (Category.MEMBER, Category.EXPERT, Category.INTERNAL)

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.PROTECT, related_name="appointments")
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    post_title = models.CharField(
        _("post"),
        max_length=200,
        blank=True,
        help_text=_("For a seat held by a post rather than a named person, e.g. 企画政策部次長."),
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.MEMBER)
    role_label = models.CharField(_("role"), max_length=40, blank=True, help_text=_("e.g. 座長"))
    guideline = models.ForeignKey(
        Guideline,
        verbose_name=_("guidelines applied"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    appointed_on = models.DateField(_("appointed on"))
    appointed_by = models.CharField(_("appointed by"), max_length=100, blank=True)
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"), null=True, blank=True)
    predecessor = models.OneToOneField(
        "self",
        verbose_name=_("successor to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successor",
    )
    ended_on = models.DateField(_("ended early on"), null=True, blank=True)
    end_reason = models.CharField(_("how it ended"), max_length=16, choices=EndReason.choices, blank=True)
    display_order = models.PositiveSmallIntegerField(
        _("order among posts"), default=100, help_text=_("Orders seats held by posts; people are listed 五十音順.")
    )
    note = models.TextField(_("note (secretariat only)"), blank=True)

    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appointment (委嘱)")
        verbose_name_plural = _("appointments (委嘱)")
        ordering = ["body", "person__sort_key", "display_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=models.F("term_start")),
                violation_error_message=_("The end of the term is before its start."),
                name="appointment_term_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("term_start")),
                violation_error_message=_("The last day in office is before the start of the term."),
                name="appointment_ended_after_start",
            ),
            models.CheckConstraint(
                condition=Q(person__isnull=False) | ~Q(post_title=""),
                violation_error_message=_("Choose the person appointed, or give the post that holds the seat."),
                name="appointment_person_or_post",
            ),
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(end_reason=""))
                | (Q(ended_on__isnull=False) & ~Q(end_reason="")),
                violation_error_message=_("Give both the last day in office and the reason for leaving, or neither."),
                name="appointment_end_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["body", "term_start", "term_end"])]

    def __str__(self) -> str:
        return f"{self.holder_name} / {self.body.short_name}"

    @property
    def holder_name(self) -> str:
        return self.person.full_name if self.person is not None else self.post_title

    @property
    def effective_end(self) -> dt.date | None:
        """The last day in office: the early end if there was one, else the end of the term."""
        return self.ended_on or self.term_end

    def is_active_on(self, day: dt.date) -> bool:
        end = self.effective_end
        return self.term_start <= day and (end is None or day <= end)

    @property
    def is_member(self) -> bool:
        return self.category in self.MEMBER_CATEGORIES

    def affiliation_on(self, day: dt.date) -> str:
        """所属・役職 as it stood on `day`; before the first record, the first one."""
        records = sorted(self.affiliations.all(), key=lambda a: a.valid_from)
        current = ""
        for record in records:
            if record.valid_from <= day or not current:
                current = record.text
        return current

    def clean(self) -> None:
        errors = end_before_start(
            start=self.term_start, end=self.term_end, field="term_end",
            message=_("The end of the term (%(end)s) is before its start (%(start)s)."),
        ) | end_before_start(
            start=self.term_start, end=self.ended_on, field="ended_on",
            message=_("The last day in office (%(end)s) is before the start of the term (%(start)s)."),
        )
        if errors:
            raise ValidationError(errors)
        if not self.person_id and not self.post_title:
            raise ValidationError(_("Choose a person or give the post that holds the seat."))
        if self.ended_on and not self.end_reason:
            raise ValidationError({"end_reason": _("Say how the appointment ended.")})
        if self.end_reason and not self.ended_on:
            raise ValidationError({"ended_on": _("Give the date the appointment ended.")})


class Affiliation(models.Model):
    """所属・役職 of an appointee from a date on (it can change mid-term)."""

    appointment = models.ForeignKey(
        Appointment, verbose_name=_("appointment"), on_delete=models.CASCADE, related_name="affiliations"
    )
    text = models.CharField(_("affiliation and position"), max_length=250)
    valid_from = models.DateField(_("from"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        ordering = ["appointment", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "valid_from"],
                violation_error_message=_("This appointment already has an affiliation from this date."),
                name="affiliation_one_per_day",
            )
        ]

    def __str__(self) -> str:
        return self.text


class OfficerTerm(models.Model):
    """委員長 or 副委員長: who held the post from when to when, and how they were chosen."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Chair (委員長)")
        VICE_CHAIR = "vice_chair", _("Vice chair (副委員長)")

    body = models.ForeignKey(Body, verbose_name=_("body"), on_delete=models.CASCADE, related_name="officer_terms")
    role = models.CharField(_("post"), max_length=16, choices=Role.choices)
    appointment = models.ForeignKey(
        Appointment, verbose_name=_("held by"), on_delete=models.PROTECT, related_name="officer_terms"
    )
    selected_by = models.CharField(_("chosen by"), max_length=24, choices=Guideline.Selection.choices)
    selected_on = models.DateField(_("chosen on"))
    start_on = models.DateField(_("from"))
    end_on = models.DateField(_("until"), null=True, blank=True)
    meeting_label = models.CharField(
        _("at the meeting"), max_length=100, blank=True, help_text=_("e.g. 第1回 (the meeting that chose)")
    )
    note = models.CharField(_("note"), max_length=250, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("officer")
        verbose_name_plural = _("officers")
        ordering = ["body", "role", "-start_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                violation_error_message=_("The last day in the post is before its first day."),
                name="officerterm_start_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.appointment.holder_name}"

    def clean(self) -> None:
        if errors := end_before_start(
            start=self.start_on, end=self.end_on, field="end_on",
            message=_("The last day in the post (%(end)s) is before its first day (%(start)s)."),
        ):
            raise ValidationError(errors)

    def covers(self, day: dt.date) -> bool:
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)


