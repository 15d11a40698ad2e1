"""OParl object lists: the created_since / created_until / modified_since / modified_until filters and
pagination with data, pagination and links (first, prev, next, last) that keep the filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

PAGE_SIZE = 100

Obj = dict[str, Any]


class FilterError(ValueError):
    """A filter parameter that is not a date and time."""


FILTERS = {
    "created_since": ("created_ts", "gte"),
    "created_until": ("created_ts", "lte"),
    "modified_since": ("modified_ts", "gte"),
    "modified_until": ("modified_ts", "lte"),
}


def parse_filters(params: Mapping[str, str]) -> dict[str, dt.datetime]:
    """The OParl filters given (ISO 8601 date and time; a value without a zone is Asia/Tokyo)."""
    from django.utils.dateparse import parse_date, parse_datetime

    found: dict[str, dt.datetime] = {}
    for name in FILTERS:
        raw = params.get(name)
        if raw is None:
            continue
        raw = raw.strip().replace(" ", "+")  # an unencoded + arrives as a space
        try:
            value = parse_datetime(raw)
            if value is None:
                d = parse_date(raw)
                if d is not None:
                    value = dt.datetime(d.year, d.month, d.day, tzinfo=timezone.get_current_timezone())
        except ValueError:
            value = None
        if value is None:
            raise FilterError(name)
        found[name] = timezone.make_aware(value) if timezone.is_naive(value) else value
    return found


def filter_queryset(qs: QuerySet, filters: dict[str, dt.datetime]) -> QuerySet:
    for name, value in filters.items():
        field, lookup = FILTERS[name]
        qs = qs.filter(**{f"{field}__{lookup}": value})
    return qs


def filter_objects(items: list[Obj], filters: dict[str, dt.datetime]) -> list[Obj]:
    """The same filters on objects built in Python (agenda items come from the approved 次第)."""
    for name, value in filters.items():
        key = "created" if name.startswith("created") else "modified"
        if name.endswith("since"):
            items = [o for o in items if dt.datetime.fromisoformat(o[key]) >= value]
        else:
            items = [o for o in items if dt.datetime.fromisoformat(o[key]) <= value]
    return items


@dataclass
class Page:
    rows: Sequence[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_of(items: QuerySet | list, params: Mapping[str, str]) -> Page:
    try:
        size = min(PAGE_SIZE, max(1, int(params.get("limit", PAGE_SIZE))))
    except ValueError:
        size = PAGE_SIZE
    total = items.count() if isinstance(items, QuerySet) else len(items)
    pages = max(1, -(-total // size))
    try:
        number = min(pages, max(1, int(params.get("page", 1))))
    except ValueError:
        number = 1
    start = (number - 1) * size
    return Page(rows=list(items[start : start + size]), number=number, size=size, total=total)


def list_response(base_url: str, page: Page, data: list[Obj], params: Mapping[str, str]) -> Obj:
    """An OParl object list: data, pagination and links (first, prev, next, last) keeping the filters."""
    from urllib.parse import urlencode

    kept = {k: params[k] for k in (*FILTERS, "limit") if k in params}

    def link(number: int) -> str:
        return base_url + "?" + urlencode({**kept, "page": number})

    links = {"first": link(1), "last": link(page.pages)}
    if page.number > 1:
        links["prev"] = link(page.number - 1)
    if page.number < page.pages:
        links["next"] = link(page.number + 1)
    return {
        "data": data,
        "pagination": {
            "totalElements": page.total,
            "elementsPerPage": page.size,
            "currentPage": page.number,
            "totalPages": page.pages,
        },
        "links": links,
    }
