"""The secretariat's dashboard and a meeting's manage page with its actions."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import F, Max, Q
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from committee import selectors as committee_selectors
from committee.access import bodies_managed_by
from committee.models import Appointment
from core.paging import paginate

from .. import selectors
from ..access import meeting_for
from ..models import Agenda, AgendaVersion, Attendance, Meeting

# --- helpers -----------------------------------------------------------------------------------

DASHBOARD_PAGE = 25  # rows of each list of the dashboard on one page



# --- the secretariat ---------------------------------------------------------------------------


def _tasks(meeting: Meeting, recorded: int, today: dt.date) -> list[tuple[str, str]]:
    """What is still to do for one meeting, each with the page where it is done (fixed order of the work)."""
    agenda = getattr(meeting, "agenda", None)
    status = agenda.status if agenda is not None else Agenda.Status.DRAFT
    manage = reverse("meetings:manage", args=[meeting.pk])
    before = meeting.status in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED)
    # The 次第 is still worked on after the 開催通知 too: an edit then (the venue, an item) needs a new approval.
    agenda_open = (before or meeting.status == Meeting.Status.NOTIFIED) and not meeting.is_past
    # Counts selectors.with_dashboard_counts annotates on each meeting (one subquery per relation).
    item_count: int = meeting.item_count  # type: ignore[attr-defined]
    material_count: int = meeting.material_count  # type: ignore[attr-defined]
    tasks = []
    if agenda_open and not item_count:
        tasks.append((_("Draft the 次第"), reverse("meetings:agenda_edit", args=[meeting.pk])))
    elif agenda_open and status in (Agenda.Status.DRAFT, Agenda.Status.RETURNED):
        label = _("Revise and resubmit the 次第") if status == Agenda.Status.RETURNED else _("Submit the 次第")
        tasks.append((label, reverse("meetings:agenda_edit", args=[meeting.pk])))
    elif agenda_open and status == Agenda.Status.SUBMITTED:
        tasks.append((_("Waiting for the chair's approval"), reverse("meetings:agenda_review", args=[meeting.pk])))
    if not material_count and meeting.status != Meeting.Status.HELD:
        tasks.append((_("Upload the materials"), reverse("documents:manage", args=[meeting.pk])))
    if before and status == Agenda.Status.APPROVED:
        tasks.append((_("Send the notice of meeting (開催通知)"), manage + "#notice-h"))
    if meeting.is_past and meeting.status in (Meeting.Status.NOTIFIED, Meeting.Status.HELD) and not recorded:
        tasks.append((_("Record attendance"), manage + "#att-h"))
    if meeting.is_past and meeting.status == Meeting.Status.NOTIFIED:
        tasks.append((_("Record the meeting as held"), manage + "#held-h"))
    if selectors.minutes_overdue(meeting, today):
        minutes_edit = reverse("meetings:minutes_edit", args=[meeting.pk])
        tasks.append((_("Minutes overdue: write and publish them"), minutes_edit))
    return tasks


@login_required
@require_GET
def dashboard(request):
    if not committee_selectors.is_secretariat(request.user):
        raise Http404
    today = timezone.localdate()
    open_meetings, stale_meetings = selectors.secretariat_meeting_lists(request.user, today=today)
    meetings = paginate(request, open_meetings, DASHBOARD_PAGE, anchor="open-h")
    rows = []
    for meeting in meetings:
        agenda = getattr(meeting, "agenda", None)
        rows.append(
            {
                "meeting": meeting,
                "agenda_status": agenda.get_status_display() if agenda else "—",
                "agenda_ok": agenda is not None and agenda.status == Agenda.Status.APPROVED,
                "notified": meeting.status in (Meeting.Status.NOTIFIED, Meeting.Status.HELD),
                "minutes_overdue": selectors.minutes_overdue(meeting, today),
                "tasks": _tasks(meeting, meeting.recorded, today),
            }
        )
    bodies = (
        bodies_managed_by(request.user)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=today))
        .order_by("display_order", "id")
        .only("pk", "slug", "short_name", "name", "has_external_members")
    )
    overdue = paginate(
        request, selectors.meetings_with_minutes_overdue(today=today, user=request.user), DASHBOARD_PAGE,
        param="overdue", anchor="overdue-h",
    )
    context = {
        "rows": rows,
        "meetings": meetings,
        "stale": paginate(request, stale_meetings, DASHBOARD_PAGE, param="stale", anchor="stale-h"),
        "today": today,
        "bodies": paginate(request, bodies, DASHBOARD_PAGE, param="bodies", anchor="plan-h"),
        "minutes_overdue": overdue,
        "minutes_overdue_rows": [
            {"meeting": m, "due_on": selectors.minutes_due_on(m), "minutes": getattr(m, "minutes", None)}
            for m in overdue
        ],
    }
    return render(request, "meetings/dashboard.html", context)


class ActualForm(forms.Form):
    actual = forms.ChoiceField(choices=[("", "—"), *Attendance.Actual.choices], required=False)
    mode = forms.ChoiceField(choices=[("", "—"), *Attendance.Mode.choices], required=False)


ATTENDANCE_PAGE = 50  # attendance rows on one page of the manage page (each row has its two selects)
UNANSWERED_NAMED = 20  # names shown of those who have not answered; the rest are counted
AGENDA_SHOWN = 30  # agenda items listed on the manage page; the 次第's own pages show them all


def attendance_context(meeting: Meeting, request: HttpRequest | None = None) -> dict:
    """What the manage page's attendance part shows (the whole page, or that part redrawn by htmx): the
    quorum over every row (counted in SQL), and one page of the rows (?att=) to record; the same queries
    at any number of members."""
    unanswered, not_answered = selectors.unanswered_members(meeting, UNANSWERED_NAMED)
    page = (
        paginate(request, selectors.attendance_in_order(meeting), ATTENDANCE_PAGE, param="att", anchor="att-h")
        if request is not None
        else None
    )
    return {
        "meeting": meeting,
        "reply_choices": Attendance.Reply.choices,
        "actual_choices": Attendance.Actual.choices,
        "mode_choices": Attendance.Mode.choices,
        "rows": page if page is not None else selectors.attendance_rows(meeting, affiliations=False),
        "attendance_page": page,
        "unanswered": unanswered,
        "unanswered_more": not_answered - len(unanswered),
        "quorum": selectors.quorum(meeting),
        "recorded_any": meeting.attendances.exclude(actual="").exists(),
    }


def _agenda_shown(tree: list) -> dict:
    """The first AGENDA_SHOWN items of the 次第 and how many more there are (the editor lists them all)."""
    return {"tree": tree[:AGENDA_SHOWN], "tree_more": max(0, len(tree) - AGENDA_SHOWN)}


def _nobody_in_office(meeting: Meeting, roster: list) -> committee_selectors.NobodyInOffice | None:
    """Why nobody would be invited to a meeting still to hold (the warning of the manage page)."""
    if roster or meeting.status not in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED, Meeting.Status.NOTIFIED):
        return None
    return committee_selectors.nobody_in_office(body=meeting.body, day=meeting.reference_date)


@login_required
@require_GET
def manage(request, pk: int):
    meeting, _access = meeting_for(request.user, pk, to="manage")
    attendance = attendance_context(meeting, request)
    # Who may be elected (委員長 or 副委員長): names only; the roster's affiliations are not needed here.
    roster = list(
        Appointment.objects.filter(body_id=meeting.body_id).active_on(meeting.reference_date).members()
        .select_related("person").order_by(F("person__sort_key").asc(nulls_last=True), "display_order", "id")
    )
    agenda = meeting.agenda
    before = meeting.status in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED)
    notified_revision = meeting.notices.filter(kind__in=("convocation", "change")).aggregate(m=Max("sequence"))["m"]
    return render(
        request,
        "meetings/manage.html",
        {
            **attendance,
            "agenda": agenda,
            **_agenda_shown(selectors.agenda_tree(agenda)),
            "approver": selectors.approver_for(meeting),
            # Who approved the version in force (the vice chair, say), not who would approve now.
            "approved": AgendaVersion.objects.select_related("decided_by").filter(pk=agenda.approved_version_id).first()
            if agenda.status == Agenda.Status.APPROVED and agenda.approved_version_id
            else None,
            "roster": roster,
            "nobody_in_office": _nobody_in_office(meeting, roster),
            "minutes": getattr(meeting, "minutes", None),
            "material_count": meeting.materials.filter(
                current_version__isnull=False, withdrawn_at__isnull=True
            ).count(),
            "may_send_convocation": before and agenda.status == Agenda.Status.APPROVED and meeting.start_at,
            "change_notice_due": meeting.status == Meeting.Status.NOTIFIED
            and notified_revision is not None
            and meeting.sequence > notified_revision,
            # 委員長/副委員長 or 会長/副会長, as the guidelines in force on the meeting day name the posts
            "officer_roles": committee_selectors.officer_titles(
                committee_selectors.guideline_in_force(body=meeting.body, day=meeting.reference_date)
            ),
            "today": timezone.localdate(),
        },
    )


