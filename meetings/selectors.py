"""Reads of meetings: the 次第 tree, who approves and presides, attendance, quorum, schedules,
and what each user may see of a meeting."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, DateTimeField, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from committee import access as committee_access
from committee import selectors as committee_selectors
from committee.models import Appointment, Body, Guideline
from core.models import User
from core.pagecache import remembered
from core.types import AnyUser
from core.wareki import fiscal_year_bounds

from .access import (  # noqa: F401 - the access rule lives in meetings.access; re-exported for callers
    HELD_STATUSES,
    PUBLIC_AGENDA_STATUSES,
    Access,
    Viewer,
    access_to,
    meetings_visible_to,
    prefixed,
    public_items,
    published_minutes_entries,
    viewer_for,
    visible_agenda,
)
from .models import (
    RESULT_TERMS,
    Agenda,
    AgendaItem,
    AgendaVersion,
    Attendance,
    Attendee,
    Meeting,
    Milestone,
    Minutes,
    MinutesConfirmation,
    MinutesEntry,
)

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


# --- the 次第 ---------------------------------------------------------------------------------


@dataclass
class AgendaNode:
    item: AgendaItem
    depth: int
    number: str  # 1 / (1) / ①


def item_number(depth: int, index: int) -> str:
    """The seed's numbering: 1, then (1), then ①."""
    if depth == 0:
        return str(index)
    if depth == 1:
        return f"({index})"
    return CIRCLED[index - 1] if index <= len(CIRCLED) else f"({index})"


