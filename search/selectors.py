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
from django.db.models import BooleanField, F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL

from documents.access import materials_visible_q
from meetings.access import PUBLIC_AGENDA_STATUSES, Viewer, open_item_q, prefixed, public_minutes_q
from meetings.models import Minutes

from .models import SearchEntry
from .text import fts_query_of, tsquery_of

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


def visible_q(viewer: Viewer) -> Q:
    """Over SearchEntry: the rows whose source the user may open, by the rule of each kind of source."""
    knows_meeting = prefixed(viewer.meetings, "meeting__")
    manage = prefixed(viewer.manage, "meeting__")
    private = manage | prefixed(viewer.member, "meeting__")
    public_body = Q(meeting__body__is_public=True)
    public_agenda = public_body & Q(meeting__status__in=PUBLIC_AGENDA_STATUSES, item_public=True)
    open_passage = Q(minutes_entry__is_closed=False) & open_item_q("minutes_entry__agenda_item")
    published = Q(minutes_entry__minutes__status=Minutes.Status.PUBLISHED)
    public_minutes = public_body & public_minutes_q("minutes_entry__minutes__")
    current_file = Q(version__isnull=True) | Q(version_id=F("material__current_version_id"))
    return (
        (Q(kind=Kind.BODY) & prefixed(viewer.bodies, "body__"))
        | (Q(kind=Kind.MEETING) & knows_meeting)
        | (Q(kind=Kind.AGENDA) & (private | public_agenda))
        | (Q(kind=Kind.MATERIAL) & prefixed(materials_visible_q(viewer), "material__") & current_file)
        | (Q(kind=Kind.MINUTES) & (manage | (open_passage & ((prefixed(viewer.member, "meeting__") & published)
                                                              | public_minutes))))
    )


def _matching(qs: QuerySet[SearchEntry], terms: list[str]) -> QuerySet[SearchEntry]:
    """Rows holding every term, annotated with `rank` (higher is better)."""
    if not terms:
        return qs.annotate(rank=Value(0.0, output_field=FloatField()))
    if connection.vendor == "postgresql":
        query = tsquery_of(terms)
        return qs.filter(
            RawSQL("search_searchentry.tokens @@ %s::tsquery", [query], output_field=BooleanField())
        ).annotate(rank=RawSQL("ts_rank(search_searchentry.tokens, %s::tsquery)", [query], output_field=FloatField()))
    fts = fts_query_of(terms)
    for term in terms:
        if len(term) < 3:
            qs = qs.filter(folded__contains=term)
    if not fts:
        return qs.annotate(rank=Value(0.0, output_field=FloatField()))
    qs = qs.filter(
        RawSQL("search_searchentry.id IN (SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH %s)",
               [fts], output_field=BooleanField())
    )
    return qs.annotate(rank=RawSQL(
        "(SELECT -bm25(search_entry_fts) FROM search_entry_fts WHERE search_entry_fts MATCH %s "
        "AND search_entry_fts.rowid = search_searchentry.id)", [fts], output_field=FloatField()))


def search_entries(viewer: Viewer, terms: list[str], filters: Filters | None = None) -> QuerySet[SearchEntry]:
    """The rows the user may open holding every (folded) term, filtered and sorted; ready for a Paginator
    (one query to count, one for a page, whatever the size of the index)."""
    filters = filters or Filters()
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
    qs = _matching(qs, terms)
    latest = F("date").desc(nulls_last=True)
    qs = qs.order_by(latest, "-rank", "-id") if filters.sort == "date" else qs.order_by("-rank", latest, "-id")
    related = ("body", "meeting__body", "material__current_version", "minutes_entry")
    return qs.select_related(*related).defer("folded", "tokens")
