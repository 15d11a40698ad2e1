"""The secretariat records the 結果 of each item of the approved 次第 once the meeting is held."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .. import selectors, services
from ..access import HELD_STATUSES, meeting_for
from ..forms import AgendaResultsForm


@login_required
def agenda_results(request, pk: int):
    """Every item of the approved 次第 with a result to choose and a note; saving changes only what
    changed. Refused input is shown on the form with what was typed, so nothing is lost."""
    meeting, _access = meeting_for(request.user, pk, to="manage")
    rows = selectors.result_rows(meeting)
    form = AgendaResultsForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.agenda_results_record(actor=request.user, meeting=meeting, results=form.results())
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The results were saved. Items changed: %(count)d.") % {"count": changed})
            return redirect("meetings:agenda_results", pk=meeting.pk)
    return render(
        request,
        "meetings/agenda_results.html",
        {"meeting": meeting, "form": form, "held": meeting.status in HELD_STATUSES, "has_rows": bool(rows)},
    )
