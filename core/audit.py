"""Writing audit entries. Services call `audit_record` inside their transaction."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditAction, AuditEntry
from .text import single_line
from .types import AnyUser, account_of

__all__ = ["AuditAction", "audit_record", "audit_scope", "request_address"]

# The client's address of the request being served (core.middleware.ClientAddressMiddleware sets it for the
# request), so that every entry a service writes while serving it says from where, as SECURITY.md asks; None
# in a task or a command.
request_address: ContextVar[str | None] = ContextVar("dxplan_request_address", default=None)

# The foreign keys that lead from a row up to its meeting or body, tried in this order. A model whose way
# up is none of these defines `audit_scope()` itself (committee.Body, meetings.Meeting).
_PARENTS = ("meeting", "minutes", "agenda", "appointment", "material", "notice", "sheet", "officer_term",
            "guideline", "attendance")


def audit_scope(target: models.Model | None, _depth: int = 0) -> tuple[int | None, int | None]:
    """The (body id, meeting id) that `target` belongs to, for scoping the audit log to a secretariat."""
    if target is None or _depth > 3:
        return None, None
    own = getattr(target, "audit_scope", None)
    if callable(own):
        return own()
    body_id = getattr(target, "body_id", None)
    for name in _PARENTS:
        if getattr(target, f"{name}_id", None) is not None:
            parent_body_id, meeting_id = audit_scope(getattr(target, name), _depth + 1)
            return body_id or parent_body_id, meeting_id
    return body_id, None


def audit_record(
    *,
    actor: AnyUser | None,
    action: AuditAction,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Record `action` by `actor` on `target`. Labels are flattened to one line so no input can forge log lines.
    `ip_address`: where from; by default the address of the request being served (request_address)."""
    user = account_of(actor)
    entry = AuditEntry(
        actor=user,
        actor_label=single_line(str(actor) if user else "", 254),
        action=action,
        data=data or {},
        ip_address=ip_address if ip_address is not None else request_address.get(),
    )
    if target is not None:
        entry.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        entry.target_id = str(target.pk)
        entry.target_label = single_line(str(target), 500)
    entry.body_id, entry.meeting_id = audit_scope(target)
    entry.save()
    return entry
