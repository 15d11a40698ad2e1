"""Admin of organisation units, their names and the staff assignments."""
from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_audit import AuditedAdminMixin
from core.http import client_ip

from .. import selectors
from ..models import (
    OrgUnit,
    OrgUnitName,
    StaffAssignment,
)
from ._common import UnitFilter

# --- organisation ------------------------------------------------------------------------------


class OrgUnitNameInline(admin.TabularInline):
    model = OrgUnitName
    fk_name = "unit"
    extra = 0
    autocomplete_fields = ["parent"]


@admin.register(OrgUnit)
class OrgUnitAdmin(AuditedAdminMixin, admin.ModelAdmin):
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
class StaffAssignmentAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ["user", "unit", "start_on", "end_on"]
    list_select_related = ["user", "unit"]
    list_filter = [("unit", UnitFilter)]
    search_fields = ["user__email", "unit__names__name"]
    autocomplete_fields = ["user", "unit"]

    def get_queryset(self, request):
        # The unit is shown by its name, which lives in OrgUnitName.
        return super().get_queryset(request).prefetch_related(selectors.unit_names_prefetch("unit__names"))

    def save_model(self, request, obj, form, change):
        from core.audit import AuditAction, audit_record

        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=AuditAction.STAFF_ASSIGNMENT_SAVED,
            target=obj,
            data={"unit": obj.unit_id, "start_on": obj.start_on.isoformat()},
            ip_address=client_ip(request),
        )


