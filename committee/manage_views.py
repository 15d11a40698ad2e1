"""The secretariat keeps a body's roster in the site: an early end (辞任・解嘱・死亡) with its date and
reason, the successor for the remaining term in one step (第5-2), a new 所属・役職 from a date, and the
end of an officer's post. Every change goes through committee/services.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .access import body_for
from .forms import AffiliationForm, EndForm, OfficerEndForm, SuccessorForm
from .models import Affiliation, Appointment, Body, OfficerTerm

# Appointments that ended within this many days stay on the page, so a successor can be appointed.
RECENT_DAYS = 400


def _appointments(body: Body, today: dt.date) -> list[Appointment]:
    """In force today or ended lately, 五十音順; with officer posts and successors, in a fixed number of queries."""
    since = today - dt.timedelta(days=RECENT_DAYS)
    return list(
        Appointment.objects.filter(body=body, term_start__lte=today + dt.timedelta(days=RECENT_DAYS))
        .filter(Q(ended_on__isnull=True, term_end__isnull=True) | Q(ended_on__gte=since) | Q(term_end__gte=since))
        .select_related("person", "successor__person")
        .prefetch_related(
            Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")),
            Prefetch(
                "officer_terms",
                queryset=OfficerTerm.objects.filter(Q(end_on__isnull=True) | Q(end_on__gte=today)),
                to_attr="posts",
            ),
        )
        .order_by(F("person__sort_key").asc(nulls_last=True), "display_order", "-term_start", "id")
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
    today = timezone.localdate()
    guideline = selectors.guideline_in_force(body=body, day=today)
    context = {
        "body": body,
        "today": today,
        "guideline": guideline,
        "rows": _rows(_appointments(body, today), today, guideline),
        "end_form": EndForm(initial={"ended_on": today}),
        "affiliation_form": AffiliationForm(initial={"valid_from": today}),
        "successor_form": SuccessorForm(initial={"appointed_on": today}),
        "officer_form": OfficerEndForm(initial={"end_on": today}),
    }
    return render(request, "committee/roster_manage.html", context)


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
}


@login_required
@require_POST
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
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("committee:roster_manage", args=[body.slug]) + f"#appointment-{appointment.pk}")
