"""Reads of fees: statements, totals, rules, the 年度 and a member's own. Who may see them: fees.access."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from committee.models import Body
from meetings.models import Meeting

from .models import FeeSheet, PayeeSetting, RuleSet, Statement


def sheet_of(meeting: Meeting) -> FeeSheet | None:
    return FeeSheet.objects.filter(meeting=meeting).select_related("approved_by").first()


def sheet_statements(sheet: FeeSheet | None) -> list[Statement]:
    """A sheet's statements 五十音順, with what the pages show. Two queries."""
    if sheet is None:
        return []
    return list(
        sheet.statements.select_related("person", "rule_set__body").order_by("person__sort_key", "appointment_id")
    )


@dataclass
class Totals:
    count: int = 0
    base: int = 0
    travel: int = 0
    tax: int = 0
    net: int = 0

    def add(self, statement: Statement) -> None:
        self.count += 1
        self.base += statement.base_amount
        self.travel += statement.travel_amount
        self.tax += statement.tax_amount
        self.net += statement.net_amount

    @property
    def gross(self) -> int:
        return self.base + self.travel


def totals(statements: list[Statement]) -> Totals:
    result = Totals()
    for statement in statements:
        result.add(statement)
    return result


def rule_sets_of(body: Body) -> list[RuleSet]:
    return list(body.fee_rule_sets.prefetch_related("rates", "bands").order_by("-effective_on"))


def payee_settings_of(body: Body) -> dict[int, PayeeSetting]:
    return {s.person_id: s for s in PayeeSetting.objects.filter(body=body)}


def year_statements(body: Body, fiscal_year: int) -> list[Statement]:
    """Every statement of the body's meetings in the 年度, by meeting date then 五十音. Fixed queries."""
    return list(
        Statement.objects.filter(sheet__meeting__body=body, sheet__meeting__fiscal_year=fiscal_year)
        .select_related("person", "rule_set", "sheet__meeting__body")
        .order_by("sheet__meeting__start_at", "sheet__meeting__number", "person__sort_key", "appointment_id")
    )


@dataclass
class AnnualRow:
    """年間支払額 of one person: approved statements only (what was paid), for the 支払調書."""

    person: Any
    totals: Totals = field(default_factory=Totals)
    open_count: int = 0
    kinds: list[str] = field(default_factory=list)  # 報酬 / 謝金, as paid


def annual_rows(statements: list[Statement]) -> list[AnnualRow]:
    rows: dict[int, AnnualRow] = {}
    for statement in statements:
        row = rows.setdefault(statement.person_id, AnnualRow(person=statement.person))
        if statement.sheet.status == FeeSheet.Status.APPROVED:
            row.totals.add(statement)
            label = {"remuneration": "報酬", "honorarium": "謝金"}.get(statement.kind)
            if label and label not in row.kinds:
                row.kinds.append(label)
        else:
            row.open_count += 1
    return sorted(rows.values(), key=lambda r: (r.person.sort_key, r.person.pk))


def my_statements(user: Any) -> dict[int, list[Statement]]:
    """The user's own statements by 年度 (newest first). Fixed queries."""
    if not user.is_authenticated:
        return {}
    years: dict[int, list[Statement]] = defaultdict(list)
    qs = (
        Statement.objects.filter(person__user=user)
        .select_related("sheet__meeting__body", "rule_set")
        .order_by("-sheet__meeting__fiscal_year", "sheet__meeting__start_at", "pk")
    )
    for statement in qs:
        years[statement.sheet.meeting.fiscal_year].append(statement)
    return dict(years)


def meetings_with_sheets(body: Body) -> list[Meeting]:
    """The body's meetings already held, newest first, with their sheet (if any)."""
    return list(
        Meeting.objects.filter(body=body, start_at__isnull=False)
        .exclude(status=Meeting.Status.CANCELLED)
        .select_related("fee_sheet")
        .order_by("-start_at")
    )


def fiscal_years_of(body: Body) -> list[int]:
    return sorted(set(Meeting.objects.filter(body=body).values_list("fiscal_year", flat=True)), reverse=True)
