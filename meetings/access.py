"""Who may see a meeting, its 次第 and its minutes, and what they may do: the one access rule.

`viewer_for` states the rule as conditions over meetings; `meetings_visible_to` lists with them and
`meeting_for` / `minutes_for` apply them to one object, so a list and a detail can never disagree.
Every view, feed, download, export, API and admin queryset of meetings goes through this module;
what a user may not know exists answers 404.

The rule: the secretariat of the body manages its meetings; a member whose appointment is in force on
the meeting day (its date in Asia/Tokyo, or the first of its month) and has not ended before today,
and an invited attendee, see the private side. Everyone may know the meetings of a public body.
A member's right ends with the term (SECURITY.md).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from committee import access as committee_access
from committee import selectors as committee_selectors
from core.types import AnyUser

from .models import Agenda, Attendee, Meeting, Minutes, MinutesConfirmation, MinutesEntry, Openness

MeetingPurpose = Literal["view", "attendance", "private", "member", "manage", "review"]
MinutesPurpose = Literal["read", "review"]

NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)

# Once notices are out the approved 次第 is public (without closed items); a meeting cancelled or
# postponed before that never showed it.
PUBLIC_AGENDA_STATUSES = (Meeting.Status.NOTIFIED, Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED)
# Once the meeting was held, who attended (出席者名簿) is public.
HELD_STATUSES = (Meeting.Status.HELD, Meeting.Status.MINUTES_PUBLISHED)
# Agenda items nest three levels: 1, (1), ①.
ITEM_DEPTH = 3


@dataclass
class Access:
    """What a user may do with one meeting."""

    manage: bool = False
    member: bool = False  # invited: a member in office on the day, or an invited attendee
    approve: bool = False  # approves its 次第 (asked for with to="review" only)

    @property
    def sees_private(self) -> bool:
        return self.manage or self.member


@dataclass(frozen=True)
class Viewer:
    """What a user may see, as conditions over Meeting (manage, member) and Body (bodies)."""

    manage: Q
    member: Q
    user: AnyUser | None = None

    @cached_property
    def bodies(self) -> Q:
        """Over Body: the bodies the user may know (committee.access decides; one query, when asked)."""
        return committee_access.bodies_visible_q(self.user) if self.user is not None else Q(is_public=True)

    @property
    def meetings(self) -> Q:
        """Over Meeting: the meetings the user may know exist."""
        return Q(body__is_public=True) | self.manage | self.member


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def viewer_for(user: AnyUser) -> Viewer:
    """The rule for every meeting at once. Two queries for a signed-in user (three for the bodies),
    none for the public."""
    if not (user.is_authenticated and user.is_active):
        return Viewer(manage=NOTHING, member=NOTHING)
    manage = committee_access.managed_q(user, "body__")
    today = timezone.localdate()
    appointments = [term for term in committee_selectors.user_terms(user) if term.not_ended_before(today)]
    member = NOTHING
    for term in appointments:
        body_id, start, end = term.body_id, term.term_start, term.last_day
        by_time = Q(start_at__gte=_midnight(start))
        by_month = Q(start_at__isnull=True, planned_month__gte=start)
        if end is not None:
            by_time &= Q(start_at__lt=_midnight(end + dt.timedelta(days=1)))
            by_month &= Q(planned_month__lte=end)
        member |= Q(body_id=body_id) & (by_time | by_month)
    member |= Q(pk__in=Attendee.objects.filter(person__user=user).values("meeting_id"))
    return Viewer(manage=manage, member=member, user=user)


def prefixed(q: Q, prefix: str) -> Q:
    """The same condition on a related meeting (`meeting__…`)."""
    clone = Q()
    clone.connector, clone.negated = q.connector, q.negated
    for child in q.children:
        if isinstance(child, Q):
            clone.children.append(prefixed(child, prefix))
        elif isinstance(child, tuple):
            name, value = child
            clone.children.append((f"{prefix}{name}", value))
        else:  # a Q holds Q objects and (lookup, value) pairs only
            raise TypeError(f"Unexpected condition {child!r}")
    return clone


def meetings_visible_to(user: AnyUser) -> QuerySet[Meeting]:
    """Every meeting the user may know exists: the list side of `meeting_for`."""
    return Meeting.objects.filter(viewer_for(user).meetings)


def access_to(user: AnyUser, meeting: Meeting) -> Access:
    """What the user may do with `meeting`, which the caller already holds: `viewer_for` on one meeting."""
    if not (user.is_authenticated and user.is_active):
        return Access(manage=False, member=False)
    viewer = viewer_for(user)
    flags = Meeting.objects.filter(pk=meeting.pk).aggregate(
        manage=Count("pk", filter=viewer.manage), member=Count("pk", filter=viewer.member)
    )
    return Access(manage=bool(flags["manage"]), member=bool(flags["member"]))


def may_know(meeting: Meeting, access: Access) -> bool:
    """`Viewer.meetings` for one meeting: its body is public, or the user sees its private side."""
    return meeting.body.is_public or access.sees_private


def is_approver(user: AnyUser, meeting: Meeting) -> bool:
    """Whether the user approves this meeting's 次第 today (presiding officer, or the convening official)."""
    from .selectors import approver_for  # selectors builds on this module; the rule of who presides is there

    approver = approver_for(meeting)
    return bool(
        user.is_authenticated and approver is not None and approver.user is not None and approver.user.pk == user.pk
    )


