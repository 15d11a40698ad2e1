"""The secretariat keeps a body's roster in the site: an early end (辞任・解嘱・死亡) with its date and
reason, the successor for the remaining term in one step (第5-2), a new 所属・役職 from a date, and the
end of an officer's post; the renewal of the whole body for a new term (改選) and the amendment of its
guidelines from a chosen day. Every change goes through committee/services.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Max, Prefetch, Q, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import ContactForm
from core.http import client_ip, post_only
from core.paging import paginate
from core.templatetags.dxplan import jdate

from . import accounts, selectors, services
from .access import bodies_managed_by, body_for
from .forms import (
    AffiliationForm,
    BodyEditForm,
    EndForm,
    GuidelineAmendForm,
    NewMemberFormSet,
    OfficerEndForm,
    RenewalForm,
    SuccessorForm,
)
from .models import Affiliation, Appointment, Body, Guideline, OfficerTerm
from .services import BODY_EDITABLE

# Appointments that ended within this many days stay on the page, so a successor can be appointed.
RECENT_DAYS = 400
ROSTER_MANAGE_PAGE = 50  # appointments on one page (each row carries its forms)


def _appointments(body: Body, today: dt.date) -> QuerySet[Appointment]:
    """In force today first, then those ended lately, each group 五十音順; with officer posts and successors,
    in a fixed number of queries. Ordered in SQL, so that a page of it loads only its own rows."""
    since = today - dt.timedelta(days=RECENT_DAYS)
    in_force = Q(term_start__lte=today) & (
        Q(ended_on__isnull=True, term_end__isnull=True)
        | Q(ended_on__isnull=True, term_end__gte=today)
        | Q(ended_on__gte=today)
    )  # AppointmentQuerySet.active_on, as a condition
    return (
        Appointment.objects.filter(body=body, term_start__lte=today + dt.timedelta(days=RECENT_DAYS))
        .filter(Q(ended_on__isnull=True, term_end__isnull=True) | Q(ended_on__gte=since) | Q(term_end__gte=since))
        .annotate(gone=Case(When(in_force, then=Value(0)), default=Value(1)))
        .select_related("person", "successor__person")
        .prefetch_related(
            Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")),
            Prefetch(
                "officer_terms",
                queryset=OfficerTerm.objects.filter(Q(end_on__isnull=True) | Q(end_on__gte=today)),
                to_attr="posts",
            ),
        )
        .order_by("gone", F("person__sort_key").asc(nulls_last=True), "display_order", "-term_start", "id")
    )


def _rows(appointments: list[Appointment], today: dt.date, guideline) -> list[dict]:
    rows = []
    for appointment in appointments:
        successor = getattr(appointment, "successor", None)
        rows.append(
            {
                "appointment": appointment,
                "active": appointment.is_active_on(today),
                "affiliation": appointment.affiliation_on(min(today, appointment.effective_end or today)),
                "posts": [
                    (post, selectors.officer_title(guideline, post.role))
                    for post in appointment.posts  # type: ignore[attr-defined]  # the Prefetch to_attr of _appointments
                ],
                "successor": successor,
                "needs_successor": appointment.ended_on is not None
                and appointment.end_reason != Appointment.EndReason.EXPIRED
                and successor is None,
            }
        )
    rows.sort(key=lambda row: not row["active"])  # those in office first, each group 五十音順
    return rows


@login_required
@require_GET
def roster_manage(request, slug: str) -> HttpResponse:
    """The roster as the secretariat keeps it: who is in office, who left, and what to do next."""
    body = body_for(request.user, slug, to="manage").body
    return render(request, "committee/roster_manage.html", _roster_context(request, body))


def _roster_context(request, body: Body, kept: dict | None = None) -> dict:
    """The roster page's context; `kept`: the form that was refused (appointment, action, what was typed), shown
    open again with the values the secretariat gave."""
    today = timezone.localdate()
    guideline = selectors.guideline_in_force(body=body, day=today)
    page = paginate(request, _appointments(body, today), ROSTER_MANAGE_PAGE)
    context = {
        "body": body,
        "today": today,
        "guideline": guideline,
        "rows": _rows(list(page), today, guideline),
        "roster_page": page,
        "end_form": EndForm(initial={"ended_on": today}),
        "affiliation_form": AffiliationForm(initial={"valid_from": today}),
        "successor_form": SuccessorForm(initial={"appointed_on": today}),
        "officer_form": OfficerEndForm(initial={"end_on": today}),
        "kept": kept or {},
    }
    return context


def _end(request, appointment: Appointment) -> str:
    form = EndForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Give the last day in office and the reason."))
    data = form.cleaned_data
    services.appointment_end(actor=request.user, appointment=appointment, ended_on=data["ended_on"],
                             reason=data["reason"])
    return _("The end of %(name)s's appointment was recorded.") % {"name": appointment.holder_name}


def _affiliation(request, appointment: Appointment) -> str:
    form = AffiliationForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Give the date and the new affiliation."))
    data = form.cleaned_data
    services.affiliation_change(actor=request.user, appointment=appointment, text=data["text"],
                                valid_from=data["valid_from"])
    return _("The new affiliation of %(name)s was recorded.") % {"name": appointment.holder_name}


def _successor(request, appointment: Appointment) -> str:
    form = SuccessorForm(request.POST)
    if not form.is_valid():
        problems = [f"{form.fields[name].label}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()]
        raise ValidationError(problems)
    data = form.cleaned_data
    with transaction.atomic():  # the new person and the appointment together, or neither
        person = services.person_create(
            actor=request.user, family_name=data["family_name"], given_name=data["given_name"],
            family_name_kana=data["family_name_kana"], given_name_kana=data["given_name_kana"],
            email=data["email"], gender=data["gender"],
        )
        successor = services.appointment_succeed(actor=request.user, predecessor=appointment, person=person,
                                                 appointed_on=data["appointed_on"], affiliation=data["affiliation"])
    return _("%(name)s was appointed as successor for the remaining term.") % {"name": successor.holder_name}


def _contact(request, appointment: Appointment) -> str:
    form = ContactForm(request.POST)
    if not form.is_valid():
        problems = [f"{form.fields[name].label}: {' '.join(map(str, errors))}" for name, errors in form.errors.items()]
        raise ValidationError(problems)
    accounts.person_update_contact(actor=request.user, person=appointment.person, ip_address=client_ip(request),
                                   **form.cleaned_data)
    return _("The contact details of %(name)s were saved.") % {"name": appointment.holder_name}


def _officer_end(request, appointment: Appointment) -> str:
    term = get_object_or_404(OfficerTerm, pk=request.POST.get("officer_term", "0") or "0", appointment=appointment)
    form = OfficerEndForm(request.POST)
    if not form.is_valid():
        raise ValidationError(_("Give the last day in the post."))
    services.officer_end(actor=request.user, officer_term=term, end_on=form.cleaned_data["end_on"],
                         note=form.cleaned_data["note"])
    return _("The post of %(name)s ends; it is vacant from the next day.") % {"name": appointment.holder_name}


ROSTER_ACTIONS: dict[str, Callable[..., str]] = {
    "end": _end,
    "affiliation": _affiliation,
    "successor": _successor,
    "officer-end": _officer_end,
    "contact": _contact,
}


@login_required
@post_only(lambda slug, pk, action: reverse("committee:roster_manage", args=[slug]))
def roster_action(request, slug: str, pk: int, action: str) -> HttpResponse:
    """One change to one appointment of a body the user's unit serves; nothing else can be named."""
    body = body_for(request.user, slug, to="manage").body
    step = ROSTER_ACTIONS.get(action)
    if step is None:
        raise Http404
    appointment = get_object_or_404(Appointment.objects.select_related("person", "body"), pk=pk, body=body)
    try:
        messages.success(request, step(request, appointment))
    except ValidationError as exc:
        # The page again, on the same page of the roster, with the refused form open and what was typed in it:
        # nothing the secretariat typed is lost to a mistake in one field.
        messages.error(request, " ".join(exc.messages))
        kept = {"pk": appointment.pk, "action": action, "data": request.POST}
        request.GET = request.GET.copy()
        request.GET["page"] = request.POST.get("page", "")  # the roster's page the form was on
        return render(request, "committee/roster_manage.html", _roster_context(request, body, kept), status=400)
    page = request.POST.get("page", "")
    query = f"?page={page}" if page.isdigit() else ""
    return redirect(reverse("committee:roster_manage", args=[body.slug]) + query + f"#appointment-{appointment.pk}")


