"""Meeting pages: public, members', the presiding officer's and the secretariat's."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from committee import selectors as committee_selectors
from committee.models import Appointment, Body, OfficerTerm
from core.wareki import fiscal_year_of

from . import selectors, services
from .forms import AgendaItemForm, MeetingForm, ReturnForm
from .models import Agenda, AgendaItem, Attendance, Meeting, Minutes, MinutesConfirmation, Openness

# --- helpers -----------------------------------------------------------------------------------


def _meeting_for(request, pk: int, *, approver_may_see: bool = False) -> tuple[Meeting, selectors.Access]:
    """A meeting the user may know exists, and what they may see of it; else 404.

    With `approver_may_see`, whoever approves its 次第 may know it too: the convening official of a
    non-public body is neither its member nor its secretariat."""
    meeting = get_object_or_404(
        Meeting.objects.select_related(
            "body__convener_account", "agenda__approved_version", "agenda__current_version", "minutes"
        ),
        pk=pk,
    )
    access = selectors.access_to(request.user, meeting)
    if not meeting.body.is_public and not access.sees_private:
        if not (approver_may_see and _is_approver(request.user, selectors.approver_for(meeting))):
            raise Http404
    return meeting, access


def _is_approver(user, approver: selectors.Approver | None) -> bool:
    return user.is_authenticated and approver is not None and approver.user is not None and approver.user.pk == user.pk


def _int_or_404(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _managed_meeting(request, pk: int) -> Meeting:
    meeting, access = _meeting_for(request, pk)
    if not access.manage:
        raise Http404
    return meeting


def _listed_materials(request, meeting: Meeting, access: selectors.Access) -> list:
    """The materials this user may see (documents.selectors decides, for lists and downloads alike)."""
    from documents.selectors import materials_visible_to

    return list(materials_visible_to(request.user, meeting, access))


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _row_user_id(row: Attendance) -> int | None:
    person = row.appointment.person if row.appointment_id else row.attendee.person
    return person.user_id if person is not None else None


# --- public ------------------------------------------------------------------------------------


@require_GET
def body_meetings(request, slug: str):
    body = get_object_or_404(Body, slug=slug)
    if not body.is_public and not (
        committee_selectors.is_secretariat_of_body(request.user, body)
        or committee_selectors.is_member_of_body_on(user=request.user, body=body, day=timezone.localdate())
    ):
        raise Http404  # as on the body's own page: its secretariat and its members may know it
    years = selectors.body_meetings_by_year(body)
    return render(request, "meetings/body_meetings.html", {"body": body, "years": sorted(years.items(), reverse=True)})


@require_GET
def meeting_detail(request, pk: int):
    meeting, access = _meeting_for(request, pk)
    rows = selectors.attendance_rows(meeting)
    show_attendance = access.sees_private or meeting.status in (Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED)
    minutes = getattr(meeting, "minutes", None)
    minutes_entries = None
    # A wholly closed (非公開) meeting's minutes are for its members and secretariat, never the public pages.
    closed_to_viewer = meeting.openness == Openness.CLOSED and not access.sees_private
    if minutes is not None and minutes.status == Minutes.Status.PUBLISHED and not closed_to_viewer:
        minutes_entries = selectors.published_minutes_entries(minutes)
    my_row = None
    if request.user.is_authenticated:
        my_row = next((r for r in rows if r.person_id_or_none and _row_user_id(r) == request.user.pk), None)
    materials = _listed_materials(request, meeting, access)
    context = {
        "meeting": meeting,
        "access": access,
        "agenda": selectors.visible_agenda(meeting, access),
        "materials": materials,
        "rows": [r for r in rows if r.appointment_id] if show_attendance else [],
        "show_attendance": show_attendance,
        "held": meeting.status in (Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED),
        "quorum": selectors.quorum(meeting, rows) if access.sees_private else None,
        "minutes": minutes,
        "minutes_entries": minutes_entries,
        "my_row": my_row,
        "answer_form": AnswerForm(initial={"reply": my_row.reply}) if my_row else None,
    }
    return render(request, "meetings/meeting_detail.html", context)


@require_GET
def agenda_print(request, pk: int):
    meeting, access = _meeting_for(request, pk)
    draft = request.GET.get("draft") == "1" and access.manage
    if draft:
        agenda = services.agenda_snapshot(meeting.agenda)
    else:
        agenda = selectors.visible_agenda(meeting, access)
    if agenda is None:
        raise Http404
    materials = _listed_materials(request, meeting, access)
    return render(
        request,
        "meetings/agenda_print.html",
        {"meeting": meeting, "agenda": agenda, "draft": draft, "materials": materials},
    )


@require_GET
def attendance_list(request, pk: int):
    """出席者名簿 in the seed's format."""
    meeting, access = _meeting_for(request, pk)
    if not access.sees_private and meeting.status not in (Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED):
        raise Http404
    rows = selectors.attendance_rows(meeting)
    day = meeting.reference_date
    members = [(r, r.appointment.affiliation_on(day)) for r in rows if r.appointment_id and r.appointment.is_member]
    others = [r for r in rows if not (r.appointment_id and r.appointment.is_member)]
    return render(request, "meetings/attendance_list.html", {"meeting": meeting, "members": members, "others": others})