def meeting_for(
    user: AnyUser, pk: int, *, to: MeetingPurpose = "view", queryset: QuerySet[Meeting] | None = None
) -> tuple[Meeting, Access]:
    """The meeting `pk` and what the user may do with it, or 404.

    `to` says what for: "view" (may know it exists); "attendance" (read who attends: its members'
    side before the meeting, everyone who may know it once it was held); "private" (its members'
    side); "member" (a member invited to it); "manage" (its secretariat); "review" (read the 次第
    submitted: the secretariat, or whoever approves it, who may know the meeting for that even when
    it is not public)."""
    qs = queryset if queryset is not None else Meeting.objects.all()
    meeting = get_object_or_404(
        qs.select_related("body__convener_account", "agenda__approved_version", "agenda__current_version", "minutes"),
        pk=pk,
    )
    access = access_to(user, meeting)
    if to == "review":
        access.approve = is_approver(user, meeting)
        allowed = access.manage or access.approve
    elif to == "view":
        allowed = may_know(meeting, access)
    elif to == "attendance":
        allowed = access.sees_private or (may_know(meeting, access) and meeting.status in HELD_STATUSES)
    elif to == "private":
        allowed = access.sees_private
    elif to == "member":
        allowed = access.member
    elif to == "manage":
        allowed = access.manage
    else:  # pragma: no cover - a typo in a caller, not a user's input
        raise ValueError(to)
    if not allowed:
        raise Http404
    return meeting, access


# --- invited attendees without an account (説明員, 参考人, オブザーバー) ----------------------------

ATTENDEE_SALT = "meetings.attendee"


def attendee_token(attendee: Attendee) -> str:
    """The signed part of one attendee's own link: names the attendee and their meeting, nothing else."""
    return signing.dumps({"g": attendee.pk, "m": attendee.meeting_id}, salt=ATTENDEE_SALT, compress=False)


def attendee_for_token(token: str) -> Attendee:
    """The invited attendee a link names, or 404 (altered, or the attendee was removed: removing them
    revokes the link at once). The holder answers for that attendee and sees that one meeting's
    members' side (`guest_access`); it is no account and opens nothing else."""
    try:
        value = signing.loads(token, salt=ATTENDEE_SALT)
    except signing.BadSignature:
        raise Http404 from None
    if not isinstance(value, dict) or not isinstance(value.get("g"), int) or not isinstance(value.get("m"), int):
        raise Http404
    attendee = (
        Attendee.objects.select_related(
            "meeting__body__convener_account", "meeting__agenda__approved_version", "person"
        )
        .filter(pk=value["g"], meeting_id=value["m"])
        .exclude(meeting__status=Meeting.Status.CANCELLED)
        .first()
    )
    if attendee is None:
        raise Http404
    return attendee


def guest_access(attendee: Attendee) -> Access:
    """What an invited attendee's link may do with their meeting: read its members' side, as a member
    invited to it would (the approved 次第 as members read it, members' materials); manage nothing."""
    return Access(manage=False, member=True)


# --- the 次第 and agenda items ----------------------------------------------------------------


def open_item_q(path: str) -> Q:
    """Over a relation to AgendaItem: no item, or an item that is public and sits under public ones.

    A closed (非公開) item closes everything under it. This is the rule for rows in the database
    (materials, minutes passages); `public_items` is the same rule for an approved snapshot."""
    q = Q()
    for level in range(ITEM_DEPTH):
        step = "__".join(filter(None, [path] + ["parent"] * level))
        q &= Q(**{f"{step}__isnull": True}) | Q(**{f"{step}__is_public": True}) if step else Q(is_public=True)
    return q


