"""Composition report (委員構成): women's share, people holding many posts, terms ending, vacancies and
seats over the 定数. A member who left early (辞任, 解嘱, 死亡) no longer counts from the next day; the
successor serving the remaining term does.

Runs a fixed number of queries however many bodies and members there are.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from .models import Appointment, Body, Guideline, OfficerTerm, Person


@dataclass
class BodyComposition:
    body: Body | None  # None on the totals row
    members: int = 0
    women: int = 0
    gender_unknown: int = 0
    seats: int | None = None
    ending_soon: list[Appointment] = field(default_factory=list)
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
    multi_post_holders: list[MultiPostHolder]
    target: float
    max_posts: int
    ending_days: int

    @property
    def target_percent(self) -> int:
        return round(self.target * 100)

    @property
    def total(self) -> BodyComposition:
        total = BodyComposition(body=None)
        for row in self.rows:
            total.members += row.members
            total.women += row.women
            total.gender_unknown += row.gender_unknown
        return total


def composition(*, bodies: QuerySet[Body], day: dt.date) -> CompositionReport:
    """The composition of `bodies` on `day`; multi-post holders are counted across every body."""
    target = settings.DXPLAN_WOMEN_SHARE_TARGET
    max_posts = settings.DXPLAN_MAX_CONCURRENT_POSTS
    ending_days = settings.DXPLAN_TERM_ENDING_DAYS
    body_list = list(bodies)
    rows = {b.pk: BodyComposition(body=b, seats=b.seats) for b in body_list}

    active = list(
        Appointment.objects.active_on(day).members().select_related("person", "body").order_by("person__sort_key", "id")
    )
    per_person: dict[Person, list[Appointment]] = {}
    horizon = day + dt.timedelta(days=ending_days)
    for appointment in active:
        person = appointment.person
        if person is not None:
            per_person.setdefault(person, []).append(appointment)
        row = rows.get(appointment.body_id)
        if row is None:
            continue
        row.members += 1
        gender = person.gender if person is not None else ""
        row.women += gender == Person.Gender.FEMALE
        row.gender_unknown += gender == ""
        end = appointment.effective_end
        if end is not None and end <= horizon:
            row.ending_soon.append(appointment)

    _add_vacant_posts(rows, day)
    # Posts are counted across every body, but only people sitting on a body of this report are
    # listed: a secretariat must not learn who sits on other units' bodies only.
    holders = [
        MultiPostHolder(person=person, bodies=[a.body for a in appointments])
        for person, appointments in per_person.items()
        if len(appointments) > max_posts and any(a.body_id in rows for a in appointments)
    ]
    return CompositionReport(
        day=day,
        rows=list(rows.values()),
        multi_post_holders=holders,
        target=target,
        max_posts=max_posts,
        ending_days=ending_days,
    )


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
