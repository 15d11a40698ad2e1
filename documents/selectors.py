"""Reads of materials: who reads them and who has not downloaded them. Access is documents.access's."""
from __future__ import annotations

from dataclasses import dataclass

from committee import selectors as committee_selectors
from meetings.models import Meeting

from .access import (  # noqa: F401 - the access rule lives in documents.access; re-exported for callers
    all_materials_visible_to,
    material_for,
    materials_visible_to,
    members_filter,
    public_filter,
)
from .models import Download, Material


@dataclass(frozen=True)
class Reader:
    """Someone the members' materials of a meeting are meant for."""

    holder_name: str
    user_id: int | None


def readers_of(meeting: Meeting) -> list[Reader]:
    """Who may read the members' materials (as access_to decides): everyone appointed to the body on the
    meeting day, 五十音順, then the invited attendees who are registered people. Two queries."""
    appointments = committee_selectors.roster_on(body=meeting.body, day=meeting.reference_date)
    guests = meeting.attendees.filter(person__isnull=False).select_related("person").order_by("role", "position", "id")
    readers = [Reader(a.holder_name, a.person.user_id if a.person is not None else None) for a in appointments]
    return readers + [Reader(g.display_name, g.person.user_id) for g in guests if g.person is not None]


def not_downloaded_by_material(
    meeting: Meeting, materials: list[Material], readers: list[Reader] | None = None
) -> dict[int, list[Reader]]:
    """For each material, the readers who have not yet downloaded it (for the secretariat). Fixed queries."""
    readers = readers_of(meeting) if readers is None else readers
    done: dict[int, set[int]] = {m.pk: set() for m in materials}
    rows = Download.objects.filter(material__in=[m.pk for m in materials], user__isnull=False)
    for material_id, user_id in rows.values_list("material_id", "user_id").distinct():
        done[material_id].add(user_id)
    return {m.pk: [r for r in readers if r.user_id is None or r.user_id not in done[m.pk]] for m in materials}


def not_downloaded(material: Material) -> list[Reader]:
    """The readers of the meeting who have not yet downloaded this material (for the secretariat)."""
    return not_downloaded_by_material(material.meeting, [material])[material.pk]
