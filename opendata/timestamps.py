"""created and modified for every published object, as database expressions (OParl's filters run in SQL).

Most models keep their history (django-simple-history): an object was created at its first historical
record and modified at its last. Meetings also change when their 次第 is approved, the results of its
items are recorded or their minutes are published; materials when they are published, replaced or withdrawn.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

from django.db.models import DateTimeField, Max, Min, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest


class Stamps(TypedDict):
    """The annotations every function here adds."""

    created_ts: dt.datetime | None
    modified_ts: dt.datetime | None


class LiveStamps(Stamps):
    """Materials and files of the open data selectors also carry `live` (false once withdrawn)."""

    live: bool


def _history(model: type[Model], func: type[Min] | type[Max]) -> Subquery:
    history = model.history.model  # type: ignore[attr-defined]  # simple-history adds `history`; it has no stubs
    rows = history.objects.filter(id=OuterRef("pk")).order_by().values("id").annotate(at=func("history_date"))
    return Subquery(rows.values("at")[:1], output_field=DateTimeField())


def with_history(qs: QuerySet) -> QuerySet:
    """created_ts / modified_ts from the model's history."""
    return qs.annotate(created_ts=_history(qs.model, Min), modified_ts=_history(qs.model, Max))


def meetings(qs: QuerySet) -> QuerySet:
    created = "created_at"
    return qs.annotate(
        created_ts=Coalesce(_history(qs.model, Min), created),
        modified_ts=Greatest(
            Coalesce(_history(qs.model, Max), created),
            Coalesce("agenda__approved_version__decided_at", created),
            Coalesce("agenda__approved_version__results_recorded_at", created),
            Coalesce("minutes__published_at", created),
        ),
    )


def materials(qs: QuerySet) -> QuerySet:
    created = "created_at"
    return qs.annotate(
        created_ts=Coalesce(created, created),
        modified_ts=Greatest(
            created,
            Coalesce("published_at", created),
            Coalesce("withdrawn_at", created),
            Coalesce("current_version__uploaded_at", created),
        ),
    )


def files(qs: QuerySet) -> QuerySet:
    uploaded = "uploaded_at"
    return qs.annotate(
        created_ts=Coalesce(uploaded, uploaded),
        modified_ts=Greatest(
            uploaded,
            Coalesce("material__published_at", uploaded),
            Coalesce("material__withdrawn_at", uploaded),
            Coalesce("material__current_version__uploaded_at", uploaded),
        ),
    )
