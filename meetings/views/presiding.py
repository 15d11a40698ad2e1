"""The presiding officer's pages: the 次第 waiting for approval, approving or returning it, finalising minutes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.http import post_only

from .. import selectors, services
from ..access import meeting_for
from ..forms import ReturnForm
from ..models import Agenda
from ._common import error, listed_materials

# --- helpers -----------------------------------------------------------------------------------



# --- the presiding officer ---------------------------------------------------------------------


@login_required
@require_GET
def approvals(request):
    return render(request, "meetings/approvals.html", {"meetings": selectors.agendas_waiting_for(request.user)})


@login_required
def agenda_review(request, pk: int):
    """The presiding officer reads the version submitted and approves it or returns it with a comment."""
    meeting, access = meeting_for(request.user, pk, to="review")
    approver = selectors.approver_for(meeting)
    is_approver = access.approve
    agenda = meeting.agenda
    return_form = ReturnForm()
    if request.method == "POST":
        if not is_approver:
            raise Http404
        sha = request.POST.get("sha256", "")
        decision = request.POST.get("decision")
        if decision not in ("approve", "return"):
            raise Http404
        if decision == "return":
            return_form = ReturnForm(request.POST)
        try:
            if decision == "approve":
                services.agenda_approve(actor=request.user, meeting=meeting, sha256=sha)
                messages.success(request, _("The 次第 has been approved."))
                return redirect("meetings:agenda_review", pk=meeting.pk)
            if return_form.is_valid():
                services.agenda_return(
                    actor=request.user, meeting=meeting, sha256=sha, comment=return_form.cleaned_data["comment"]
                )
                messages.success(request, _("The 次第 has been returned to the secretariat with your comment."))
                return redirect("meetings:agenda_review", pk=meeting.pk)
        except ValidationError as exc:
            error(request, exc)
            return redirect("meetings:agenda_review", pk=meeting.pk)
        # An empty comment: the page again, with the error at the comment field.
    version = (
        agenda.current_version
        if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED, Agenda.Status.RETURNED)
        else None
    )
    return render(
        request,
        "meetings/agenda_review.html",
        {
            "meeting": meeting,
            "agenda": agenda,
            "version": version,
            "approver": approver,
            "is_approver": is_approver,
            "return_form": return_form,
            "materials": listed_materials(request, meeting, access) if version else [],
            "versions": list(agenda.versions.select_related("submitted_by", "decided_by")),
        },
    )


@login_required
@post_only(lambda pk: reverse("meetings:minutes_review", args=[pk]))
def minutes_finalise(request, pk: int):
    # The service decides who presides; the public does not learn of drafts.
    meeting, access = meeting_for(request.user, pk, to="private")
    try:
        services.minutes_finalise(actor=request.user, meeting=meeting)
    except ValidationError as exc:
        error(request, exc)
    else:
        messages.success(request, _("The minutes are finalised."))
    return redirect("meetings:minutes_review", pk=meeting.pk)


