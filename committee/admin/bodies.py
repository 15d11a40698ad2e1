"""Admin of bodies and their guidelines (設置要綱), with the roster import."""
from __future__ import annotations

from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.validation import local_date

from .. import selectors, services
from ..models import (
    Appointment,
    Body,
    Guideline,
    GuidelineArticle,
    OfficerTerm,
)
from ..resources import IMPORT_HELP, RosterImportError, roster_import
from ._common import ManagedBodyFilter, ScopedAdmin, UnitFilter

# --- bodies and guidelines -----------------------------------------------------------------------


class GuidelineArticleInline(admin.StackedInline):
    model = GuidelineArticle
    extra = 0
    fields = [("position", "kind", "number", "heading"), "text"]


class GuidelineActionForm(ActionForm):
    effective_on = forms.DateField(
        label=_("Amendment in force from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@admin.register(Guideline)
class GuidelineAdmin(ScopedAdmin):
    action_form = GuidelineActionForm
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

    @admin.action(description=_("Amend: copy as a new version in force from the day given"))
    def amend(self, request, queryset):
        try:  # the action form's own choices are the admin's; only the day is read here
            effective_on = GuidelineActionForm.base_fields["effective_on"].clean(request.POST.get("effective_on"))
        except ValidationError:
            effective_on = None
        if effective_on is None:
            self.message_user(request, _("Give the day the amendment takes effect."), messages.ERROR)
            return
        for guideline in queryset:
            try:
                new = services.guideline_amend(
                    actor=request.user,
                    guideline=guideline,
                    effective_on=effective_on,
                    amendment_note=str(_("Amendment")),
                )
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            else:
                created = _("New version created: %(title)s, in force from %(date)s.") % {
                    "title": new.title, "date": local_date(new.effective_on)
                }
                self.message_user(request, created, messages.SUCCESS)


class AppointmentInline(admin.TabularInline):
    model = Appointment
    fk_name = "body"
    extra = 0
    can_delete = False
    show_change_link = True
    fields: ClassVar[tuple[str, ...]] = (
        "holder", "category", "role_label", "term_start", "term_end", "ended_on", "end_reason"
    )
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
    fields = readonly_fields = ("role", "holder", "selected_by", "selected_on", "start_on", "end_on", "meeting_label")

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


