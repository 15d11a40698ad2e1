from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    BodyNoticeSettings,
    Delivery,
    MaterialAnnouncement,
    Notice,
    NoticeTemplate,
    NotificationPreference,
    Reminder,
)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("person", "email", "state", "attempts", "last_error", "sent_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("meeting", "kind", "sequence", "created_at", "created_by")
    list_filter = ("kind",)
    list_select_related = ("meeting__body", "created_by")
    search_fields = ("subject", "meeting__title")
    readonly_fields = ("meeting", "kind", "sequence", "subject", "note", "cc", "created_by", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("notice", "person", "role", "state", "attempts", "retry_at", "sent_at")
    list_filter = ("state", "role")
    list_select_related = ("notice__meeting__body", "person")
    search_fields = ("email", "person__family_name")
    readonly_fields = (
        "notice", "person", "email", "copy_to", "role", "copy_for", "state", "attempts", "last_error", "queued_at",
        "claimed_at", "lease_until", "retry_at", "failing_since", "sent_at", "message_id",
    )
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send the failed deliveries again"))
    def resend(self, request, queryset):
        for delivery in queryset.filter(state=Delivery.State.FAILED):
            try:
                services.delivery_resend(actor=request.user, delivery=delivery)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("meeting", "offset_days", "due_at", "sent_at")
    list_select_related = ("meeting__body",)
    readonly_fields = ("meeting", "offset_days", "due_at", "sent_at", "notice")

    def has_add_permission(self, request):
        return False


@admin.register(BodyNoticeSettings)
class BodyNoticeSettingsAdmin(admin.ModelAdmin):
    list_display = ("body", "reminder_days", "materials_delay")
    autocomplete_fields = ("body",)


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(admin.ModelAdmin):
    list_display = ("body", "kind", "subject")
    list_filter = ("kind",)
    list_select_related = ("body",)
    search_fields = ("body__name", "subject")
    autocomplete_fields = ("body",)


@admin.register(MaterialAnnouncement)
class MaterialAnnouncementAdmin(admin.ModelAdmin):
    list_display = ("meeting", "material", "replaced", "due_at", "notice")
    list_select_related = ("meeting__body", "material", "notice")
    readonly_fields = ("meeting", "material", "replaced", "due_at", "first_at", "notice")

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Read here; members change their own settings on their page (notices:settings)."""

    list_display = ("person", "reminders", "materials", "copy_to", "updated_at")
    list_select_related = ("person",)
    search_fields = ("person__family_name", "person__given_name", "copy_to")
    readonly_fields = ("person", "reminders", "materials", "copy_to", "updated_at")

    def has_add_permission(self, request):
        return False
