"""The secretariat writes the minutes in the site: passages by 議題 with their speakers, 公開/非公開 per
passage, the 議事要旨 and the 議事録 from one record, and the versions kept since the draft was sent.

With JavaScript (htmx) a passage saves without reloading the page: the view answers with the passage's
fragment. Without it, the same forms post and redirect back to the editor.
"""

from __future__ import annotations

import difflib
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services
from ..access import meeting_for
from ..models import Meeting, Minutes, MinutesEntry, MinutesVersion
from ._common import error, int_or_404

EDITABLE = (Minutes.Status.DRAFT, Minutes.Status.CONFIRMING)


class PassageForm(forms.Form):
    """One passage: the speaker picked from the meeting's people (or typed), the text, the 議題, whether it
    is 非公開 and on what basis, and whether the 議事要旨 carries it."""

    agenda_item = forms.ChoiceField(label=gettext_lazy("Agenda item (議題)"), required=False)
    speaker_choice = forms.ChoiceField(label=gettext_lazy("Speaker"), required=False)
    speaker = forms.CharField(
        label=gettext_lazy("Speaker as printed"), max_length=60, required=False,
        help_text=gettext_lazy("Leave empty to print the name chosen above; or type one, e.g. 森委員."),
    )
    speaker_role = forms.ChoiceField(
        label=gettext_lazy("Speaker's role"), required=False,
        choices=[("", "—"), *MinutesEntry.SpeakerRole.choices],
    )
    text = forms.CharField(label=gettext_lazy("What was said"), widget=forms.Textarea(attrs={"rows": 4}))
    is_closed = forms.BooleanField(label=gettext_lazy("Closed (非公開): left out of the published minutes"),
                                   required=False)
    closed_basis = forms.CharField(
        label=gettext_lazy("Basis for closing"), max_length=250, required=False,
        help_text=gettext_lazy("e.g. 審議会等の会議の公開に関する指針 第3条"),
    )
    in_summary = forms.BooleanField(label=gettext_lazy("In the summary (議事要旨)"), required=False, initial=True)

    def __init__(self, *args, tree: list, speakers: list[selectors.SpeakerOption], **kwargs):
        super().__init__(*args, **kwargs)
        self.speakers = {o.value: o for o in speakers}
        self.items = {str(node.item.pk): node.item for node in tree}
        cast(forms.ChoiceField, self.fields["agenda_item"]).choices = [("", _("(before the agenda items)"))] + [
            (str(node.item.pk), f"{node.number} {node.item.title}"[:80]) for node in tree
        ]
        cast(forms.ChoiceField, self.fields["speaker_choice"]).choices = [("", _("(typed below)"))] + [
            (o.value, o.label) for o in speakers
        ]
        prefix = self.prefix or "new"
        for name, field in self.fields.items():
            css = "form-check-input" if isinstance(field, forms.BooleanField) else (
                "form-select" if isinstance(field, forms.ChoiceField) else "form-control")
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs["id"] = f"{prefix}-{name}"

    @staticmethod
    def initial_for(entry: MinutesEntry) -> dict:
        if entry.speaker_appointment_id:
            choice = f"a{entry.speaker_appointment_id}"
        elif entry.speaker_attendee_id:
            choice = f"g{entry.speaker_attendee_id}"
        elif entry.speaker_role == MinutesEntry.SpeakerRole.SECRETARIAT:
            choice = "secretariat"
        else:
            choice = ""
        return {
            "agenda_item": str(entry.agenda_item_id or ""), "speaker_choice": choice, "speaker": entry.speaker,
            "speaker_role": entry.speaker_role, "text": entry.text, "is_closed": entry.is_closed,
            "closed_basis": entry.closed_basis, "in_summary": entry.in_summary,
        }

    def clean(self) -> dict:
        data = super().clean() or {}
        option = self.speakers.get(data.get("speaker_choice") or "")
        if option is None and not (data.get("speaker") or "").strip():
            self.add_error("speaker", _("Choose the speaker or type one."))
        if data.get("is_closed") and not (data.get("closed_basis") or "").strip():
            self.add_error("closed_basis", _("Give the basis for closing this passage."))
        return data

    def passage(self) -> services.PassageInput:
        data = self.cleaned_data
        option = self.speakers.get(data.get("speaker_choice") or "")
        label = (data.get("speaker") or "").strip() or (option.label if option else "")
        return services.PassageInput(
            text=data["text"], speaker=label,
            speaker_role=data.get("speaker_role") or (option.role if option else MinutesEntry.SpeakerRole.OTHER),
            speaker_appointment=option.appointment if option else None,
            speaker_attendee=option.attendee if option else None,
            agenda_item=self.items.get(data.get("agenda_item") or ""),
            is_closed=bool(data.get("is_closed")), closed_basis=data.get("closed_basis") or "",
            in_summary=bool(data.get("in_summary")),
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        self.add_error(None, exc)


def _editor_url(meeting: Meeting, anchor: str = "") -> str:
    return reverse("meetings:minutes_edit", args=[meeting.pk]) + (f"#{anchor}" if anchor else "")


def _entries(minutes: Minutes) -> list[MinutesEntry]:
    return list(minutes.entries.order_by("position", "id"))


def _form(meeting: Meeting, data=None, *, entry: MinutesEntry | None = None) -> PassageForm:
    agenda = getattr(meeting, "agenda", None)
    tree = selectors.agenda_tree(agenda) if agenda is not None else []
    return _form_with(data, tree=tree, speakers=selectors.speaker_options(meeting), entry=entry)


def _form_with(data, *, tree, speakers, entry: MinutesEntry | None = None) -> PassageForm:
    if entry is None:
        return PassageForm(data, tree=tree, speakers=speakers)
    return PassageForm(data, tree=tree, speakers=speakers, prefix=f"p{entry.pk}",
                       initial=PassageForm.initial_for(entry))


def _managed(request, pk: int) -> tuple[Meeting, Minutes | None]:
    meeting, _access = meeting_for(request.user, pk, to="manage")
    return meeting, getattr(meeting, "minutes", None)


def _managed_entry(request, pk: int, entry_pk: int) -> tuple[Meeting, Minutes, MinutesEntry]:
    meeting, minutes = _managed(request, pk)
    entry = get_object_or_404(MinutesEntry, pk=int_or_404(entry_pk), minutes__meeting=meeting)
    return meeting, entry.minutes, entry


@login_required
@require_GET
def minutes_edit(request, pk: int):
    """The editor: the minutes' settings, the passages grouped by 議題, a form to add one."""
    meeting, minutes = _managed(request, pk)
    context: dict = {"meeting": meeting, "minutes": minutes, "kinds": Minutes.Kind.choices}
    if minutes is not None:
        entries = _entries(minutes)
        agenda = getattr(meeting, "agenda", None)
        tree = selectors.agenda_tree(agenda) if agenda is not None else []
        speakers = selectors.speaker_options(meeting)
        context |= {
            "sections": selectors.minutes_sections(meeting, entries),
            "count": len(entries),
            "summary_count": sum(1 for e in entries if e.in_summary),
            "closed_count": sum(1 for e in entries if e.is_closed),
            "editable": minutes.status in EDITABLE,
            "form": _form_with(None, tree=tree, speakers=speakers),
            "due_on": selectors.minutes_due_on(meeting),
        }
    return render(request, "meetings/minutes_edit.html", context)


@login_required
@require_POST
def minutes_settings(request, pk: int):
    """Start the minutes, or change which form is published and the number of observers (傍聴者数)."""
    meeting, minutes = _managed(request, pk)
    kind = request.POST.get("kind", Minutes.Kind.SUMMARY)
    try:
        if minutes is None:
            services.minutes_start(actor=request.user, meeting=meeting, kind=kind)
            messages.success(request, _("The minutes were started. Add the passages below."))
        else:
            raw = (request.POST.get("observers_count") or "").strip()
            observers = int(raw) if raw.isdigit() else None
            if raw and observers is None:
                raise ValidationError(_("The number of observers must be a whole number."))
            services.minutes_settings_update(actor=request.user, meeting=meeting, kind=kind,
                                             observers_count=observers)
            messages.success(request, _("Saved."))
    except ValidationError as exc:
        error(request, exc)
    return HttpResponseRedirect(_editor_url(meeting))


def _passage_fragment(request, meeting: Meeting, entry: MinutesEntry, *, status: int = 200) -> HttpResponse:
    minutes = entry.minutes
    return render(
        request, "meetings/_minutes_passage.html",
        {"meeting": meeting, "entry": entry, "editable": minutes.status in EDITABLE}, status=status,
    )


@login_required
@require_POST
def minutes_passage_add(request, pk: int):
    meeting, minutes = _managed(request, pk)
    form = _form(meeting, request.POST)
    if minutes is not None and form.is_valid():
        try:
            entry = services.minutes_passage_add(actor=request.user, meeting=meeting, data=form.passage())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if request.htmx:
                # The passages again (the new one at the foot of its 議題) and an empty form, out of band.
                return render(request, "meetings/_minutes_added.html", {
                    "meeting": meeting, "editable": True, "oob": True, "entry": None, "form": _form(meeting),
                    "sections": selectors.minutes_sections(meeting, _entries(entry.minutes)),
                })
            messages.success(request, _("The passage was added."))
            return HttpResponseRedirect(_editor_url(meeting, f"passage-{entry.pk}"))
    if minutes is None:
        messages.error(request, _("Start the minutes first."))
        return HttpResponseRedirect(_editor_url(meeting))
    if request.htmx:  # htmx swaps only successful answers: the form with its errors replaces the form
        response = render(request, "meetings/_minutes_passage_form.html", {"meeting": meeting, "form": form,
                                                                           "entry": None})
        response["HX-Retarget"], response["HX-Reswap"] = "#add-form", "outerHTML"
        return response
    return render(request, "meetings/minutes_passage_form.html", {"meeting": meeting, "form": form, "entry": None},
                  status=422)


@login_required
def minutes_passage_edit(request, pk: int, entry_pk: int):
    """Edit one passage: inline (htmx) or on its own page."""
    meeting, _minutes, entry = _managed_entry(request, pk, entry_pk)
    form = _form(meeting, request.POST if request.method == "POST" else None, entry=entry)
    if request.method == "POST" and form.is_valid():
        item_before = entry.agenda_item_id
        try:
            entry = services.minutes_passage_update(actor=request.user, entry=entry, data=form.passage())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if request.htmx and entry.agenda_item_id != item_before:  # moved to another 議題: all passages
                response = render(request, "meetings/_minutes_sections.html", {
                    "meeting": meeting, "editable": True,
                    "sections": selectors.minutes_sections(meeting, _entries(entry.minutes)),
                })
                response["HX-Retarget"], response["HX-Reswap"] = "#passages", "innerHTML"
                return response
            if request.htmx:
                return _passage_fragment(request, meeting, entry)
            messages.success(request, _("The passage was saved."))
            return HttpResponseRedirect(_editor_url(meeting, f"passage-{entry.pk}"))
    context = {"meeting": meeting, "form": form, "entry": entry}
    if request.htmx:  # htmx swaps only successful answers, errors included
        return render(request, "meetings/_minutes_passage_form.html", context)
    return render(request, "meetings/minutes_passage_form.html", context,
                  status=422 if request.method == "POST" else 200)


@login_required
@require_GET
def minutes_passage_show(request, pk: int, entry_pk: int):
    """One passage's fragment (htmx: cancelling an inline edit)."""
    meeting, _minutes, entry = _managed_entry(request, pk, entry_pk)
    if not request.htmx:
        return HttpResponseRedirect(_editor_url(meeting, f"passage-{entry.pk}"))
    return _passage_fragment(request, meeting, entry)


@login_required
@require_POST
def minutes_passage_delete(request, pk: int, entry_pk: int):
    meeting, _minutes, entry = _managed_entry(request, pk, entry_pk)
    try:
        services.minutes_passage_delete(actor=request.user, entry=entry)
    except ValidationError as exc:
        error(request, exc)
    else:
        if request.htmx:
            return HttpResponse("")
        messages.success(request, _("The passage was deleted."))
    return HttpResponseRedirect(_editor_url(meeting, "passages"))


@login_required
@require_POST
def minutes_passage_move(request, pk: int, entry_pk: int):
    meeting, _minutes, entry = _managed_entry(request, pk, entry_pk)
    try:
        services.minutes_passage_move(actor=request.user, entry=entry, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        error(request, exc)
    return HttpResponseRedirect(_editor_url(meeting, f"passage-{entry.pk}"))


def _diff(before: str, after: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs; the template escapes every line."""
    lines = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines


@login_required
@require_GET
def minutes_versions(request, pk: int):
    """Every version kept, newest first, each with what changed since the one before."""
    meeting, minutes = _managed(request, pk)
    versions = list(
        MinutesVersion.objects.filter(minutes__meeting=meeting).select_related("created_by").order_by("number")
    ) if minutes is not None else []
    rows = []
    previous = ""
    for version in versions:
        rows.append({"version": version, "diff": _diff(previous, version.snapshot), "first": not previous})
        previous = version.snapshot
    current = services.minutes_snapshot(minutes) if minutes is not None else ""
    pending = _diff(previous, current) if minutes is not None and versions and current != previous else []
    return render(
        request, "meetings/minutes_versions.html",
        {"meeting": meeting, "minutes": minutes, "rows": list(reversed(rows)), "pending": pending},
    )
