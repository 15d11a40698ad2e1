"""Read-mostly admin for fees: the secretariat works in the site (/manage/fees/...), never here. Changes of
state go through the services; the admin shows what was recorded, with its history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import FeeSheet, PayeeSetting, RuleSet, Statement


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(RuleSet)
class RuleSetAdmin(ReadOnlyAdmin):
    list_display = ["body", "effective_on", "kind", "travel", "withholding", "is_example"]
    list_filter = ["kind", "travel", "withholding", "is_example"]
    list_select_related = ["body"]
    search_fields = ["body__name", "basis"]


@admin.register(PayeeSetting)
class PayeeSettingAdmin(ReadOnlyAdmin):
    list_display = ["person", "body", "excluded", "excluded_reason", "distance_km"]
    list_select_related = ["person", "body"]
    list_filter = ["excluded"]
    search_fields = ["person__family_name", "person__family_name_kana"]


@admin.register(FeeSheet)
class FeeSheetAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "status", "approved_at", "approved_by"]
    list_select_related = ["meeting__body", "approved_by"]
    list_filter = ["status"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["sheet", "person", "post", "mode", "base_amount", "travel_amount", "tax_amount", "net_amount"]
    list_select_related = ["sheet__meeting__body", "person"]
    search_fields = ["person__family_name", "person__family_name_kana"]
