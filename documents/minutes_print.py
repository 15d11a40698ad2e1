"""議事録 and 議事要旨 printed in the usual form: 日時, 場所, 出席者, 欠席者, 傍聴者数, 議題, then what was said
under each 議題.

The secretariat prints the full text, closed passages marked 【非公開】 (any status: the draft too); with
?public=1 it prints what the public reads. Everyone else prints the published minutes they may read,
without closed passages, in the form the secretariat chose to publish. Japanese whatever the UI language,
as every printed document (documents.print_views).
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from committee import selectors as committee_selectors
from meetings import selectors as meeting_selectors
from meetings.access import meeting_for, minutes_for, published_minutes_entries
from meetings.models import Attendance, Meeting, Minutes, MinutesEntry

from .print_views import _links, _other_group_and_line, _respond, meeting_when, safe_filename, title_line, venue_line

OUTPUT_TITLES: dict[str, str] = {Minutes.Kind.VERBATIM: "議事録", Minutes.Kind.SUMMARY: "議事要旨"}
MEMBER_ROLE = "委員"


def _attended(row: Attendance) -> bool | None:
    """True for present, False for absent, None when nothing is known: as recorded, else as answered."""
    if row.actual:
        return row.attended
    if row.reply == Attendance.Reply.ABSENT:
        return False
    return True if row.reply else None


def _people(meeting: Meeting) -> tuple[list[str], list[str], list[tuple[str, list[str]]]]:
    """(members present with their titles, members absent, the others present by group)."""
    day = meeting.reference_date
    guideline = committee_selectors.guideline_in_force(body=meeting.body, day=day)
    officers = committee_selectors.officers_on(body=meeting.body, day=day)
    titles = {  # appointment → (order in the list, title under the guidelines: 会長 or 委員長 …)
        term.appointment_id: (rank, committee_selectors.officer_title(guideline, role))
        for rank, (term, role) in enumerate(((officers.chair, "chair"), (officers.vice_chair, "vice_chair")))
        if term is not None
    }
    present: list[tuple[int, str]] = []
    absent: list[str] = []
    others: dict[str, list[str]] = {}
    for row in meeting_selectors.attendance_rows(meeting):
        state = _attended(row)
        appointment = row.appointment
        if appointment is not None and appointment.is_member:
            if state is True:
                rank, title = titles.get(appointment.pk, (2, MEMBER_ROLE))
                present.append((rank, f"{title}　{appointment.holder_name}"))
            elif state is False:
                absent.append(f"{MEMBER_ROLE}　{appointment.holder_name}")
        elif state is not False:
            group, line = _other_group_and_line(row, day)
            others.setdefault(group, []).append(line)
    return [line for _rank, line in sorted(present, key=lambda p: p[0])], absent, sorted(
        others.items(), key=lambda kv: (kv[0] != "事務局", kv[0])
    )


def _open_nodes(nodes: list, *, public: bool) -> list:
    """The 次第's items; for the public version, without closed items and what sits under them."""
    if not public:
        return nodes
    kept, closed_depth = [], None
    for node in nodes:
        if closed_depth is not None and node.depth > closed_depth:
            continue
        closed_depth = None if node.item.is_public else node.depth
        if node.item.is_public:
            kept.append(node)
    return kept


def minutes_context(meeting: Meeting, minutes: Minutes, *, output: str, public: bool) -> dict:
    """What the printed minutes show; `public` leaves out closed passages and closed items."""
    if public:
        entries: list[MinutesEntry] = published_minutes_entries(minutes, kind=output)
    else:
        qs = minutes.entries.select_related("agenda_item").order_by("position", "id")
        entries = list(qs.filter(in_summary=True) if output == Minutes.Kind.SUMMARY else qs)
    agenda = getattr(meeting, "agenda", None)
    nodes = _open_nodes(meeting_selectors.agenda_tree(agenda) if agenda is not None else [], public=public)
    present, absent, others = _people(meeting)
    name = OUTPUT_TITLES[output]
    line = title_line(meeting)
    return {
        "meeting": meeting,
        "document_title": f"{line} {name}",
        "title_line": line,
        "name": name,
        "when": meeting_when(meeting),
        "venue": venue_line(meeting),
        "present": present,
        "absent": absent,
        "others": others,
        "observers": minutes.observers_count,
        "items": [f"{n.number} {n.item.title}" if n.depth == 0 else f"　{n.number} {n.item.title}" for n in nodes],
        "sections": meeting_selectors.minutes_sections(meeting, entries),
        "public": public,
        "draft": minutes.status != Minutes.Status.PUBLISHED,
    }


@require_GET
def minutes(request, pk: int, fmt: str):
    """議事録 / 議事要旨: the secretariat's full text (?public=1: as published, ?output=summary|verbatim);
    for everyone else the published minutes they may read, as published."""
    meeting, access = meeting_for(request.user, pk, to="view",
                                  queryset=Meeting.objects.select_related("body__secretariat"))
    if access.manage:
        record = getattr(meeting, "minutes", None)
        if record is None:
            raise Http404
        public = request.GET.get("public") == "1"
        output = request.GET.get("output") or record.kind
        if output not in OUTPUT_TITLES:
            output = record.kind
    else:
        record = minutes_for(request.user, pk, to="read").minutes
        public, output = True, record.kind
    context = minutes_context(meeting, record, output=output, public=public)
    query = request.GET.urlencode()
    back = reverse("meetings:minutes_edit", args=[meeting.pk]) if access.manage else None
    context |= _links("minutes", [meeting.pk], back=back, query=f"?{query}" if query else "")
    name = safe_filename(meeting.body.short_name, meeting.label, OUTPUT_TITLES[output])
    return _respond("documents/print/minutes.html", context, fmt=fmt, filename=name,
                    fallback=f"meeting-{meeting.pk}-minutes.pdf", private=access.sees_private or not public)
