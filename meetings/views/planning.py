"""The secretariat plans a meeting, edits its details and drafts its 次第."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from committee import selectors as committee_selectors
from committee.access import body_for
from committee.models import Appointment
from core.http import post_only

from .. import selectors, services
from ..access import meeting_for
from ..forms import AgendaItemForm, MeetingForm
from ..models import Agenda, AgendaItem, Attendance, Meeting
from ._common import error, int_or_404
from .secretariat import attendance_context

# --- helpers -----------------------------------------------------------------------------------



# --- the secretariat: planning a meeting and drafting its 次第 ------------------------------------


@login_required
def meeting_create(request, slug: str):
    """Plan the body's next meeting: 第N回 proposed, the date or only the month, place and 公開区分."""
    body = body_for(request.user, slug, to="manage").body
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
    meeting, _access = meeting_for(request.user, pk, to="manage")
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
    nobody = None
    if meeting.status in (Meeting.Status.PLANNED, Meeting.Status.POSTPONED, Meeting.Status.NOTIFIED):
        nobody = committee_selectors.nobody_in_office(body=meeting.body, day=meeting.reference_date)
    return render(
        request,
        "meetings/meeting_form.html",
        {"form": form, "body": meeting.body, "meeting": meeting, "nobody_in_office": nobody},
    )


def _agenda_of(meeting: Meeting) -> Agenda:
    agenda = getattr(meeting, "agenda", None)
    if agenda is None:  # a meeting entered elsewhere without its 次第 row
        raise Http404
    return agenda


@login_required
def agenda_edit(request, pk: int):
    """The 次第 as the secretariat drafts it: numbered items, a form to add one, and the way to submit.
    With htmx (JavaScript on) the editor is saved and redrawn in place; without, POST and redirect."""
    meeting, _access = meeting_for(request.user, pk, to="manage")
    agenda = _agenda_of(meeting)
    form = AgendaItemForm(request.POST or None, tree=selectors.agenda_tree(agenda))
    if request.method == "POST" and form.is_valid():
        try:
            item = services.agenda_item_add(
                actor=request.user, meeting=meeting, parent=form.cleaned_data["parent"], **form.service_fields()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("「%(title)s」 was added.") % {"title": item.title})
            if request.htmx:
                return _agenda_editor(request, meeting)
            return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + "#items")
    return _agenda_editor(request, meeting, form)


def _agenda_editor(request, meeting: Meeting, form: AgendaItemForm | None = None):
    """The editor: the whole page, or (an htmx request) only its part that changes, with the messages."""
    agenda = Agenda.objects.select_related("current_version").filter(meeting=meeting).first()  # as saved now
    if agenda is None:
        raise Http404
    tree = selectors.agenda_tree(agenda)
    if form is None:
        form = AgendaItemForm(None, tree=tree)
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
    partial = bool(request.htmx)
    return render(
        request,
        "meetings/_agenda_editor.html" if partial else "meetings/agenda_edit.html",
        {
            "meeting": meeting,
            "agenda": agenda,
            "rows": rows,
            "form": form,
            "partial": partial,
            "editable": meeting.status not in (Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED),
            "approver": selectors.approver_for(meeting),
        },
    )


def _managed_item(request, pk: int, item_pk: int) -> tuple[Meeting, AgendaItem]:
    meeting, _access = meeting_for(request.user, pk, to="manage")
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
        error(request, exc)
    else:
        messages.success(request, _("「%(title)s」 was deleted.") % {"title": item.title})
    if request.htmx:
        return _agenda_editor(request, meeting)
    return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + "#items")


