"""The secretariat's forms: planning a meeting, editing its details and the items of its 次第, and the
presiding officer's return of a 次第. Forms check input; the services decide what may change."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from committee.models import Body

from .models import AgendaItem, Attendance, Attendee, Meeting, Openness
from .selectors import AgendaNode, ResultRow

if TYPE_CHECKING:  # the mixin is mixed into forms
    _FormBase = forms.BaseForm
else:
    _FormBase = object

MAX_DEPTH = 2  # 1 → (1) → ①: an item at depth 2 takes no sub-items


class ServiceErrorsMixin(_FormBase):
    """Show a service's ValidationError on the fields it names (model field → form field), else on the form."""

    field_map: dict[str, str] = {}

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for field, errors in exc.error_dict.items():
            target = self.field_map.get(field, field)
            messages = [m for e in errors for m in e.messages]
            self.add_error(target if target in self.fields else None, messages)


def _date_input(kind: str = "date", fmt: str = "%Y-%m-%d") -> forms.DateInput:
    return forms.DateInput(attrs={"type": kind}, format=fmt)


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class MeetingForm(ServiceErrorsMixin, forms.Form):
    """第N回 with its date (or only the month, 日程未定), place, online details and 公開区分."""

    field_map = {"start_at": "start_time", "end_at": "end_time", "fiscal_year": "date"}

    number = forms.IntegerField(
        label=_("Number (第N回)"),
        min_value=1,
        max_value=32767,
        required=False,
        help_text=_("The next number is proposed; numbers are never reused. Leave empty for a meeting such as 準備会."),
    )
    name = forms.CharField(
        label=_("Name of an unnumbered meeting"), max_length=60, required=False, help_text=_("e.g. 準備会")
    )
    title = forms.CharField(
        label=_("Meeting title"),
        max_length=250,
        required=False,
        help_text=_("As printed on the 次第; the body's name if empty."),
    )
    theme = forms.CharField(label=_("Main subject"), max_length=200, required=False, help_text=_("e.g. 骨子案検討"))
    date = forms.DateField(
        label=_("Date"), required=False, widget=_date_input(), help_text=_("Leave empty if only the month is known.")
    )
    start_time = forms.TimeField(label=_("Starts at"), required=False, widget=_time_input())
    end_time = forms.TimeField(label=_("Ends at"), required=False, widget=_time_input())
    time_undecided = forms.BooleanField(label=_("The time is not fixed yet (時刻未定)"), required=False)
    planned_month = forms.DateField(
        label=_("Month planned (日程未定)"),
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=_date_input("month", "%Y-%m"),
        help_text=_("Only when the day is not fixed yet; format 2023-10."),
    )
    venue_name = forms.CharField(label=_("Venue"), max_length=200, required=False)
    venue_room = forms.CharField(label=_("Room"), max_length=100, required=False)
    venue_address = forms.CharField(label=_("Address"), max_length=250, required=False)
    online_url = forms.URLField(
        label=_("Online meeting link (members only)"), max_length=500, required=False, assume_scheme="https"
    )
    online_note = forms.CharField(label=_("Online meeting details (members only)"), max_length=250, required=False)
    openness = forms.ChoiceField(label=_("Openness (公開区分)"), choices=Openness.choices, initial=Openness.PUBLIC)
    openness_basis = forms.CharField(
        label=_("Basis of closure"), max_length=200, required=False, help_text=_("e.g. 委員の承諾 (第4-4)")
    )
    openness_decided_on = forms.DateField(label=_("Closure decided on"), required=False, widget=_date_input())

    def __init__(self, *args, body: Body, meeting: Meeting | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.body = body
        self.meeting = meeting
        if meeting is None:
            del self.fields["openness_decided_on"]  # recorded when the meeting's details are edited
        else:
            del self.fields["number"]  # 第N回 is fixed once the meeting exists
            if meeting.number:
                del self.fields["name"]

    @staticmethod
    def initial_for(meeting: Meeting) -> dict:
        start = timezone.localtime(meeting.start_at) if meeting.start_at else None
        end = timezone.localtime(meeting.end_at) if meeting.end_at else None
        return {
            "name": meeting.name,
            "title": meeting.title,
            "theme": meeting.theme,
            "date": start.date() if start else None,
            "start_time": start.time() if start and not meeting.time_undecided else None,
            "end_time": end.time() if end else None,
            "time_undecided": meeting.time_undecided,
            "planned_month": meeting.planned_month if start is None else None,
            "venue_name": meeting.venue_name,
            "venue_room": meeting.venue_room,
            "venue_address": meeting.venue_address,
            "online_url": meeting.online_url,
            "online_note": meeting.online_note,
            "openness": meeting.openness,
            "openness_basis": meeting.openness_basis,
            "openness_decided_on": meeting.openness_decided_on,
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if "date" in self.errors or "planned_month" in self.errors:
            pass  # the date itself is wrong: say that first
        elif day is None:
            if data.get("planned_month") is None:
                self.add_error("date", _("Give the date, or at least the month."))
            elif start or end:
                self.add_error("date", _("Give the date of these times."))
        elif start is None and not data.get("time_undecided"):
            self.add_error("start_time", _("Give the starting time, or tick 'the time is not fixed yet'."))
        if start and end and end <= start:
            self.add_error("end_time", _("The meeting must end after it starts."))
        if end and not start:
            self.add_error("start_time", _("Give the starting time as well."))
        if data.get("openness", Openness.PUBLIC) != Openness.PUBLIC and not data.get("openness_basis"):
            self.add_error("openness_basis", _("Record the basis for closing the meeting (e.g. 委員の承諾)."))
        if "number" in self.fields and data.get("number") is None and not data.get("name"):
            self.add_error("number", _("Give the number, or the name of an unnumbered meeting."))
        return data

    def _aware(self, day: dt.date, time: dt.time | None) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, time or dt.time(0, 0)))

    def _schedule(self) -> dict:
        data = self.cleaned_data
        day, start = data.get("date"), data.get("start_time")
        if day is None:
            return {
                "start_at": None,
                "end_at": None,
                "time_undecided": False,
                "planned_month": data["planned_month"].replace(day=1),
            }
        undecided = start is None or bool(data.get("time_undecided"))
        end = data.get("end_time")
        return {
            "start_at": self._aware(day, start),
            "end_at": self._aware(day, end) if end and start else None,
            "time_undecided": undecided,
            "planned_month": None,
        }

    def _details(self) -> dict:
        data = self.cleaned_data
        keys = ("theme", "venue_name", "venue_room", "venue_address", "online_url", "online_note", "openness")
        details = {key: data.get(key) or "" for key in keys}
        details["title"] = data.get("title") or (self.meeting.title if self.meeting else self.body.name)
        public = details["openness"] == Openness.PUBLIC
        details["openness_basis"] = "" if public else data.get("openness_basis", "")
        return details

    def create_kwargs(self) -> dict:
        """Arguments for services.meeting_create."""
        data = self.cleaned_data
        return {**self._schedule(), **self._details(), "number": data.get("number"), "name": data.get("name") or ""}

    def update_changes(self) -> dict:
        """Arguments for services.meeting_update (only the fields it lets change)."""
        data = self.cleaned_data
        changes = {**self._schedule(), **self._details()}
        changes["openness_decided_on"] = data.get("openness_decided_on") if changes["openness_basis"] else None
        if "name" in self.fields:
            changes["name"] = data.get("name") or ""
        return changes


