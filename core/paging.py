"""Pagination of the site's lists: one helper and one set of controls (templates/_pagination.html), so that
no page grows with the data (issue 13: every page at 100× the demo under 200 KB of HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest


@dataclass(frozen=True)
class Paged:
    """One page of a list, with what its controls need: the query string of the request without the page
    parameter (so filters and the other lists' pages are kept) and the parameter's name."""

    page: Page
    query: str
    param: str
    anchor: str = ""

    @property
    def object_list(self) -> Any:
        return self.page.object_list

    def __iter__(self):
        return iter(self.page.object_list)

    def __len__(self) -> int:
        return len(self.page.object_list)

    def __bool__(self) -> bool:
        return self.page.paginator.count > 0

    @property
    def count(self) -> int:
        return self.page.paginator.count

    def url(self, number: int) -> str:
        prefix = f"{self.query}&" if self.query else ""
        return f"?{prefix}{self.param}={number}{'#' + self.anchor if self.anchor else ''}"

    @property
    def previous_url(self) -> str:
        return self.url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def first_url(self) -> str:
        return self.url(1) if self.page.number > 2 else ""  # noqa: PLR2004 - page 2 has "previous" for it

    @property
    def last_url(self) -> str:
        last = self.page.paginator.num_pages
        return self.url(last) if self.page.number < last - 1 else ""


def paginate(
    request: HttpRequest, items: QuerySet | Sequence, per_page: int, *, param: str = "page", anchor: str = ""
) -> Paged:
    """The page `request.GET[param]` asks for (the first for anything that is not a page number, the last
    for a number past the end). A queryset costs one query, whether the page is full or the list is empty:
    its rows carry the list's length (COUNT(*) OVER ()), so a page runs the same queries at any size; only
    a number past the end costs two more (the count, then the last page)."""
    query = request.GET.copy()
    asked = query.pop(param, [None])[-1]
    return Paged(page=_page(items, per_page, asked), query=query.urlencode(), param=param, anchor=anchor)


def _page(items: QuerySet | Sequence, per_page: int, asked: str | None) -> Page:
    if not isinstance(items, QuerySet):
        return Paginator(items, per_page).get_page(asked)
    try:
        number = max(1, int(asked or 1))
    except ValueError:
        number = 1
    start = (number - 1) * per_page
    rows = list(items.annotate(_paging_total=Window(Count("*")))[start : start + per_page])
    if not rows and number > 1:
        return Paginator(items, per_page).get_page(number)  # past the end: the last page
    paginator = Paginator(items, per_page)
    paginator.__dict__["count"] = rows[0]._paging_total if rows else 0  # the cached_property, known already
    return Page(rows, number, paginator)
