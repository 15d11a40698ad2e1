"""Organisation units (部・課) with dated names, and the staff who serve bodies."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.validation import end_before_start


class OrgUnit(models.Model):
    """部・課: a unit of the prefecture's organisation. Its name and place change over time (OrgUnitName)."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Local government")
        DEPARTMENT = "department", _("Department (部)")
        DIVISION = "division", _("Division (課)")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DIVISION)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_on(timezone.localdate()) or self.code

    def _record_on(self, day: dt.date) -> OrgUnitName | None:
        # Uses prefetched names when present, so lists do not query per row.
        for record in self.names.all():
            if record.valid_from <= day and (record.valid_until is None or day <= record.valid_until):
                return record
        return None

    def name_on(self, day: dt.date) -> str:
        """The unit's own name on `day` (DX推進課)."""
        record = self._record_on(day)
        return record.name if record else ""

    def department_on(self, day: dt.date) -> OrgUnit | None:
        """The 部 the unit was part of on `day` (itself if it is one), as the records of that day say."""
        unit: OrgUnit | None = self
        seen: set[int] = set()
        while unit is not None and unit.pk not in seen:
            if unit.kind == OrgUnit.Kind.DEPARTMENT:
                return unit
            seen.add(unit.pk)
            record = unit._record_on(day)
            unit = record.parent if record is not None else None
        return None

    def full_name_on(self, day: dt.date, *, include_government: bool = True) -> str:
        """The name with its parents as they stood on `day` (青森県企画政策部DX推進課)."""
        parts: list[str] = []
        unit: OrgUnit | None = self
        seen: set[int] = set()
        while unit is not None and unit.pk not in seen:
            seen.add(unit.pk)
            record = unit._record_on(day)
            if record is None:
                break
            if unit.kind != OrgUnit.Kind.GOVERNMENT or include_government:
                parts.append(record.name)
            unit = record.parent
        return "".join(reversed(parts))


class OrgUnitName(models.Model):
    """The name and parent a unit had between two dates (DX推進課 under 企画政策部 until 2024-03-31)."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="names")
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        OrgUnit,
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_names",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit name")
        verbose_name_plural = _("unit names")
        ordering = ["unit", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                violation_error_message=_("The last day of this name is before its first day."),
                name="orgunitname_valid_range",
            ),
            models.UniqueConstraint(
                fields=["unit", "valid_from"],
                violation_error_message=_("This unit already has a name from this date."),
                name="orgunitname_unique_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if errors := end_before_start(
            start=self.valid_from, end=self.valid_until, field="valid_until",
            message=_("The last day of this name (%(end)s) is before its first day (%(start)s)."),
        ):
            raise ValidationError(errors)
        if self.parent_id and self.parent_id == self.unit_id:
            raise ValidationError({"parent": _("A unit cannot be part of itself.")})


class StaffAssignment(models.Model):
    """A secretariat account's place in an organisation unit; it manages the bodies that unit serves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.CASCADE, related_name="staff_assignments"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="staff")
    start_on = models.DateField(_("from"))
    end_on = models.DateField(_("until"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("secretariat staff")
        verbose_name_plural = _("secretariat staff")
        ordering = ["unit", "user"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                violation_error_message=_("The end of the assignment is before its start."),
                name="staffassignment_start_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"

    def clean(self) -> None:
        if errors := end_before_start(
            start=self.start_on, end=self.end_on, field="end_on",
            message=_("The end of the assignment (%(end)s) is before its start (%(start)s)."),
        ):
            raise ValidationError(errors)