class AgendaItemForm(ServiceErrorsMixin, forms.Form):
    """One item of the 次第: its place (under which item), title, line under it, presenter, time and 公開区分."""

    parent = forms.TypedChoiceField(label=_("Under which item"), required=False, coerce=int, empty_value=None)
    title = forms.CharField(label=_("Item title"), max_length=300)
    detail = forms.CharField(
        label=_("Detail"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A line under the title, e.g. the theme of 意見交換."),
    )
    presenter = forms.CharField(label=_("Presenter"), max_length=150, required=False)
    starts_at = forms.TimeField(label=_("Time"), required=False, widget=_time_input())
    closed = forms.BooleanField(label=_("Closed to the public (非公開)"), required=False)
    closure_basis = forms.CharField(
        label=_("Basis of closure"), max_length=200, required=False, help_text=_("e.g. 委員の承諾 (第4-4)")
    )
    closure_decided_on = forms.DateField(label=_("Closure decided on"), required=False, widget=_date_input())

    def __init__(self, *args, tree: list[AgendaNode], item: AgendaItem | None = None, **kwargs):
        if item is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": item.title,
                    "detail": item.detail,
                    "presenter": item.presenter,
                    "starts_at": item.starts_at,
                    "closed": not item.is_public,
                    "closure_basis": item.closure_basis,
                    "closure_decided_on": item.closure_decided_on,
                },
            )
        super().__init__(*args, **kwargs)
        self.items = {node.item.pk: node.item for node in tree}
        if item is not None:
            del self.fields["parent"]  # an item keeps its place; move it up or down in the list
        else:
            parent = self.fields["parent"]
            assert isinstance(parent, forms.ChoiceField)
            parent.choices = [("", _("A main item (1, 2, 3 …)"))] + [
                (node.item.pk, _("Under %(number)s %(title)s") % {"number": node.number, "title": node.item.title})
                for node in tree
                if node.depth < MAX_DEPTH
            ]

    def clean_parent(self) -> AgendaItem | None:
        pk = self.cleaned_data.get("parent")
        return None if pk is None else self.items[pk]  # the choices hold only this agenda's items

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("closed") and not data.get("closure_basis"):
            self.add_error("closure_basis", _("Record the basis for closing this item (e.g. 委員の承諾)."))
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        closed = bool(data.get("closed"))
        return {
            "title": data["title"],
            "detail": data.get("detail") or "",
            "presenter": data.get("presenter") or "",
            "starts_at": data.get("starts_at"),
            "is_public": not closed,
            "closure_basis": data.get("closure_basis", "") if closed else "",
            "closure_decided_on": data.get("closure_decided_on") if closed else None,
        }


