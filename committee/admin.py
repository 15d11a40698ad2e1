"""The secretariat's admin for the roster. Object rights come from committee/rules.py; changes of
state (appointing, ending, electing) go through committee/services.py."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import kana

from . import selectors, services
from .models import (
    Affiliation,
    Appointment,
    Body,
    Guideline,
    GuidelineArticle,
    OfficerTerm,
    OrgUnit,
    OrgUnitName,
    Person,
    StaffAssignment,
)
from .resources import IMPORT_HELP, RosterImportError, roster_import


class HiddenHistoryMixin:
    """The history of an object the user may not see answers 404 like its change page, not 403
    (simple-history falls back to the last historical record and then refuses)."""

    def history_view(self, request, object_id, extra_context=None):
        try:
            return super().history_view(request, object_id, extra_context)
        except PermissionDenied:
            raise Http404 from None

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        try:
            return super().history_form_view(request, object_id, version_id, extra_context)
        except PermissionDenied:
            raise Http404 from None


class ReadingSearchMixin:
    """Searches readings typed in katakana (full or half width) too: readings are stored in hiragana."""

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        reading = kana.to_hiragana(search_term)
        if reading and reading != search_term.strip():
            more, more_duplicates = super().get_search_results(request, queryset, reading)
            results, may_have_duplicates = results | more, may_have_duplicates or more_duplicates
        return results, may_have_duplicates


class ManagedBodyFilter(admin.RelatedFieldListFilter):
    """Offers only the bodies the user manages: other units' bodies, some 非公開, are not named."""

    def field_choices(self, field, request, model_admin):
        bodies = selectors.bodies_managed_by(request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return [(body.pk, str(body)) for body in (bodies.order_by(*ordering) if ordering else bodies)]


class UnitFilter(admin.RelatedFieldListFilter):
    """Organisation units by their current name, read in a fixed number of queries."""

    def field_choices(self, field, request, model_admin):
        units = OrgUnit.objects.prefetch_related(selectors.unit_names_prefetch())
        if not request.user.is_superuser:
            units = units.filter(pk__in=selectors.managed_unit_ids(request.user))
        today = timezone.localdate()
        return [(unit.pk, unit.full_name_on(today, include_government=False) or unit.code) for unit in units]


class ScopedAdmin(HiddenHistoryMixin, SimpleHistoryAdmin):
    """Admin whose rows belong to a body: secretariat staff see and change only their units' bodies."""

    body_path = "body__"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        units = selectors.managed_unit_ids(request.user)
        return qs.filter(**{f"{self.body_path}secretariat_id__in": units})

    def _perm(self, request, action, obj=None):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}", obj)

    def has_view_permission(self, request, obj=None):
        return self._perm(request, "view", obj) or self._perm(request, "change", obj)

    def has_change_permission(self, request, obj=None):
        return self._perm(request, "change", obj)

    def has_add_permission(self, request, obj=None):
        return self._perm(request, "add")

    def has_delete_permission(self, request, obj=None):
        return self._perm(request, "delete", obj)

    def has_module_permission(self, request):
        return selectors.is_secretariat(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Offer only what the user manages, so a forged choice fails validation.
        if not request.user.is_superuser:
            units = selectors.managed_unit_ids(request.user)
            if db_field.related_model is Body:
                kwargs["queryset"] = Body.objects.filter(secretariat_id__in=units)
            elif db_field.related_model is Appointment:
                kwargs["queryset"] = Appointment.objects.filter(body__secretariat_id__in=units).select_related(
                    "person", "body"
                )
            elif db_field.related_model is Guideline:
                kwargs["queryset"] = Guideline.objects.filter(body__secretariat_id__in=units).select_related("body")
            elif db_field.related_model is Person:
                kwargs["queryset"] = selectors.people_managed_by(request.user)
            elif db_field.related_model is OrgUnit and db_field.name == "secretariat":
                kwargs["queryset"] = OrgUnit.objects.filter(pk__in=units)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- organisation ------------------------------------------------------------------------------


class OrgUnitNameInline(admin.TabularInline):
    model = OrgUnitName
    fk_name = "unit"
    extra = 0
    autocomplete_fields = ["parent"]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "current_name", "kind", "phone", "email"]
    list_filter = ["kind"]
    search_fields = ["code", "names__name"]
    inlines = [OrgUnitNameInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(selectors.unit_names_prefetch())

    @admin.display(description=_("current name"))
    def current_name(self, obj: OrgUnit) -> str:
        return obj.full_name_on(timezone.localdate())

    def has_module_permission(self, request):
        return selectors.is_secretariat(request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.is_secretariat(request.user)


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "unit", "start_on", "end_on"]
    list_select_related = ["user", "unit"]
    list_filter = [("unit", UnitFilter)]
    search_fields = ["user__email", "unit__names__name"]
    autocomplete_fields = ["user", "unit"]

    def get_queryset(self, request):
        # The unit is shown by its name, which lives in OrgUnitName.
        return super().get_queryset(request).prefetch_related(selectors.unit_names_prefetch("unit__names"))

    def save_model(self, request, obj, form, change):
        from core.audit import audit_record

        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="staff_assignment_saved",
            target=obj,
            data={"unit": obj.unit_id, "start_on": obj.start_on.isoformat()},
            ip_address=request.META.get("REMOTE_ADDR"),
        )


# --- bodies and guidelines -----------------------------------------------------------------------


class GuidelineArticleInline(admin.StackedInline):
    model = GuidelineArticle
    extra = 0
    fields = [("position", "kind", "number", "heading"), "text"]


