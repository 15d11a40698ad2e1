"""Composition report (委員構成): women's share, people holding many posts, terms ending, vacancies and
seats over the 定数. A member who left early (辞任, 解嘱, 死亡) no longer counts from the next day; the
successor serving the remaining term does.

Runs a fixed number of queries however many bodies and members there are.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from .models import Appointment, Body, Guideline, OfficerTerm, Person


@dataclass
class BodyComposition:
    body: Body | None  # None on the totals row
    members: int = 0
    women: int = 0
    gender_unknown: int = 0
    seats: int | None = None
    ending_soon: list[Appointment] = field(default_factory=list)
    ending_soon_count: int = 0  # all of them, when `ending_soon` holds only the first few
    vacant_posts: list[str] = field(default_factory=list)

    @property
    def women_share(self) -> float | None:
        """Women among the members whose gender is recorded; None when nobody's is."""
        known = self.members - self.gender_unknown
        return self.women / known if known else None

    @property
    def below_target(self) -> bool:
        share = self.women_share
        return share is not None and share < settings.DXPLAN_WOMEN_SHARE_TARGET

    @property
    def vacancies(self) -> int:
        """欠員: seats of the 定数 nobody holds."""
        return max(self.seats - self.members, 0) if self.seats else 0

    @property
    def over_seats(self) -> int:
        """Members in office beyond the 定数 (a predecessor left in office, a renewal typed by hand)."""
        return max(self.members - self.seats, 0) if self.seats else 0


@dataclass
class MultiPostHolder:
    person: Person
    bodies: list[Body]

    @property
    def count(self) -> int:
        return len(self.bodies)


@dataclass
class CompositionReport:
    day: dt.date
    rows: list[BodyComposition]
    total: BodyComposition  # of every body of the report, not only those with a row
    multi_post_holders: list[MultiPostHolder]
    target: float
    max_posts: int
    ending_days: int

    @property
    def target_percent(self) -> int:
        return round(self.target * 100)


def composition(
    *,
    bodies: QuerySet[Body],
    day: dt.date,
    rows_for: Iterable[Body] | None = None,
    ending_named: int | None = None,
) -> CompositionReport:
    """The composition of `bodies` on `day`: a row for each of `rows_for` (bodies of `bodies`: one page of
    them; all of them by default), the totals of all `bodies`, and the multi-post holders, whose posts are
    counted across every body. With `ending_named`, a row keeps only the first that many of its terms ending
    soon (its `ending_soon_count` counts them all).

    Everything is counted in the database, and only the rows' bodies are read one by one: the cost of a page
    of rows does not grow with the bodies and members outside it.
    """
    target = settings.DXPLAN_WOMEN_SHARE_TARGET
    max_posts = settings.DXPLAN_MAX_CONCURRENT_POSTS
    ending_days = settings.DXPLAN_TERM_ENDING_DAYS
    body_list = list(bodies if rows_for is None else rows_for)
    rows = {b.pk: BodyComposition(body=b, seats=b.seats) for b in body_list}
    in_office = Appointment.objects.active_on(day).members()
    if rows:
        for counted in in_office.filter(body_id__in=rows).values("body_id").annotate(**_COUNTS).order_by():
            _fill(rows[counted["body_id"]], counted)
        _add_ending_soon(rows, in_office, day + dt.timedelta(days=ending_days), ending_named)
        _add_vacant_posts(rows, day)
    total = BodyComposition(body=None)
    _fill(total, in_office.filter(body__in=bodies).aggregate(**_COUNTS))
    return CompositionReport(
        day=day,
        rows=list(rows.values()),
        total=total,
        multi_post_holders=_multi_post_holders(in_office, bodies, max_posts),
        target=target,
        max_posts=max_posts,
        ending_days=ending_days,
    )


# A seat held by a post (no person) is a member whose gender is not recorded.
_COUNTS = {
    "members": Count("id"),
    "women": Count("id", filter=Q(person__gender=Person.Gender.FEMALE)),
    "gender_unknown": Count("id", filter=Q(person__isnull=True) | Q(person__gender="")),
}


def _fill(row: BodyComposition, counted: dict) -> None:
    row.members, row.women, row.gender_unknown = (counted[name] or 0 for name in _COUNTS)


def _add_ending_soon(
    rows: dict[int, BodyComposition], in_office: QuerySet[Appointment], horizon: dt.date, limit: int | None
) -> None:
    """Terms ending by `horizon` (early ends included), in 五十音順; at most `limit` a body, all counted."""
    order = [F("person__sort_key").asc(), F("id").asc()]
    ending = (
        in_office.filter(body_id__in=rows)
        .filter(Q(ended_on__lte=horizon) | Q(ended_on__isnull=True, term_end__lte=horizon))
        .select_related("person")
        .annotate(
            _number=Window(RowNumber(), partition_by=F("body_id"), order_by=order),
            _count=Window(Count("id"), partition_by=F("body_id")),
        )
        .order_by(*order)
    )
    if limit is not None:
        ending = ending.filter(_number__lte=limit)
    for appointment in ending:
        row = rows[appointment.body_id]
        row.ending_soon.append(appointment)
        row.ending_soon_count = appointment._count


def _multi_post_holders(
    in_office: QuerySet[Appointment], bodies: QuerySet[Body], max_posts: int
) -> list[MultiPostHolder]:
    # Posts are counted across every body, but only people sitting on a body of this report are
    # listed: a secretariat must not learn who sits on other units' bodies only.
    sitting = in_office.filter(body__in=bodies, person__isnull=False).values("person_id")
    busy = (
        in_office.filter(person_id__in=sitting)
        .values("person_id")
        .annotate(posts=Count("id"))
        .filter(posts__gt=max_posts)
        .order_by()
        .values("person_id")
    )
    per_person: dict[Person, list[Body]] = {}
    for appointment in in_office.filter(person_id__in=busy).select_related("person", "body").order_by(
        "person__sort_key", "id"
    ):
        if appointment.person is not None:  # always: only people's posts are counted
            per_person.setdefault(appointment.person, []).append(appointment.body)
    return [MultiPostHolder(person=person, bodies=held) for person, held in per_person.items()]


def _add_vacant_posts(rows: dict[int, BodyComposition], day: dt.date) -> None:
    """Chair or vice chair posts the guidelines provide for but nobody holds on `day`."""
    guidelines: dict[int, Guideline] = {}
    for version in Guideline.objects.filter(body_id__in=rows, effective_on__lte=day).order_by("effective_on"):
        guidelines[version.body_id] = version  # the last one in date order is in force
    held: set[tuple[int, str]] = set()
    terms = OfficerTerm.objects.filter(body_id__in=rows, start_on__lte=day).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=day)
    ).select_related("appointment")
    for term in terms:
        if term.appointment.is_active_on(day):
            held.add((term.body_id, term.role))
    for body_id, row in rows.items():
        guideline = guidelines.get(body_id)
        if guideline is None:
            continue
        none = Guideline.Selection.NONE
        if guideline.chair_selection != none and (body_id, OfficerTerm.Role.CHAIR) not in held:
            row.vacant_posts.append(guideline.chair_title)
        if guideline.vice_chair_selection != none and (body_id, OfficerTerm.Role.VICE_CHAIR) not in held:
            row.vacant_posts.append(guideline.vice_chair_title)
