"""Who may see which material. The list, the single download, the ZIP and every feed use this module."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from meetings import selectors as meeting_selectors
from meetings.models import Meeting

from .models import Download, Material

PUBLIC_STATUSES = (Meeting.Status.NOTIFIED, Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED,
                   Meeting.Status.POSTPONED, Meeting.Status.CANCELLED)


def public_filter() -> Q:
    """Materials anyone may see: published, not closed, not of a closed agenda item, not withdrawn."""
    return (
        Q(visibility=Material.Visibility.PUBLIC, is_closed=False, withdrawn_at__isnull=True,
          current_version__isnull=False, meeting__body__is_public=True)
        & (Q(agenda_item__isnull=True) | Q(agenda_item__is_public=True))
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
        return qs.filter(
            visibility__in=[Material.Visibility.MEMBERS, Material.Visibility.PUBLIC],
            withdrawn_at__isnull=True,
            current_version__isnull=False,
        ).order_by("position", "id")
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


def not_downloaded(material: Material) -> list:
    """Members invited to the meeting who have not yet downloaded this material (for the secretariat)."""
    invited = [r for r in meeting_selectors.attendance_rows(material.meeting) if r.appointment_id]
    done = set(Download.objects.filter(material=material).values_list("user_id", flat=True))
    return [r for r in invited if r.appointment.person and r.appointment.person.user_id not in done]
