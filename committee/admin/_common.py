"""The admin of committee: what its pages share (scoping to the managed bodies, hidden history).
Changes of state (appointing, ending, electing) go through committee/services.py."""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from core import kana
from core.admin_audit import AuditedAdminMixin

from .. import selectors
from ..access import managed_q
from ..models import (
    Appointment,
    Body,
    Guideline,
    OrgUnit,
    Person,
)

if TYPE_CHECKING:
    # The mixins extend methods of the history admin they are always mixed into (their super() calls).
    from simple_history.admin import SimpleHistoryAdmin as _MixedInto
else:
    _MixedInto = object


class HiddenHistoryMixin(_MixedInto):
    """The history of an object the user may not see answers 404 like its change page, not 403
    (simple-history falls back to the last historical record and then refuses)."""

    def history_view(self, request, object_id, extra_context=None):
        if not hasattr(self.model._meta, "simple_history_manager_attribute"):
            # A model without HistoricalRecords (a 次第, a seat): Django's own history of admin changes.
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        try:
            return super().history_view(request, object_id, extra_context)
        except PermissionDenied:
            raise Http404 from None

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        try:
            return super().history_form_view(request, object_id, version_id, extra_context)
        except PermissionDenied:
            raise Http404 from None


class ReadingSearchMixin(_MixedInto):
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
        bodies = Body.objects.filter(managed_q(request.user))
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


class ScopedAdmin(AuditedAdminMixin, HiddenHistoryMixin, SimpleHistoryAdmin):
    """Admin whose rows belong to a body: secretariat staff see and change only their units' bodies.
    Every add, change and deletion is also written to the audit log."""

    body_path = "body__"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(managed_q(request.user, self.body_path))

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
            user = request.user
            if db_field.related_model is Body:
                kwargs["queryset"] = Body.objects.filter(managed_q(user))
            elif db_field.related_model is Appointment:
                kwargs["queryset"] = Appointment.objects.filter(managed_q(user, "body__")).select_related(
                    "person", "body"
                )
            elif db_field.related_model is Guideline:
                kwargs["queryset"] = Guideline.objects.filter(managed_q(user, "body__")).select_related("body")
            elif db_field.related_model is Person:
                kwargs["queryset"] = selectors.people_managed_by(request.user)
            elif db_field.related_model is OrgUnit and db_field.name == "secretariat":
                kwargs["queryset"] = OrgUnit.objects.filter(pk__in=selectors.managed_unit_ids(user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