class ReturnForm(forms.Form):
    """The presiding officer returns the 次第 and says what should change."""

    comment = forms.CharField(
        label=_("Comment for the secretariat"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you return the agenda: say what should change."),
    )


class AnswerForm(forms.Form):
    reply = forms.ChoiceField(
        label=_("Will you attend?"), choices=Attendance.Reply.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("Note for the secretariat"), max_length=250, required=False)


class AttendeeForm(ServiceErrorsMixin, forms.Form):
    """One invited attendee: name, affiliation and title, role, address, and whether the chair asked them
    to attend (第4-3)."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    title = forms.CharField(label=_("Affiliation and title"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Attendee.Role.choices, initial=Attendee.Role.EXPLAINER)
    email = forms.EmailField(
        label=_("Email address"), required=False, help_text=_("The invitation with the answer link goes here.")
    )
    invited_by_chair = forms.BooleanField(label=_("Asked to attend by the chair (第4-3)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("name") or "").strip() and not (data.get("title") or "").strip():
            raise ValidationError(_("Give the attendee's name or their affiliation and title."))
        return data

    @classmethod
    def initial_for(cls, attendee: Attendee) -> dict[str, Any]:
        return {field: getattr(attendee, field) for field in ("name", "title", "role", "email", "invited_by_chair")}

    def service_fields(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in ("name", "title", "role", "email", "invited_by_chair")}


class AgendaResultsForm(forms.Form):
    """結果 of each item of the approved 次第: a result from the list and a note, both optional."""

    def __init__(self, *args, rows: list[ResultRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        choices = [("", _("— not recorded —")), *AgendaItem.Result.choices]
        for row in rows:
            pk = row.item.pk
            self.fields[f"result-{pk}"] = forms.ChoiceField(
                label=_("Result"), choices=choices, required=False, initial=row.item.result
            )
            self.fields[f"note-{pk}"] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=1000,
                initial=row.item.outcome,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def entries(self) -> list[tuple[ResultRow, forms.BoundField, forms.BoundField]]:
        """Each item with its two fields, in the 次第's order (for the template)."""
        return [(row, self[f"result-{row.item.pk}"], self[f"note-{row.item.pk}"]) for row in self.rows]

    def results(self) -> dict[int, tuple[str, str]]:
        """What agenda_results_record takes: (result, note) per item id."""
        data = self.cleaned_data
        return {row.item.pk: (data[f"result-{row.item.pk}"], data[f"note-{row.item.pk}"]) for row in self.rows}
