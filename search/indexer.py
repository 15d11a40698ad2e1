"""Keeping the index in step with its sources: each `index_*` rebuilds the rows of one source from the
database (safe to run twice, and for a source that no longer exists: its rows are removed).

receivers.py calls these once the change is committed; `manage.py search_reindex` rebuilds everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.db import connection, transaction

from committee.models import Body, GuidelineArticle
from documents.models import Material, MaterialPage
from meetings.access import public_items
from meetings.models import Meeting, MinutesEntry

from .models import SearchEntry
from .text import fold, tsvector_of

CHUNK = 2000  # characters of a page per row: snippets stay cheap and phrase positions stay exact
OVERLAP = 40  # a term cut by a chunk's end is found in the next one
Kind = SearchEntry.Kind


# MinutesEntry.SpeakerRole (what the editor records) → the search filter's roles.
RECORDED_ROLES = {
    "presiding": "chair", "vice_chair": "officer", "member": "member", "secretariat": "secretariat",
    "attendee": "other", "other": "other",
}


def speaker_role(label: str, recorded: str = "") -> str:
    """The role of a speaker: the one the minutes editor recorded, else read from the label the minutes
    give (委員長, 森委員, 事務局 (DX推進課)) for passages written before roles were recorded."""
    if recorded in RECORDED_ROLES:
        return RECORDED_ROLES[recorded]
    name = fold(label).strip()
    if not name:
        return ""
    if "事務局" in name:
        return SearchEntry.Role.SECRETARIAT
    if name.startswith("副") or "副委員長" in name or "副会長" in name:
        return SearchEntry.Role.OFFICER
    if name.endswith(("委員長", "会長", "座長", "議長", "部会長")):
        return SearchEntry.Role.CHAIR
    if name.endswith("委員"):
        return SearchEntry.Role.MEMBER
    return SearchEntry.Role.OTHER


def _chunks(text: str) -> Iterator[str]:
    if len(text) <= CHUNK:
        yield text
        return
    for start in range(0, len(text), CHUNK - OVERLAP):
        yield text[start : start + CHUNK]
        if start + CHUNK >= len(text):
            return


def _finish(entry: SearchEntry) -> SearchEntry:
    entry.title = entry.title[:300]
    # A page, a passage or an article is found by its own words; its title has a row of its own.
    own_words = entry.page is not None or entry.kind == Kind.MINUTES or entry.guideline_id is not None
    entry.folded = fold(entry.text if own_words else f"{entry.title}\n{entry.text}")
    entry.tokens = tsvector_of(entry.folded) if connection.vendor == "postgresql" else None
    return entry


def _meeting_columns(meeting: Meeting) -> dict:
    day: dt.date | None = meeting.date or meeting.planned_month
    return {"body_id": meeting.body_id, "meeting_id": meeting.pk, "fiscal_year": meeting.fiscal_year, "date": day}


def _replace(rows: Iterable[SearchEntry], **source) -> int:
    with transaction.atomic():
        SearchEntry.objects.filter(**source).delete()
        created = SearchEntry.objects.bulk_create([_finish(row) for row in rows], batch_size=500)
    return len(created)


def index_meeting(meeting_id: int) -> int:
    """The meeting's own row (its title, subject and venue), and its date on every row of the meeting."""
    meeting = Meeting.objects.select_related("body").filter(pk=meeting_id).first()
    if meeting is None:
        return _replace([], meeting_id=meeting_id)
    columns = _meeting_columns(meeting)
    SearchEntry.objects.filter(meeting_id=meeting_id).exclude(kind=Kind.MEETING).update(
        fiscal_year=columns["fiscal_year"], date=columns["date"], body_id=columns["body_id"]
    )
    text = " ".join(v for v in (meeting.theme, meeting.venue_name, meeting.venue_room) if v)
    title = " ".join(v for v in (meeting.body.short_name, meeting.label, meeting.title) if v)
    return _replace([SearchEntry(kind=Kind.MEETING, title=title, text=text, **columns)],
                    meeting_id=meeting_id, kind=Kind.MEETING)


