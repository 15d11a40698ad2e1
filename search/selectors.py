"""Reading the search index: one query interface for PostgreSQL and SQLite.

PostgreSQL matches the tsvector of character bigrams with a tsquery (GIN index); SQLite matches its FTS5
trigram table for terms of three characters or more and LIKE on the folded text for shorter ones. Both
apply who may find each row in the same query, with the project's access rules over the row's source
(meetings.access, documents.access), so a page of results costs a fixed number of queries and a row the
user may not open is never read.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, F, FloatField, Q, QuerySet, Subquery, Value
from django.db.models.expressions import Expression, RawSQL
from django.db.models.functions import Length, Replace

from committee.models import Body
from documents.access import materials_visible_q
from documents.models import Material
from meetings.access import PUBLIC_AGENDA_STATUSES, Viewer, open_item_q, prefixed, public_minutes_q
from meetings.models import Meeting, Minutes, MinutesEntry

from .models import SearchEntry
from .text import fts_query_of, near_patterns, tsquery_all_of, tsquery_of

Kind = SearchEntry.Kind
SORTS = ("relevance", "date")


@dataclass
class Filters:
    """What the user narrowed the search to (each value allowlisted by the form)."""

    body_id: int | None = None
    year: int | None = None
    kinds: list[str] = field(default_factory=list)
    speaker: str = ""
    role: str = ""
    sort: str = "relevance"
    near: int | None = None  # proximity: each word within this many characters of the next one


def visible_q(viewer: Viewer) -> Q:
    """Over SearchEntry: the rows whose source the user may open, by the rule of each kind of source.

    Each kind asks whether its source is in the set the access rules allow (an IN over the source's table:
    the database builds each set once per query, and a row found is checked against its own kind's set
    only), so the search, the meeting page and the download can never disagree."""
    meetings = Meeting.objects.filter(viewer.meetings).values("id")
    private = Meeting.objects.filter(viewer.manage | viewer.member).values("id")
    public_agenda = Meeting.objects.filter(body__is_public=True, status__in=PUBLIC_AGENDA_STATUSES).values("id")
    materials = Material.objects.filter(materials_visible_q(viewer))
    open_passage = Q(is_closed=False) & open_item_q("agenda_item")
    published = Q(minutes__status=Minutes.Status.PUBLISHED)
    passages = MinutesEntry.objects.filter(
        prefixed(viewer.manage, "minutes__meeting__")
        | (open_passage & ((prefixed(viewer.member, "minutes__meeting__") & published)
                           | (Q(minutes__meeting__body__is_public=True) & public_minutes_q("minutes__"))))
    ).values("id")
    return (
        (Q(kind=Kind.BODY) & Q(body_id__in=Body.objects.filter(viewer.bodies).values("id")))
        | (Q(kind=Kind.MEETING) & Q(meeting_id__in=meetings))
        | (Q(kind=Kind.AGENDA) & (Q(meeting_id__in=private) | Q(item_public=True, meeting_id__in=public_agenda)))
        # A page of a file is found while the file is the material's current one; the title row has none.
        | (Q(kind=Kind.MATERIAL, version__isnull=True) & Q(material_id__in=materials.values("id")))
        | (Q(kind=Kind.MATERIAL) & Q(version_id__in=materials.values("current_version_id")))
        | (Q(kind=Kind.MINUTES) & Q(minutes_entry_id__in=passages))
    )


def _filtered(viewer: Viewer, filters: Filters) -> QuerySet[SearchEntry]:
    """The rows the user may open, narrowed by the filters (no words yet)."""
    qs = SearchEntry.objects.filter(visible_q(viewer))
    if filters.body_id is not None:
        qs = qs.filter(body_id=filters.body_id)
    if filters.year is not None:
        qs = qs.filter(fiscal_year=filters.year)
    if filters.kinds:
        qs = qs.filter(kind__in=filters.kinds)
    if filters.speaker:
        qs = qs.filter(kind=Kind.MINUTES, speaker__icontains=unicodedata.normalize("NFKC", filters.speaker).strip())
    if filters.role:
        qs = qs.filter(kind=Kind.MINUTES, speaker_role=filters.role)
    return qs


LATEST = (F("date").desc(nulls_last=True), F("id").desc())


def _postgresql_ids(qs: QuerySet[SearchEntry], terms: list[str], sort: str, near: int | None,
                    limit: int) -> list[int]:
    """One query. The GIN index finds the rows holding every bigram of the terms (exact for terms of one or
    two characters, a superset for longer ones: no row is read for it); they are ordered latest first with
    the access rule and the filters applied in the same query, then, lazily, the phrase of a longer term is
    checked row by row (the only step that reads a row's tsvector), with the proximity of the words when
    asked (on the folded text), until `limit` rows passed; only these are ranked. So the cost is bounded
    by `limit` whatever a common word matches."""
    coarse, exact = tsquery_all_of(terms), tsquery_of(terms)
    inner = qs.filter(
        RawSQL("search_searchentry.tokens @@ %s::tsquery", [coarse], output_field=BooleanField())
    ).order_by(*LATEST).values_list("id", "date", "tokens", "folded")
    sql, params = inner.query.sql_with_params()
    checks: list[tuple[str, str]] = [("m.tokens @@ %s::tsquery", exact)] if any(len(t) > 2 for t in terms) else []
    checks += [("m.folded ~ %s", pattern) for pattern in near_patterns(terms, near)]
    where = ("WHERE " + " AND ".join(check for check, _value in checks)) if checks else ""
    order = ("c.date DESC NULLS LAST, c.id DESC" if sort == "date"
             else "ts_rank(c.tokens, %s::tsquery) DESC, c.date DESC NULLS LAST, c.id DESC")
    # OFFSET 0 keeps the checks above the ordering (not pushed down into the scan), so LIMIT stops them.
    # Constants and Django's compiled SQL; every value is a parameter.
    statement = f"SELECT c.id FROM (SELECT m.id, m.date, m.tokens FROM ({sql} OFFSET 0) m {where} LIMIT %s) c "  # noqa: S608
    statement += f"ORDER BY {order}"
    arguments = [*params, *(value for _check, value in checks), limit, *([] if sort == "date" else [exact])]
    with connection.cursor() as cursor:
        cursor.execute(statement, arguments)
        return [row[0] for row in cursor.fetchall()]


def _sqlite_ids(qs: QuerySet[SearchEntry], terms: list[str], sort: str, near: int | None,
                limit: int) -> list[int]:
    """One query: the latest `limit` rows holding every term (FTS5 trigrams for terms of three characters
    or more, LIKE on the folded text for shorter ones), ordered by date or ranked among themselves (bm25, or
    for short terms only, how often they occur)."""
    fts = fts_query_of(terms)
    for term in terms:
        if len(term) < 3:
            qs = qs.filter(folded__contains=term)
    for pattern in near_patterns(terms, near):
        qs = qs.filter(folded__regex=pattern)
    if fts:
        qs = qs.filter(RawSQL(
            "search_searchentry.id IN (SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH %s)",
            [fts], output_field=BooleanField()))
    if sort == "date":
        return list(qs.order_by(*LATEST).values_list("id", flat=True)[:limit])
    candidates = qs.order_by(*LATEST).values("id")[:limit]
    rank: Expression
    if fts:
        rank = RawSQL("(SELECT -bm25(search_entry_fts) FROM search_entry_fts WHERE search_entry_fts MATCH %s "
                      "AND search_entry_fts.rowid = search_searchentry.id)", [fts], output_field=FloatField())
    else:  # terms too short for FTS5: how often they occur
        rank = sum(((Length("folded") - Length(Replace("folded", Value(term), Value("")))) / len(term)
                    for term in terms), Value(0))
    ranked = SearchEntry.objects.filter(id__in=Subquery(candidates)).annotate(rank=rank)
    return list(ranked.order_by("-rank", *LATEST).values_list("id", flat=True))


def search_ids(viewer: Viewer, terms: list[str], filters: Filters | None = None, *, limit: int) -> list[int]:
    """The ids of the rows the user may open holding every (folded) term, filtered, in the order shown:
    at most `limit` (the page caps what it counts), in one query whatever the size of the index.

    Relevance ranks the latest `limit` rows found (all of them when fewer match: a word found in more
    passages than the page counts asks to be narrowed, and those shown are the latest, best first)."""
    filters = filters or Filters()
    qs = _filtered(viewer, filters)
    if not terms:
        return list(qs.order_by(*LATEST).values_list("id", flat=True)[:limit])
    if connection.vendor == "postgresql":
        return _postgresql_ids(qs, terms, filters.sort, filters.near, limit)
    return _sqlite_ids(qs, terms, filters.sort, filters.near, limit)


def entries(ids: list[int]) -> list[SearchEntry]:
    """The rows `ids` in that order, with what a result shows (one query)."""
    related = ("body", "meeting__body", "material__current_version", "minutes_entry")
    rows = SearchEntry.objects.filter(id__in=ids).select_related(*related).defer("folded", "tokens").in_bulk()
    return [rows[pk] for pk in ids if pk in rows]


def search_entries(viewer: Viewer, terms: list[str], filters: Filters | None = None, *,
                   limit: int = 1001) -> list[SearchEntry]:
    """search_ids and entries at once (two queries)."""
    return entries(search_ids(viewer, terms, filters, limit=limit))
