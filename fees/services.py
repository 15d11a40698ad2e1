"""Every change of fees goes through these functions: lock, check, save, audit."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from committee.models import Appointment, Body, OfficerTerm, Person
from core.audit import audit_record
from core.models import AuditAction
from meetings import access as meeting_access
from meetings.models import Attendance, Meeting

from .models import FeeSheet, PayeeSetting, Post, Rate, RuleSet, Statement, TravelBand

logger = logging.getLogger(__name__)


class FeeError(ValidationError):
    """A change the state of the fees or the user's role does not allow; the message says why."""


# --- computing one statement ---------------------------------------------------------------------


@dataclass
class Inputs:
    """What one member's statement is computed from."""

    post: str
    mode: str  # "venue", "online", or "" when absent
    excluded_reason: str = ""
    distance_km: int | None = None
    fare: int | None = None
    table_tax: int | None = None
    base_override: int | None = None
    travel_override: int | None = None
    tax_override: int | None = None


@dataclass
class Result:
    base: int = 0
    travel: int = 0
    tax: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.base + self.travel - self.tax


def rule_for(rule_set: RuleSet | None, rates: list[Rate], bands: list[TravelBand], inputs: Inputs) -> Result:
    """The amounts the rules give: base by post and mode, travel by the rules' kind, tax by rate or table.

    Travel (費用弁償・旅費) reimburses a cost and is not taxed; the tax is withheld from the base only."""
    result = Result()
    if not inputs.mode:
        return result
    if inputs.excluded_reason:
        result.notes.append("excluded")
        return result
    if rule_set is None:
        result.notes.append("no_rule")
        return result
    by_post = {rate.post: rate for rate in rates}
    rate = by_post.get(inputs.post) or by_post.get(Post.MEMBER)
    if rate is None:
        result.notes.append("no_rate")
    else:
        result.base = rate.venue_amount if inputs.mode == Attendance.Mode.VENUE else rate.online_amount
    result.travel = _travel(rule_set, bands, inputs, result.notes)
    if inputs.base_override is not None:
        result.base = inputs.base_override
    if inputs.travel_override is not None:
        result.travel = inputs.travel_override
    result.tax = _tax(rule_set, result.base, inputs, result.notes)
    return result


def _travel(rule_set: RuleSet, bands: list[TravelBand], inputs: Inputs, notes: list[str]) -> int:
    if rule_set.travel == RuleSet.Travel.NONE:
        return 0
    if inputs.mode == Attendance.Mode.ONLINE and not rule_set.travel_for_online:
        return 0
    if rule_set.travel == RuleSet.Travel.ACTUAL:
        if inputs.fare is None:
            notes.append("fare_missing")
            return 0
        return inputs.fare
    if inputs.distance_km is None:
        notes.append("distance_missing")
        return 0
    ordered = sorted(bands, key=lambda b: (b.up_to_km is None, b.up_to_km or 0))
    for band in ordered:
        if band.up_to_km is None or inputs.distance_km <= band.up_to_km:
            return band.amount
    return 0


def _tax(rule_set: RuleSet, base: int, inputs: Inputs, notes: list[str]) -> int:
    if inputs.tax_override is not None:
        return inputs.tax_override
    if base == 0 or rule_set.withholding == RuleSet.Withholding.NONE:
        return 0
    if rule_set.withholding == RuleSet.Withholding.TABLE:
        if inputs.table_tax is None:
            notes.append("tax_table_missing")
            return 0
        return inputs.table_tax
    rate = rule_set.withholding_rate if rule_set.withholding_rate is not None else Decimal(0)
    return rule_set.round_yen(Decimal(base) * Decimal(rate) / Decimal(100))


# --- the statements of a meeting -------------------------------------------------------------------


def rule_set_in_force(body: Body, day: dt.date) -> RuleSet | None:
    """The version of the body's rules in force on `day` (the newest that took effect by then)."""
    return (
        RuleSet.objects.filter(body=body, effective_on__lte=day)
        .prefetch_related("rates", "bands")
        .order_by("-effective_on")
        .first()
    )


