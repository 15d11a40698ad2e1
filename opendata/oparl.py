"""OParl 1.1 objects built from what opendata.selectors publishes.

One Body (the government, 青森県), one Organization per 会議体, Person and Membership from the public
rosters, Meeting with its embedded AgendaItem (the approved 次第 as the public reads it), Location,
invitation (the 次第 PDF) and protocol (published minutes), Paper and File for public materials, and a
Consultation tying each Paper to its Meeting. Ids are absolute URLs built from SITE_URL, never from the
request's Host. Nothing here decides visibility: every queryset comes from opendata.selectors.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db.models import Max, Min, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from committee.models import Affiliation, Appointment, Body, OfficerTerm, Person
from documents.models import Material, MaterialPage, MaterialVersion, TextStatus
from meetings.models import Attendance, Meeting, Minutes

from . import selectors, timestamps

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from .timestamps import LiveStamps, Stamps

    # Rows as the querysets below annotate them (created_ts / modified_ts, and `live` for papers and files).
    BodyRow = WithAnnotations[Body, Stamps]
    AffiliationRow = WithAnnotations[Affiliation, Stamps]
    AppointmentRow = WithAnnotations[Appointment, Stamps]
    PersonRow = WithAnnotations[Person, Stamps]
    MeetingRow = WithAnnotations[Meeting, Stamps]
    PaperRow = WithAnnotations[Material, LiveStamps]
    FileRow = WithAnnotations[MaterialVersion, LiveStamps]

SCHEMA = "https://schema.oparl.org/1.1/"
BODY_LISTS = (
    "organization",
    "person",
    "meeting",
    "paper",
    "membership",
    "agendaItem",
    "file",
    "location",
    "legislativeTerm",
    "consultation",
)
# Body properties that name its lists: two differ from the kind (OParl 1.1 avoids clashing with older ones).
LIST_PROPERTY = {"location": "locationList", "legislativeTerm": "legislativeTermList"}
MEETING_STATE: dict[str, str] = {
    Meeting.Status.PLANNED: "terminiert",
    Meeting.Status.POSTPONED: "terminiert",
    Meeting.Status.CANCELLED: "terminiert",
    Meeting.Status.NOTIFIED: "eingeladen",
    Meeting.Status.HELD: "eingeladen",
    Meeting.Status.MINUTES_PUBLISHED: "durchgeführt",
}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

Obj = dict[str, Any]


def url(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(f"opendata:{name}", args=[str(a) for a in args])


def site(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=list(args))


def obj_url(kind: str, ident: object) -> str:
    return url("oparl_object", kind, ident)


def stamp(value: dt.datetime | None) -> str:
    return timezone.localtime(value or EPOCH).isoformat(timespec="seconds")


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def body_code() -> str:
    return settings.DXPLAN_LOCAL_GOVERNMENT_CODE


def _clean(data: Obj) -> Obj:
    """OParl leaves out properties without a value rather than sending null or an empty string."""
    return {k: v for k, v in data.items() if v is not None and v != ""}


def _base(kind: str, type_name: str, ident: object, created: dt.datetime | None, modified: dt.datetime | None) -> Obj:
    return {
        "id": obj_url(kind, ident),
        "type": SCHEMA + type_name,
        "created": stamp(created),
        "modified": stamp(modified or created),
    }


def deleted(kind: str, type_name: str, ident: object, created: dt.datetime | None, modified: dt.datetime | None) -> Obj:
    """A withdrawn object: its id, type, dates and `deleted` only (OParl: Gelöschte Objekte)."""
    return {**_base(kind, type_name, ident, created, modified), "deleted": True}


# --- System and Body ------------------------------------------------------------------------------


def _span() -> tuple[dt.datetime | None, dt.datetime | None]:
    """When the published data was first and last changed (the public bodies' history)."""
    history = Body.history.model.objects.filter(id__in=selectors.organizations().values("pk"))
    found = history.aggregate(first=Min("history_date"), last=Max("history_date"))
    return found["first"], found["last"]


def system() -> Obj:
    first, last = _span()
    return _clean(
        {
            "id": url("oparl_system"),
            "type": SCHEMA + "System",
            "oparlVersion": SCHEMA,
            "name": f"{settings.DXPLAN_ORGANISATION_NAME} 審議会等 (dxplan)",
            "body": url("oparl_bodies"),
            "license": settings.DXPLAN_OPENDATA_LICENSE_URL,
            "website": settings.SITE_URL + "/",
            "web": site("opendata:datasets"),
            "created": stamp(first),
            "modified": stamp(last or first),
        }
    )


def body() -> Obj:
    first, last = _span()
    code = body_code()
    return _clean(
        {
            "id": url("oparl_body", code),
            "type": SCHEMA + "Body",
            "system": url("oparl_system"),
            "name": settings.DXPLAN_ORGANISATION_NAME,
            "shortName": settings.DXPLAN_ORGANISATION_NAME,
            "website": settings.SITE_URL + "/",
            "license": settings.DXPLAN_OPENDATA_LICENSE_URL,
            "classification": "都道府県",
            "legislativeTerm": [],
            **{LIST_PROPERTY.get(kind, kind): url("oparl_body_list", code, kind) for kind in BODY_LISTS},
            "web": site("committee:home"),
            "created": stamp(first),
            "modified": stamp(last or first),
        }
    )


# --- Organization, Person, Membership -------------------------------------------------------------


def organizations() -> QuerySet[BodyRow]:
    return timestamps.with_history(selectors.organizations()).select_related("parent").order_by("pk")


def organization_objects(rows: Iterable[BodyRow]) -> list[Obj]:
    rows = list(rows)
    public = set(selectors.organizations().values_list("pk", flat=True))
    members: dict[int, list[int]] = defaultdict(list)
    for body_id, pk in selectors.memberships().filter(body__in=[b.pk for b in rows]).order_by("pk").values_list(
        "body_id", "pk"
    ):
        members[body_id].append(pk)
    return [
        _clean(
            {
                **_base("organization", "Organization", b.pk, b.created_ts, b.modified_ts),
                "body": url("oparl_body", body_code()),
                "name": b.name,
                "shortName": b.short_name,
                "organizationType": "Gremium",
                "classification": b.get_kind_display(),
                "startDate": day(b.established_on),
                "endDate": day(b.dissolved_on),
                "subOrganizationOf": obj_url("organization", b.parent_id) if b.parent_id in public else None,
                "membership": [obj_url("membership", pk) for pk in members[b.pk]],
                "meeting": url("oparl_organization_meetings", b.pk),
                "web": site("committee:body_detail", b.slug),
            }
        )
        for b in rows
    ]


def affiliation_object(a: AffiliationRow) -> Obj:
    """所属・役職 as an Organization, so that a Membership can name it in onBehalfOf."""
    return _clean(
        {
            **_base("affiliation", "Organization", a.pk, a.created_ts, a.modified_ts),
            "body": url("oparl_body", body_code()),
            "name": a.text,
            "classification": "所属・役職",
            "startDate": day(a.valid_from),
        }
    )


def affiliations() -> QuerySet[AffiliationRow]:
    return timestamps.with_history(selectors.affiliations()).order_by("pk")


def memberships() -> QuerySet[AppointmentRow]:
    officer_terms = OfficerTerm.objects.order_by("start_on")
    return (
        timestamps.with_history(selectors.memberships())
        .select_related("body")
        .prefetch_related(
            Prefetch("affiliations", queryset=Affiliation.objects.order_by("valid_from")),
            Prefetch("officer_terms", queryset=officer_terms),
        )
        .order_by("pk")
    )


def _role(a: Appointment) -> str:
    officer = [t.get_role_display() for t in a.officer_terms.all()]
    label = a.role_label or a.get_category_display()
    return " / ".join([label, *officer]) if officer else label


def membership_object(a: AppointmentRow, *, embedded: bool = False) -> Obj:
    first = next(iter(a.affiliations.all()), None)
    return _clean(
        {
            **_base("membership", "Membership", a.pk, a.created_ts, a.modified_ts),
            "person": None if embedded else obj_url("person", a.person_id),
            "organization": obj_url("organization", a.body_id),
            "role": _role(a),
            "votingRight": a.is_member,
            "startDate": day(a.term_start),
            "endDate": day(a.effective_end),
            "onBehalfOf": obj_url("affiliation", first.pk) if first else None,
        }
    )


def people() -> QuerySet[PersonRow]:
    return timestamps.with_history(selectors.people()).order_by("pk")


def person_objects(rows: Iterable[PersonRow]) -> list[Obj]:
    rows = list(rows)
    by_person: dict[int, list[AppointmentRow]] = defaultdict(list)
    for a in memberships().filter(person__in=[p.pk for p in rows]):
        if a.person_id is not None:  # always: memberships() keeps named people only
            by_person[a.person_id].append(a)
    return [
        _clean(
            {
                **_base("person", "Person", p.pk, p.created_ts, p.modified_ts),
                "body": url("oparl_body", body_code()),
                "name": p.full_name,
                "familyName": p.family_name,
                "givenName": p.given_name,
                "keyword": [p.full_name_kana],
                "membership": [membership_object(a, embedded=True) for a in by_person[p.pk]],
            }
        )
        for p in rows
    ]


# --- Meetings, agenda items, locations, files ------------------------------------------------------


def meetings() -> QuerySet[MeetingRow]:
    return (
        timestamps.meetings(selectors.meetings())
        .select_related("body", "agenda__approved_version", "minutes")
        .order_by("pk")
    )


def agenda_result(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """OParl's result (Beratungsergebnis: 承認, 継続審議 …) and resolutionText (the secretariat's note). A
    note without a chosen result is the result itself."""
    term, note = item.get("result_term") or "", item.get("outcome") or ""
    return (term, note or None) if term else (note or None, None)


def _agenda_items(
    meeting: Meeting, *, embedded: bool, results: dict[int, dict[int, dict[str, Any]]] | None = None
) -> list[Obj]:
    """The public items of the approved 次第; `results` (selectors.agenda_results, per meeting) adds 結果."""
    snapshot = selectors.agenda(meeting, (results or {}).get(meeting.pk))
    version = meeting.agenda.approved_version if snapshot is not None else None
    if snapshot is None or version is None:  # a snapshot is only read from an approved version
        return []
    modified = max(filter(None, (version.decided_at, version.results_recorded_at)), default=None)
    items = []
    for order, item in enumerate(snapshot["items"], start=1):
        result, resolution = agenda_result(item)
        items.append(
            _clean(
                {
                    **_base("agendaItem", "AgendaItem", f"{meeting.pk}-{order}", version.decided_at, modified),
                    "meeting": None if embedded else obj_url("meeting", meeting.pk),
                    "number": item["number"],
                    "order": order,
                    "name": item["title"],
                    "public": bool(item["public"]),
                    "result": result,
                    "resolutionText": resolution,
                    "keyword": [k for k in (item.get("detail"), item.get("presenter")) if k] or None,
                }
            )
        )
    return items


def location_object(meeting: MeetingRow, *, embedded: bool = False) -> Obj | None:
    if not meeting.venue_name:
        return None
    return _clean(
        {
            **_base("location", "Location", meeting.pk, meeting.created_ts, meeting.modified_ts),
            "description": " ".join(v for v in (meeting.venue_name, meeting.venue_room) if v),
            "room": meeting.venue_room,
            "streetAddress": meeting.venue_address,
            "meetings": None if embedded else [obj_url("meeting", meeting.pk)],
        }
    )


def invitation_object(meeting: Meeting, *, embedded: bool = False) -> Obj | None:
    """The 次第 (its PDF) as the meeting's invitation, once the public may read it."""
    if selectors.agenda(meeting) is None:
        return None
    version = meeting.agenda.approved_version
    if version is None:  # never: selectors.agenda() reads the approved version
        return None
    pdf = site("print:agenda_pdf", meeting.pk)
    return _clean(
        {
            **_base("invitation", "File", meeting.pk, version.decided_at, version.decided_at),
            "name": f"{meeting.label} 次第",
            "fileName": f"{meeting.label}次第.pdf",
            "mimeType": "application/pdf",
            "date": day(timezone.localdate(version.decided_at)) if version.decided_at else None,
            "accessUrl": pdf,
            "downloadUrl": pdf,
            "license": settings.DXPLAN_OPENDATA_LICENSE_URL,
            "meeting": None if embedded else [obj_url("meeting", meeting.pk)],
        }
    )


def protocol_object(meeting: Meeting, *, embedded: bool = False) -> Obj | None:
    """Published minutes as a File: the text of the published passages, on the meeting page."""
    minutes = getattr(meeting, "minutes", None)
    if minutes is None or not selectors.minutes_published(meeting):
        return None
    data = {
        **_base("protocol", "File", meeting.pk, minutes.published_at, minutes.published_at),
        "name": f"{meeting.label} {minutes.get_kind_display()}",
        "fileName": f"{meeting.label}{'議事録' if minutes.kind == Minutes.Kind.VERBATIM else '議事要旨'}.html",
        "mimeType": "text/html",
        "date": day(timezone.localdate(minutes.published_at)) if minutes.published_at else None,
        "accessUrl": site("meetings:detail", meeting.pk) + "#minutes-heading",
        "license": settings.DXPLAN_OPENDATA_LICENSE_URL,
        "meeting": None if embedded else [obj_url("meeting", meeting.pk)],
    }
    if not embedded:
        entries = selectors.minutes_entries(meeting) or []
        data["text"] = "\n".join(f"{e.speaker}: {e.text}" if e.speaker else e.text for e in entries)
    return _clean(data)


def files() -> QuerySet[FileRow]:
    return (
        timestamps.files(selectors.files())
        .select_related("material__meeting")
        .order_by("pk")
    )


def files_with_text() -> QuerySet[FileRow]:
    """files() with the text read from each file (its pages, for the search), for File objects served on
    their own and in the Body's list; one more query for any number of files."""
    return files().prefetch_related(Prefetch("pages", queryset=MaterialPage.objects.order_by("number")))


def _file_text(v: MaterialVersion) -> str | None:
    """OParl File.text: the text read from the file, page after page, once it was read (never for a scan)."""
    if v.text_status != TextStatus.DONE:
        return None
    return "\n\n".join(page.text for page in v.pages.all() if page.text) or None


def file_object(v: FileRow, *, embedded: bool = False) -> Obj:
    if not v.live:
        return deleted("file", "File", v.pk, v.created_ts, v.modified_ts)
    material = v.material
    download = site("documents:download", material.pk)
    return _clean(
        {
            # Only where the File is served on its own: embedded in a Meeting or Paper it would repeat it.
            "text": None if embedded else _file_text(v),
            **_base("file", "File", v.pk, v.created_ts, v.modified_ts),
            "name": str(material),
            "fileName": v.original_name,
            "mimeType": v.content_type,
            "date": day(timezone.localdate(v.uploaded_at)),
            "size": v.size,
            "accessUrl": download,
            "downloadUrl": download,
            "license": settings.DXPLAN_OPENDATA_LICENSE_URL,
            "meeting": None if embedded else [obj_url("meeting", material.meeting_id)],
            "paper": None if embedded else [obj_url("paper", material.pk)],
        }
    )


def _participant_rows(meetings: Sequence[Meeting]) -> dict[int, list[Attendance]]:
    rows: dict[int, list[Attendance]] = defaultdict(list)
    found = Attendance.objects.filter(meeting__in=[m.pk for m in meetings], appointment__isnull=False)
    for row in found.select_related("appointment"):
        rows[row.meeting_id].append(row)
    return rows


def meeting_objects(rows: Iterable[MeetingRow]) -> list[Obj]:
    rows = list(rows)
    attendance = _participant_rows(rows)
    aux: dict[int, list[FileRow]] = defaultdict(list)
    for v in files().filter(live=True, material__meeting__in=[m.pk for m in rows]).order_by(
        "material__position", "material__pk"
    ):
        aux[v.material.meeting_id].append(v)
    results = selectors.agenda_results(rows)
    objects = []
    for m in rows:
        people = selectors.participants(m, attendance[m.pk])
        minutes = getattr(m, "minutes", None)
        protocol = protocol_object(m, embedded=True)
        verbatim = minutes is not None and minutes.kind == Minutes.Kind.VERBATIM
        # participants() keeps rows with an appointment and a person only
        present = [r.appointment.person_id for r in people if r.appointment is not None]
        objects.append(
            _clean(
                {
                    **_base("meeting", "Meeting", m.pk, m.created_ts, m.modified_ts),
                    "name": f"{m.label} {m.title}".strip(),
                    "meetingState": MEETING_STATE.get(m.status),
                    "cancelled": m.status == Meeting.Status.CANCELLED,
                    "start": stamp(m.start_at) if m.start_at else None,
                    "end": stamp(m.end_at) if m.end_at else None,
                    "location": location_object(m, embedded=True),
                    "organization": [obj_url("organization", m.body_id)],
                    "participant": [obj_url("person", pk) for pk in present] or None,
                    "invitation": invitation_object(m, embedded=True),
                    "resultsProtocol": None if verbatim else protocol,
                    "verbatimProtocol": protocol if verbatim else None,
                    "auxiliaryFile": [file_object(v, embedded=True) for v in aux[m.pk]] or None,
                    "agendaItem": _agenda_items(m, embedded=True, results=results),
                    "keyword": [k for k in (m.get_status_display(), m.get_openness_display(), m.theme) if k],
                    "web": site("meetings:detail", m.pk),
                }
            )
        )
    return objects


def agenda_item_objects(meetings_qs: QuerySet[Meeting]) -> list[Obj]:
    """Every public agenda item of the given meetings, meeting by meeting, in the 次第's order."""
    rows = list(meetings_qs.filter(agenda__approved_version__isnull=False))
    results = selectors.agenda_results(rows)
    items: list[Obj] = []
    for m in rows:
        items.extend(_agenda_items(m, embedded=False, results=results))
    return items


# --- Paper and Consultation ----------------------------------------------------------------------


def papers() -> QuerySet[PaperRow]:
    return (
        timestamps.materials(selectors.papers())
        .select_related("meeting", "current_version")
        .order_by("pk")
    )


def _paper_type(m: Material) -> str:
    label = re.sub(r"[0-9０-９\-－ー]+$", "", m.label or "")
    return label or "資料"


def consultation_object(m: PaperRow, *, embedded: bool = False) -> Obj:
    if not m.live:
        return deleted("consultation", "Consultation", m.pk, m.created_ts, m.modified_ts)
    return _clean(
        {
            **_base("consultation", "Consultation", m.pk, m.created_ts, m.modified_ts),
            "paper": None if embedded else obj_url("paper", m.pk),
            "meeting": obj_url("meeting", m.meeting_id),
            "organization": [obj_url("organization", m.meeting.body_id)],
            "role": _paper_type(m),
        }
    )


def paper_object(m: PaperRow) -> Obj:
    if not m.live:
        return deleted("paper", "Paper", m.pk, m.created_ts, m.modified_ts)
    if m.current_version is None:  # never: a live (public) material has a file (documents.access.public_filter)
        raise ValueError(f"Material {m.pk} is public without a file.")
    # Its current file as files() would give it: live, with the same created/modified stamps.
    v = cast("FileRow", m.current_version)
    v.live, v.material = True, m
    v.created_ts = v.uploaded_at
    v.modified_ts = max(v.uploaded_at, m.published_at or v.uploaded_at)
    return _clean(
        {
            **_base("paper", "Paper", m.pk, m.created_ts, m.modified_ts),
            "body": url("oparl_body", body_code()),
            "name": m.title,
            "reference": m.label,
            "date": day(timezone.localdate(m.published_at)) if m.published_at else None,
            "paperType": _paper_type(m),
            "mainFile": file_object(v, embedded=True),
            "consultation": [consultation_object(m, embedded=True)],
            "web": site("meetings:detail", m.meeting_id),
        }
    )


def consultations() -> QuerySet[PaperRow]:
    return papers()


# --- the lists of the Body -------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    rows: Callable[[], QuerySet | list]
    build: Callable[[list], list[Obj]]


def _each(fn: Callable[[Any], Obj | None]) -> Callable[[list], list[Obj]]:
    return lambda rows: [o for o in (fn(r) for r in rows) if o is not None]


def locations() -> QuerySet[MeetingRow]:
    return meetings().exclude(venue_name="")


LISTINGS: dict[str, Listing] = {
    "organization": Listing(organizations, organization_objects),
    "person": Listing(people, person_objects),
    "membership": Listing(memberships, _each(membership_object)),
    "meeting": Listing(meetings, meeting_objects),
    "paper": Listing(papers, _each(paper_object)),
    "file": Listing(files_with_text, _each(file_object)),
    "location": Listing(locations, _each(location_object)),
    "consultation": Listing(consultations, _each(consultation_object)),
    "legislativeTerm": Listing(lambda: [], lambda rows: []),
}
