"""Who may see which material. The list, the single download, the ZIP and every feed use this module."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from committee import selectors as committee_selectors
from meetings import selectors as meeting_selectors
from meetings.models import Meeting

from .models import Download, Material

PUBLIC_STATUSES = (Meeting.Status.NOTIFIED, Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED,
                   Meeting.Status.POSTPONED, Meeting.Status.CANCELLED)


def _item_open(path: str) -> Q:
    return Q(**{f"{path}__isnull": True}) | Q(**{f"{path}__is_public": True})


def public_filter() -> Q:
    """Materials anyone may see: published, not closed, not withdrawn, and not of an agenda item that is
    closed or sits under a closed one (items nest three levels: 1, (1), ①)."""
    return (
        Q(visibility=Material.Visibility.PUBLIC, is_closed=False, withdrawn_at__isnull=True,
          current_version__isnull=False, meeting__body__is_public=True)
        & _item_open("agenda_item")
        & _item_open("agenda_item__parent")
        & _item_open("agenda_item__parent__parent")
    )


def members_filter() -> Q:
    """Materials the members of the meeting see (public ones included): shown to members, with a file,
    not withdrawn."""
    return Q(
        visibility__in=[Material.Visibility.MEMBERS, Material.Visibility.PUBLIC],
        withdrawn_at__isnull=True,
        current_version__isnull=False,
    )


def materials_visible_to(user, meeting: Meeting, access: meeting_selectors.Access | None = None) -> QuerySet[Material]:
    """The materials of `meeting` this user may see, in label order.

    The secretariat of the body sees all (withdrawn ones too, marked); members in office on the meeting
    day and invited attendees see members' and public materials with a file; everyone else sees public ones.
    """
    access = access or meeting_selectors.access_to(user, meeting)
    qs = Material.objects.filter(meeting=meeting).select_related("current_version", "agenda_item")
    if access.manage:
        return qs.order_by("position", "id")
    if access.member:
        return qs.filter(members_filter()).order_by("position", "id")
    return qs.filter(public_filter()).order_by("position", "id")


def material_for(user, pk: int) -> tuple[Material, meeting_selectors.Access] | None:
    """The material with `pk` if this user may see it, else None (the view answers 404)."""
    material = Material.objects.select_related("meeting__body", "current_version", "agenda_item").filter(pk=pk).first()
    if material is None:
        return None
    access = meeting_selectors.access_to(user, material.meeting)
    if not materials_visible_to(user, material.meeting, access).filter(pk=pk).exists():
        return None
    return material, access


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
    readers = [Reader(a.holder_name, a.person.user_id if a.person_id else None) for a in appointments]
    return readers + [Reader(g.display_name, g.person.user_id) for g in guests]


def not_downloaded_by_material(meeting: Meeting, materials: list[Material]) -> dict[int, list[Reader]]:
    """For each material, the readers who have not yet downloaded it (for the secretariat). Fixed queries."""
    readers = readers_of(meeting)
    done: dict[int, set[int]] = {m.pk: set() for m in materials}
    rows = Download.objects.filter(material__in=[m.pk for m in materials], user__isnull=False)
    for material_id, user_id in rows.values_list("material_id", "user_id").distinct():
        done[material_id].add(user_id)
    return {m.pk: [r for r in readers if r.user_id is None or r.user_id not in done[m.pk]] for m in materials}


def not_downloaded(material: Material) -> list[Reader]:
    """The readers of the meeting who have not yet downloaded this material (for the secretariat)."""
    return not_downloaded_by_material(material.meeting, [material])[material.pk]