@require_GET
def seating_plan(request, pk: int):
    meeting, access = _meeting_for(request, pk)
    if not access.sees_private:
        raise Http404
    seats = list(meeting.seats.select_related("attendance__appointment__person", "attendance__attendee__person"))
    zones: dict[str, list] = {}
    for seat in seats:
        zones.setdefault(seat.zone, []).append(seat)
    return render(request, "meetings/seating.html", {"meeting": meeting, "zones": zones, "access": access})


@require_GET
def schedule(request, fiscal_year: int | None = None):
    if fiscal_year is None:
        return redirect("meetings:schedule_year", fiscal_year=fiscal_year_of(timezone.localdate()))
    if not 1990 <= fiscal_year <= 2100:
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
            "previous": fiscal_year - 1,
            "next": fiscal_year + 1,
        },
    )


# --- members -----------------------------------------------------------------------------------


class AnswerForm(forms.Form):
    reply = forms.ChoiceField(
        label=gettext_lazy("Will you attend?"), choices=Attendance.Reply.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=gettext_lazy("Note for the secretariat"), max_length=250, required=False)


@login_required
@require_GET
def my_meetings(request):
    upcoming, past = selectors.meetings_of_member(request.user)
    pending_minutes = set(
        MinutesConfirmation.objects.filter(
            appointment__person__user=request.user,
            state=MinutesConfirmation.State.PENDING,
            minutes__status=Minutes.Status.CONFIRMING,
        ).values_list("minutes__meeting_id", flat=True)
    )
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
@require_POST
def answer(request, pk: int):
    meeting, access = _meeting_for(request, pk)
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
            _error(request, exc)
        else:
            messages.success(request, _("Your answer has been recorded."))
    else:
        messages.error(request, _("Choose 会場, オンライン or 欠席."))
    return HttpResponseRedirect(reverse("meetings:detail", args=[meeting.pk]) + "#answer")


@login_required
@require_POST
def minutes_confirm(request, pk: int):
    meeting, access = _meeting_for(request, pk)
    if not access.member:
        raise Http404
    try:
        services.minutes_confirm(actor=request.user, meeting=meeting, comment=request.POST.get("comment", ""))
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Thank you. Your confirmation has been recorded."))
    return redirect("meetings:minutes_review", pk=meeting.pk)


@login_required
@require_GET
def minutes_review(request, pk: int):
    """The draft minutes for the members who attended, the presiding officer and the secretariat."""
    meeting, access = _meeting_for(request, pk)
    minutes = getattr(meeting, "minutes", None)
    if minutes is None or not access.sees_private or minutes.status == Minutes.Status.DRAFT and not access.manage:
        raise Http404
    confirmation = minutes.confirmations.filter(appointment__person__user=request.user).first()
    if not access.manage and confirmation is None:
        presiding = selectors.presiding_for(meeting)
        if presiding is None or presiding.user is None or presiding.user.pk != request.user.pk:
            raise Http404
    entries = list(minutes.entries.select_related("agenda_item").order_by("position", "id"))
    confirmations = list(minutes.confirmations.select_related("appointment__person")) if access.manage else []
    presiding = selectors.presiding_for(meeting)
    can_finalise = (
        minutes.status == Minutes.Status.CONFIRMING
        and presiding is not None
        and presiding.user is not None
        and presiding.user.pk == request.user.pk
    )
    return render(
        request,
        "meetings/minutes_review.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "entries": entries,
            "confirmation": confirmation,
            "confirmations": confirmations,
            "can_finalise": can_finalise,
            "access": access,
        },
    )


# --- the presiding officer ---------------------------------------------------------------------


@login_required
@require_GET
def approvals(request):
    return render(request, "meetings/approvals.html", {"meetings": selectors.agendas_waiting_for(request.user)})