@login_required
@require_POST
def agenda_item_move(request, pk: int, item_pk: int):
    meeting, item = _managed_item(request, pk, item_pk)
    try:
        services.agenda_item_move(actor=request.user, item=item, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        error(request, exc)
    if request.htmx:
        return _agenda_editor(request, meeting)
    return HttpResponseRedirect(reverse("meetings:agenda_edit", args=[meeting.pk]) + f"#item-{item.pk}")


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _submit(request, meeting: Meeting) -> str:
    services.agenda_submit(actor=request.user, meeting=meeting)
    return _("The 次第 was submitted for approval.")


def _prepare(request, meeting: Meeting) -> str:
    added = services.attendance_prepare(actor=request.user, meeting=meeting)
    return _("%(n)d invitees added to the attendance list.") % {"n": added}


def _reply(request, meeting: Meeting) -> str:
    post = request.POST
    row = get_object_or_404(Attendance, pk=int_or_404(post.get("attendance")), meeting=meeting)
    row = services.attendance_reply(
        actor=request.user, attendance=row, reply=post.get("reply", ""), note=post.get("note", ""), on_behalf=True
    )
    if row.reply == Attendance.Reply.ABSENT and row.appointment_id is not None:
        if row.absence_mailed_at is not None:
            return _("The answer was recorded, and %(name)s was told by mail.") % {"name": row.holder_name}
        return _(
            "The answer was recorded. Without a reason mailed to %(name)s, this 欠席 does not let the vice chair "
            "act for the chair."
        ) % {"name": row.holder_name}
    return _("The answer was recorded.")


def _record(request, meeting: Meeting) -> str:
    records = {}
    for row in meeting.attendances.all():
        actual = request.POST.get(f"actual-{row.pk}", "")
        if actual:
            records[row.pk] = (actual, request.POST.get(f"mode-{row.pk}", ""))
    changed = services.attendance_record(actor=request.user, meeting=meeting, records=records)
    return _("Attendance recorded (%(n)d changed).") % {"n": changed}


def _seating(request, meeting: Meeting) -> str:
    services.seating_generate(actor=request.user, meeting=meeting)
    return _("The seating plan was generated; adjust it if needed.")


def _notified(request, meeting: Meeting) -> str:
    services.meeting_mark_notified(actor=request.user, meeting=meeting)
    return _("Recorded that the notices were sent.")


def _held(request, meeting: Meeting) -> str:
    without_quorum = request.POST.get("without_quorum") == "1"
    services.meeting_mark_held(actor=request.user, meeting=meeting, without_quorum=without_quorum)
    if without_quorum:
        return _("The meeting is recorded as held without a quorum.")
    return _("The meeting is recorded as held.")


def _cancel(request, meeting: Meeting) -> str:
    services.meeting_cancel(actor=request.user, meeting=meeting, reason=request.POST.get("reason", ""))
    return _("The meeting was cancelled.")


def _postpone(request, meeting: Meeting) -> str:
    services.meeting_postpone(actor=request.user, meeting=meeting, reason=request.POST.get("reason", ""))
    return _("The meeting was postponed.")


def _elect(request, meeting: Meeting) -> str:
    post = request.POST
    appointment = get_object_or_404(Appointment, pk=int_or_404(post.get("appointment")), body=meeting.body)
    services.meeting_record_election(actor=request.user, meeting=meeting, role=post.get("role", ""),
                                     appointment=appointment)
    return _("The election was recorded.")


def _minutes_send(request, meeting: Meeting) -> str:
    deadline = _parse_date(request.POST.get("confirm_by", ""))
    if deadline is None:
        raise services.MeetingError(_("Give the deadline for confirmation."))
    count = services.minutes_send_for_confirmation(actor=request.user, meeting=meeting, confirm_by=deadline)
    return _("The draft minutes were sent to %(n)d members for confirmation.") % {"n": count}


def _minutes_publish(request, meeting: Meeting) -> str:
    services.minutes_publish(actor=request.user, meeting=meeting)
    return _("The minutes were published.")


MANAGE_ACTIONS = {
    "submit": _submit,
    "prepare": _prepare,
    "reply": _reply,
    "record": _record,
    "seating": _seating,
    "notified": _notified,
    "held": _held,
    "cancel": _cancel,
    "postpone": _postpone,
    "elect": _elect,
    "minutes-send": _minutes_send,
    "minutes-publish": _minutes_publish,
}


# Steps whose form sits in the manage page's attendance part: with htmx that part is redrawn in place.
IN_PLACE = ("record", "reply")


@login_required
@post_only(lambda pk, action: reverse("meetings:manage", args=[pk]))
def manage_action(request, pk: int, action: str):
    """One POST endpoint per workflow step; each calls its service and reports the outcome."""
    meeting, _access = meeting_for(request.user, pk, to="manage")
    step = MANAGE_ACTIONS.get(action)
    if step is None:
        raise Http404
    try:
        messages.success(request, step(request, meeting))
    except ValidationError as exc:
        error(request, exc)
    if request.htmx and action in IN_PLACE:
        # htmx (JavaScript on): the attendance part is saved and redrawn in place, with the messages
        context = {**attendance_context(meeting_for(request.user, pk, to="manage")[0], request), "partial": True}
        return render(request, "meetings/_manage_attendance.html", context)
    return redirect("meetings:manage", pk=meeting.pk)
