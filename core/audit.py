"""Writing audit entries. Services call `audit_record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditAction, AuditEntry
from .text import single_line
from .types import AnyUser, account_of

__all__ = ["AuditAction", "audit_record"]


def audit_record(
    *,
    actor: AnyUser | None,
    action: AuditAction,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Record `action` by `actor` on `target`. Labels are flattened to one line so no input can forge log lines."""
    user = account_of(actor)
    entry = AuditEntry(
        actor=user,
        actor_label=single_line(str(actor) if user else "", 254),
        action=action,
        data=data or {},
        ip_address=ip_address,
    )
    if target is not None:
        entry.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        entry.target_id = str(target.pk)
        entry.target_label = single_line(str(target), 500)
    entry.save()
    return entry