@admin.register(Guideline)
class GuidelineAdmin(ScopedAdmin):
    list_display = ["title", "body", "effective_on", "term_rule", "amendment_note"]
    list_select_related = ["body"]
    list_filter = [("body", ManagedBodyFilter), "term_rule"]
    search_fields = ["title", "body__name", "articles__text"]
    autocomplete_fields = ["body"]
    date_hierarchy = "effective_on"
    inlines = [GuidelineArticleInline]
    fieldsets = [
        (None, {"fields": ["body", "title", "effective_on", "amendment_note"]}),
        (
            _("Term of office"),
            {
                "fields": [
                    "term_rule",
                    ("term_fixed_end", "term_years"),
                    "successor_serves_remainder",
                    ("reappointment_allowed", "max_consecutive_terms"),
                    "appointing_authority",
                ]
            },
        ),
        (
            _("Officers"),
            {
                "fields": [
                    ("chair_title", "chair_selection"),
                    ("vice_chair_title", "vice_chair_selection"),
                    "vice_chair_acts_for_chair",
                ]
            },
        ),
        (
            _("Meetings"),
            {
                "fields": [
                    "convener_title",
                    ("quorum_rule", "online_counts_for_quorum"),
                    "voting_rule",
                    ("meetings_public_by_default", "closure_basis"),
                ]
            },
        ),
    ]
    actions = ["amend"]

    def get_readonly_fields(self, request, obj=None):
        # A version in force is amended, not rewritten: its rules and date stay as adopted.
        if obj is not None and obj.appointments.exists():
            return ["body", "effective_on", "term_rule", "term_fixed_end", "term_years"]
        return []

    @admin.action(description=_("Amend: copy as a new version from tomorrow"))
    def amend(self, request, queryset):
        for guideline in queryset:
            try:
                new = services.guideline_amend(
                    actor=request.user,
                    guideline=guideline,
                    effective_on=timezone.localdate() + dt.timedelta(days=1),
                    amendment_note=str(_("Amendment")),
                )
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, _("New version created: %(v)s") % {"v": new}, messages.SUCCESS)


class AppointmentInline(admin.TabularInline):
    model = Appointment
    fk_name = "body"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["holder", "category", "role_label", "term_start", "term_end", "ended_on", "end_reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "body")

    @admin.display(description=_("person or post"))
    def holder(self, obj: Appointment) -> str:
        return obj.holder_name


class OfficerTermInline(admin.TabularInline):
    model = OfficerTerm
    extra = 0
    can_delete = False
    fields = ["role", "holder", "selected_by", "selected_on", "start_on", "end_on", "meeting_label"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("appointment__person")

    @admin.display(description=_("held by"))
    def holder(self, obj: OfficerTerm) -> str:
        return obj.appointment.holder_name


class RosterImportForm(forms.Form):
    file = forms.FileField(label=_("Roster file (CSV or Excel)"), help_text=IMPORT_HELP)


@admin.register(Body)
class BodyAdmin(ScopedAdmin):
    body_path = ""
    list_display = ["name", "short_name", "kind", "parent", "secretariat_name", "is_public"]
    list_select_related = ["parent", "secretariat"]
    list_filter = ["kind", "is_public", ("secretariat", UnitFilter)]
    search_fields = ["name", "short_name"]
    prepopulated_fields = {"slug": ["short_name"]}
    autocomplete_fields = ["parent"]
    inlines = [OfficerTermInline, AppointmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(selectors.unit_names_prefetch("secretariat__names"))

    @admin.display(description=_("secretariat"))
    def secretariat_name(self, obj: Body) -> str:
        return obj.secretariat.full_name_on(timezone.localdate(), include_government=False)

    def get_urls(self):
        return [
            path("<int:pk>/import/", self.admin_site.admin_view(self.import_view), name="committee_body_import"),
        ] + super().get_urls()

    def import_view(self, request, pk: int):
        body = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("committee.import_roster", body):
            raise PermissionDenied
        form = RosterImportForm(request.POST or None, request.FILES or None)
        errors: list[tuple[int, str]] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > 5 * 1024 * 1024:
                form.add_error("file", _("The file is larger than 5 MB."))
            else:
                try:
                    outcome = roster_import(actor=request.user, body=body, data=upload.read(), filename=upload.name)
                except RosterImportError as exc:
                    form.add_error("file", exc.message)
                else:
                    if outcome.ok:
                        self.message_user(
                            request, _("%(n)d appointments imported.") % {"n": outcome.created}, messages.SUCCESS
                        )
                        return HttpResponseRedirect(reverse("admin:committee_body_change", args=[body.pk]))
                    errors = outcome.errors
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a roster into %(body)s") % {"body": body.short_name},
            "body": body,
            "form": form,
            "row_errors": errors,
            "opts": self.opts,
            "export_url": reverse("committee:roster_export", args=[body.slug, "xlsx"]),
        }
        return TemplateResponse(request, "admin/committee/body/import.html", context)


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
        if not self.value():
            return queryset
        try:
            day = dt.date.fromisoformat(self.value())
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
        data = super().clean()
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
                    request, _("%(who)s reappointed until %(end)s.") % {"who": new.holder_name, "end": new.term_end},
                    messages.SUCCESS,
                )


class PersonAppointmentInline(AppointmentInline):
    fk_name = "person"
    fields = ["body", "category", "term_start", "term_end", "ended_on", "end_reason"]
    readonly_fields = fields


@admin.register(Person)
class PersonAdmin(ReadingSearchMixin, HiddenHistoryMixin, SimpleHistoryAdmin):
    list_display = ["full_name", "full_name_kana", "gender", "email", "user"]
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

    @admin.action(description=_("Invite to log in (mail a link to set a password)"), permissions=["change"])
    def invite(self, request, queryset):
        from core import accounts

        invited = 0
        for person in queryset:
            try:
                accounts.account_invite(actor=request.user, person=person, ip_address=request.META.get("REMOTE_ADDR"))
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
        data = super().clean()
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
