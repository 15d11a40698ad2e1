"""Data entry for meetings in the admin. Workflow steps (submit, approve, notify, hold, publish) are on the
secretariat's meeting page and go through meetings/services/; the admin routes its saves there too."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from committee import selectors as committee_selectors
from committee.access import managed_q
from committee.admin import ScopedAdmin
from committee.models import Body

from . import services
from .models import Agenda, AgendaItem, AgendaVersion, Attendee, Meeting, Milestone, Minutes, MinutesEntry, Seat


class MeetingScopedAdmin(ScopedAdmin):
    """Rows that belong to a meeting: scoped by the meeting's body."""

    body_path = "meeting__body__"

    def _perm(self, request, action, obj=None):
        if action == "delete":
            return request.user.is_superuser
        return request.user.has_perm("committee.manage_body", None if obj is None else self._body(obj))

    def _body(self, obj) -> Body:
        return obj.meeting.body

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Meeting and not request.user.is_superuser:
            kwargs["queryset"] = Meeting.objects.filter(managed_q(request.user, "body__")).select_related("body")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AttendeeInline(admin.TabularInline):
    model = Attendee
    extra = 0
    autocomplete_fields = ["person"]
    fields = ["role", "person", "name", "title", "email", "position", "invited_by_chair"]


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = [
            "body",
            "number",
            "name",
            "title",
            "theme",
            "start_at",
            "end_at",
            "time_undecided",
            "planned_month",
            "venue_name",
            "venue_address",
            "venue_room",
            "online_url",
            "online_note",
            "openness",
            "openness_basis",
            "openness_decided_on",
        ]
        help_texts = {"number": _("Leave empty to take the next number (or give a name such as 準備会).")}

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("start_at") and not data.get("planned_month"):
            raise ValidationError(_("Give the date and time, or at least the month."))
        if self.instance.pk is None and data.get("body") and data.get("number") is None and not data.get("name"):
            # Shown as the next number; meeting_create takes it again under a lock.
            data["number"] = services.next_meeting_number(data["body"])
            self.instance.number = data["number"]
        try:
            self.instance.fiscal_year = services.fiscal_year_for(data.get("start_at"), data.get("planned_month"))
        except services.MeetingError as exc:
            raise ValidationError(exc.messages) from None
        return data


@admin.register(Meeting)
class MeetingAdmin(MeetingScopedAdmin):
    body_path = "body__"
    form = MeetingForm
    list_display = ["__str__", "when", "status", "agenda_status", "openness", "manage_link"]
    list_select_related = ["body", "agenda"]
    list_filter = ["body", "fiscal_year", "status", "openness"]
    search_fields = ["title", "theme", "body__name", "name"]
    autocomplete_fields = ["body"]
    date_hierarchy = "start_at"
    inlines = [AttendeeInline]
    readonly_fields = ["status", "fiscal_year", "sequence", "postponed_from", "cancel_reason"]

    def _body(self, obj):
        return obj.body

    @admin.display(description=_("date"), ordering="start_at")
    def when(self, obj: Meeting) -> str:
        return obj.when_ja

    @admin.display(description=_("Agenda (次第)"))
    def agenda_status(self, obj: Meeting) -> str:
        agenda = getattr(obj, "agenda", None)
        return agenda.get_status_display() if agenda else "—"

    @admin.display(description=_("workflow"))
    def manage_link(self, obj: Meeting) -> str:
        return format_html('<a href="{}">{}</a>', reverse("meetings:manage", args=[obj.pk]), _("Open"))

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in form.Meta.fields if f in form.cleaned_data}
        body = data.pop("body")
        if change:
            data.pop("number", None)
            updated = services.meeting_update(
                actor=request.user,
                meeting=obj,
                **{
                    k: v if v is not None or k in ("start_at", "end_at", "planned_month", "openness_decided_on") else ""
                    for k, v in data.items()
                    if k in services.EDITABLE_FIELDS
                },
            )
        else:
            decided_on = data.pop("openness_decided_on", None)
            updated = services.meeting_create(
                actor=request.user, body=body, **{k: v for k, v in data.items() if v not in (None, "")}
            )
            if decided_on:
                updated = services.meeting_update(actor=request.user, meeting=updated, openness_decided_on=decided_on)
        obj.pk = updated.pk
        obj.__dict__.update(updated.__dict__)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.MeetingError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(request.get_full_path())