@login_required
def agenda_review(request, pk: int):
    """The presiding officer reads the version submitted and approves it or returns it with a comment."""
    meeting, access = _meeting_for(request, pk, approver_may_see=True)
    approver = selectors.approver_for(meeting)
    is_approver = _is_approver(request.user, approver)
    if not (is_approver or access.manage):
        raise Http404
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
            _error(request, exc)
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
            "materials": _listed_materials(request, meeting, access) if version else [],
            "versions": list(agenda.versions.select_related("submitted_by", "decided_by")),
        },
    )


@login_required
@require_POST
def minutes_finalise(request, pk: int):
    meeting, access = _meeting_for(request, pk)
    if not access.sees_private:
        raise Http404  # the service decides who presides; the public does not learn of drafts
    try:
        services.minutes_finalise(actor=request.user, meeting=meeting)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("The minutes are finalised."))
    return redirect("meetings:minutes_review", pk=meeting.pk)


# --- the secretariat ---------------------------------------------------------------------------


def _tasks(meeting: Meeting, recorded: int, today: dt.date) -> list[tuple[str, str]]:
    """What is still to do for one meeting, each with the page where it is done (fixed order of the work)."""
    agenda = getattr(meeting, "agenda", None)
    status = agenda.status if agenda is not None else Agenda.Status.DRAFT
    manage = reverse("meetings:manage", args=[meeting.pk])
    before = meeting.status in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED)
    tasks = []
    if before and not meeting.item_count:
        tasks.append((_("Draft the 次第"), reverse("meetings:agenda_edit", args=[meeting.pk])))
    elif before and status in (Agenda.Status.DRAFT, Agenda.Status.RETURNED):
        label = _("Revise and resubmit the 次第") if status == Agenda.Status.RETURNED else _("Submit the 次第")
        tasks.append((label, reverse("meetings:agenda_edit", args=[meeting.pk])))
    elif before and status == Agenda.Status.SUBMITTED:
        tasks.append((_("Waiting for the chair's approval"), reverse("meetings:agenda_review", args=[meeting.pk])))
    if not meeting.material_count and meeting.status != Meeting.Status.HELD:
        tasks.append((_("Upload the materials"), reverse("documents:manage", args=[meeting.pk])))
    if before and status == Agenda.Status.APPROVED:
        tasks.append((_("Send the notice of meeting (開催通知)"), manage + "#notice-h"))
    if meeting.is_past and meeting.status in (Meeting.Status.NOTIFIED, Meeting.Status.HELD) and not recorded:
        tasks.append((_("Record attendance"), manage + "#att-h"))
    if meeting.is_past and meeting.status == Meeting.Status.NOTIFIED:
        tasks.append((_("Record the meeting as held"), manage + "#held-h"))
    if selectors.minutes_overdue(meeting, today):
        tasks.append((_("Minutes overdue: write and publish them"), manage + "#min-h"))
    return tasks


@login_required
@require_GET
def dashboard(request):
    if not committee_selectors.is_secretariat(request.user):
        raise Http404
    today = timezone.localdate()
    meetings = selectors.upcoming_for_secretariat(request.user, today=today)
    recorded = dict(
        Attendance.objects.filter(meeting__in=[m.pk for m in meetings], appointment__isnull=False)
        .exclude(actual="")
        .values("meeting_id")
        .annotate(n=Count("pk"))
        .values_list("meeting_id", "n")
    )
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
                "tasks": _tasks(meeting, recorded.get(meeting.pk, 0), today),
            }
        )
    bodies = (
        committee_selectors.bodies_managed_by(request.user)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=today))
        .order_by("display_order", "id")
    )
    return render(request, "meetings/dashboard.html", {"rows": rows, "today": today, "bodies": list(bodies)})


class ActualForm(forms.Form):
    actual = forms.ChoiceField(choices=[("", "—"), *Attendance.Actual.choices], required=False)
    mode = forms.ChoiceField(choices=[("", "—"), *Attendance.Mode.choices], required=False)


