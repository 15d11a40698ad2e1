"""Who may see which material, and download it: the one access rule for materials.

The meeting page's list, the single download, each version, the ZIP, the 会議資料一式, the search,
the feeds and the announcements all ask here. One condition (`_visible`) serves the list of one
meeting, the list across meetings and the single material, so they can never disagree.
"""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from django.http import Http404

from core.types import AnyUser
from meetings.access import (
    EVERYTHING,
    NOTHING,
    Access,
    Viewer,
    access_to,
    guest_access,
    open_item_q,
    prefixed,
    viewer_for,
)
from meetings.models import AgendaItem, Attendee, Meeting

from .models import Material

MaterialPurpose = Literal["download", "manage"]


def public_filter() -> Q:
    """Materials anyone may see: published, not closed, not withdrawn, with a file, of a public body, and
    not of an agenda item that is closed or sits under a closed one."""
    return Q(
        visibility=Material.Visibility.PUBLIC,
        is_closed=False,
        withdrawn_at__isnull=True,
        current_version__isnull=False,
        meeting__body__is_public=True,
    ) & open_item_q("agenda_item")


def members_filter() -> Q:
    """Materials the members of the meeting see (public ones included): shown to members, with a file,
    not withdrawn."""
    return Q(
        visibility__in=[Material.Visibility.MEMBERS, Material.Visibility.PUBLIC],
        withdrawn_at__isnull=True,
        current_version__isnull=False,
    )


def _visible(manage: Q, member: Q) -> Q:
    """The rule: the secretariat sees every material of the meetings it manages (withdrawn ones too,
    marked); those who see a meeting's private side see its members' and public materials; everyone
    sees public ones. `manage` and `member` are conditions over Material."""
    return manage | (member & members_filter()) | public_filter()


def materials_visible_to(
    user: AnyUser | None, meeting: Meeting, access: Access | None = None
) -> QuerySet[Material]:
    """The materials of `meeting` this user may see, in label order (one query, given `access`; without a
    user, `access` is required)."""
    if access is None:
        if user is None:
            raise ValueError("materials_visible_to needs a user or an access")
        access = access_to(user, meeting)
    condition = _visible(EVERYTHING if access.manage else NOTHING, EVERYTHING if access.member else NOTHING)
    return (
        Material.objects.filter(meeting=meeting)
        .filter(condition)
        .select_related("current_version", "agenda_item")
        .order_by("position", "id")
    )


def materials_visible_q(viewer: Viewer) -> Q:
    """Over Material, for every meeting at once: the same rule as `materials_visible_to`."""
    return _visible(prefixed(viewer.manage, "meeting__"), prefixed(viewer.member, "meeting__"))


def all_materials_visible_to(user: AnyUser) -> QuerySet[Material]:
    """Every material the user may see, of any meeting: the list side of `material_for`."""
    return Material.objects.filter(materials_visible_q(viewer_for(user)))


def materials_visible_to_guest(attendee: Attendee) -> QuerySet[Material]:
    """The materials an invited attendee's link shows: its one meeting's members' and public ones."""
    return materials_visible_to(None, attendee.meeting, guest_access(attendee))


def material_for(
    user: AnyUser | None, pk: int, *, to: MaterialPurpose = "download", guest: Attendee | None = None
) -> tuple[Material, Access]:
    """The material `pk` and what the user may do with its meeting, or 404.

    "download": the user may see it (and so fetch its current file). "manage": the secretariat of its
    meeting (withdraw, restore, replace, change who sees it). With `guest` (an invited attendee's link,
    meetings.access.attendee_for_token) the user is ignored: the link downloads what the members of its
    own meeting see, and nothing of another meeting; it manages nothing."""
    material = Material.objects.select_related("meeting__body", "current_version", "agenda_item").filter(pk=pk).first()
    if material is None:
        raise Http404
    if guest is not None:
        if to != "download" or material.meeting_id != guest.meeting_id:
            raise Http404
        access = guest_access(guest)
        if not materials_visible_to(None, guest.meeting, access).filter(pk=pk).exists():
            raise Http404
        return material, access
    if user is None:
        raise Http404
    access = access_to(user, material.meeting)
    if to == "manage":
        allowed = access.manage
    else:
        allowed = materials_visible_to(user, material.meeting, access).filter(pk=pk).exists()
    if not allowed:
        raise Http404
    return material, access


def item_is_open(item_id: int | None) -> bool:
    """Whether a material under agenda item `item_id` may ever be public (`open_item_q`'s rule)."""
    if item_id is None:
        return True
    return AgendaItem.objects.filter(open_item_q(""), pk=item_id).exists()
