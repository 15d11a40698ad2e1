"""資料掲載のお知らせ without pressing a button: materials published to members or replaced while visible
to them are collected per meeting and announced in one notice a few minutes after the last one came.

documents/ calls the recorders registered in apps.ready (documents.recorders) inside the transaction of the
publication; they call `material_announce` / `material_forget`, so the waiting row commits with the
publication or not at all (lock order, docs/locking.md: the meeting, then the material, then this row).
The periodic relay calls `services.materials_send_due`, which sends what is due; if that fails the rows
stay waiting for the next run. `notice_send` of a 資料掲載のお知らせ, by the relay or from the secretariat's
page, takes the meeting's waiting materials into its list (`attach_pending`), so a material is announced
once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from documents.access import members_filter
from documents.models import Material
from meetings.models import Meeting

from .models import BodyNoticeSettings, MaterialAnnouncement, Notice

logger = logging.getLogger(__name__)

MAX_HOLD = dt.timedelta(hours=1)  # a steady stream of uploads still gets its notice after an hour
CLOSED = (Meeting.Status.CANCELLED, Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED)


def default_delay() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "DXPLAN_MATERIALS_NOTICE_DELAY_MINUTES", 10))


def materials_delay(meeting: Meeting) -> dt.timedelta:
    """How long the meeting's materials are collected before the notice goes out (the body's setting)."""
    row = BodyNoticeSettings.objects.filter(body_id=meeting.body_id).first()
    return dt.timedelta(minutes=row.materials_delay) if row is not None else default_delay()


def member_visible(meeting_id: int):
    """The meeting's materials members see: what documents.selectors.materials_visible_to shows a member."""
    return Material.objects.filter(members_filter(), meeting_id=meeting_id)


def live(meeting: Meeting, now: dt.datetime) -> bool:
    """Not cancelled, not held, not in the past."""
    return meeting.status not in CLOSED and (meeting.start_at is None or meeting.start_at > now)


@transaction.atomic
def material_announce(
    *, material_id: int, replaced: bool, now: dt.datetime | None = None
) -> MaterialAnnouncement | None:
    """Record that a material became visible to members (or was replaced while visible): it waits for the
    meeting's next 資料掲載のお知らせ, due `materials_delay` from now, and every material already waiting
    for that meeting now waits until then too (at most MAX_HOLD after the first). A material published
    and then replaced before the notice goes out is announced as new."""
    now = now or timezone.now()
    material = Material.objects.filter(pk=material_id).first()
    if material is None or not member_visible(material.meeting_id).filter(pk=material_id).exists():
        return None
    meeting = Meeting.objects.select_for_update().get(pk=material.meeting_id)  # one writer per meeting
    if not live(meeting, now):
        return None
    waiting = MaterialAnnouncement.objects.filter(meeting=meeting, notice__isnull=True)
    first = waiting.aggregate(first=Min("first_at"))["first"] or now
    delay = materials_delay(meeting)
    due = min(now + delay, max(now, first + max(MAX_HOLD, delay)))
    row = waiting.filter(material=material).first()
    if row is None:
        row = MaterialAnnouncement.objects.create(
            meeting=meeting, material=material, replaced=replaced, due_at=due, first_at=now
        )
    elif row.replaced and not replaced:
        row.replaced = False
        row.save(update_fields=["replaced"])
    waiting.update(due_at=due)
    row.due_at = due
    return row


def material_forget(*, material_id: int) -> int:
    """A material withdrawn or hidden from members: off the list of the notice not yet sent."""
    deleted, _rows = MaterialAnnouncement.objects.filter(material_id=material_id, notice__isnull=True).delete()
    return deleted


def attach_pending(*, meeting: Meeting, notice: Notice) -> int:
    """List the meeting's waiting materials that members still see in `notice` (inside notice_send's
    transaction, the meeting locked). The others are dropped."""
    waiting = MaterialAnnouncement.objects.filter(meeting=meeting, notice__isnull=True)
    waiting.exclude(material__in=member_visible(meeting.pk)).delete()
    return waiting.update(notice=notice)


def announced_materials(notice: Notice) -> list[dict]:
    """What a 資料掲載のお知らせ lists: label, title and whether it is new or replaced. For a notice not yet
    written (the preview), the meeting's waiting materials."""
    if notice.pk is not None:
        rows = notice.announced_materials.all()
    else:
        rows = MaterialAnnouncement.objects.filter(
            meeting_id=notice.meeting_id, notice__isnull=True, material__in=member_visible(notice.meeting_id)
        )
    rows = rows.select_related("material").order_by("material__position", "material__id")
    return [{"label": r.material.label, "title": r.material.title, "replaced": r.replaced} for r in rows]