@login_required
@require_GET
def manage(request, pk: int):
    meeting = _managed_meeting(request, pk)
    rows = selectors.attendance_rows(meeting)
    members = [r for r in rows if r.appointment_id and r.appointment.is_member]
    roster = committee_selectors.roster_on(body=meeting.body, day=meeting.reference_date, members_only=True)
    agenda = meeting.agenda
    before = meeting.status in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED)
    notified_revision = meeting.notices.filter(kind__in=("convocation", "change")).aggregate(m=Max("sequence"))["m"]
    return render(
        request,
        "meetings/manage.html",
        {
            "meeting": meeting,
            "agenda": agenda,
            "tree": selectors.agenda_tree(agenda),
            "rows": rows,
            "unanswered": [r for r in members if not r.reply],
            "quorum": selectors.quorum(meeting, rows),
            "approver": selectors.approver_for(meeting),
            "roster": roster,
            "minutes": getattr(meeting, "minutes", None),
            "material_count": meeting.materials.filter(
                current_version__isnull=False, withdrawn_at__isnull=True
            ).count(),
            "may_send_convocation": before and agenda.status == Agenda.Status.APPROVED and meeting.start_at,
            "change_notice_due": meeting.status == Meeting.Status.NOTIFIED
            and notified_revision is not None
            and meeting.sequence > notified_revision,
            "reply_choices": Attendance.Reply.choices,
            "actual_choices": Attendance.Actual.choices,
            "mode_choices": Attendance.Mode.choices,
            "officer_roles": OfficerTerm.Role.choices,
            "today": timezone.localdate(),
        },
    )


# --- the secretariat: planning a meeting and drafting its 次第 ------------------------------------


def _managed_body(request, slug: str) -> Body:
    """A body whose secretariat the user is; else 404 (the same rule as the meetings it holds)."""
    body = get_object_or_404(Body, slug=slug)
    if not committee_selectors.is_secretariat_of_body(request.user, body):
        raise Http404
    return body


@login_required
def meeting_create(request, slug: str):
    """Plan the body's next meeting: 第N回 proposed, the date or only the month, place and 公開区分."""
    body = _managed_body(request, slug)
    proposed = services.next_meeting_number(body)
    form = MeetingForm(request.POST or None, body=body, initial={"number": proposed, "title": body.name})
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(actor=request.user, body=body, **form.create_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("%(meeting)s was planned. Draft its 次第 next.") % {"meeting": meeting})
            return redirect("meetings:manage", pk=meeting.pk)
    return render(request, "meetings/meeting_form.html", {"form": form, "body": body, "meeting": None})


@login_required
def meeting_edit(request, pk: int):
    """Change the date, time, place and other details. A change of what the 次第 shows sends it back for
    approval; a change of date, time or place after the notice calls for a 変更通知 (the service decides)."""
    meeting = _managed_meeting(request, pk)
    initial = MeetingForm.initial_for(meeting)
    form = MeetingForm(request.POST or None, body=meeting.body, meeting=meeting, initial=initial)
    if request.method == "POST" and form.is_valid():
        was = meeting.agenda.status
        try:
            updated = services.meeting_update(actor=request.user, meeting=meeting, **form.update_changes())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The details were saved."))
            if updated.sequence != meeting.sequence and updated.status == Meeting.Status.NOTIFIED:
                messages.warning(request, _("The date, time or place changed: send a notice of change (変更通知)."))
            if was != Agenda.objects.get(meeting=updated).status:
                messages.warning(request, _("The 次第 changed with these details: submit it for approval again."))
            return redirect("meetings:manage", pk=meeting.pk)
    return render(request, "meetings/meeting_form.html", {"form": form, "body": meeting.body, "meeting": meeting})


def _agenda_of(meeting: Meeting) -> Agenda:
    agenda = getattr(meeting, "agenda", None)
    if agenda is None:  # a meeting entered elsewhere without its 次第 row
        raise Http404
    return agenda


@login_required
def agenda_edit(request, pk: int):
    """The 次第 as the secretariat drafts it: numbered items, a form to add one, and the way to submit."""
    meeting = _managed_meeting(request, pk)
    agenda = _agenda_of(meeting)
    tree = selectors.agenda_tree(agenda)
    form = AgendaItemForm(request.POST or None, tree=tree)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.agenda_item_add(
                actor=request.user, meeting=meeting, parent=form.cleaned_data["parent"], **form.service_fields()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("「%(title)s」 was added.") % {"title": item.title})
            return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + "#items")
    siblings: dict[int | None, int] = {}
    for node in tree:
        siblings[node.item.parent_id] = siblings.get(node.item.parent_id, 0) + 1
    seen: dict[int | None, int] = {}
    rows = []
    for node in tree:
        index = seen[node.item.parent_id] = seen.get(node.item.parent_id, 0) + 1
        rows.append(
            {
                "node": node,
                "first": index == 1,
                "last": index == siblings[node.item.parent_id],
                "has_children": node.item.pk in siblings,
            }
        )
    return render(
        request,
        "meetings/agenda_edit.html",
        {
            "meeting": meeting,
            "agenda": agenda,
            "rows": rows,
            "form": form,
            "editable": meeting.status not in (Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED),
            "approver": selectors.approver_for(meeting),
        },
    )


