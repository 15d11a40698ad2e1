"""The 次第: items, snapshots and their SHA-256, submission, approval and return."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditAction, audit_record
from core.types import AnyUser, account_of

from .. import selectors
from ..access import HELD_STATUSES
from ..models import (
    Agenda,
    AgendaItem,
    AgendaVersion,
    Meeting,
)
from ._common import MeetingError, _lock_agenda

# --- the 次第 ---------------------------------------------------------------------------------


def agenda_snapshot(agenda: Agenda, tree: list[selectors.AgendaNode] | None = None) -> dict[str, Any]:
    """The content the chair approves: meeting particulars and every item, in order."""
    meeting = agenda.meeting
    items = selectors.agenda_tree(agenda) if tree is None else tree
    return {
        "meeting": {
            "title": meeting.title,
            "label": meeting.label,
            "start_at": meeting.start_at.isoformat() if meeting.start_at else None,
            "end_at": meeting.end_at.isoformat() if meeting.end_at else None,
            "planned_month": meeting.planned_month.isoformat() if meeting.planned_month else None,
            "venue": " ".join(v for v in (meeting.venue_name, meeting.venue_room) if v),
            "openness": meeting.openness,
        },
        "items": [
            {
                "number": node.number,
                "depth": node.depth,
                "title": node.item.title,
                "detail": node.item.detail,
                "presenter": node.item.presenter,
                "time": node.item.starts_at.strftime("%H:%M") if node.item.starts_at else "",
                "public": node.item.is_public,
            }
            for node in items
        ],
        "note": agenda.note,
    }


def snapshot_hash(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _supersede_pending(agenda: Agenda) -> None:
    """The version waiting for a decision will never get one: mark it superseded in the history."""
    version = agenda.current_version
    if version is not None and not version.decision:
        version.decision, version.decided_at = "superseded", timezone.now()
        version.save(update_fields=["decision", "decided_at"])


def _reopen(agenda: Agenda, actor: AnyUser | None) -> None:
    """Any edit of a submitted or approved 次第 sends it back to draft; a new approval is needed."""
    if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED):
        _supersede_pending(agenda)
        previous = agenda.status
        agenda.status = Agenda.Status.DRAFT
        agenda.save(update_fields=["status"])
        audit_record(actor=actor, action=AuditAction.AGENDA_REOPENED, target=agenda.meeting, data={"was": previous})


def _check_editable(meeting: Meeting) -> None:
    if meeting.status in (Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED):
        raise MeetingError(_("The 次第 of a cancelled meeting or one whose minutes are published cannot be changed."))


@transaction.atomic
def agenda_item_add(
    *, actor: AnyUser | None, meeting: Meeting, title: str, parent: AgendaItem | None = None, **fields: object
) -> AgendaItem:
    """Add an item at the end of its level."""
    agenda = _lock_agenda(meeting)
    _check_editable(agenda.meeting)  # as it is now, not as the caller last read it
    if parent is not None and parent.agenda_id != agenda.pk:
        raise MeetingError(_("The parent item belongs to another meeting."))
    last = agenda.items.filter(parent=parent).aggregate(m=Max("position"))["m"]
    item = AgendaItem(agenda=agenda, parent=parent, title=title, position=(last or 0) + 1, **fields)
    item.full_clean()
    item.save()
    audit_record(actor=actor, action=AuditAction.AGENDA_ITEM_ADDED, target=agenda.meeting, data={"item": item.pk})
    _reopen(agenda, actor)
    return item


@transaction.atomic
def agenda_item_update(*, actor: AnyUser | None, item: AgendaItem, **fields: object) -> AgendaItem:
    """Change an item's fields; any change but the outcome needs a new approval."""
    agenda = _lock_agenda(item.agenda.meeting)
    _check_editable(agenda.meeting)
    item = AgendaItem.objects.get(pk=item.pk)
    changed = [f for f, v in fields.items() if getattr(item, f) != v]
    if not changed:
        return item
    for field, value in fields.items():
        setattr(item, field, value)
    item.full_clean()
    item.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=AuditAction.AGENDA_ITEM_CHANGED,
        target=agenda.meeting,
        data={"item": item.pk, "fields": changed},
    )
    # The outcome is written after the meeting and is not part of what the chair approves.
    if set(changed) - {"outcome"}:
        _reopen(agenda, actor)
    return item


@transaction.atomic
def agenda_item_delete(*, actor: AnyUser | None, item: AgendaItem) -> None:
    """Delete an item and the items under it."""
    agenda = _lock_agenda(item.agenda.meeting)
    _check_editable(agenda.meeting)
    deleted, _per_model = AgendaItem.objects.filter(pk=item.pk, agenda=agenda).delete()
    if deleted:
        audit_record(actor=actor, action=AuditAction.AGENDA_ITEM_DELETED, target=agenda.meeting, data={"item": item.pk})
        _reopen(agenda, actor)