class AgendaItemForm(forms.ModelForm):
    class Meta:
        model = AgendaItem
        fields = [
            "closure_decided_on",
            "parent",
            "position",
            "title",
            "detail",
            "presenter",
            "starts_at",
            "is_public",
            "closure_basis",
        ]


class AgendaItemInline(admin.StackedInline):
    model = AgendaItem
    form = AgendaItemForm
    extra = 0
    fields = [
        ("position", "parent"),
        "title",
        "detail",
        ("presenter", "starts_at"),
        ("is_public", "closure_basis", "closure_decided_on"),
        ("result", "outcome"),
    ]
    # 結果 are recorded on the secretariat's page of the held meeting (services.agenda_results_record).
    readonly_fields = ("result", "outcome")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            agenda_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = (
                AgendaItem.objects.filter(agenda_id=agenda_id) if agenda_id else AgendaItem.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AgendaVersionInline(admin.TabularInline):
    model = AgendaVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "number",
        "submitted_at",
        "submitted_by",
        "decision",
        "decided_at",
        "decided_by",
        "decided_as",
        "comment",
        "sha256",
    )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Agenda)
class AgendaAdmin(MeetingScopedAdmin):
    list_display = ["meeting", "status"]
    list_select_related = ["meeting__body"]
    list_filter = ["status", "meeting__body"]
    search_fields = ["meeting__title", "items__title"]
    fields = ["meeting", "status", "note"]
    readonly_fields = ["meeting", "status"]
    inlines = [AgendaItemInline, AgendaVersionInline]

    def has_add_permission(self, request, obj=None):
        return False  # every meeting has its 次第 from the start

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # An edit after submission or approval sends the 次第 back to draft (services decide).
        services.agenda_edited(actor=request.user, meeting=form.instance.meeting)


class MinutesEntryInline(admin.StackedInline):
    model = MinutesEntry
    extra = 1
    fields = [("position", "speaker", "agenda_item", "is_closed"), "text"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agenda_item":
            minutes_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = (
                AgendaItem.objects.filter(agenda__meeting__minutes__pk=minutes_id)
                if minutes_id
                else (AgendaItem.objects.none())
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Minutes)
class MinutesAdmin(MeetingScopedAdmin):
    list_display = ["meeting", "kind", "status", "confirm_by", "published_at"]
    list_select_related = ["meeting__body"]
    list_filter = ["status", "kind", "meeting__body"]
    search_fields = ["meeting__title", "entries__text"]
    fields = ["meeting", "kind", "status", "confirm_by", "finalised_at", "finalised_by", "published_at"]
    readonly_fields = ["status", "confirm_by", "finalised_at", "finalised_by", "published_at"]
    autocomplete_fields = ["meeting"]
    inlines = [MinutesEntryInline]

    def get_readonly_fields(self, request, obj=None):
        ro = list(super().get_readonly_fields(request, obj))
        return ro + ["meeting"] if obj is not None else ro

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status in (Minutes.Status.FINALISED, Minutes.Status.PUBLISHED):
            return False  # finalised text is frozen
        return super().has_change_permission(request, obj)


@admin.register(Seat)
class SeatAdmin(MeetingScopedAdmin):
    list_display = ["meeting", "zone", "position", "attendance"]
    list_select_related = ["meeting__body", "attendance__appointment__person", "attendance__attendee"]
    list_filter = ["meeting__body", "zone"]
    list_editable = ["zone", "position"]
    search_fields = ["meeting__title"]
    fields = ["meeting", "attendance", "zone", "position"]
    readonly_fields = ["meeting", "attendance"]

    def has_add_permission(self, request, obj=None):
        return False  # seats are generated from attendance


@admin.register(Milestone)
class MilestoneAdmin(ScopedAdmin):
    list_display = ["body", "name", "fiscal_year", "start_on", "end_on"]
    list_select_related = ["body"]
    list_filter = ["body", "fiscal_year"]
    search_fields = ["name", "body__name"]
    autocomplete_fields = ["body"]

    def _perm(self, request, action, obj=None):
        body = obj.body if obj is not None else None
        if action == "delete":
            return request.user.is_superuser or (
                body is not None and committee_selectors.is_secretariat_of_body(request.user, body)
            )
        return request.user.has_perm("committee.manage_body", body)

    def save_model(self, request, obj, form, change):
        from core.audit import AuditAction, audit_record

        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action=AuditAction.MILESTONE_SAVED, target=obj)
