"""Reads of the roster, and who may see and manage what. Views, admin and later apps use these."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from django.db.models import F, Max, Min, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.pagecache import remembered
from core.types import AnyUser

from .models import (
    Affiliation,
    Appointment,
    Body,
    Guideline,
    OfficerTerm,
    OrgUnit,
    OrgUnitName,
    Person,
    StaffAssignment,
)


def today() -> dt.date:
    return timezone.localdate()


def guideline_in_force(*, body: Body, day: dt.date) -> Guideline | None:
    """The version of the body's 設置要綱 in force on `day` (the newest that took effect by then)."""
    return body.guidelines.filter(effective_on__lte=day).order_by("-effective_on").first()


def officer_title(guideline: Guideline | None, role: str) -> str:
    """The post's title under the guidelines (委員長 or 会長, 副委員長 or 副会長)."""
    if role == OfficerTerm.Role.CHAIR:
        return guideline.chair_title if guideline else "委員長"
    return guideline.vice_chair_title if guideline else "副委員長"


def officer_titles(guideline: Guideline | None) -> list[tuple[str, str]]:
    """(role, title) for each post, as the guidelines name them."""
    return [(role, officer_title(guideline, role)) for role in OfficerTerm.Role.values]


def appointment_histories(*, body: Body, person_ids: set[int]) -> dict[int, list[Appointment]]:
    """Every appointment on `body` of each of these people (for 再任 limits), in one query."""
    histories: dict[int, list[Appointment]] = {pk: [] for pk in person_ids}
    for appointment in Appointment.objects.filter(body=body, person_id__in=person_ids):
        histories.setdefault(appointment.person_id or 0, []).append(appointment)
    return histories


