"""Who may see and do what with fees: the one access rule for fee statements and the fee pages.

The secretariat of a body (as meetings.access and committee.access decide) sees and works on its rules and
statements; the approver among them approves; a member sees only their own statements. Nobody else learns
that a statement exists (404). Each function returns the object and what the user may do with it, or 404;
`statements_visible_to` is the list side of `statement_for`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from committee import access as committee_access
from committee.models import Body
from meetings import access as meeting_access
from meetings.models import Meeting

from .models import Statement
from .services import may_approve


@dataclass(frozen=True)
class FeeAccess:
    """What a user may do with the fees of a meeting or a body."""

    manage: bool = False
    approve: bool = False


def _manage_q(user: Any, prefix: str) -> Q:
    """Meetings whose secretariat the user is, as a condition on a related meeting (`prefix`)."""
    return meeting_access.prefixed(meeting_access.viewer_for(user).manage, prefix)


def fees_access(user: Any, meeting: Meeting) -> FeeAccess:
    """The one access decision for fees: the body's secretariat manages (meetings.access decides who
    that is); the approver among them also approves."""
    manage = meeting_access.access_to(user, meeting).manage
    return FeeAccess(manage=manage, approve=manage and may_approve(user))


def meeting_for(user: Any, pk: int, *, to: str = "manage") -> tuple[Meeting, FeeAccess]:
    """The meeting whose fees the user may manage (or approve, `to="approve"`); else 404."""
    meeting, seen = meeting_access.meeting_for(user, pk, to="manage")
    access = FeeAccess(manage=seen.manage, approve=seen.manage and may_approve(user))
    if to == "approve" and not access.approve:
        raise Http404
    return meeting, access


def body_for(user: Any, slug: str) -> tuple[Body, FeeAccess]:
    """A body whose fees the user manages (its secretariat); else 404."""
    body = committee_access.body_for(user, slug, to="manage").body
    return body, FeeAccess(manage=True, approve=may_approve(user))


def statements_visible_to(user: Any) -> QuerySet[Statement]:
    """A member's own statements, and every statement of the meetings the user manages."""
    if not (user.is_authenticated and user.is_active):
        return Statement.objects.none()
    return Statement.objects.filter(Q(person__user=user) | _manage_q(user, "sheet__meeting__"))


def statement_for(user: Any, pk: int, *, to: str = "view") -> tuple[Statement, FeeAccess]:
    """One statement the user may see (their own, or as the secretariat); `to="manage"` for the
    secretariat only, `to="own"` for the member it belongs to only. Anything else is 404."""
    statement = get_object_or_404(
        statements_visible_to(user).select_related(
            "person", "rule_set", "appointment", "sheet__meeting__body", "sheet__approved_by"
        ),
        pk=pk,
    )
    access = fees_access(user, statement.sheet.meeting)
    if (to == "manage" and not access.manage) or (to == "own" and statement.person.user_id != user.pk):
        raise Http404
    return statement, access
