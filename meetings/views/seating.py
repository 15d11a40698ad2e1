"""The secretariat adjusts a meeting's 席図 after generating it: each seat's place and order in it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .. import services
from ..access import meeting_for
from ..models import Seat
from ._common import error

_PREFIX = "zone-"


def _placements(post) -> dict[int, tuple[str, int]] | None:
    """(zone, position) per seat id from the form; None when an id or a number is not one."""
    placements: dict[int, tuple[str, int]] = {}
    for key, zone in post.items():
        if not key.startswith(_PREFIX):
            continue
        try:
            pk = int(key.removeprefix(_PREFIX))
            position = int(post.get(f"position-{pk}", ""))
        except ValueError:
            return None
        placements[pk] = (zone, position)
    return placements


@login_required
def seating_adjust(request, pk: int):
    """Every seat grouped by place, with a place and an order to change; saving moves only what changed."""
    meeting, _access = meeting_for(request.user, pk, to="manage")
    if request.method == "POST":
        placements = _placements(request.POST)
        if placements is None:
            messages.error(request, _("Give each seat a place and an order from 1 to 999."))
        else:
            try:
                moved = services.seating_update(actor=request.user, meeting=meeting, placements=placements)
            except ValidationError as exc:
                error(request, exc)
            else:
                messages.success(request, _("The seating plan was saved. Seats moved: %(count)d.") % {"count": moved})
        return redirect("meetings:seating_adjust", pk=meeting.pk)
    seats = list(
        meeting.seats.select_related("attendance__appointment__person", "attendance__attendee__person").order_by(
            "position", "pk"
        )
    )
    zones = [
        {"value": value, "label": label, "seats": [s for s in seats if s.zone == value]}
        for value, label in Seat.Zone.choices
    ]
    return render(
        request,
        "meetings/seating_adjust.html",
        {"meeting": meeting, "zones": zones, "has_seats": bool(seats), "zone_choices": Seat.Zone.choices},
    )