# --- renewal (改選) ----------------------------------------------------------------------------


def _current_term(body: Body) -> tuple[dt.date | None, list[Appointment]]:
    """The last day of the body's latest term and the members in office on it, 五十音順 (two queries)."""
    last_end = Appointment.objects.filter(body=body).members().aggregate(end=Max("term_end"))["end"]
    if last_end is None:
        return None, []
    in_office = list(
        Appointment.objects.filter(body=body).members().active_on(last_end)
        .select_related("person")
        .prefetch_related(Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")))
        .order_by(F("person__sort_key").asc(nulls_last=True), "display_order", "id")
    )
    return last_end, in_office


def _person_choices(user) -> list[tuple[int | str, str]]:
    rows = selectors.people_managed_by(user).order_by("sort_key", "id").values_list(
        "pk", "family_name", "given_name", "family_name_kana", "given_name_kana"
    )
    return [(pk, f"{family} {given}（{kana_f} {kana_g}）".replace(" ）", "）"))
            for pk, family, given, kana_f, kana_g in rows]


def _guideline_label(guideline: Guideline) -> str:
    return _("%(title)s, in force from %(date)s") % {"title": guideline.title, "date": jdate(guideline.effective_on)}


def _new_members(user, formset) -> list[services.NewMember]:
    forms = [f for f in formset.forms if f.has_changed() and f.cleaned_data]
    ids = {f.cleaned_data["person"] for f in forms if f.cleaned_data.get("person")}
    people = selectors.people_managed_by(user).in_bulk(ids) if ids else {}
    members = []
    for form in forms:
        data = form.cleaned_data
        person = people.get(data.get("person") or 0)
        if data.get("person") and person is None:
            raise ValidationError(_("Choose someone from the list."))
        members.append(services.NewMember(
            person=person, family_name=data["family_name"], given_name=data["given_name"],
            family_name_kana=data["family_name_kana"], given_name_kana=data["given_name_kana"],
            gender=data["gender"], email=data["email"], affiliation=data["affiliation"], category=data["category"],
        ))
    return members


def _plan_token(term_start: dt.date, guideline: Guideline, appointed_on: dt.date | None,
                continuing: list[Appointment], members: list[services.NewMember]) -> str:
    """What the preview showed; the confirmation must carry it, so what is confirmed is what was seen."""
    plan = [term_start.isoformat(), guideline.pk, appointed_on.isoformat() if appointed_on else "",
            sorted(a.pk for a in continuing),
            [[m.person.pk if m.person else None, m.family_name, m.given_name, m.family_name_kana,
              m.given_name_kana, m.gender, m.email, m.affiliation, m.category] for m in members]]
    return hashlib.sha256(json.dumps(plan, ensure_ascii=False).encode()).hexdigest()


def _candidate_rows(body: Body, in_office: list[Appointment], guideline: Guideline | None, term_start: dt.date,
                    chosen: set[int] | None, last_end: dt.date | None) -> list[dict]:
    histories = selectors.appointment_histories(body=body, person_ids={a.person_id for a in in_office if a.person_id})
    rows = []
    for appointment in in_office:
        problem = ""
        if guideline is not None:
            problem = services.renewal_continuation_problem(
                appointment=appointment, history=histories.get(appointment.person_id or 0, []),
                guideline=guideline, term_start=term_start,
            )
        checked = (not problem) if chosen is None else appointment.pk in chosen
        rows.append({"appointment": appointment, "problem": problem, "checked": checked,
                     "affiliation": appointment.affiliation_on(last_end or term_start)})
    return rows


def _more_rows(data, prefix: str = "new"):
    data = data.copy()
    data[f"{prefix}-TOTAL_FORMS"] = str(int(data.get(f"{prefix}-TOTAL_FORMS") or 0) + 3)
    return data


@login_required
@require_http_methods(["GET", "POST"])
def body_renew(request, slug: str) -> HttpResponse:
    """改選 on one page: who continues, who is new, from which day under which guidelines; a preview of
    the new roster against the 定数, then the confirmation, which calls services.body_renew."""
    body = body_for(request.user, slug, to="manage").body
    last_end, in_office = _current_term(body)
    default_start = _date_or_none(request.GET.get("term_start")) or (
        last_end + dt.timedelta(days=1) if last_end else timezone.localdate()
    )
    guidelines = list(body.guidelines.order_by("-effective_on"))
    choices = [(g.pk, _guideline_label(g)) for g in guidelines]
    people = _person_choices(request.user)
    data = request.POST if request.method == "POST" else None
    if data is not None and "more" in data:
        data = _more_rows(data)
    in_force = next((g for g in guidelines if g.effective_on <= default_start), None)
    form = RenewalForm(data, guidelines=choices,
                       initial={"term_start": default_start, "guideline": in_force.pk if in_force else None})
    formset = NewMemberFormSet(data, prefix="new", form_kwargs={"people": people})
    chosen = None if data is None else {int(v) for v in data.getlist("continue") if v.isdigit()}
    term_start, guideline = default_start, in_force
    context: dict = {"body": body, "last_end": last_end, "form": form, "formset": formset,
                     "done": _date_or_none(request.GET.get("done")), "problems": [], "has_guidelines": bool(guidelines)}
    if data is not None and "more" not in data and form.is_valid() and formset.is_valid():
        term_start = form.cleaned_data["term_start"]
        guideline = next(g for g in guidelines if g.pk == form.cleaned_data["guideline"])
        appointed_on = form.cleaned_data["appointed_on"]
        continuing = [a for a in in_office if a.pk in (chosen or set())]
        try:
            members = _new_members(request.user, formset)
            services.renewal_guideline(body=body, term_start=term_start, guideline=guideline)
            problems = services.renewal_problems(body=body, term_start=term_start, guideline=guideline,
                                                 continuing=continuing, new_members=members)
        except ValidationError as exc:
            members, problems = [], exc.messages
        token = _plan_token(term_start, guideline, appointed_on, continuing, members) if not problems else ""
        if not problems and "confirm" in data and data.get("plan") == token:
            try:
                created = services.body_renew(actor=request.user, body=body, term_start=term_start,
                                              guideline=guideline, continuing=continuing, new_members=members,
                                              appointed_on=appointed_on)
            except ValidationError as exc:
                problems = exc.messages
            else:
                messages.success(request, _("The body was renewed: %(count)d appointments from %(day)s.")
                                 % {"count": len(created), "day": jdate(term_start, "short")})
                return redirect(reverse("committee:body_renew", args=[body.slug]) + f"?done={term_start.isoformat()}")
        elif not problems and "confirm" in data:
            context["stale"] = True  # confirmed something other than what was previewed: show it first
        context |= {
            "preview": {
                "continuing": [(a, a.affiliation_on(last_end or term_start)) for a in continuing],
                "new_members": members, "count": len(continuing) + len(members),
                "term_end": services.term_end_for(guideline=guideline, term_start=term_start),
                "term_start": term_start, "guideline": guideline, "appointed_on": appointed_on or term_start,
            },
            "problems": problems, "plan": token,
        }
    context["rows"] = _candidate_rows(body, in_office, guideline, term_start, chosen, last_end)
    context["officer_titles"] = "・".join(title for _role, title in selectors.officer_titles(guideline))
    return render(request, "committee/body_renew.html", context)


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


AMENDABLE = ("term_rule", "term_years", "term_fixed_end", "reappointment_allowed", "max_consecutive_terms",
             "appointing_authority")


@login_required
@require_http_methods(["GET", "POST"])
def guideline_amend(request, slug: str) -> HttpResponse:
    """改正 of the body's guidelines from a day the secretariat chooses (e.g. the first day of a new term):
    a new version copied from the newest, with the term rules changed; earlier versions stay as adopted."""
    body = body_for(request.user, slug, to="manage").body
    current = body.guidelines.order_by("-effective_on").first()
    if current is None:
        raise Http404  # a body without guidelines gets its first version from the administrator
    start = _date_or_none(request.GET.get("from")) or timezone.localdate() + dt.timedelta(days=1)
    initial = {"effective_on": start, **{name: getattr(current, name) for name in AMENDABLE}}
    form = GuidelineAmendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in AMENDABLE}
        if changes["term_rule"] != Guideline.TermRule.FIXED_DATE:
            changes["term_fixed_end"] = None
        if changes["term_rule"] not in (Guideline.TermRule.YEARS, Guideline.TermRule.YEARS_TO_FISCAL_YEAR_END):
            changes["term_years"] = None
        try:
            new = services.guideline_amend(actor=request.user, guideline=current, effective_on=data["effective_on"],
                                           amendment_note=data["amendment_note"], **changes)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The guidelines were amended from %(day)s.")
                             % {"day": jdate(new.effective_on, "short")})
            return redirect(reverse("committee:body_renew", args=[body.slug]) + f"?term_start={new.effective_on}")
    return render(request, "committee/guideline_amend.html", {"body": body, "current": current, "form": form})


def _add_errors(form, exc: ValidationError) -> None:
    """A service's refusal shown at the field it names (or above the form)."""
    errors_by_field = exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
    for field, errors in errors_by_field.items():
        form.add_error(field if field in form.fields else None, [str(m) for e in errors for m in e.messages])


@login_required
@require_http_methods(["GET", "POST"])
def body_edit(request, slug: str) -> HttpResponse:
    """The secretariat changes the body's own details (name, 定数, dates, parent …) through
    services.body_update; the address and the secretariat unit stay the administrator's."""
    body = body_for(request.user, slug, to="manage").body
    form = BodyEditForm(
        request.POST or None,
        initial={name: getattr(body, name) for name in BODY_EDITABLE},
        parents=bodies_managed_by(request.user).exclude(pk=body.pk).order_by("display_order", "pk"),
        conveners=get_user_model().objects.filter(is_active=True).order_by("pk"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.body_update(actor=request.user, body=body,
                                 **{name: form.cleaned_data[name] for name in BODY_EDITABLE})
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The body's details were saved."))
            return redirect("committee:body_detail", slug=body.slug)
    return render(request, "committee/body_edit.html", {"body": body, "form": form})