def public_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot items without the closed ones and everything under a closed one (`open_item_q`'s rule)."""
    kept, closed_depth = [], None
    for item in items:
        if closed_depth is not None and item["depth"] > closed_depth:
            continue
        closed_depth = None if item["public"] else item["depth"]
        if item["public"]:
            kept.append(item)
    return kept


def visible_agenda(
    meeting: Meeting, access: Access, results: Mapping[int, Mapping[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The 次第 this user may read: members read the approved version; the public reads it once notices
    are out, without closed items. (The secretariat reads the live draft on its own pages.)

    `results` (selectors.agenda_results: per position in the snapshot) adds each item's recorded 結果 to
    it before closed items are left out, so a closed item's result goes with it."""
    agenda: Agenda | None = getattr(meeting, "agenda", None)  # the reverse one-to-one raises when missing
    version = agenda.approved_version if agenda is not None else None
    if version is None:
        return None
    snapshot: dict[str, Any] = version.snapshot
    if results:
        items = [{**item, **results[i]} if i in results else item for i, item in enumerate(snapshot["items"])]
        snapshot = {**snapshot, "items": items}
    if access.sees_private:
        return snapshot
    if meeting.status not in PUBLIC_AGENDA_STATUSES:
        return None
    return {**snapshot, "items": public_items(snapshot["items"])}


# --- minutes -------------------------------------------------------------------------------------


@dataclass
class MinutesAccess:
    """What a user may do with one meeting's minutes."""

    meeting: Meeting
    minutes: Minutes
    access: Access
    confirmation: MinutesConfirmation | None = None  # the user's own request to confirm, if any
    presides: bool = False


def published_minutes_entries(minutes: Minutes, *, kind: str | None = None) -> list[MinutesEntry]:
    """The published text in the published form (or `kind`): closed passages and passages of closed items
    left out; the 議事要旨 (summary) carries only the passages marked for it."""
    entries = minutes.entries.filter(is_closed=False).filter(open_item_q("agenda_item"))
    if (kind or minutes.kind) == Minutes.Kind.SUMMARY:
        entries = entries.filter(in_summary=True)
    return list(entries.select_related("agenda_item").order_by("position", "id"))


def public_minutes_q(prefix: str = "") -> Q:
    """Over Minutes: published, and not of a wholly closed (非公開) meeting, whose minutes stay with its
    members and secretariat."""
    return Q(**{f"{prefix}status": Minutes.Status.PUBLISHED}) & ~Q(**{f"{prefix}meeting__openness": Openness.CLOSED})


def minutes_readable(meeting: Meeting, access: Access) -> Minutes | None:
    """The published minutes of `meeting` the user may read on its page, or None."""
    minutes: Minutes | None = getattr(meeting, "minutes", None)  # the reverse one-to-one raises when missing
    if minutes is None or minutes.status != Minutes.Status.PUBLISHED:
        return None
    if meeting.openness == Openness.CLOSED and not access.sees_private:
        return None
    return minutes


def _presides(user: AnyUser, meeting: Meeting) -> bool:
    from .selectors import presiding_for

    presiding = presiding_for(meeting)
    return bool(presiding is not None and presiding.user is not None and presiding.user.pk == user.pk)


def minutes_for(user: AnyUser, pk: int, *, to: MinutesPurpose = "review") -> MinutesAccess:
    """The minutes of meeting `pk` and what the user may do with them, or 404.

    "read": published minutes the user may read. "review": the draft under confirmation, for the
    secretariat, the members asked to confirm it, and the presiding officer who finalises it (a draft
    not yet sent is the secretariat's alone). A member asked to confirm what they said (発言者確認)
    keeps that right after their term ends, as the minutes record them (issue 10)."""
    if to == "read":
        meeting, access = meeting_for(user, pk, to="view")
        minutes = minutes_readable(meeting, access)
        if minutes is None:
            raise Http404
        return MinutesAccess(meeting=meeting, minutes=minutes, access=access)
    meeting = get_object_or_404(
        Meeting.objects.select_related("body__convener_account", "agenda__approved_version", "minutes"), pk=pk
    )
    minutes = getattr(meeting, "minutes", None)
    if minutes is None or not (user.is_authenticated and user.is_active):
        raise Http404
    access = access_to(user, meeting)
    confirmation = minutes.confirmations.filter(appointment__person__user=user).first()
    if minutes.status == Minutes.Status.DRAFT and not access.manage:
        raise Http404
    if confirmation is not None:
        return MinutesAccess(meeting=meeting, minutes=minutes, access=access, confirmation=confirmation,
                             presides=_presides(user, meeting))
    if not access.sees_private:
        raise Http404
    presides = _presides(user, meeting)
    if not (access.manage or presides):
        raise Http404
    return MinutesAccess(meeting=meeting, minutes=minutes, access=access, confirmation=None, presides=presides)


def minutes_reviewable_by(user: AnyUser) -> list[Minutes]:
    """Every meeting's minutes the user may open for review: the list side of `minutes_for(to="review")`.
    A fixed number of queries (presiding officers are worked out for all the meetings at once)."""
    if not (user.is_authenticated and user.is_active):
        return []
    from .selectors import presiding_for_many

    viewer = viewer_for(user)
    manage = prefixed(viewer.manage, "meeting__")
    asked_q = Q(confirmations__appointment__person__user=user)
    candidates = list(
        Minutes.objects.filter(manage | prefixed(viewer.member, "meeting__") | asked_q)
        .distinct()
        .exclude(Q(status=Minutes.Status.DRAFT) & ~manage)
        .annotate(managed=Count("pk", filter=manage))
        .select_related("meeting__body__convener_account")
    )
    asked = set(
        MinutesConfirmation.objects.filter(minutes__in=candidates, appointment__person__user=user).values_list(
            "minutes_id", flat=True
        )
    )
    presiding = presiding_for_many([m.meeting for m in candidates])
    return [
        m
        for m in candidates
        if m.managed
        or m.pk in asked
        or ((p := presiding.get(m.meeting_id)) is not None and p.user is not None and p.user.pk == user.pk)
    ]
