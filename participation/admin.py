from django.contrib import admin

from .models import ObservationGuide, ObservationSettings, Subscription


@admin.register(ObservationGuide)
class ObservationGuideAdmin(admin.ModelAdmin):
    list_display = ["body", "updated_at"]
    list_select_related = ["body"]


@admin.register(ObservationSettings)
class ObservationSettingsAdmin(admin.ModelAdmin):
    """Read-only here: the secretariat sets 傍聴 under /manage/, through the services."""

    list_display = ["meeting", "public_seats", "press_seats", "method", "closes_at", "observer_count"]
    list_select_related = ["meeting__body"]
    readonly_fields = ["lottery_seed", "drawn_at", "closed_at", "closed_reason", "observer_count", "purged_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["body", "state", "created_at", "confirmed_at", "ended_at"]
    list_filter = ["state"]
    list_select_related = ["body"]
    search_fields = ["email"]
    readonly_fields = ["state", "confirmed_at", "ended_at"]
