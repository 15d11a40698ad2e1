"""Reads of materials: who reads them and who has not downloaded them. Access is documents.access's."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from committee import selectors as committee_selectors
from committee.models import Appointment
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


def reader_user_ids(meeting: Meeting) -> list[int | None]:
    """The account of each of readers_of(meeting), in no order (None for a reader without one): what the
    counts need, without loading the roster. Two queries."""
    appointed = Appointment.objects.filter(body_id=meeting.body_id).active_on(meeting.reference_date)
    ids: list[int | None] = list(appointed.values_list("person__user_id", flat=True))
    ids += list(meeting.attendees.filter(person__isnull=False).values_list("person__user_id", flat=True))
    return ids


def not_downloaded_counts(meeting: Meeting, materials: list[Material]) -> tuple[int, dict[int, int]]:
    """How many readers the meeting's members' materials have, and for each material how many of them
    have not downloaded it (the length of not_downloaded_by_material's lists). Three queries (four when an
    account reads twice, as a member and as an invited attendee), whatever the number of readers."""
    readers = Counter(reader_user_ids(meeting))
    with_account = {pk for pk in readers if pk is not None}
    ids = [m.pk for m in materials]
    rows = Download.objects.filter(material__in=ids, user_id__in=with_account).order_by()
    done = dict(
        rows.values("material_id").annotate(n=Count("user_id", distinct=True)).values_list("material_id", "n")
    )
    twice = {pk for pk in with_account if readers[pk] > 1}
    extra: Counter[int] = Counter()
    if twice:
        for material_id, user_id in rows.filter(user_id__in=twice).values_list("material_id", "user_id").distinct():
            extra[material_id] += readers[user_id] - 1
    total = sum(readers.values())
    return total, {pk: total - done.get(pk, 0) - extra[pk] for pk in ids}
