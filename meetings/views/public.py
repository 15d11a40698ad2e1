"""Public meeting pages: a body's meetings, the meeting, its 次第, 出席者名簿, 席図 and the year's schedule."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from committee import selectors as committee_selectors
from committee.access import body_for
from core.paging import paginate
from core.wareki import fiscal_year_of

from .. import selectors, services
from ..access import HELD_STATUSES, meeting_for, minutes_readable, published_minutes_entries, visible_agenda
from ..forms import AnswerForm
from ._common import listed_materials, paged_materials

ATTENDANCE_PAGE = 50  # members' attendance rows on one page of the meeting's page

# --- helpers -----------------------------------------------------------------------------------



# --- public ------------------------------------------------------------------------------------


@require_GET
def body_meetings(request, slug: str):
    body = body_for(request.user, slug).body  # as on the body's own page
    years = selectors.body_meetings_by_year(body)
    return render(request, "meetings/body_meetings.html", {"body": body, "years": sorted(years.items(), reverse=True)})


@require_GET
def meeting_detail(request, pk: int):
    meeting, access = meeting_for(request.user, pk)
    show_attendance = access.sees_private or meeting.status in HELD_STATUSES
    minutes = getattr(meeting, "minutes", None)
    readable = minutes_readable(meeting, access)
    minutes_entries = published_minutes_entries(readable) if readable is not None else None
    my_row = selectors.attendance_of(meeting, request.user)
    members = selectors.members_attendance(meeting)
    if not show_attendance:
        members = members.none()
    context = {
        "meeting": meeting,
        "access": access,
        # with each item's 結果 once recorded (closed items and their results stay with those who see them)
        "agenda": visible_agenda(meeting, access, results=selectors.agenda_results_for(meeting)),
        "materials": paged_materials(request, meeting, access),
        # one page (?att=) of the members' attendance, names only; the 出席者名簿 lists everyone
        "rows": paginate(request, members, ATTENDANCE_PAGE, param="att", anchor="attendance-heading"),
        "show_attendance": show_attendance,
        "held": meeting.status in HELD_STATUSES,
        "quorum": selectors.quorum(meeting) if access.sees_private else None,
        "minutes": minutes,
        "minutes_entries": minutes_entries,
        "my_row": my_row,
        "answer_form": AnswerForm(initial={"reply": my_row.reply}) if my_row else None,
    }
    return render(request, "meetings/meeting_detail.html", context)


@require_GET
def agenda_print(request, pk: int):
    meeting, access = meeting_for(request.user, pk)
    draft = request.GET.get("draft") == "1" and access.manage
    agenda = services.agenda_snapshot(meeting.agenda) if draft else visible_agenda(meeting, access)
    if agenda is None:
        raise Http404
    materials = listed_materials(request, meeting, access)
    return render(
        request,
        "meetings/agenda_print.html",
        {"meeting": meeting, "agenda": agenda, "draft": draft, "materials": materials},
    )


@require_GET
def attendance_list(request, pk: int):
    """出席者名簿 in the seed's format."""
    meeting, access = meeting_for(request.user, pk, to="attendance")
    rows = selectors.attendance_rows(meeting)
    day = meeting.reference_date
    members = [(r, r.appointment.affiliation_on(day)) for r in rows if r.appointment and r.appointment.is_member]
    others = [r for r in rows if not (r.appointment and r.appointment.is_member)]
    return render(request, "meetings/attendance_list.html", {"meeting": meeting, "members": members, "others": others})


@require_GET
def seating_plan(request, pk: int):
    meeting, access = meeting_for(request.user, pk, to="private")
    seats = list(meeting.seats.select_related("attendance__appointment__person", "attendance__attendee__person"))
    zones: dict[str, list] = {}
    for seat in seats:
        zones.setdefault(seat.zone, []).append(seat)
    return render(request, "meetings/seating.html", {"meeting": meeting, "zones": zones, "access": access})


FIRST_YEAR, LAST_YEAR = 1990, 2100  # the 年度 the schedule shows


@require_GET
def schedule(request, fiscal_year: int | None = None):
    if fiscal_year is None:
        return redirect("meetings:schedule_year", fiscal_year=fiscal_year_of(timezone.localdate()))
    if not FIRST_YEAR <= fiscal_year <= LAST_YEAR:
        raise Http404
    rows = selectors.year_schedule(fiscal_year=fiscal_year, bodies=committee_selectors.public_bodies())
    months = list(selectors.FISCAL_MONTHS)
    return render(
        request,
        "meetings/schedule.html",
        {
            "fiscal_year": fiscal_year,
            "rows": rows,
            "months": months,
            "previous": fiscal_year - 1 if fiscal_year > FIRST_YEAR else None,  # no link to a year never shown
            "next": fiscal_year + 1 if fiscal_year < LAST_YEAR else None,
        },
    )