def roster_on(
    *, body: Body, day: dt.date, members_only: bool = False, affiliations: bool = True
) -> list[Appointment]:
    """The appointments in force on `day`, named people 五十音順 first, then seats held by posts.

    Runs a fixed number of queries whatever the roster's size. Without `affiliations` (a caller that needs
    names and addresses only, such as a notice's recipients) the 所属 are not read: prefetching them costs
    a queryset per appointment.
    """
    qs = (
        Appointment.objects.filter(body=body)
        .active_on(day)
        .select_related("person")
        .order_by(F("person__sort_key").asc(nulls_last=True), "display_order", "id")
    )
    if affiliations:
        qs = qs.prefetch_related(Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")))
    if members_only:
        qs = qs.members()
    return list(qs)


def members_in_office_on(*, body: Body, day: dt.date, affiliations: bool = True) -> list[Appointment]:
    """The members (委員, 有識者, 庁内構成員) in office on `day`: those a meeting that day invites."""
    return roster_on(body=body, day=day, members_only=True, affiliations=affiliations)


@dataclass(frozen=True)
class NobodyInOffice:
    """Why no member of a body is in office on a day: every term ended (the last on `ended_on`), the
    next terms begin only later (`begins_on`), or nobody was ever appointed (both None)."""

    day: dt.date
    ended_on: dt.date | None
    begins_on: dt.date | None


def nobody_in_office(*, body: Body, day: dt.date) -> NobodyInOffice | None:
    """None when a member is in office on `day`; else why not. Three queries at most."""
    members = Appointment.objects.filter(body=body).members()
    if members.active_on(day).exists():
        return None
    ended = (
        members.filter(term_start__lte=day)
        .annotate(last_day=Coalesce("ended_on", "term_end"))
        .aggregate(last=Max("last_day"))["last"]
    )
    begins = members.filter(term_start__gt=day).aggregate(first=Min("term_start"))["first"]
    return NobodyInOffice(day=day, ended_on=ended, begins_on=begins)


@dataclass(frozen=True)
class Secretariat:
    """The secretariat as the organisation stood on one day, every name read from that day's records:
    the unit (青森県総合政策部DX推進課), the head of its 部 (青森県総合政策部長) and who convenes."""

    day: dt.date
    name: str
    department_head: str
    convener: str


def secretariat_on(*, body: Body, days: Iterable[dt.date]) -> Secretariat:
    """The body's secretariat on the first of `days` its unit has a name for (a letter's date, then the
    meeting day). The convening official is the 要綱's, except that a 部長 is named after the 部 of that
    day: a 部 renamed after the 要綱 was written (企画政策部 → 総合政策部) signs with its new name, so a
    letter's sender and its 問合せ先 never come from two organisations. Another official (知事, another
    部's head) is named as the 要綱 writes it."""
    unit = body.secretariat
    wanted = list(days)
    day = next((d for d in wanted if unit.full_name_on(d)), wanted[0])
    name = unit.full_name_on(day) or str(unit)
    department = unit.department_on(day)
    head = f"{department.full_name_on(day)}長" if department is not None and department.full_name_on(day) else ""
    guideline = guideline_in_force(body=body, day=day) or next(
        (g for d in wanted if (g := guideline_in_force(body=body, day=d)) is not None), None
    )
    written = (guideline.convener_title if guideline is not None else "").strip()
    convener = head if head and written in _department_heads(unit) else (written or name)
    return Secretariat(day=day, name=name, department_head=head, convener=convener)


def official_on(*, body: Body, title: str, day: dt.date) -> str:
    """An official the 要綱 names (招集者, 委嘱者) as of `day`: the head of the secretariat's 部 under that
    day's name when `title` is that head under any of its names; any other title as written."""
    unit = body.secretariat
    if not title or title not in _department_heads(unit):
        return title
    department = unit.department_on(day)
    full = department.full_name_on(day) if department is not None else ""
    return f"{full}長" if full else title


def _department_heads(unit: OrgUnit) -> set[str]:
    """Every title the head of the unit's 部 has had over the unit's history (青森県企画政策部長, …)."""
    heads = set()
    for record in unit.names.all():
        department = unit.department_on(record.valid_from)
        if department is not None and (full := department.full_name_on(record.valid_from)):
            heads.add(f"{full}長")
    return heads


def roster_day(*, body: Body, requested: dt.date | None) -> tuple[dt.date, bool]:
    """The day whose roster to show, and whether it is the requested one.

    Asked for no date, a body nobody sits on today shows its last roster (the 策定委員会 after its
    terms ran out), not an empty table.
    """
    day = requested or today()
    if requested is not None or Appointment.objects.filter(body=body).active_on(day).exists():
        return day, True
    last = (
        Appointment.objects.filter(body=body, term_start__lte=day)
        .annotate(last_day=Coalesce("ended_on", "term_end"))
        .order_by(F("last_day").desc(nulls_first=True))
        .values_list("last_day", flat=True)
        .first()
    )
    return (last, False) if last is not None else (day, True)


@dataclass(frozen=True)
class Officers:
    chair: OfficerTerm | None
    vice_chair: OfficerTerm | None


def officers_on(*, body: Body, day: dt.date) -> Officers:
    """The chair and vice chair holding office on `day` (an officer whose 委嘱 ended no longer holds it)."""
    terms = (
        OfficerTerm.objects.filter(body=body, start_on__lte=day)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
        .select_related("appointment__person")
        .order_by("-start_on")
    )
    return _officers_from(terms, day)


def _officers_from(terms: Iterable[OfficerTerm], day: dt.date) -> Officers:
    """The newest term of each post that covers `day` and whose 委嘱 is in force; `terms` newest first."""
    found: dict[str, OfficerTerm] = {}
    for term in terms:
        if term.role not in found and term.covers(day) and term.appointment.is_active_on(day):
            found[term.role] = term
    return Officers(chair=found.get(OfficerTerm.Role.CHAIR), vice_chair=found.get(OfficerTerm.Role.VICE_CHAIR))


@dataclass(frozen=True)
class Presiding:
    """Who presides, and why: 'chair', or 'vice_chair' acting for an absent chair or a vacant post."""

    officer: OfficerTerm
    role: str
    reason: str  # "chair", "chair_absent", "chair_vacant"

    @property
    def appointment(self) -> Appointment:
        return self.officer.appointment


def presiding_officer_on(
    *, body: Body, day: dt.date, absent_person_ids: frozenset[int] | set[int] = frozenset()
) -> Presiding | None:
    """Who presides on `day`: the chair; the vice chair when the chair is absent or the post is vacant
    (設置要綱 第3-6); None when neither can.

    `absent_person_ids` are people known to be absent that day (from attendance).
    """
    # Every term begun by `day` (one query): the current officers, and whether a chair was ever chosen.
    terms = list(
        OfficerTerm.objects.filter(body=body, start_on__lte=day)
        .select_related("appointment__person")
        .order_by("-start_on")
    )
    return _presiding_from(terms, day, absent_person_ids, lambda: guideline_in_force(body=body, day=day))


def _presiding_from(
    terms: Iterable[OfficerTerm],
    day: dt.date,
    absent_person_ids: Collection[int],
    guideline_getter: Callable[[], Guideline | None],
) -> Presiding | None:
    """The rule of 第3-6 applied to one body's officer terms begun by `day` (newest first)."""
    terms = [term for term in terms if term.start_on <= day]
    officers = _officers_from(terms, day)
    chair, vice = officers.chair, officers.vice_chair
    if chair is not None and chair.appointment.person_id not in absent_person_ids:
        return Presiding(officer=chair, role=OfficerTerm.Role.CHAIR, reason="chair")
    if chair is None and not any(term.role == OfficerTerm.Role.CHAIR for term in terms):
        # A post not yet filled is not "vacant" (欠けたとき): until the first chair is chosen the
        # convening official presides, not a vice chair elected before the chair.
        return None
    if vice is None:
        return None
    guideline = guideline_getter()
    vice_may_act = guideline is None or guideline.vice_chair_acts_for_chair
    if vice_may_act and vice.appointment.person_id not in absent_person_ids:
        return Presiding(
            officer=vice,
            role=OfficerTerm.Role.VICE_CHAIR,
            reason="chair_vacant" if chair is None else "chair_absent",
        )
    return None


def presiding_officers_on(requests: list[tuple[Body, dt.date, frozenset[int] | set[int]]]) -> list[Presiding | None]:
    """presiding_officer_on for many (body, day, absent people) at once, in two queries."""
    if not requests:
        return []
    body_ids = {body.pk for body, _day, _absent in requests}
    last_day = max(day for _body, day, _absent in requests)
    terms_by_body: dict[int, list[OfficerTerm]] = {pk: [] for pk in body_ids}
    for term in (
        OfficerTerm.objects.filter(body_id__in=body_ids, start_on__lte=last_day)
        .select_related("appointment__person__user")
        .order_by("-start_on")
    ):
        terms_by_body[term.body_id].append(term)
    guidelines: dict[int, list[Guideline]] = {pk: [] for pk in body_ids}
    for guideline in Guideline.objects.filter(body_id__in=body_ids).order_by("-effective_on"):
        guidelines[guideline.body_id].append(guideline)

    def in_force(body_id: int, day: dt.date) -> Callable[[], Guideline | None]:
        return lambda: next((g for g in guidelines[body_id] if g.effective_on <= day), None)

    return [
        _presiding_from(terms_by_body[body.pk], day, absent, in_force(body.pk, day)) for body, day, absent in requests
    ]


def person_ids_for_user(user: AnyUser) -> list[int]:
    person = getattr(user, "person", None) if user.is_authenticated else None
    return [person.pk] if person is not None else []


def is_member_of_body_on(*, user: AnyUser, body: Body, day: dt.date) -> bool:
    """Whether the user's person holds an appointment in force on `day` (any category)."""
    if not user.is_authenticated:
        return False
    return any(term.body_id == body.pk and term.active_on(day) for term in user_terms(user))


def managed_unit_ids(user: AnyUser, day: dt.date | None = None) -> set[int]:
    """The organisation units whose secretariat the user belongs to on `day`. Cached per request user."""
    if not user.is_authenticated:
        return set()
    day = day or today()
    cache_attr = f"_dxplan_units_{day.isoformat()}"
    if not hasattr(user, cache_attr):
        ids = {unit for unit, start, end in staff_posts(user) if start <= day and (end is None or end >= day)}
        setattr(user, cache_attr, ids)
    cached: set[int] = getattr(user, cache_attr)
    return cached


def staff_posts(user: AnyUser) -> list[tuple[int, dt.date, dt.date | None]]:
    """(unit, from, until) of each of the user's secretariat assignments, past and future: every signed-in
    page asks (the navigation), so they are kept until the next change (core.pagecache.remembered) and
    read against the day asked for."""
    if not user.is_authenticated:
        return []
    return remembered(
        f"staff-posts:{user.pk}",
        lambda: list(
            StaffAssignment.objects.filter(user_id=user.pk).order_by().values_list("unit_id", "start_on", "end_on")
        ),
    )


@dataclass(frozen=True)
class Term:
    """One of a user's appointments as the access rules read it: which body, and when it is in force."""

    body_id: int
    term_start: dt.date
    term_end: dt.date | None
    ended_on: dt.date | None

    @property
    def last_day(self) -> dt.date | None:
        """An early end overrides the term (Appointment.active_on)."""
        return self.ended_on or self.term_end

    def not_ended_before(self, day: dt.date) -> bool:
        return self.last_day is None or self.last_day >= day

    def active_on(self, day: dt.date) -> bool:
        return self.term_start <= day and self.not_ended_before(day)


def user_terms(user: AnyUser) -> list[Term]:
    """The user's appointments on any body, as the access rules of every signed-in page read them: kept
    until the next change (core.pagecache.remembered; an early end or a new 委嘱 is one), compared with
    today's date on each request, so a term that ends closes its pages the next day without any write."""
    if not user.is_authenticated:
        return []
    return remembered(
        f"terms:{user.pk}",
        lambda: [
            Term(*row)
            for row in Appointment.objects.filter(person__user_id=user.pk)
            .order_by()
            .values_list("body_id", "term_start", "term_end", "ended_on")
        ],
    )


def is_secretariat(user: AnyUser) -> bool:
    """Superusers and anyone currently assigned to a unit's secretariat."""
    return user.is_authenticated and user.is_active and (user.is_superuser or bool(managed_unit_ids(user)))


def is_secretariat_of_body(user: AnyUser, body: Body) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or body.secretariat_id in managed_unit_ids(user)


def people_managed_by(user: AnyUser) -> QuerySet[Person]:
    """People whose private data the user may see: those on the user's bodies, and those on no body yet."""
    if not (user.is_authenticated and user.is_active):
        return Person.objects.none()
    if user.is_superuser:
        return Person.objects.all()
    units = managed_unit_ids(user)
    if not units:
        # Not secretariat: people on no body yet are not everybody's to see.
        return Person.objects.none()
    return Person.objects.filter(
        Q(appointments__body__secretariat_id__in=units) | Q(appointments__isnull=True)
    ).distinct()


def public_bodies() -> QuerySet[Body]:
    """Bodies shown on the public site, with what their list needs."""
    return Body.objects.filter(is_public=True).select_related("parent", "secretariat")


def unit_names_prefetch(path: str = "names") -> Prefetch[str, QuerySet[OrgUnitName], str]:
    """Prefetch OrgUnit names two levels up, so full_name_on() runs no queries (課 → 部 → 県). For lists
    (admin changelists, exports); for one unit, load_unit_names is cheaper."""
    inner = OrgUnitName.objects.select_related("parent").prefetch_related("parent__names__parent__names")
    return Prefetch(path, queryset=OrgUnitName.objects.select_related("parent").prefetch_related(
        Prefetch("parent__names", queryset=inner)
    ))


UNIT_LEVELS = 4  # 課 → 部 → 県, and one more for an office under a 課


def load_unit_names(units: Collection[OrgUnit]) -> None:
    """Give each unit its dated names, and each name its parent with the parent's names, up the tree, so
    that name_on(), department_on() and full_name_on() run no queries. One flat query per level (three for
    課 → 部 → 県) instead of a three-level nested prefetch, which cost more in building SQL than in running it."""
    level = [u for u in units if "names" not in getattr(u, "_prefetched_objects_cache", {})]
    for _ in range(UNIT_LEVELS):
        if not level:
            return
        by_pk: dict[int, list[OrgUnit]] = {}
        for unit in level:
            by_pk.setdefault(unit.pk, []).append(unit)
        records: dict[int, list[OrgUnitName]] = {pk: [] for pk in by_pk}
        for record in OrgUnitName.objects.filter(unit_id__in=by_pk).select_related("parent").order_by("valid_from"):
            records[record.unit_id].append(record)
        parents: list[OrgUnit] = []
        for pk, same in by_pk.items():
            for unit in same:
                cached = unit.names.all()
                cached._result_cache = records[pk]  # as prefetch_related leaves it: names.all() runs no query
                cached._prefetch_done = True  # type: ignore[attr-defined]
                prefetched = getattr(unit, "_prefetched_objects_cache", {})
                unit._prefetched_objects_cache = {**prefetched, "names": cached}  # type: ignore[attr-defined]
            parents += [r.parent for r in records[pk] if r.parent is not None]
        level = parents


def secretariat_unit(body: Body) -> OrgUnit:
    """The body's secretariat unit with its names up the tree (load_unit_names), read once per body object:
    the body page and its footer ask for it twice."""
    unit = body.secretariat
    load_unit_names([unit])
    return unit


@dataclass(frozen=True)
class UnitContact:
    """A secretariat unit as a page's footer names it on one day."""

    name: str
    phone: str
    email: str


def unit_contact(body: Body, day: dt.date) -> UnitContact:
    """The footer of a body's pages: its secretariat's full name on `day`, phone and email. Read from the
    unit (secretariat_unit) when the page already holds it; else kept until the next change
    (core.pagecache.remembered), since every signed-in page of a body shows it and it changes only with a
    write to the organisation (a rename, a move, new contact data)."""
    if Body.secretariat.is_cached(body) and "names" in getattr(body.secretariat, "_prefetched_objects_cache", {}):
        return _contact_of(body.secretariat, day)
    return remembered(
        f"unit-contact:{body.secretariat_id}:{day.isoformat()}", lambda: _contact_of(secretariat_unit(body), day)
    )


def _contact_of(unit: OrgUnit, day: dt.date) -> UnitContact:
    return UnitContact(name=unit.full_name_on(day) or unit.code, phone=unit.phone, email=unit.email)