@transaction.atomic
def agenda_item_move(*, actor: AnyUser | None, item: AgendaItem, direction: str) -> AgendaItem:
    """Move an item one place up or down among the items under the same parent; its number follows."""
    if direction not in ("up", "down"):
        raise MeetingError(_("Move an item up or down."))
    agenda = _lock_agenda(item.agenda.meeting)  # the agenda lock serialises every edit of its items
    _check_editable(agenda.meeting)
    item = AgendaItem.objects.get(pk=item.pk, agenda=agenda)
    # Renumber the whole level: positions written elsewhere (the admin) may repeat or leave gaps.
    siblings = list(agenda.items.filter(parent_id=item.parent_id).order_by("position", "id"))
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        return item  # first or last already: nothing changes, nothing to approve again
    siblings[index], siblings[target] = siblings[target], siblings[index]
    changed = []
    for position, sibling in enumerate(siblings, start=1):
        if sibling.position != position:
            sibling.position = position
            changed.append(sibling)
    AgendaItem.objects.bulk_update(changed, ["position"])
    audit_record(
        actor=actor,
        action=AuditAction.AGENDA_ITEM_MOVED,
        target=agenda.meeting,
        data={"item": item.pk, "direction": direction},
    )
    _reopen(agenda, actor)
    return siblings[target]


def _reopen_if_changed(meeting: Meeting, actor: AnyUser | None) -> Agenda:
    """Back to draft if the 次第 as it now reads (items and the meeting's particulars) is not the version
    submitted or approved. The caller holds a transaction."""
    agenda = _lock_agenda(meeting)
    if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED):
        current = snapshot_hash(agenda_snapshot(agenda))
        pinned = agenda.current_version.sha256 if agenda.current_version else None
        if current != pinned:
            _reopen(agenda, actor)
    return agenda


@transaction.atomic
def agenda_edited(*, actor: AnyUser | None, meeting: Meeting) -> Agenda:
    """Record that the 次第 was edited elsewhere (the admin's inline forms): it goes back to draft."""
    return _reopen_if_changed(meeting, actor)


