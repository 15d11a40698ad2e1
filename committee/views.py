"""Public pages of the roster, and the secretariat's composition report and roster export."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import wareki
from core.audit import AuditAction, audit_record
from core.http import client_ip
from core.paging import paginate

from . import reports, selectors
from .access import bodies_managed_by, bodies_visible_to, body_for
from .models import Appointment, Body, Guideline
from .resources import RosterResource

# Dates a page can be asked about: 和暦 starts with the Gregorian calendar (明治6年), and the
# composition report looks weeks ahead of the day, which must not run past date.max.
EARLIEST_DAY = wareki.ERAS[-1][0]
LATEST_DAY = dt.date(2999, 12, 31)
HOME_PAGE = 100  # bodies on one page of the home page's tree
ROSTER_PAGE = 100  # members on one page of a body's roster
COMPOSITION_PAGE = 100  # bodies on one page of the composition report (the totals are of all of them)
ENDING_NAMED = 10  # people named per body whose terms end soon; the rest are counted, named on the roster


def _requested_day(request) -> dt.date | None:
    """?on=2023-05-10 asks for the roster as it stood that day; anything else (or out of range) is ignored."""
    try:
        day = dt.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return None
    return day if EARLIEST_DAY <= day <= LATEST_DAY else None


def _day_from(request) -> dt.date:
    return _requested_day(request) or timezone.localdate()


@require_GET
def home(request):
    bodies = list(bodies_visible_to(request.user).order_by("display_order", "id"))
    children: dict[int | None, list[Body]] = {}
    for body in bodies:
        children.setdefault(body.parent_id if body.parent_id in {b.pk for b in bodies} else None, []).append(body)
    tree: list[tuple[Body, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for body in children.get(parent_id, []):
            tree.append((body, depth))
            walk(body.pk, depth + 1)

    walk(None, 0)
    return render(request, "committee/home.html", {"tree": paginate(request, tree, HOME_PAGE)})


@require_GET
def body_detail(request, slug: str):
    access = body_for(request.user, slug)
    body = access.body
    day, as_requested = selectors.roster_day(body=body, requested=_requested_day(request))
    guideline = selectors.guideline_in_force(body=body, day=day)
    articles = list(guideline.articles.all()) if guideline else []
    roster = selectors.roster_on(body=body, day=day)
    officers = selectors.officers_on(body=body, day=day)
    officer_by_appointment = {
        term.appointment_id: (guideline.chair_title if guideline else term.get_role_display())
        if term.role == "chair"
        else (guideline.vice_chair_title if guideline else term.get_role_display())
        for term in (officers.chair, officers.vice_chair)
        if term is not None
    }
    members = [a for a in roster if a.category in Appointment.MEMBER_CATEGORIES]
    others = [a for a in roster if a.category not in Appointment.MEMBER_CATEGORIES]
    page = paginate(request, members, ROSTER_PAGE, anchor="roster-heading")
    secretariat = selectors.secretariat_unit(body)
    purpose = next((a.text for a in articles if a.kind == "article"), "")
    context = {
        "body": body,
        "day": day,
        "is_today": day == timezone.localdate(),
        "as_requested": as_requested,
        "guideline": guideline,
        "purpose": purpose,
        "members": page,
        "member_rows": [(a, officer_by_appointment.get(a.pk, a.role_label), a.affiliation_on(day)) for a in page],
        "others": [(a, a.role_label, a.affiliation_on(day)) for a in others],
        "officers": officers,
        "secretariat_name": secretariat.full_name_on(day),
        "secretariat": secretariat,
        "children": list(bodies_visible_to(request.user).filter(parent=body)),
        "can_manage": access.manage,
    }
    return render(request, "committee/body_detail.html", context)


@require_GET
def guideline_detail(request, slug: str, effective_on: str | None = None):
    body = body_for(request.user, slug).body
    versions = list(body.guidelines.order_by("-effective_on"))
    if effective_on is None:
        in_force = selectors.guideline_in_force(body=body, day=timezone.localdate())
        guideline = in_force or (versions[0] if versions else None)
        if guideline is None:
            raise Http404
    else:
        try:
            day = dt.date.fromisoformat(effective_on)
        except ValueError:
            raise Http404 from None
        guideline = next((v for v in versions if v.effective_on == day), None)
        if guideline is None:
            raise Http404
    context = {
        "body": body,
        "guideline": guideline,
        "articles": list(guideline.articles.all()),
        "versions": versions,
        "is_current": guideline == selectors.guideline_in_force(body=body, day=timezone.localdate()),
        "rules": _rule_summary(guideline),
    }
    return render(request, "committee/guideline_detail.html", context)


def _rule_summary(guideline: Guideline) -> list[tuple[str, str]]:
    from django.utils.translation import gettext as _

    from core.templatetags.dxplan import jdate

    rule = guideline.get_term_rule_display()
    if guideline.term_rule == Guideline.TermRule.FIXED_DATE:
        rule = _("Until %(date)s") % {"date": jdate(guideline.term_fixed_end, "short")}
    elif guideline.term_rule in (Guideline.TermRule.YEARS, Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END):
        rule = f"{guideline.get_term_rule_display()} ({guideline.term_years})"
    yes, no = _("Yes"), _("No")
    rows = [
        (_("Term of office"), rule),
        (_("A successor serves the remaining term"), yes if guideline.successor_serves_remainder else no),
        (
            _("Reappointment"),
            (_("Allowed, at most %(n)d consecutive terms") % {"n": guideline.max_consecutive_terms})
            if guideline.reappointment_allowed and guideline.max_consecutive_terms
            else (_("Allowed") if guideline.reappointment_allowed else _("Not allowed")),
        ),
        (guideline.chair_title, guideline.get_chair_selection_display()),
        (guideline.vice_chair_title, guideline.get_vice_chair_selection_display()),
        (_("Convened by"), guideline.convener_title or "—"),
        (_("Quorum"), guideline.get_quorum_rule_display()),
        (_("Voting"), guideline.get_voting_rule_display()),
        (_("Online attendance counts toward the quorum"), yes if guideline.online_counts_for_quorum else no),
        (
            _("Meetings"),
            _("Public unless decided otherwise (%(basis)s)") % {"basis": guideline.closure_basis or "—"}
            if guideline.meetings_public_by_default
            else _("Closed unless decided otherwise"),
        ),
    ]
    return rows


@login_required
@require_GET
def composition_report(request):
    if not selectors.is_secretariat(request.user):
        raise Http404
    day = _day_from(request)
    bodies = bodies_managed_by(request.user).order_by("display_order", "id")
    paged = paginate(request, bodies, COMPOSITION_PAGE)  # the rows of this page; the totals are of all bodies
    report = reports.composition(bodies=bodies, day=day, rows_for=paged, ending_named=ENDING_NAMED)
    rows = [(row, row.ending_soon, max(0, row.ending_soon_count - ENDING_NAMED)) for row in report.rows]
    page = paged.page
    context = {"report": report, "day": day, "rows": replace(paged, page=Page(rows, page.number, page.paginator))}
    return render(request, "committee/composition.html", context)


@login_required
@require_GET
def roster_export(request, slug: str, fmt: str):
    body = body_for(request.user, slug, to="manage").body  # the roster's private columns are the secretariat's
    if fmt not in ("csv", "xlsx"):
        raise Http404
    day = _day_from(request)
    dataset = RosterResource(body=body, day=day).export()
    if fmt == "csv":
        content: bytes = ("\ufeff" + dataset.csv).encode("utf-8")  # BOM: Excel opens UTF-8 CSV correctly
        content_type = "text/csv; charset=utf-8"
    else:
        content = dataset.export("xlsx")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    audit_record(
        actor=request.user,
        action=AuditAction.ROSTER_EXPORTED,
        target=body,
        data={"format": fmt, "on": day.isoformat(), "rows": len(dataset)},
        ip_address=client_ip(request),
    )
    response = HttpResponse(content, content_type=content_type)
    from urllib.parse import quote

    filename = f"{body.short_name}_名簿_{day:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = (
        f"attachment; filename=\"roster.{fmt}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"  # SECURITY.md, Files: downloads never run as a page
    return response
