"""Members' pages: their meetings, answering attendance, reading and confirming the draft minutes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from committee import selectors as committee_selectors
from core.http import post_only
from core.pagecache import valid_until

from .. import selectors, services
from ..access import meeting_for, minutes_for
from ..forms import AnswerForm
from ..models import Minutes
from ._common import error

# --- helpers -----------------------------------------------------------------------------------



# --- members -----------------------------------------------------------------------------------


@login_required
@require_GET
def my_meetings(request):
    upcoming, past = selectors.meetings_of_member(request.user)
    pending_minutes = selectors.minutes_to_confirm(request.user)
    starts = [row.meeting.start_at for row in upcoming if row.meeting.start_at is not None]
    if starts:  # the next meeting moves from 予定 to 過去 when it starts: a kept copy ends then
        valid_until(request, min(starts))
    return render(
        request,
        "meetings/my_meetings.html",
        {
            "upcoming": upcoming,
            "past": past,
            "pending_minutes": pending_minutes,
            "waiting": selectors.agendas_waiting_for(request.user),
        },
    )


@login_required
@post_only(lambda pk: reverse("meetings:detail", args=[pk]) + "#answer")
def answer(request, pk: int):
    meeting, access = meeting_for(request.user, pk)
    row = (
        meeting.attendances.filter(appointment__person__user=request.user).first()
        or meeting.attendances.filter(attendee__person__user=request.user).first()
    )
    if row is None:
        raise Http404
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.attendance_reply(
                actor=request.user, attendance=row, reply=form.cleaned_data["reply"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            error(request, exc)
        else:
            messages.success(request, _("Your answer has been recorded."))
    else:
        messages.error(request, _("Choose 会場, オンライン or 欠席."))
    return HttpResponseRedirect(reverse("meetings:detail", args=[meeting.pk]) + "#answer")


@login_required
@post_only(lambda pk: reverse("meetings:minutes_review", args=[pk]))
def minutes_confirm(request, pk: int):
    # Only those asked to confirm, who may do so after their term ended.
    allowed = minutes_for(request.user, pk, to="review")
    if allowed.confirmation is None:
        raise Http404
    meeting = allowed.meeting
    try:
        services.minutes_confirm(actor=request.user, meeting=meeting, comment=request.POST.get("comment", ""))
    except ValidationError as exc:
        error(request, exc)
    else:
        messages.success(request, _("Thank you. Your confirmation has been recorded."))
    return redirect("meetings:minutes_review", pk=meeting.pk)


@login_required
@require_GET
def minutes_review(request, pk: int):
    """The draft minutes for the members who attended, the presiding officer and the secretariat."""
    allowed = minutes_for(request.user, pk, to="review")
    meeting, minutes, access, confirmation = allowed.meeting, allowed.minutes, allowed.access, allowed.confirmation
    entries = list(minutes.entries.order_by("position", "id"))
    confirmations = list(minutes.confirmations.select_related("appointment__person")) if access.manage else []
    can_finalise = minutes.status == Minutes.Status.CONFIRMING and allowed.presides
    return render(
        request,
        "meetings/minutes_review.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "entries": entries,
            "sections": selectors.minutes_sections(meeting, entries),
            "confirmation": confirmation,
            "confirmations": confirmations,
            "can_finalise": can_finalise,
            "access": access,
        },
    )




@login_required
@require_GET
def landing(request):
    """Where a sign-in lands: the secretariat on its dashboard, whoever has a 次第 waiting for approval on
    the approvals, a member or invited attendee on their meetings; anyone else on the home page."""
    user = request.user
    if committee_selectors.is_secretariat(user):
        return redirect("meetings:dashboard")
    if selectors.agendas_waiting_for(user):
        return redirect("meetings:approvals")
    if committee_selectors.person_ids_for_user(user):  # on a roster, or invited as 説明員・参考人
        return redirect("meetings:my_meetings")
    return redirect("committee:home")