@transaction.atomic
def agenda_submit(*, actor: AnyUser | None, meeting: Meeting) -> AgendaVersion:
    """The secretariat submits the 次第 to the presiding officer: its content is frozen as a version."""
    agenda = _lock_agenda(meeting)
    meeting = agenda.meeting
    _check_editable(meeting)
    tree = selectors.agenda_tree(agenda)
    snapshot = agenda_snapshot(agenda, tree)
    digest = snapshot_hash(snapshot)
    pending = agenda.current_version
    if agenda.status in (Agenda.Status.SUBMITTED, Agenda.Status.APPROVED) and pending and pending.sha256 == digest:
        return pending  # submitted already, unchanged: nothing to do
    if not snapshot["items"]:
        raise MeetingError(_("The 次第 has no items yet."))
    _supersede_pending(agenda)  # resubmitted after a change: the earlier version waits no more
    number = (agenda.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = AgendaVersion.objects.create(
        agenda=agenda,
        number=number,
        snapshot=snapshot,
        sha256=digest,
        submitted_by=account_of(actor),
        item_ids=[node.item.pk for node in tree],
    )
    agenda.status, agenda.current_version = Agenda.Status.SUBMITTED, version
    agenda.save(update_fields=["status", "current_version"])
    audit_record(
        actor=actor, action=AuditAction.AGENDA_SUBMITTED, target=meeting, data={"version": number, "sha256": digest}
    )
    return version


def _decide(agenda: Agenda, *, actor: AnyUser, sha256: str) -> tuple[AgendaVersion, str]:
    version = agenda.current_version
    if agenda.status != Agenda.Status.SUBMITTED or version is None:
        raise MeetingError(_("This 次第 is not waiting for approval."))
    if sha256 != version.sha256 or snapshot_hash(agenda_snapshot(agenda)) != version.sha256:
        raise MeetingError(_("The 次第 was changed after you opened it. Read the current version and decide again."))
    approver = selectors.approver_for(agenda.meeting)
    if approver is None or approver.user is None or approver.user.pk != actor.pk:
        raise MeetingError(_("Only the presiding officer of this meeting can decide on its 次第."))
    if version.submitted_by_id == actor.pk:
        raise MeetingError(_("The person who submitted the 次第 cannot approve it."))
    return version, approver.title


@transaction.atomic
def agenda_approve(*, actor: AnyUser, meeting: Meeting, sha256: str) -> AgendaVersion:
    """The presiding officer (or, before there is one, the convening official) approves the exact version read."""
    agenda = _lock_agenda(meeting)
    approved = agenda.approved_version if agenda.status == Agenda.Status.APPROVED else None
    if approved is not None and approved.sha256 == sha256 and approved.decided_by_id == getattr(actor, "pk", None):
        return approved  # the same person approving twice is harmless; anyone else is refused below
    version, title = _decide(agenda, actor=actor, sha256=sha256)
    version.decision, version.decided_at, version.decided_by, version.decided_as = (
        "approved",
        timezone.now(),
        account_of(actor),  # the presiding officer, as _decide checked
        title,
    )
    version.save(update_fields=["decision", "decided_at", "decided_by", "decided_as"])
    agenda.status, agenda.approved_version = Agenda.Status.APPROVED, version
    agenda.save(update_fields=["status", "approved_version"])
    audit_record(
        actor=actor,
        action=AuditAction.AGENDA_APPROVED,
        target=agenda.meeting,
        data={"version": version.number, "sha256": version.sha256, "as": title},
    )
    return version


@transaction.atomic
def agenda_return(*, actor: AnyUser, meeting: Meeting, sha256: str, comment: str) -> AgendaVersion:
    """The presiding officer returns the 次第 with a comment; the secretariat revises and resubmits."""
    agenda = _lock_agenda(meeting)
    if not comment.strip():
        raise MeetingError(_("Say what should change."))
    returned = agenda.current_version if agenda.status == Agenda.Status.RETURNED else None
    if returned is not None and returned.sha256 == sha256 and returned.decided_by_id == getattr(actor, "pk", None):
        return returned
    version, title = _decide(agenda, actor=actor, sha256=sha256)
    version.decision, version.decided_at, version.decided_by, version.decided_as = (
        "returned",
        timezone.now(),
        account_of(actor),  # the presiding officer, as _decide checked
        title,
    )
    version.comment = comment.strip()
    version.save(update_fields=["decision", "decided_at", "decided_by", "decided_as", "comment"])
    agenda.status = Agenda.Status.RETURNED
    agenda.save(update_fields=["status"])
    audit_record(
        actor=actor, action=AuditAction.AGENDA_RETURNED, target=agenda.meeting, data={"version": version.number}
    )
    return version




# --- 結果: what became of each item, recorded after the meeting ---------------------------------

RESULT_NOTE_MAX = 1000
RESULT_STATUSES = HELD_STATUSES  # held, or held with its minutes published


def _approved_item_ids(agenda: Agenda, version: AgendaVersion) -> list[int]:
    """The items of the approved version, in its order. A version saved before the ids were kept learns
    them now, but only while the 次第 still reads exactly as approved (same hash): then the items are it."""
    if version.item_ids:
        return list(version.item_ids)
    tree = selectors.agenda_tree(agenda)
    if agenda.status != Agenda.Status.APPROVED or snapshot_hash(agenda_snapshot(agenda, tree)) != version.sha256:
        raise MeetingError(
            _("The 次第 was changed after its approval, so its items no longer match the approved version. "
              "Submit it and have it approved again before recording results.")
        )
    version.item_ids = [node.item.pk for node in tree]
    version.save(update_fields=["item_ids"])
    return list(version.item_ids)


@transaction.atomic
def agenda_results_record(
    *, actor: AnyUser | None, meeting: Meeting, results: Mapping[int, tuple[str, str]]
) -> int:
    """結果: once the meeting is held, the secretariat records what became of items of the approved 次第 —
    a result from the list (承認, 了承, 継続審議 …), a note in its own words, or both; both empty clears it.
    `results` maps an item's id to (result, note). Returns how many items changed; nothing changes when
    any entry is refused. The approval stands: results are not part of what the chair approved."""
    agenda = _lock_agenda(meeting)  # the agenda lock serialises every write to its items
    meeting = agenda.meeting
    if meeting.status not in RESULT_STATUSES:
        raise MeetingError(_("Results can be recorded once the meeting is recorded as held."))
    version = agenda.approved_version
    if version is None:
        raise MeetingError(_("This meeting has no approved 次第 to record results for."))
    allowed = set(_approved_item_ids(agenda, version))
    if set(results) - allowed:
        raise MeetingError(_("Results can be recorded only for items of the approved 次第."))
    items = {item.pk: item for item in AgendaItem.objects.filter(agenda=agenda, pk__in=list(results))}
    changed: list[AgendaItem] = []
    for pk, (result, note) in results.items():
        note = note.strip()
        if result and result not in AgendaItem.Result.values:
            raise MeetingError(_("Choose a result from the list."))
        if len(note) > RESULT_NOTE_MAX:
            raise MeetingError(
                _("A note on a result may have at most %(max)d characters.") % {"max": RESULT_NOTE_MAX}
            )
        item = items.get(pk)
        if item is not None and (item.result, item.outcome) != (result, note):
            item.result, item.outcome = result, note
            changed.append(item)
    if not changed:
        return 0  # recorded already as given: nothing to save, nothing to audit
    AgendaItem.objects.bulk_update(changed, ["result", "outcome"])
    # The published meeting and its agenda items change: their `modified` moves (opendata.timestamps).
    version.results_recorded_at = timezone.now()
    version.save(update_fields=["results_recorded_at"])
    audit_record(
        actor=actor,
        action=AuditAction.AGENDA_RESULTS_RECORDED,
        target=meeting,
        data={"items": [item.pk for item in changed], "results": {str(i.pk): i.result for i in changed}},
    )
    return len(changed)
