"""Admin of people, appointments (委嘱) and officer terms."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_audit import AuditedAdminMixin
from core.http import client_ip
from core.validation import local_date

from .. import selectors, services
from ..models import (
    Affiliation,
    Appointment,
    OfficerTerm,
    Person,
)
from ._common import HiddenHistoryMixin, ManagedBodyFilter, ReadingSearchMixin, ScopedAdmin
from .bodies import AppointmentInline

# --- people and appointments ------------------------------------------------------------------


class ActiveOnFilter(admin.SimpleListFilter):
    title = _("in office")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("ended", _("Ended"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "today":
            matching = Appointment.objects.active_on(today)
        elif self.value() == "ended":
            matching = Appointment.objects.filter(Q(ended_on__lt=today) | Q(ended_on__isnull=True, term_end__lt=today))
        else:
            return queryset
        if queryset.model is Appointment:
            return queryset.filter(pk__in=matching.values("pk"))
        return queryset.filter(appointments__in=matching.values("pk")).distinct()


class ActiveOnDateFilter(admin.SimpleListFilter):
    """The roster as it stood on a date: ?active_on=2023-05-10."""

    title = _("in office on a date")
    parameter_name = "active_on"

    def lookups(self, request, model_admin):
        today = timezone.localdate()
        fy_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
        return [(fy_start.isoformat(), _("Start of this fiscal year")), (today.isoformat(), _("Today"))]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(pk__in=Appointment.objects.active_on(day).values("pk"))


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    extra = 0
    fields = ["valid_from", "text"]


class AppointmentForm(forms.ModelForm):
    affiliation = forms.CharField(label=_("affiliation and position"), max_length=250, required=False)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None and data.get("body") and data.get("appointed_on"):
            try:
                services.appointment_check(
                    body=data["body"],
                    person=data.get("person"),
                    appointed_on=data["appointed_on"],
                    term_start=data.get("term_start"),
                    term_end=data.get("term_end"),
                    predecessor=data.get("predecessor"),
                )
            except services.RosterError as exc:
                raise forms.ValidationError(exc.messages) from None
        return data

    class Meta:
        model = Appointment
        fields = [
            "body", "person", "post_title", "category", "role_label", "appointed_on", "appointed_by",
            "term_start", "term_end", "predecessor", "display_order", "note",
        ]


@admin.register(Appointment)
class AppointmentAdmin(ReadingSearchMixin, ScopedAdmin):
    form = AppointmentForm
    list_display = ["holder", "body", "category", "term_start", "term_end", "ended_on", "end_reason"]
    list_select_related = ["person", "body"]
    list_filter = [ActiveOnFilter, ActiveOnDateFilter, ("body", ManagedBodyFilter), "category", "end_reason"]
    search_fields = ["person__family_name", "person__given_name", "person__family_name_kana", "post_title"]
    autocomplete_fields = ["person", "body", "predecessor"]
    date_hierarchy = "term_start"
    inlines = [AffiliationInline]
    actions = ["reappoint"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "body", "person", "post_title", "category", "role_label", "affiliation", "appointed_on",
                "appointed_by", "term_start", "term_end", "predecessor", "display_order", "note",
            ]
        return [
            "body", "person", "post_title", "category", "role_label", "guideline", "appointed_on", "appointed_by",
            "term_start", "term_end", "predecessor", "ended_on", "end_reason", "display_order", "note",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The term and its end follow the guidelines and are changed through services only.
        return [
            "body", "person", "guideline", "appointed_on", "term_start", "term_end", "predecessor", "ended_on",
            "end_reason",
        ]

    def get_inlines(self, request, obj):
        return [AffiliationInline] if obj is not None else []

    @admin.display(description=_("person or post"), ordering="person__sort_key")
    def holder(self, obj: Appointment) -> str:
        return obj.holder_name

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = services.appointment_create(
            actor=request.user,
            body=data["body"],
            person=data.get("person"),
            post_title=data.get("post_title", ""),
            category=data["category"],
            role_label=data.get("role_label", ""),
            appointed_on=data["appointed_on"],
            appointed_by=data.get("appointed_by") or None,
            term_start=data.get("term_start"),
            term_end=data.get("term_end"),
            affiliation=data.get("affiliation", ""),
            predecessor=data.get("predecessor"),
            display_order=data.get("display_order") or 100,
            note=data.get("note", ""),
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except services.RosterError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description=_("Reappoint for a new term (再任)"))
    def reappoint(self, request, queryset):
        for appointment in queryset.select_related("body", "person"):
            try:
                new = services.appointment_reappoint(actor=request.user, appointment=appointment)
            except ValidationError as exc:
                self.message_user(request, f"{appointment}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(who)s reappointed until %(end)s.")
                    % {"who": new.holder_name, "end": local_date(new.term_end) if new.term_end else "—"},
                    messages.SUCCESS,
                )


class PersonAppointmentInline(AppointmentInline):
    fk_name = "person"
    fields = readonly_fields = ("body", "category", "term_start", "term_end", "ended_on", "end_reason")


@admin.register(Person)
class PersonAdmin(AuditedAdminMixin, ReadingSearchMixin, HiddenHistoryMixin, SimpleHistoryAdmin):
    list_display = ["name", "reading", "gender", "email", "user"]
    list_select_related = ["user"]
    list_filter = [ActiveOnFilter, "gender", ("appointments__body", ManagedBodyFilter)]
    search_fields = ["family_name", "given_name", "family_name_kana", "given_name_kana", "email"]
    autocomplete_fields = ["user"]
    inlines = [PersonAppointmentInline]
    fieldsets = [
        (None, {"fields": [("family_name", "given_name"), ("family_name_kana", "given_name_kana")]}),
        (_("For composition statistics"), {"fields": [("gender", "birth_year")]}),
        (_("Private contact (never public)"), {"fields": ["email", "phone", "postal_address", "user", "note"]}),
    ]
    actions = ["invite"]

    def get_queryset(self, request):
        return selectors.people_managed_by(request.user).select_related("user")

    @admin.display(description=_("Name"), ordering="sort_key")
    def name(self, obj: Person) -> str:
        return obj.full_name

    @admin.display(description=_("reading (furigana)"), ordering="sort_key")
    def reading(self, obj: Person) -> str:
        return obj.full_name_kana

    @admin.action(description=_("Invite to log in (mail a link to set a password)"), permissions=["change"])
    def invite(self, request, queryset):
        from .. import accounts

        invited = 0
        for person in queryset:
            try:
                accounts.account_invite(actor=request.user, person=person, ip_address=client_ip(request))
            except (accounts.AccountError, PermissionDenied) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else _("not allowed")
                self.message_user(request, f"{person}: {reason}", messages.ERROR)
            else:
                invited += 1
        if invited:
            self.message_user(request, _("%(n)d invitations are on their way.") % {"n": invited}, messages.SUCCESS)

    def has_module_permission(self, request):
        return selectors.is_secretariat(request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("committee.view_person", obj)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("committee.change_person", obj)

    def has_add_permission(self, request):
        return request.user.has_perm("committee.add_person")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("committee.delete_person", obj)


class OfficerTermForm(forms.ModelForm):
    class Meta:
        model = OfficerTerm
        fields = ["body", "role", "appointment", "selected_on", "start_on", "meeting_label", "note"]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        needed = ("body", "role", "appointment", "selected_on")
        if self.instance.pk is None and all(data.get(k) for k in needed):
            try:
                services.officer_check(
                    body=data["body"], role=data["role"], appointment=data["appointment"],
                    selected_on=data["selected_on"], start_on=data.get("start_on") or data["selected_on"],
                )
            except services.RosterError as exc:
                raise forms.ValidationError(exc.messages) from None
        return data


@admin.register(OfficerTerm)
class OfficerTermAdmin(ScopedAdmin):
    form = OfficerTermForm
    list_display = ["body", "role", "holder", "selected_by", "start_on", "end_on", "meeting_label"]
    list_select_related = ["body", "appointment__person"]
    list_filter = [("body", ManagedBodyFilter), "role"]
    search_fields = ["appointment__person__family_name", "body__name"]
    autocomplete_fields = ["appointment"]
    fields = ["body", "role", "appointment", "selected_on", "start_on", "meeting_label", "note"]

    @admin.display(description=_("held by"))
    def holder(self, obj: OfficerTerm) -> str:
        return obj.appointment.holder_name

    def get_readonly_fields(self, request, obj=None):
        return ["body", "role", "appointment", "selected_on", "start_on"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        if obj.role == OfficerTerm.Role.CHAIR:
            choose = services.officer_elect_chair
        else:
            choose = services.officer_nominate_vice_chair
        created = choose(
            actor=request.user,
            body=obj.body,
            appointment=obj.appointment,
            selected_on=obj.selected_on,
            start_on=obj.start_on or obj.selected_on,
            meeting_label=obj.meeting_label,
        )
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except services.RosterError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