def index_agenda(meeting_id: int) -> int:
    """The items of the approved 次第 (and its note), each marked whether the public may read it."""
    meeting = Meeting.objects.select_related("agenda__approved_version").filter(pk=meeting_id).first()
    agenda = getattr(meeting, "agenda", None) if meeting is not None else None
    version = agenda.approved_version if agenda is not None else None
    rows = []
    if meeting is not None and agenda is not None and version is not None:
        columns = _meeting_columns(meeting)
        items = version.snapshot.get("items", [])
        public = {id(item) for item in public_items(items)}
        for item in items:
            title = " ".join(v for v in (item.get("number", ""), item.get("title", "")) if v)
            text = " ".join(v for v in (item.get("detail", ""), item.get("presenter", "")) if v)
            rows.append(SearchEntry(kind=Kind.AGENDA, title=title, text=text, item_public=id(item) in public,
                                    **columns))
        if version.snapshot.get("note"):
            rows.append(SearchEntry(kind=Kind.AGENDA, title=meeting.title, text=version.snapshot["note"], **columns))
    return _replace(rows, meeting_id=meeting_id, kind=Kind.AGENDA)


def index_material(material_id: int) -> int:
    """The material's label and title, and the text of its current file, page by page."""
    material = Material.objects.select_related("meeting").filter(pk=material_id).first()
    if material is None:
        return _replace([], material_id=material_id)
    columns = {**_meeting_columns(material.meeting), "material_id": material.pk}
    title = f"{material.label} {material.title}".strip()
    rows = [SearchEntry(kind=Kind.MATERIAL, title=title, **columns)]
    if material.current_version_id is not None:
        pages = MaterialPage.objects.filter(version_id=material.current_version_id).order_by("number")
        for page in pages.iterator(chunk_size=200):
            for chunk in _chunks(page.text):
                if chunk.strip():
                    rows.append(SearchEntry(kind=Kind.MATERIAL, title=title, text=chunk, page=page.number,
                                            version_id=material.current_version_id, **columns))
    return _replace(rows, material_id=material_id)


def index_minutes_entry(entry_id: int) -> int:
    """One passage of the minutes, with its speaker and the speaker's role."""
    entry = MinutesEntry.objects.select_related("minutes__meeting__body").filter(pk=entry_id).first()
    if entry is None:
        return _replace([], minutes_entry_id=entry_id)
    meeting = entry.minutes.meeting
    columns = {**_meeting_columns(meeting), "minutes_entry_id": entry.pk}
    title = f"{meeting.body.short_name} {meeting.label} {entry.minutes.get_kind_display()}"
    rows = [
        SearchEntry(kind=Kind.MINUTES, title=title, text=chunk, speaker=entry.speaker[:60],
                    speaker_role=speaker_role(entry.speaker, entry.speaker_role), **columns)
        for chunk in _chunks(entry.text)
    ]
    return _replace(rows, minutes_entry_id=entry_id)


def index_minutes(minutes_id: int) -> int:
    return sum(index_minutes_entry(pk) for pk in MinutesEntry.objects.filter(minutes_id=minutes_id)
               .values_list("pk", flat=True))


def index_body(body_id: int) -> int:
    """The body's name, and the articles of each version of its guidelines (設置要綱)."""
    body = Body.objects.filter(pk=body_id).first()
    if body is None:
        return 0  # its rows went with it (on delete cascade)
    rows = [SearchEntry(kind=Kind.BODY, body_id=body.pk, title=body.name, text=body.short_name)]
    articles = GuidelineArticle.objects.filter(guideline__body=body).select_related("guideline")
    for article in articles.order_by("guideline__effective_on", "position"):
        title = f"{article.guideline.title} {article}".strip()
        for chunk in _chunks(article.text):
            rows.append(SearchEntry(kind=Kind.BODY, body_id=body.pk, guideline_id=article.guideline_id, title=title,
                                    text=chunk, date=article.guideline.effective_on))
    return _replace(rows, body_id=body_id, kind=Kind.BODY)


def reindex_all() -> dict[str, int]:
    """Rebuild every row (after a restore, or to fill the index of an existing site)."""
    counts = {"body": 0, "meeting": 0, "agenda": 0, "material": 0, "minutes": 0}
    for pk in Body.objects.values_list("pk", flat=True):
        counts["body"] += index_body(pk)
    for pk in Meeting.objects.values_list("pk", flat=True):
        counts["meeting"] += index_meeting(pk)
        counts["agenda"] += index_agenda(pk)
    for pk in Material.objects.values_list("pk", flat=True):
        counts["material"] += index_material(pk)
    for pk in MinutesEntry.objects.values_list("pk", flat=True):
        counts["minutes"] += index_minutes_entry(pk)
    SearchEntry.objects.filter(meeting__isnull=True, kind__in=[Kind.MEETING, Kind.AGENDA]).delete()
    return counts