def agenda_tree(agenda: Agenda) -> list[AgendaNode]:
    """Items in reading order with their numbers; one query."""
    items = list(agenda.items.order_by("position", "id"))
    children: dict[int | None, list[AgendaItem]] = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    nodes: list[AgendaNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for index, item in enumerate(children.get(parent_id, []), start=1):
            nodes.append(AgendaNode(item=item, depth=depth, number=item_number(depth, index)))
            walk(item.pk, depth + 1)

    walk(None, 0)
    return nodes


# --- 結果 of the items, recorded after the meeting ----------------------------------------------


def result_fields(result: str, outcome: str) -> dict[str, Any]:
    """An item's 結果 as the 次第's item dicts carry it: the choice, its label, its Japanese term (what the
    open data publishes) and the secretariat's note."""
    return {
        "result": result,
        "result_label": AgendaItem.Result(result).label if result else "",
        "result_term": RESULT_TERMS.get(result, ""),
        "outcome": outcome,
    }


def agenda_results(versions: Iterable[AgendaVersion | None]) -> dict[int, dict[int, dict[str, Any]]]:
    """Per approved version (its pk), per position in its snapshot: the 結果 recorded on that item.
    One query for any number of versions, none when no version knows its items."""
    known = [v for v in versions if v is not None and v.item_ids]
    ids = {pk for v in known for pk in v.item_ids}
    if not ids:
        return {}
    recorded = AgendaItem.objects.filter(pk__in=ids).exclude(result="", outcome="")
    found = {pk: (result, outcome) for pk, result, outcome in recorded.values_list("pk", "result", "outcome")}
    out: dict[int, dict[int, dict[str, Any]]] = {}
    for version in known:
        rows = {i: result_fields(*found[pk]) for i, pk in enumerate(version.item_ids) if pk in found}
        if rows:
            out[version.pk] = rows
    return out


@dataclass(frozen=True)
class ResultRow:
    """One item of the approved 次第 on the secretariat's page of results: as approved, and its row."""

    item: AgendaItem
    number: str
    title: str
    depth: int
    public: bool


def result_rows(meeting: Meeting) -> list[ResultRow]:
    """The items of the approved 次第 whose results the secretariat records, in its order (two queries).
    A version saved before its item ids were kept uses the live items while they read as approved."""
    agenda: Agenda | None = getattr(meeting, "agenda", None)  # the reverse one-to-one raises when missing
    version = agenda.approved_version if agenda is not None else None
    if agenda is None or version is None:
        return []
    ids = list(version.item_ids)
    if not ids and agenda.status == Agenda.Status.APPROVED:
        ids = [node.item.pk for node in agenda_tree(agenda)]
    items = {item.pk: item for item in AgendaItem.objects.filter(agenda=agenda, pk__in=ids)}
    snapshot = version.snapshot["items"]
    if len(ids) != len(snapshot):
        return []  # not the approved items: agenda_results_record refuses too
    return [
        ResultRow(item=items[pk], number=s["number"], title=s["title"], depth=s["depth"], public=s["public"])
        for s, pk in zip(snapshot, ids, strict=True)
        if pk in items
    ]


def agenda_results_for(meeting: Meeting) -> dict[int, dict[str, Any]]:
    """The 結果 of one held meeting's approved 次第, per position (empty before it is held: none exist)."""
    agenda: Agenda | None = getattr(meeting, "agenda", None)  # the reverse one-to-one raises when missing
    version = agenda.approved_version if agenda is not None else None
    if version is None or meeting.status not in HELD_STATUSES:
        return {}
    return agenda_results([version]).get(version.pk, {})


# --- who approves and presides ---------------------------------------------------------------


@dataclass(frozen=True)
class Approver:
    kind: str  # "chair", "vice_chair" or "convener"
    title: str
    user: User | None
    person_id: int | None = None
    reason: str = ""


# A 欠席 answer that may hand the chair's part to the vice chair (issue 11, W1): the member's own, given while
# logged in; or the secretariat's record with a reason, mailed to the member in the same transaction. An answer
# through the mailed link is not enough: the link is in copies to other addresses, and anyone holding it can
# answer.
TRUSTED_ABSENCE = Q(reply=Attendance.Reply.ABSENT) & (
    Q(reply_via=Attendance.ReplyVia.SELF)
    | (Q(reply_via=Attendance.ReplyVia.SECRETARIAT, absence_mailed_at__isnull=False) & ~Q(reply_note=""))
)


def _absent_person_ids(meetings: list[Meeting], *, recorded: bool = True) -> dict[int, set[int]]:
    """People counted absent per meeting: a trusted 欠席 answer (TRUSTED_ABSENCE), or, with `recorded`, the
    attendance the secretariat recorded after the meeting began. One query."""
    absent: dict[int, set[int]] = {m.pk: set() for m in meetings}
    rows = Attendance.objects.filter(
        TRUSTED_ABSENCE | Q(actual=Attendance.Actual.ABSENT) if recorded else TRUSTED_ABSENCE,
        meeting__in=[m.pk for m in meetings],
        appointment__isnull=False,
    ).values_list("meeting_id", "appointment__person_id")
    for meeting_id, person_id in rows:
        if person_id:
            absent[meeting_id].add(person_id)
    return absent


def _guidelines_in_force(meetings: list[Meeting]) -> dict[int, Guideline | None]:
    """The guidelines in force on each meeting's day. One query."""
    by_body: dict[int, list[Guideline]] = {}
    for guideline in Guideline.objects.filter(body_id__in={m.body_id for m in meetings}).order_by("-effective_on"):
        by_body.setdefault(guideline.body_id, []).append(guideline)
    return {
        m.pk: next((g for g in by_body.get(m.body_id, []) if g.effective_on <= m.reference_date), None)
        for m in meetings
    }


def presiding_for_many(
    meetings: list[Meeting], *, include_elected_here: bool = True, recorded_absence: bool = True
) -> dict[int, Approver | None]:
    """Who presides over each meeting (committee_selectors.presiding_officers_on on the meeting day, with
    the members whose 欠席 is trusted counted absent, see TRUSTED_ABSENCE), in a fixed number of queries.

    Officers chosen at the very meeting are left out when `include_elected_here` is false: they did not
    exist when its 次第 was approved. The attendance recorded after the meeting counts unless
    `recorded_absence` is false (the approval of the 次第, which comes before it)."""
    if not meetings:
        return {}
    absent = _absent_person_ids(meetings, recorded=recorded_absence)
    found = committee_selectors.presiding_officers_on([(m.body, m.reference_date, absent[m.pk]) for m in meetings])
    result = dict(zip([m.pk for m in meetings], found, strict=True))
    if not include_elected_here:
        again = [m for m in meetings if (p := result[m.pk]) is not None and p.officer.start_on >= m.reference_date]
        earlier = committee_selectors.presiding_officers_on(
            [(m.body, m.reference_date - dt.timedelta(days=1), absent[m.pk]) for m in again]
        )
        result.update(zip([m.pk for m in again], earlier, strict=True))
    guidelines = _guidelines_in_force(meetings)
    approvers: dict[int, Approver | None] = {}
    for meeting in meetings:
        presiding = result[meeting.pk]
        if presiding is None:
            approvers[meeting.pk] = None
            continue
        person = presiding.appointment.person
        approvers[meeting.pk] = Approver(
            kind=presiding.role,
            title=committee_selectors.officer_title(guidelines[meeting.pk], presiding.role),
            user=person.user if person else None,
            person_id=person.pk if person else None,
            reason=presiding.reason,
        )
    return approvers


def presiding_for(meeting: Meeting, *, include_elected_here: bool = True) -> Approver | None:
    """Who presides over `meeting`; see presiding_for_many."""
    return presiding_for_many([meeting], include_elected_here=include_elected_here)[meeting.pk]


def approvers_for(meetings: list[Meeting], *, allow_convener: bool = True) -> dict[int, Approver | None]:
    """Who approves each 次第: the presiding officer; before there is one (the first meeting, which elects
    the chair), the convening official named in the guidelines (第4-1). A fixed number of queries."""
    approvers = presiding_for_many(
        meetings, include_elected_here=not allow_convener, recorded_absence=not allow_convener
    )
    if not allow_convener:
        return approvers
    guidelines = _guidelines_in_force(meetings)
    for meeting in meetings:
        if approvers[meeting.pk] is None:
            guideline = guidelines[meeting.pk]
            approvers[meeting.pk] = Approver(
                kind="convener",
                title=(guideline.convener_title if guideline and guideline.convener_title else "招集者"),
                user=meeting.body.convener_account,
                reason="no_presiding_officer",
            )
    return approvers


def approver_for(meeting: Meeting, *, allow_convener: bool = True) -> Approver | None:
    """Who approves the 次第 of one meeting; see approvers_for."""
    return approvers_for([meeting], allow_convener=allow_convener)[meeting.pk]


# --- attendance --------------------------------------------------------------------------------


def invited_members(meeting: Meeting, *, affiliations: bool = True) -> list[Appointment]:
    """Members (委員, 有識者, 庁内構成員) in office on the meeting day, 五十音順 (with their 所属 unless
    `affiliations` is false)."""
    return committee_selectors.members_in_office_on(
        body=meeting.body, day=meeting.reference_date, affiliations=affiliations
    )


GUEST_ROLE_ORDER = {"official": 0, "explainer": 1, "witness": 2, "observer": 3, "secretariat": 4}
# Members 五十音順 (then as the roster orders them) in SQL: attendance_rows' order of members.
MEMBER_ORDER = (F("appointment__person__sort_key").asc(nulls_last=True), "appointment__display_order")


def attendance_in_order(meeting: Meeting) -> QuerySet[Attendance]:
    """Every attendance row in attendance_rows' order, in SQL (members 五十音順, then other attendees by
    role and order), names only: for a page that shows one page of them."""
    guest_role = Case(
        *(When(attendee__role=role, then=Value(n)) for role, n in GUEST_ROLE_ORDER.items()), default=Value(9)
    )
    return meeting.attendances.select_related("appointment__person", "attendee__person", "replied_by").order_by(
        Case(When(appointment__isnull=True, then=Value(1)), default=Value(0)),  # members first
        *MEMBER_ORDER,
        guest_role,
        "attendee__position",
        "pk",
    )


def unanswered_members(meeting: Meeting, named: int) -> tuple[list[Attendance], int]:
    """The first `named` members who have not answered (五十音順), and how many have not, at any size."""
    rows = meeting.attendances.filter(appointment__category__in=Appointment.MEMBER_CATEGORIES, reply="")
    names = list(
        rows.select_related("appointment__person").order_by(*MEMBER_ORDER, "pk")[:named]
    )
    return names, (rows.count() if len(names) == named else len(names))


def attendance_rows(meeting: Meeting, *, affiliations: bool = True) -> list[Attendance]:
    """Every attendance row: members 五十音順, then other attendees by role and order. Fixed queries.
    Without `affiliations` (a page that shows names only) the members' 所属 are not read."""
    rows_qs = meeting.attendances.select_related("appointment__person", "attendee__person", "replied_by")
    rows = list(rows_qs.prefetch_related("appointment__affiliations") if affiliations else rows_qs)
    members = sorted(
        ((r, a) for r in rows if (a := r.appointment) is not None),
        key=lambda ra: (ra[1].person.sort_key if ra[1].person is not None else "\uffff", ra[1].display_order),
    )
    guests = sorted(
        ((r, g) for r in rows if (g := r.attendee) is not None),
        key=lambda rg: (GUEST_ROLE_ORDER.get(rg[1].role, 9), rg[1].position),
    )
    return [r for r, _appointment in members] + [r for r, _attendee in guests]


@dataclass
class Quorum:
    rule: str
    members: int
    counted: int
    needed: int | None
    online_counts: bool

    @property
    def applies(self) -> bool:
        return self.needed is not None

    @property
    def met(self) -> bool | None:
        return None if self.needed is None else self.counted >= self.needed


def quorum(meeting: Meeting, rows: list[Attendance] | None = None) -> Quorum:
    """Whether the guidelines' quorum is met: by recorded attendance after the meeting, by answers before.
    Counted over `rows` when the caller holds them all, else in the database (one query at any size)."""
    guideline = committee_selectors.guideline_in_force(body=meeting.body, day=meeting.reference_date)
    online_counts = guideline.online_counts_for_quorum if guideline else True
    if rows is None:
        total, counted = _quorum_counts(meeting, online_counts=online_counts)
    else:
        members = [r for r in rows if r.appointment is not None and r.appointment.is_member]
        total, counted = len(members), sum(1 for row in members if _counts_for_quorum(row, online_counts))
    rule = guideline.quorum_rule if guideline else Guideline.Quorum.NONE
    needed = None
    if rule == Guideline.Quorum.HALF_OR_MORE:
        needed = math.ceil(total / 2)
    elif rule == Guideline.Quorum.MAJORITY:
        needed = total // 2 + 1
    return Quorum(rule=rule, members=total, counted=counted, needed=needed, online_counts=online_counts)


def _counts_for_quorum(row: Attendance, online_counts: bool) -> bool:
    """Present as recorded after the meeting, else as answered before; online only where it counts."""
    if row.actual:
        present, mode = row.attended, row.actual_mode
    else:
        present, mode = row.reply in (Attendance.Reply.VENUE, Attendance.Reply.ONLINE), row.reply
    return present and (online_counts or mode != Attendance.Mode.ONLINE)


def _quorum_counts(meeting: Meeting, *, online_counts: bool) -> tuple[int, int]:
    """`_counts_for_quorum` over the meeting's members in SQL: (members, counted)."""
    attended = (Attendance.Actual.PRESENT, Attendance.Actual.LATE, Attendance.Actual.LEFT_EARLY)
    recorded = Q(actual__in=attended)
    answered = Q(actual="", reply__in=(Attendance.Reply.VENUE, Attendance.Reply.ONLINE))
    if not online_counts:
        recorded &= ~Q(actual_mode=Attendance.Mode.ONLINE)
        answered &= ~Q(reply=Attendance.Reply.ONLINE)
    counts = meeting.attendances.filter(appointment__category__in=Appointment.MEMBER_CATEGORIES).aggregate(
        members=Count("pk"), counted=Count("pk", filter=recorded | answered)
    )
    return counts["members"], counts["counted"]


def members_attendance(meeting: Meeting) -> QuerySet[Attendance]:
    """The members' attendance rows, 五十音順 in SQL (as attendance_rows orders them), names only: for a
    page that shows one page of them."""
    return (
        meeting.attendances.filter(appointment__isnull=False)
        .select_related("appointment__person")
        .order_by(*MEMBER_ORDER, "pk")
    )


def attendance_of(meeting: Meeting, user: AnyUser) -> Attendance | None:
    """The user's own attendance row (as a member, else as an invited attendee), or None."""
    if not user.is_authenticated:
        return None
    mine = meeting.attendances.filter(Q(appointment__person__user=user) | Q(attendee__person__user=user))
    return mine.select_related("appointment__person", "attendee__person").order_by(
        F("appointment_id").asc(nulls_last=True), "pk"
    ).first()


# --- lists and schedules -----------------------------------------------------------------------


def chronological() -> tuple[OrderBy | str, ...]:
    """Meetings in the order they happen: a month-only meeting (日程未定) takes the first of its month,
    on SQLite as on PostgreSQL (which sort NULLs differently)."""
    return (Coalesce("start_at", Cast("planned_month", DateTimeField())).asc(nulls_last=True), "number", "pk")


def body_meetings_by_year(body: Body) -> dict[int, list[Meeting]]:
    meetings = Meeting.objects.filter(body=body).order_by("-fiscal_year", *chronological())
    years: dict[int, list[Meeting]] = {}
    for meeting in meetings:
        years.setdefault(meeting.fiscal_year, []).append(meeting)
    return years


@dataclass
class ScheduleCell:
    months: list[int]
    entries: list[tuple[str, object]] = field(default_factory=list)  # ("meeting", Meeting) / ("milestone", Milestone)

    @property
    def span(self) -> int:
        return len(self.months)


@dataclass
class ScheduleRow:
    body: Body
    cells: list[ScheduleCell]


def _month_index(day: dt.date) -> int:
    return FISCAL_MONTHS.index(day.month)


def year_schedule(*, fiscal_year: int, bodies: QuerySet[Body]) -> list[ScheduleRow]:
    """年間スケジュール: a row per body with meetings or milestones in the year, a cell per month.

    A milestone spanning months (適宜開催 9月–12月) takes one cell across them when nothing else falls
    there. Three queries whatever the size.
    """
    start, end = fiscal_year_bounds(fiscal_year)
    body_list = list(bodies.order_by("display_order", "id"))
    ids = [b.pk for b in body_list]
    meetings = list(Meeting.objects.filter(body_id__in=ids, fiscal_year=fiscal_year).order_by(*chronological()))
    milestones = list(
        Milestone.objects.filter(body_id__in=ids, fiscal_year=fiscal_year).order_by("start_on", "position")
    )
    per_body: dict[int, list[list[tuple[str, object]]]] = {pk: [[] for _ in FISCAL_MONTHS] for pk in ids}
    spans: dict[int, list[tuple[int, int, Milestone]]] = {pk: [] for pk in ids}
    for meeting in meetings:
        per_body[meeting.body_id][_month_index(meeting.reference_date)].append(("meeting", meeting))
    for milestone in milestones:
        first = _month_index(milestone.start_on)
        last = _month_index(min(milestone.end_on, end)) if milestone.end_on else first
        if last > first:
            spans[milestone.body_id].append((first, last, milestone))
        else:
            per_body[milestone.body_id][first].append(("milestone", milestone))
    rows = []
    for body in body_list:
        months = per_body[body.pk]
        if not any(months) and not spans[body.pk]:
            continue
        cells: list[ScheduleCell] = []
        index = 0
        span_at = {first: (last, m) for first, last, m in spans[body.pk]}
        while index < 12:
            if index in span_at:
                last, milestone = span_at[index]
                covered = range(index, last + 1)
                if all(not months[i] for i in covered):
                    cells.append(
                        ScheduleCell(months=[FISCAL_MONTHS[i] for i in covered], entries=[("milestone", milestone)])
                    )
                    index = last + 1
                    continue
                for i in covered:  # something else falls in the period: show it month by month
                    months[i].append(("milestone", milestone))
            cells.append(ScheduleCell(months=[FISCAL_MONTHS[index]], entries=months[index]))
            index += 1
        rows.append(ScheduleRow(body=body, cells=cells))
    return rows


# --- dashboards --------------------------------------------------------------------------------


def _count(rows: QuerySet[Attendance] | QuerySet[AgendaItem], meeting: str = "meeting_id") -> Coalesce:
    """A correlated subquery counting `rows` of the outer meeting: counting over each relation on its own
    (joining attendance, items and materials in one query multiplies their rows: hundreds of thousands
    for a year of meetings, and a distinct count over them)."""
    counted = rows.filter(**{meeting: OuterRef("pk")}).order_by().values(meeting).annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")[:1]), 0)


def with_dashboard_counts(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """The dashboard's counts on each meeting, each in a subquery: members invited and not answered,
    agenda items, materials uploaded, members whose attendance was recorded."""
    members = Attendance.objects.filter(appointment__isnull=False)
    uploaded = Q(materials__current_version__isnull=False, materials__withdrawn_at__isnull=True)
    return meetings.annotate(
        invited=_count(members),
        unanswered=_count(members.filter(reply="")),
        recorded=_count(members.exclude(actual="")),
        item_count=_count(AgendaItem.objects.all(), "agenda__meeting_id"),
        material_count=Coalesce(Subquery(
            # documents' Material is reached through the reverse relation: meetings does not import documents.
            Meeting.objects.filter(pk=OuterRef("pk")).values("pk").annotate(n=Count("materials", filter=uploaded))
            .values("n")[:1]
        ), 0),
    )


def still_open_q(today: dt.date) -> Q:
    """A meeting whose day has come or is to come (a month-only one until the 28th of its month), or one
    held that still needs its minutes; the others not closed are stale (see _still_open)."""
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    first = today.replace(day=1)
    cutoff = first if today.day <= 28 else (first + dt.timedelta(days=32)).replace(day=1)  # noqa: PLR2004
    undated = Q(start_at__isnull=True)
    return (
        (undated & Q(planned_month__isnull=True))
        | Q(start_at__gte=midnight)
        | (undated & Q(planned_month__gte=cutoff))
        | Q(status=Meeting.Status.HELD)
    )


def _still_open(meeting: Meeting, today: dt.date) -> bool:
    """still_open_q for one meeting in memory: a meeting whose day passed without being recorded as held
    (still 予定, 延期 or 通知済) is stale, not open."""
    day = meeting.date or (meeting.planned_month and meeting.planned_month.replace(day=28))
    if day is None or day >= today:
        return True
    return meeting.status == Meeting.Status.HELD


def secretariat_meeting_lists(user: AnyUser, *, today: dt.date) -> tuple[QuerySet[Meeting], QuerySet[Meeting]]:
    """The user's bodies' meetings not yet closed, with the dashboard's counts: the open ones and the stale
    ones (their day passed and nobody recorded them held), as querysets to paginate. Each page of either
    costs one query, whatever the number of meetings."""
    meetings = with_dashboard_counts(
        Meeting.objects.filter(committee_access.managed_q(user, "body__"))
        .exclude(status__in=[Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED])
        .select_related("body", "agenda", "minutes")
        .order_by(*chronological())
    )
    is_open = still_open_q(today)
    return meetings.filter(is_open), meetings.exclude(is_open)


def secretariat_meetings(user: AnyUser, *, today: dt.date | None = None) -> tuple[list[Meeting], list[Meeting]]:
    """secretariat_meeting_lists, whole (two queries): the open meetings and the stale ones."""
    open_, stale = secretariat_meeting_lists(user, today=today or timezone.localdate())
    return list(open_), list(stale)


def upcoming_for_secretariat(user: AnyUser, *, today: dt.date | None = None) -> list[Meeting]:
    """The open meetings of the user's bodies (see secretariat_meetings)."""
    return secretariat_meetings(user, today=today)[0]


def minutes_due_on(meeting: Meeting) -> dt.date | None:
    """The day by which the minutes are to be published: the body's number of days after the meeting."""
    if meeting.date is None:
        return None
    return meeting.date + dt.timedelta(days=meeting.body.minutes_publish_days)


def minutes_overdue(meeting: Meeting, today: dt.date) -> bool:
    """Held longer ago than the body allows (Body.minutes_publish_days) and minutes not yet published."""
    due = minutes_due_on(meeting)
    return meeting.status == Meeting.Status.HELD and due is not None and due < today


def meetings_with_minutes_overdue(*, today: dt.date, user: AnyUser | None = None) -> list[Meeting]:
    """Held meetings whose minutes are past the body's deadline and not published, oldest first; of the
    bodies the user's secretariat serves, or of every body (for the daily reminder). One query."""
    qs = Meeting.objects.filter(status=Meeting.Status.HELD, start_at__isnull=False)
    if user is not None:
        qs = qs.filter(committee_access.managed_q(user, "body__"))
    candidates = qs.select_related("body__secretariat", "minutes").order_by("start_at", "pk")
    return [m for m in candidates if minutes_overdue(m, today)]


# --- minutes -----------------------------------------------------------------------------------


@dataclass
class MinutesSection:
    """The passages under one 議題 (or before any, `item` None), in the order the minutes print them."""

    heading: str
    item: AgendaItem | None
    entries: list[MinutesEntry] = field(default_factory=list)


def minutes_sections(meeting: Meeting, entries: list[MinutesEntry]) -> list[MinutesSection]:
    """Group passages by 議題 in the 次第's order: first those under no item, then each item's. One query
    (the 次第's items) whatever the number of passages."""
    agenda = Agenda.objects.filter(meeting_id=meeting.pk).first()
    nodes = agenda_tree(agenda) if agenda is not None else []
    sections: dict[int | None, MinutesSection] = {None: MinutesSection(heading="", item=None)}
    for node in nodes:
        sections[node.item.pk] = MinutesSection(heading=f"{node.number} {node.item.title}", item=node.item)
    for entry in entries:
        section = sections.get(entry.agenda_item_id) or sections[None]
        section.entries.append(entry)
    return [s for s in sections.values() if s.entries]


@dataclass(frozen=True)
class SpeakerOption:
    """One person the editor offers as the speaker: the label printed, and who it is."""

    value: str  # "a<appointment pk>", "g<attendee pk>" or "secretariat"
    label: str
    role: str
    appointment: Appointment | None = None
    attendee: Attendee | None = None


def speaker_options(meeting: Meeting) -> list[SpeakerOption]:
    """The meeting's people as speakers: the officers by their title under the guidelines (会長・委員長),
    the members who attended (or were invited, before attendance is recorded) as 〇〇委員, 事務局, and
    the other attendees. A fixed number of queries."""
    day = meeting.reference_date
    rows = attendance_rows(meeting)
    recorded = any(r.actual for r in rows)
    guideline = committee_selectors.guideline_in_force(body=meeting.body, day=day)
    officers = committee_selectors.officers_on(body=meeting.body, day=day)
    titles = {}
    for term, role in ((officers.chair, "chair"), (officers.vice_chair, "vice_chair")):
        if term is not None:
            titles[term.appointment_id] = (committee_selectors.officer_title(guideline, role), role)
    options: list[SpeakerOption] = []
    guests: list[SpeakerOption] = []
    # Before anyone is invited (no attendance rows), the members in office on the day.
    people = [(r.appointment, r.attendee) for r in rows if not recorded or r.attended] if rows else [
        (a, None) for a in invited_members(meeting)
    ]
    for appointment, attendee in people:
        if appointment is not None and appointment.is_member:
            if appointment.pk in titles:
                title, role = titles[appointment.pk]
                options.append(SpeakerOption(
                    value=f"a{appointment.pk}", label=title, appointment=appointment,
                    role="presiding" if role == "chair" else "vice_chair",
                ))
                continue
            family = appointment.person.family_name if appointment.person is not None else appointment.holder_name
            options.append(SpeakerOption(value=f"a{appointment.pk}", label=f"{family}委員", role="member",
                                         appointment=appointment))
        elif attendee is not None and attendee.role != Attendee.Role.SECRETARIAT:
            name = attendee.person.family_name if attendee.person is not None else (attendee.name or attendee.title)
            guests.append(SpeakerOption(value=f"g{attendee.pk}", label=name[:60], role="attendee", attendee=attendee))
    options.sort(key=lambda o: {"presiding": 0, "vice_chair": 1}.get(o.role, 2))
    return [*options, SpeakerOption(value="secretariat", label="事務局", role="secretariat"), *guests]


def agendas_waiting_for(user: AnyUser) -> list[Meeting]:
    """Meetings whose 次第 waits for this user's approval (as presiding officer or convener). Kept until the
    next change (core.pagecache.remembered: a submission, an approval, an answer of the chair, a new term are
    all writes), per day, since who presides is read for the day."""
    if not user.is_authenticated:
        return []
    return remembered(
        f"agendas-waiting:{user.pk}:{timezone.localdate().isoformat()}", lambda: _agendas_waiting_for(user)
    )


def _agendas_waiting_for(user: AnyUser) -> list[Meeting]:
    # Only bodies where the user is the convening official or has held an officer's post can be waiting
    # for them: a plain member's pages then cost no presiding-officer look-ups at all.
    submitted = (
        Meeting.objects.filter(agenda__status=Agenda.Status.SUBMITTED)
        .filter(Q(body__officer_terms__appointment__person__user=user) | Q(body__convener_account=user))
        .select_related("body__convener_account", "agenda__current_version")
        .distinct()
        .order_by(*chronological())
    )
    candidates = list(submitted)
    approvers = approvers_for(candidates)
    return [
        m for m in candidates if (a := approvers[m.pk]) is not None and a.user is not None and a.user.pk == user.pk
    ]


def meetings_of_member(user: AnyUser) -> tuple[list[Attendance], list[Attendance]]:
    """A member's invitations: upcoming (with the answer given) and past (with minutes to confirm), told apart
    by the moment asked. The rows are kept until the next change (core.pagecache.remembered), per day, since
    which meetings a member may see is read for the day."""
    if not user.is_authenticated:
        return [], []
    rows = remembered(f"invitations:{user.pk}:{timezone.localdate().isoformat()}", lambda: _invitations_of(user))
    now = timezone.now()
    upcoming = [r for r in rows if r.meeting.start_at is None or r.meeting.start_at > now]
    past = [r for r in rows if r.meeting.start_at is not None and r.meeting.start_at <= now]
    past.reverse()
    return upcoming, past


def minutes_to_confirm(user: AnyUser) -> set[int]:
    """The meetings whose draft minutes wait for this user's confirmation (kept until the next change)."""
    if not user.is_authenticated:
        return set()
    return remembered(f"minutes-to-confirm:{user.pk}", lambda: set(
        MinutesConfirmation.objects.filter(
            appointment__person__user=user,
            state=MinutesConfirmation.State.PENDING,
            minutes__status=Minutes.Status.CONFIRMING,
        ).values_list("minutes__meeting_id", flat=True)
    ))


def _invitations_of(user: AnyUser) -> list[Attendance]:
    return list(
        Attendance.objects.filter(Q(appointment__person__user=user) | Q(attendee__person__user=user))
        .filter(prefixed(viewer_for(user).meetings, "meeting__"))  # listed exactly when its page answers
        .select_related("meeting__body", "meeting__minutes")
        .order_by("meeting__start_at")
    )


def agenda_prefetch() -> Prefetch[str, QuerySet[AgendaItem], str]:
    return Prefetch("agenda__items", queryset=AgendaItem.objects.order_by("position", "id"))