def _managed_item(request, pk: int, item_pk: int) -> tuple[Meeting, AgendaItem]:
    meeting = _managed_meeting(request, pk)
    item = get_object_or_404(AgendaItem, pk=item_pk, agenda__meeting=meeting)
    return meeting, item


@login_required
def agenda_item_edit(request, pk: int, item_pk: int):
    meeting, item = _managed_item(request, pk, item_pk)
    tree = selectors.agenda_tree(_agenda_of(meeting))
    number = next((node.number for node in tree if node.item.pk == item.pk), "")
    form = AgendaItemForm(request.POST or None, tree=tree, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.agenda_item_update(actor=request.user, item=item, **form.service_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The item was saved."))
            return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + "#items")
    return render(
        request, "meetings/agenda_item_form.html", {"meeting": meeting, "item": item, "number": number, "form": form}
    )


@login_required
@require_POST
def agenda_item_delete(request, pk: int, item_pk: int):
    meeting, item = _managed_item(request, pk, item_pk)
    try:
        services.agenda_item_delete(actor=request.user, item=item)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("「%(title)s」 was deleted.") % {"title": item.title})
    return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + "#items")


@login_required
@require_POST
def agenda_item_move(request, pk: int, item_pk: int):
    meeting, item = _managed_item(request, pk, item_pk)
    try:
        services.agenda_item_move(actor=request.user, item=item, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        _error(request, exc)
    return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + f"#item-{item.pk}")


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@login_required
@require_POST
def manage_action(request, pk: int, action: str):
    """One POST endpoint per workflow step; each calls its service and reports the outcome."""
    meeting = _managed_meeting(request, pk)
    post = request.POST
    user = request.user
    try:
        if action == "submit":
            services.agenda_submit(actor=user, meeting=meeting)
            messages.success(request, _("The 次第 was submitted for approval."))
        elif action == "prepare":
            added = services.attendance_prepare(actor=user, meeting=meeting)
            messages.success(request, _("%(n)d invitees added to the attendance list.") % {"n": added})
        elif action == "reply":
            row = get_object_or_404(Attendance, pk=_int_or_404(post.get("attendance")), meeting=meeting)
            services.attendance_reply(
                actor=user, attendance=row, reply=post.get("reply", ""), note=post.get("note", ""), on_behalf=True
            )
            messages.success(request, _("The answer was recorded."))
        elif action == "record":
            records = {}
            for row in meeting.attendances.all():
                actual = post.get(f"actual-{row.pk}", "")
                if actual:
                    records[row.pk] = (actual, post.get(f"mode-{row.pk}", ""))
            changed = services.attendance_record(actor=user, meeting=meeting, records=records)
            messages.success(request, _("Attendance recorded (%(n)d changed).") % {"n": changed})
        elif action == "seating":
            services.seating_generate(actor=user, meeting=meeting)
            messages.success(request, _("The seating plan was generated; adjust it if needed."))
        elif action == "notified":
            services.meeting_mark_notified(actor=user, meeting=meeting)
            messages.success(request, _("Recorded that the notices were sent."))
        elif action == "held":
            services.meeting_mark_held(actor=user, meeting=meeting)
            messages.success(request, _("The meeting is recorded as held."))
        elif action == "cancel":
            services.meeting_cancel(actor=user, meeting=meeting, reason=post.get("reason", ""))
            messages.success(request, _("The meeting was cancelled."))
        elif action == "postpone":
            services.meeting_postpone(actor=user, meeting=meeting, reason=post.get("reason", ""))
            messages.success(request, _("The meeting was postponed."))
        elif action == "elect":
            appointment = get_object_or_404(Appointment, pk=_int_or_404(post.get("appointment")), body=meeting.body)
            services.meeting_record_election(
                actor=user, meeting=meeting, role=post.get("role", ""), appointment=appointment
            )
            messages.success(request, _("The election was recorded."))
        elif action == "minutes-send":
            deadline = _parse_date(post.get("confirm_by", ""))
            if deadline is None:
                raise services.MeetingError(_("Give the deadline for confirmation."))
            count = services.minutes_send_for_confirmation(actor=user, meeting=meeting, confirm_by=deadline)
            messages.success(
                request, _("The draft minutes were sent to %(n)d members for confirmation.") % {"n": count}
            )
        elif action == "minutes-publish":
            services.minutes_publish(actor=user, meeting=meeting)
            messages.success(request, _("The minutes were published."))
        else:
            raise Http404
    except ValidationError as exc:
        _error(request, exc)
    return redirect("meetings:manage", pk=meeting.pk)