def _posts_on(body: Body, day: dt.date) -> dict[int, str]:
    """appointment id → chair / vice chair for the officers holding the post on `day`."""
    terms = OfficerTerm.objects.filter(body=body, start_on__lte=day).filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
    return {t.appointment_id: t.role for t in terms}


def _lock_sheet(meeting: Meeting) -> FeeSheet:
    # The meeting row first, as meetings.services.attendance_record takes it: an approval and a change of
    # attendance then queue behind each other instead of deadlocking. Only the sheet's own row after it
    # (`of`): FOR UPDATE over the joined meeting and body would take those locks in no fixed order.
    Meeting.objects.select_for_update().only("pk").get(pk=meeting.pk)
    sheet, _created = FeeSheet.objects.get_or_create(meeting=meeting)
    return FeeSheet.objects.select_for_update(of=("self",)).select_related("meeting__body").get(pk=sheet.pk)


def _member_rows(meeting: Meeting) -> list[Attendance]:
    return list(
        meeting.attendances.filter(
            appointment__isnull=False,
            appointment__person__isnull=False,
            appointment__category__in=Appointment.MEMBER_CATEGORIES,
        )
        .exclude(actual="")
        .select_related("appointment__person")
    )


def _recompute(sheet: FeeSheet, *, reason: str = "") -> int:
    """Bring every statement of the sheet in line with attendance and the rules; returns rows changed."""
    meeting = sheet.meeting
    day = meeting.reference_date
    rule_set = rule_set_in_force(meeting.body, day)
    rates = list(rule_set.rates.all()) if rule_set else []
    bands = list(rule_set.bands.all()) if rule_set else []
    posts = _posts_on(meeting.body, day)
    payees = {s.person_id: s for s in PayeeSetting.objects.filter(body=meeting.body)}
    existing = {s.appointment_id: s for s in sheet.statements.all()}
    changed = 0
    for row in _member_rows(meeting):
        appointment = row.appointment
        if appointment is None:  # member rows always have one; attendees are not paid here
            continue
        statement = existing.get(appointment.pk) or Statement(
            sheet=sheet, appointment=appointment, person=appointment.person
        )
        setting = payees.get(appointment.person_id) if appointment.person_id is not None else None
        mode = row.actual_mode if row.attended else ""
        inputs = Inputs(
            post=posts.get(appointment.pk, Post.MEMBER),
            mode=mode,
            excluded_reason=setting.excluded_reason if setting and setting.excluded else "",
            distance_km=setting.distance_km if setting else None,
            fare=statement.fare,
            table_tax=statement.table_tax,
            base_override=statement.base_override,
            travel_override=statement.travel_override,
            tax_override=statement.tax_override,
        )
        result = rule_for(rule_set, rates, bands, inputs)
        values = {
            "rule_set": rule_set,
            "kind": rule_set.kind if rule_set else "",
            "post": inputs.post,
            "mode": mode,
            "excluded_reason": inputs.excluded_reason,
            "base_amount": result.base,
            "travel_amount": result.travel,
            "tax_amount": result.tax,
            "net_amount": result.net,
            "notes": " ".join(result.notes),
        }
        if statement.pk is None or any(getattr(statement, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(statement, key, value)
            statement._change_reason = reason or "computed"  # type: ignore[attr-defined]  # simple-history reads it
            statement.save()
            changed += 1
    return changed


@transaction.atomic
def statements_compute(*, actor: Any, meeting: Meeting) -> FeeSheet:
    """Compute (or recompute) each attending member's statement from the recorded attendance and the
    rules in force on the meeting day. Idempotent; refused once the sheet is approved."""
    sheet = _lock_sheet(meeting)
    meeting = sheet.meeting
    if sheet.status == FeeSheet.Status.APPROVED:
        raise FeeError(_("The statements are approved; they reopen only when attendance changes."))
    if not meeting.is_past or meeting.status == Meeting.Status.CANCELLED:
        raise FeeError(_("Statements are computed after the meeting has been held."))
    if not _member_rows(meeting):
        raise FeeError(_("Record the members' attendance first."))
    changed = _recompute(sheet)
    audit_record(actor=actor, action=AuditAction.FEES_COMPUTED, target=meeting, data={"changed": changed})
    return sheet


@transaction.atomic
def statement_correct(
    *,
    actor: Any,
    statement: Statement,
    reason: str,
    fare: int | None = None,
    table_tax: int | None = None,
    base_override: int | None = None,
    travel_override: int | None = None,
    tax_override: int | None = None,
) -> Statement:
    """Enter a fare or the tax by the table, or correct an amount; the reason is kept in the history."""
    sheet = _lock_sheet(statement.sheet.meeting)
    statement = Statement.objects.select_for_update().get(pk=statement.pk, sheet=sheet)
    if sheet.status == FeeSheet.Status.APPROVED:
        raise FeeError(_("The statements are approved and can no longer be changed."))
    reason = " ".join(reason.split())
    if not reason:
        raise FeeError({"reason": _("Say why the statement is changed.")})
    before = {f: getattr(statement, f) for f in CORRECTABLE}
    statement.fare, statement.table_tax = fare, table_tax
    statement.base_override, statement.travel_override, statement.tax_override = (
        base_override,
        travel_override,
        tax_override,
    )
    after = {f: getattr(statement, f) for f in CORRECTABLE}
    if before == after:
        return statement
    statement.correction_reason = reason[:250]
    statement._change_reason = reason[:100]  # type: ignore[attr-defined]  # simple-history reads it on save
    statement.save(update_fields=[*CORRECTABLE, "correction_reason"])
    _recompute(sheet, reason=reason[:100])
    statement.refresh_from_db()
    if statement.tax_amount > statement.base_amount:
        raise FeeError({"tax_override": _("The tax cannot exceed the amount it is withheld from.")})
    audit_record(
        actor=actor,
        action=AuditAction.FEE_STATEMENT_CORRECTED,
        target=sheet.meeting,
        data={"statement": statement.pk, "before": before, "after": after, "reason": reason[:250]},
    )
    return statement


CORRECTABLE = ("fare", "table_tax", "base_override", "travel_override", "tax_override")


def may_approve(user: Any) -> bool:
    """The secretariat's approver (決裁者): an account given the approval right in the administration."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("fees.approve_feesheet"))


@transaction.atomic
def sheet_approve(*, actor: Any, meeting: Meeting) -> FeeSheet:
    """The approver approves every statement of the meeting at once. A second approval is refused."""
    sheet = _lock_sheet(meeting)
    if not may_approve(actor) or not meeting_access.access_to(actor, sheet.meeting).manage:
        raise FeeError(_("Only the secretariat's approver may approve the statements."))
    if sheet.status == FeeSheet.Status.APPROVED:
        raise FeeError(_("The statements of this meeting are approved already."))
    statements = list(sheet.statements.select_for_update())
    if not statements:
        raise FeeError(_("There are no statements to approve: compute them first."))
    missing = [s for s in statements if s.needs_input]
    if missing:
        raise FeeError(
            _("Enter the tax by the table for: %(names)s.") % {"names": "、".join(str(s.person) for s in missing)}
        )
    sheet.status, sheet.approved_at, sheet.approved_by = FeeSheet.Status.APPROVED, timezone.now(), actor
    sheet.save(update_fields=["status", "approved_at", "approved_by"])
    total = sum(s.net_amount for s in statements)
    audit_record(
        actor=actor,
        action=AuditAction.FEES_APPROVED,
        target=sheet.meeting,
        data={"statements": len(statements), "net": total},
    )
    meeting_pk = sheet.meeting_id
    transaction.on_commit(lambda: logger.info("Fee statements of meeting %s approved (net %s yen).", meeting_pk, total))
    return sheet


def statements_reopen_for_attendance(*, meeting: Meeting, attendance_ids: list[int], actor: Any = None) -> None:
    """Attendance changed: an approved sheet goes back to open and every statement is recomputed (an
    open sheet is simply recomputed). Runs inside the transaction that changed the attendance."""
    sheet = FeeSheet.objects.filter(meeting_id=meeting.pk).first()
    if sheet is None:
        return
    members = Attendance.objects.filter(pk__in=attendance_ids, appointment__isnull=False).exists()
    if not members:
        return
    sheet = _lock_sheet(meeting)
    reopened = sheet.status == FeeSheet.Status.APPROVED
    if reopened:
        sheet.status, sheet.reopened_at = FeeSheet.Status.OPEN, timezone.now()
        sheet.reopen_reason = "attendance_changed"
        sheet.save(update_fields=["status", "reopened_at", "reopen_reason"])
        audit_record(
            actor=actor, action=AuditAction.FEES_REOPENED, target=sheet.meeting, data={"attendance": attendance_ids}
        )
    _recompute(sheet, reason="attendance_changed")


# --- rules and payees ------------------------------------------------------------------------------


@transaction.atomic
def rule_set_create(
    *,
    actor: Any,
    body: Body,
    effective_on: dt.date,
    kind: str,
    withholding: str,
    rates: dict[str, tuple[int, int]],
    bands: list[tuple[int | None, int]] | None = None,
    withholding_rate: Decimal | None = None,
    travel: str = RuleSet.Travel.NONE,
    travel_for_online: bool = False,
    rounding: str = RuleSet.Rounding.FLOOR,
    basis: str = "",
    is_example: bool = False,
) -> RuleSet:
    """A new version of the body's rules, in force from `effective_on`. Earlier versions stay as they are:
    approved statements keep the rules they were computed with."""
    body = Body.objects.select_for_update().get(pk=body.pk)
    if RuleSet.objects.filter(body=body, effective_on=effective_on).exists():
        raise FeeError({"effective_on": _("A version in force from this date exists already.")})
    if not rates.get(Post.MEMBER):
        raise FeeError(_("Give at least the amounts for a member."))
    if travel == RuleSet.Travel.BAND and not bands:
        raise FeeError({"bands": _("Give at least one distance band.")})
    rule_set = RuleSet(
        body=body,
        effective_on=effective_on,
        kind=kind,
        basis=basis,
        is_example=is_example,
        travel=travel,
        travel_for_online=travel_for_online,
        withholding=withholding,
        withholding_rate=withholding_rate if withholding == RuleSet.Withholding.RATE else None,
        rounding=rounding,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    rule_set.full_clean()
    rule_set.save()
    Rate.objects.bulk_create(
        Rate(rule_set=rule_set, post=post, venue_amount=venue, online_amount=online)
        for post, (venue, online) in rates.items()
    )
    if travel == RuleSet.Travel.BAND:
        TravelBand.objects.bulk_create(TravelBand(rule_set=rule_set, up_to_km=km, amount=a) for km, a in bands or [])
    audit_record(
        actor=actor,
        action=AuditAction.FEE_RULES_CREATED,
        target=body,
        data={"rule_set": rule_set.pk, "effective_on": effective_on.isoformat(), "kind": kind},
    )
    return rule_set


@transaction.atomic
def payee_setting_save(
    *, actor: Any, body: Body, person: Person, excluded: bool, reason: str = "", distance_km: int | None = None
) -> PayeeSetting:
    """Whether a person is paid on the body (officials are not: the reason is required) and their distance."""
    reason = " ".join(reason.split())
    if excluded and not reason:
        raise FeeError(_("Say why %(name)s is not paid (e.g. 県職員のため).") % {"name": person})
    setting = PayeeSetting.objects.select_for_update().filter(body=body, person=person).first()
    values = {"excluded": excluded, "excluded_reason": reason if excluded else "", "distance_km": distance_km}
    if setting is not None and all(getattr(setting, k) == v for k, v in values.items()):
        return setting
    setting = setting or PayeeSetting(body=body, person=person)
    for key, value in values.items():
        setattr(setting, key, value)
    setting.save()
    audit_record(actor=actor, action=AuditAction.PAYEE_SETTING_SAVED, target=body, data={"person": person.pk, **values})
    return setting
