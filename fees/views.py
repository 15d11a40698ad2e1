"""Fee pages: the secretariat's (rules, payees, statements of a meeting, the 年度) and the member's own."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from committee import selectors as committee_selectors
from core.wareki import fiscal_year_of

from . import access as fee_access
from . import exports, selectors, services
from .forms import CorrectionForm, PayeeForm, RuleSetForm

NOTE_LABELS = {
    "excluded": gettext_lazy("not paid"),
    "no_rule": gettext_lazy("no rules in force on the meeting day"),
    "no_rate": gettext_lazy("no amount for this post"),
    "fare_missing": gettext_lazy("fare not entered: travel 0"),
    "distance_missing": gettext_lazy("distance not recorded: travel 0"),
    "tax_table_missing": gettext_lazy("enter the tax by the table"),
    "attendance_changed": gettext_lazy("attendance changed"),
    "computed": gettext_lazy("computed from attendance and the rules"),
}


def _note_labels(statement: Any) -> list[str]:
    return [str(NOTE_LABELS.get(code, code)) for code in statement.notes.split()]


def _error(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _download(content: bytes, *, filename: str, fallback: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    # RFC 6266/5987: an ASCII fallback and the UTF-8 name percent-encoded.
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- a body: rules, payees, the 年度 ---------------------------------------------------------------


@login_required
@require_GET
def body_fees(request: HttpRequest, slug: str) -> HttpResponse:
    body, access = fee_access.body_for(request.user, slug)
    return render(
        request,
        "fees/body.html",
        {
            "body": body,
            "access": access,
            "rule_sets": selectors.rule_sets_of(body),
            "meetings": selectors.meetings_with_sheets(body),
            "years": selectors.fiscal_years_of(body),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_set_create(request: HttpRequest, slug: str) -> HttpResponse:
    body, _access = fee_access.body_for(request.user, slug)
    form = RuleSetForm(request.POST or None, initial={"rounding": "floor"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.rule_set_create(
                actor=request.user,
                body=body,
                effective_on=data["effective_on"],
                kind=data["kind"],
                basis=data["basis"],
                rates=form.rates(),
                travel=data["travel"],
                travel_for_online=data["travel_for_online"],
                bands=data["bands"],
                withholding=data["withholding"],
                withholding_rate=data["withholding_rate"],
                rounding=data["rounding"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The rules are saved."))
            return redirect("fees:body", slug=body.slug)
    return render(request, "fees/rule_set_form.html", {"body": body, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def payees(request: HttpRequest, slug: str) -> HttpResponse:
    body, _access = fee_access.body_for(request.user, slug)
    day = committee_selectors.roster_day(body=body, requested=None)[0]
    roster = committee_selectors.roster_on(body=body, day=day, members_only=True)
    people = [a.person for a in roster if a.person is not None]
    settings = selectors.payee_settings_of(body)
    form = PayeeForm(request.POST or None, people=people, settings=settings)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # all rows or none
                for person in people:
                    services.payee_setting_save(
                        actor=request.user,
                        body=body,
                        person=person,
                        excluded=data[f"excluded_{person.pk}"],
                        reason=data[f"reason_{person.pk}"],
                        distance_km=data[f"distance_{person.pk}"],
                    )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Saved."))
            return redirect("fees:payees", slug=body.slug)
    return render(request, "fees/payees.html", {"body": body, "form": form, "day": day})


@login_required
@require_GET
def year(request: HttpRequest, slug: str, fiscal_year: int) -> HttpResponse:
    body, _access = fee_access.body_for(request.user, slug)
    statements = selectors.year_statements(body, fiscal_year)
    return render(
        request,
        "fees/year.html",
        {
            "body": body,
            "fiscal_year": fiscal_year,
            "rows": selectors.annual_rows(statements),
            "totals": selectors.totals([s for s in statements if s.sheet.status == "approved"]),
        },
    )


@login_required
@require_GET
def year_csv(request: HttpRequest, slug: str, fiscal_year: int) -> HttpResponse:
    body, _access = fee_access.body_for(request.user, slug)
    content = exports.to_csv(selectors.year_statements(body, fiscal_year))
    return _download(
        content,
        filename=f"{body.short_name}_{fiscal_year}年度_報酬謝金.csv",
        fallback=f"fees-{body.slug}-{fiscal_year}.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_GET
def year_people_csv(request: HttpRequest, slug: str, fiscal_year: int) -> HttpResponse:
    body, _access = fee_access.body_for(request.user, slug)
    rows = selectors.annual_rows(selectors.year_statements(body, fiscal_year))
    return _download(
        exports.annual_csv(fiscal_year, body.name, rows),
        filename=f"{body.short_name}_{fiscal_year}年度_個人別支払額.csv",
        fallback=f"fees-{body.slug}-{fiscal_year}-people.csv",
        content_type="text/csv; charset=utf-8",
    )


# --- a meeting -------------------------------------------------------------------------------------


@login_required
@require_GET
def meeting_fees(request: HttpRequest, pk: int) -> HttpResponse:
    meeting, access = fee_access.meeting_for(request.user, pk)
    sheet = selectors.sheet_of(meeting)
    statements = selectors.sheet_statements(sheet)
    rule_set = services.rule_set_in_force(meeting.body, meeting.reference_date)
    return render(
        request,
        "fees/meeting.html",
        {
            "meeting": meeting,
            "access": access,
            "sheet": sheet,
            "rows": [(s, _note_labels(s)) for s in statements],
            "totals": selectors.totals(statements),
            "rule_set": rule_set,
            "needs_input": any(s.needs_input for s in statements),
        },
    )


@login_required
@require_POST
def meeting_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ("compute", "approve"):
        raise Http404
    meeting, _access = fee_access.meeting_for(request.user, pk, to="approve" if action == "approve" else "manage")
    try:
        if action == "compute":
            services.statements_compute(actor=request.user, meeting=meeting)
            messages.success(request, _("The statements are computed."))
        else:
            services.sheet_approve(actor=request.user, meeting=meeting)
            messages.success(request, _("The statements are approved."))
    except ValidationError as exc:
        _error(request, exc)
    return redirect("fees:meeting", pk=meeting.pk)


@login_required
@require_GET
def meeting_csv(request: HttpRequest, pk: int) -> HttpResponse:
    meeting, _access = fee_access.meeting_for(request.user, pk)
    statements = selectors.sheet_statements(selectors.sheet_of(meeting))
    return _download(
        exports.to_csv(statements),
        filename=f"{meeting.body.short_name}_{meeting.label}_報酬謝金.csv",
        fallback=f"fees-meeting-{meeting.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_GET
def meeting_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from documents.pdf import render_pdf

    meeting, _access = fee_access.meeting_for(request.user, pk)
    sheet = selectors.sheet_of(meeting)
    statements = selectors.sheet_statements(sheet)
    with translation.override("ja"):  # the 支出内訳 is a Japanese document in every language
        pdf = render_pdf(
            "fees/print/breakdown.html",
            {
                "meeting": meeting,
                "sheet": sheet,
                "statements": statements,
                "totals": selectors.totals(statements),
                "document_title": f"{meeting} 支出内訳",
                "secretariat": meeting.body.secretariat.full_name_on(meeting.reference_date),
            },
        )
    return _download(
        pdf,
        filename=f"{meeting.body.short_name}_{meeting.label}_支出内訳.pdf",
        fallback=f"fees-meeting-{meeting.pk}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_http_methods(["GET", "POST"])
def statement_correct(request: HttpRequest, pk: int) -> HttpResponse:
    statement, _access = fee_access.statement_for(request.user, pk, to="manage")
    initial = {f: getattr(statement, f) for f in services.CORRECTABLE}
    form = CorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.statement_correct(
                actor=request.user,
                statement=statement,
                **{f: data[f] for f in services.CORRECTABLE},
                reason=data["reason"],
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The statement is saved."))
            return redirect("fees:meeting", pk=statement.sheet.meeting_id)
    history = [
        (h, NOTE_LABELS.get(h.history_change_reason or "", h.history_change_reason or ""))
        for h in statement.history.select_related("history_user").order_by("-history_date")[:50]
    ]
    return render(
        request,
        "fees/statement_form.html",
        {"statement": statement, "form": form, "history": history, "notes": _note_labels(statement)},
    )


# --- the member's own ------------------------------------------------------------------------------


@login_required
@require_GET
def my_fees(request: HttpRequest) -> HttpResponse:
    years = selectors.my_statements(request.user)
    summary = [
        (fy, statements, selectors.totals([s for s in statements if s.sheet.status == "approved"]))
        for fy, statements in years.items()
    ]
    return render(request, "fees/my_fees.html", {"years": summary})


@login_required
@require_GET
def my_statement(request: HttpRequest, pk: int) -> HttpResponse:
    statement, _access = fee_access.statement_for(request.user, pk, to="own")
    return render(
        request,
        "fees/my_statement.html",
        {"statement": statement, "fiscal_year": fiscal_year_of(statement.sheet.meeting.reference_date)},
    )
