"""The secretariat invites other attendees (説明員, 参考人, オブザーバー) to one meeting: list, add, edit,
remove. Each attendee's own link (answer and the meeting's members' materials) is shown here; the
invitation mail is sent by notices (a higher floor), whose form this page posts to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..access import attendee_token, meeting_for
from ..forms import AttendeeForm
from ..models import Attendee, Meeting
from ..services.attendees import OPEN_STATUSES
from ._common import error


def _managed_attendee(request, pk: int, attendee_pk: int) -> tuple[Meeting, Attendee]:
    meeting, _access = meeting_for(request.user, pk, to="manage")
    return meeting, get_object_or_404(Attendee, pk=attendee_pk, meeting=meeting)


@login_required
def attendee_list(request, pk: int):
    """The meeting's other attendees with their answers and links, and the form that adds one."""
    meeting, _access = meeting_for(request.user, pk, to="manage")
    form = AttendeeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            attendee = services.attendee_add(actor=request.user, meeting=meeting, **form.service_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": attendee.display_name})
            return redirect("meetings:attendees", pk=meeting.pk)
    attendees = list(
        Attendee.objects.filter(meeting=meeting)
        .select_related("person", "attendance")
        .order_by("role", "position", "id")
    )
    rows = [
        {"attendee": a, "attendance": getattr(a, "attendance", None), "token": attendee_token(a)} for a in attendees
    ]
    return render(
        request,
        "meetings/attendees.html",
        {"meeting": meeting, "rows": rows, "form": form, "editable": meeting.status in OPEN_STATUSES},
    )


@login_required
def attendee_edit(request, pk: int, attendee_pk: int):
    meeting, attendee = _managed_attendee(request, pk, attendee_pk)
    form = AttendeeForm(request.POST or None, initial=AttendeeForm.initial_for(attendee))
    if request.method == "POST" and form.is_valid():
        try:
            services.attendee_update(actor=request.user, attendee=attendee, **form.service_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The attendee was saved."))
            return redirect("meetings:attendees", pk=meeting.pk)
    return render(request, "meetings/attendee_form.html", {"meeting": meeting, "attendee": attendee, "form": form})


@login_required
@require_POST
def attendee_remove(request, pk: int, attendee_pk: int):
    meeting, attendee = _managed_attendee(request, pk, attendee_pk)
    name = attendee.display_name
    try:
        services.attendee_remove(actor=request.user, attendee=attendee)
    except ValidationError as exc:
        error(request, exc)
    else:
        messages.success(request, _("%(name)s was removed; their link no longer works.") % {"name": name})
    return redirect("meetings:attendees", pk=meeting.pk)
