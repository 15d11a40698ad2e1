"""What the open data publishes: exactly what the public site shows to a visitor who is not logged in.

Every export (OParl, Popolo, CSV, Atom) reads through these functions, one per kind of object, and they
decide nothing themselves: they ask the access modules of committee, meetings and documents (the one
access rule per object) for an anonymous visitor, as the public pages do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import BooleanField, ExpressionWrapper, F, Max, Q, QuerySet

from committee import access as committee_access
from committee import selectors as committee_selectors
from committee.models import Affiliation, Appointment, Body, Guideline, OfficerTerm, Person
from documents import access as document_access
from documents.models import Material, MaterialVersion
from meetings import access as meeting_access
from meetings import selectors as meeting_selectors
from meetings.models import Attendance, Meeting, MinutesEntry

VISITOR = AnonymousUser()

# What a visitor may do with any meeting: neither manage it nor see its private side (meetings.access).
VISITOR_ACCESS = meeting_access.Access(manage=False, member=False)


def organizations() -> QuerySet[Body]:
    """会議体 shown on the public site (committee.access.bodies_visible_to for a visitor)."""
    return committee_access.bodies_visible_to(VISITOR)


def meetings() -> QuerySet[Meeting]:
    """Meetings a visitor may open (meetings.access.meetings_visible_to)."""
    return Meeting.objects.filter(pk__in=meeting_access.meetings_visible_to(VISITOR).values("pk"))


def agenda(meeting: Meeting, results: dict[int, dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The 次第 as the public reads it: the approved version without closed items, once notices are out;
    with `results` (agenda_results), each public item's 結果."""
    return meeting_access.visible_agenda(meeting, VISITOR_ACCESS, results=results)


def agenda_results(meetings: Iterable[Meeting]) -> dict[int, dict[int, dict[str, Any]]]:
    """Per meeting (pk), the 結果 recorded on the items of its approved 次第, once it was held, as the
    meeting page shows them (one query for any number of meetings). The caller selects the agenda's
    approved version with the meetings."""
    held = [m for m in meetings if m.status in meeting_access.HELD_STATUSES]
    versions = {}
    for m in held:
        agenda_row = getattr(m, "agenda", None)  # the reverse one-to-one raises when missing
        if agenda_row is not None and agenda_row.approved_version is not None:
            versions[m.pk] = agenda_row.approved_version
    found = meeting_selectors.agenda_results(versions.values())
    return {pk: found[v.pk] for pk, v in versions.items() if v.pk in found}


def minutes_published(meeting: Meeting) -> bool:
    """Whether a visitor reads the meeting's minutes (meetings.access.minutes_readable)."""
    return meeting_access.minutes_readable(meeting, VISITOR_ACCESS) is not None


def minutes_entries(meeting: Meeting) -> list[MinutesEntry] | None:
    """The published minutes without closed passages, or None."""
    minutes = meeting_access.minutes_readable(meeting, VISITOR_ACCESS)
    return None if minutes is None else meeting_access.published_minutes_entries(minutes)


def public_minutes_q(prefix: str = "") -> Q:
    """Over Minutes (or a relation to them): the minutes a visitor reads."""
    return meeting_access.public_minutes_q(prefix)


def participants(meeting: Meeting, rows: list[Attendance]) -> list[Attendance]:
    """Members who attended, as the meeting page lists them to anyone who may know the meeting once it
    was held (meetings.access: meeting_for(..., to="attendance"))."""
    if not (meeting_access.may_know(meeting, VISITOR_ACCESS) and meeting.status in meeting_access.HELD_STATUSES):
        return []
    return [r for r in rows if r.appointment is not None and r.appointment.person_id and r.attended]


def attendance_rows(meeting: Meeting) -> list[Attendance]:
    return meeting_selectors.attendance_rows(meeting)


def materials() -> QuerySet[Material]:
    """Materials anyone may download (documents.access.public_filter)."""
    return Material.objects.filter(document_access.public_filter())


def withdrawn_filter() -> Q:
    """Materials that were public and have been withdrawn (取下げ): published as deleted, with nothing but
    their id, so that clients drop them. A material made members-only again is simply no longer listed."""
    return Q(
        withdrawn_at__isnull=False,
        visibility=Material.Visibility.PUBLIC,
        published_at__isnull=False,
        is_closed=False,
        meeting__body__is_public=True,
    )


def papers() -> QuerySet[Material]:
    """Public materials and withdrawn ones (annotated `live`: false for the withdrawn)."""
    live = document_access.public_filter()
    return Material.objects.filter(live | withdrawn_filter()).annotate(
        live=ExpressionWrapper(live, output_field=BooleanField())
    )


def files() -> QuerySet[MaterialVersion]:
    """Files of public and withdrawn materials. Only the current file of a public material is `live`; the
    earlier files of a replaced material and the files of a withdrawn one are published as deleted
    (the public site serves neither)."""
    live_material = meeting_access.prefixed(document_access.public_filter(), "material__")
    gone_material = meeting_access.prefixed(withdrawn_filter(), "material__")
    live = live_material & Q(material__current_version=F("pk"))
    return MaterialVersion.objects.filter(live_material | gone_material).annotate(
        live=ExpressionWrapper(live, output_field=BooleanField())
    )


def memberships() -> QuerySet[Appointment]:
    """委嘱 of named people on public bodies: the body page shows the roster on any date (?on=)."""
    return Appointment.objects.filter(body__in=organizations(), person__isnull=False)


def people() -> QuerySet[Person]:
    """People named on a public roster. Their contact data, gender, birth year and notes are never read."""
    return Person.objects.filter(pk__in=memberships().values("person_id")).only(
        "pk", "family_name", "given_name", "family_name_kana", "given_name_kana", "sort_key"
    )


def affiliations() -> QuerySet[Affiliation]:
    """所属・役職 as the public roster shows them."""
    return Affiliation.objects.filter(appointment__in=memberships())


def roster(body: Body, day: dt.date) -> list[Appointment]:
    """The roster of a public body on `day`, as its page shows it."""
    return committee_selectors.roster_on(body=body, day=day)


def roster_day(body: Body, requested: dt.date | None) -> dt.date:
    return committee_selectors.roster_day(body=body, requested=requested)[0]


def officers(body: Body, day: dt.date) -> committee_selectors.Officers:
    return committee_selectors.officers_on(body=body, day=day)


def guideline(body: Body, day: dt.date) -> Guideline | None:
    return committee_selectors.guideline_in_force(body=body, day=day)


def _latest(history: QuerySet[Any]) -> dt.datetime | None:
    latest: dt.datetime | None = history.aggregate(at=Max("history_date"))["at"]
    return latest


def body_modified(body: Body) -> dt.datetime | None:
    """When anything the body's roster CSV or Popolo document shows last changed: the body, its 設置要綱,
    appointments, appointees, their 所属 and officers, from the models' histories (a fixed six queries)."""
    appointments = Appointment.objects.filter(body=body).values("pk")
    stamps = [
        _latest(Body.history.filter(id=body.pk)),
        _latest(Guideline.history.filter(body_id=body.pk)),
        _latest(Appointment.history.filter(body_id=body.pk)),
        _latest(Person.history.filter(id__in=appointments.values("person_id"))),
        _latest(Affiliation.history.filter(appointment_id__in=appointments)),
        _latest(OfficerTerm.history.filter(body_id=body.pk)),
    ]
    return max((s for s in stamps if s is not None), default=None)
