"""Admin edits leave an audit entry, like every change made through a service.

Mixed into the admin of bodies, guidelines, people, appointments, meetings and minutes: each add, change
and deletion in the admin site writes an AuditEntry with the admin's own change message (which also names
the inline rows, such as minutes passages, that were added, changed or deleted)."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import LogEntry
from django.utils.translation import gettext

from .audit import audit_record
from .http import client_ip
from .models import AuditAction

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin as _MixedInto
else:
    _MixedInto = object


def _catalogued(label: str) -> str:
    """A form label as the catalogue knows it: admin forms capitalise a field's verbose name ("Short name"),
    while the msgid is the verbose name itself ("short name")."""
    if gettext(label) != label or not label:
        return label
    lowered = label[0].lower() + label[1:]
    return lowered if gettext(lowered) != lowered else label


def change_message_text(data: dict[str, Any]) -> str:
    """The recorded admin change message in the current language ("" when there is none)."""
    message = data.get("admin_message")
    if not message:
        return ""
    if isinstance(message, str):  # a message an admin action wrote as plain text
        return message
    message = copy.deepcopy(message)
    for part in message:
        changed = part.get("changed") if isinstance(part, dict) else None
        if changed and isinstance(changed.get("fields"), list):
            changed["fields"] = [_catalogued(str(name)) for name in changed["fields"]]
    return str(LogEntry(change_message=json.dumps(message)).get_change_message())


class AuditedAdminMixin(_MixedInto):
    """Writes an audit entry for every add, change and deletion made through this ModelAdmin."""

    def _audit(self, request, action: AuditAction, obj, message: Any) -> None:
        audit_record(
            actor=request.user, action=action, target=obj, ip_address=client_ip(request),
            data={"admin_message": message, "model": obj._meta.label},
        )

    def log_addition(self, request, obj, message):
        logged = super().log_addition(request, obj, message)
        self._audit(request, AuditAction.ADMIN_ADD, obj, message)
        return logged

    def log_change(self, request, obj, message):
        logged = super().log_change(request, obj, message)
        self._audit(request, AuditAction.ADMIN_CHANGE, obj, message)
        return logged

    def log_deletions(self, request, queryset):
        # Called before the rows are deleted, so each target still has its body and label.
        logged = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, AuditAction.ADMIN_DELETE, obj, [])
        return logged
