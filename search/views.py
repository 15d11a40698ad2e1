"""Public search over meetings, 次第 items and materials, by word, body and 年度.

What a result may show is decided by the same rules as the pages it links to: meetings.access's
`viewer_for` (query expressions, so a page of results costs a fixed number of queries), visible_agenda for
the 次第 and documents.access for materials. A closed item, a members' material or a meeting of a
body the user may not know never reaches the results.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from committee.models import Body
from core.templatetags.dxplan import fiscal_year as fiscal_year_label
from documents.access import materials_visible_q
from documents.models import Material
from meetings.access import Access, Viewer, viewer_for, visible_agenda
from meetings.models import Meeting

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# The latest meeting first; a month-only meeting (日程未定) counts from the first of its month.
LATEST_FIRST = (Coalesce("start_at", Cast("planned_month", DateTimeField())).desc(nulls_last=True),)
PREVIEW = 10  # results per group on the overview; "more" pages through one group
PER_PAGE = 20
MAX_TERMS = 5
KINDS = ("meetings", "items", "materials")


# --- the words -----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC (全角ＡＢＣ１２３ → ABC123, half-width ｶﾅ → カナ) and case-folded, for comparing."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def terms_of(query: str) -> list[str]:
    """The words of a query (split on any space, 全角 included), NFKC-normalised; at most MAX_TERMS."""
    words = unicodedata.normalize("NFKC", query or "").split()
    return list(dict.fromkeys(words))[:MAX_TERMS]


def _number_of(term: str) -> int | None:
    """第2回 / 2回 / 2 name a meeting's number."""
    found = re.fullmatch(r"第?(\d{1,4})回?", term)
    return int(found.group(1)) if found else None


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def variants(term: str) -> set[str]:
    """The forms a stored title may hold a normalised term in: as typed after NFKC (DX), or in full-width
    letters (ＤＸ, ｄｘ: SQLite compares only ASCII case-insensitively)."""
    return {term, _fullwidth(term), _fullwidth(term.upper()), _fullwidth(term.lower())}


def _words_q(terms: list[str], fields: tuple[str, ...], *, number_field: str | None = None) -> Q:
    """Every term appears in one of `fields` (icontains: case-insensitive on SQLite and PostgreSQL)."""
    q = Q()
    for term in terms:
        one = Q()
        for name in fields:
            for form in sorted(variants(term)):
                one |= Q(**{f"{name}__icontains": form})
        number = _number_of(term) if number_field else None
        if number is not None and number_field is not None:
            one |= Q(**{number_field: number})
        q &= one
    return q


def matches(terms: list[str], *texts: str) -> bool:
    """Every term appears in one of `texts` (the same comparison in Python, for 次第 snapshots)."""
    haystack = [normalise(t) for t in texts if t]
    return all(any(normalise(term) in text for text in haystack) for term in terms)


# --- who sees what: access_to as query expressions -------------------------------------------------


def visible_meetings(viewer: Viewer) -> QuerySet[Meeting]:
    """Meetings the user may know exist (meetings.access: a public body, or the private side)."""
    return Meeting.objects.filter(viewer.meetings)


class _SearchAccess(TypedDict):
    search_manage: bool
    search_member: bool


def with_access(qs: QuerySet[Meeting], viewer: Viewer) -> QuerySet[WithAnnotations[Meeting, _SearchAccess]]:
    """Annotate each meeting with what access_to would answer (search_manage, search_member)."""
    return qs.annotate(
        search_manage=ExpressionWrapper(viewer.manage, output_field=BooleanField()),
        search_member=ExpressionWrapper(viewer.member, output_field=BooleanField()),
    )


def access_of(meeting: WithAnnotations[Meeting, _SearchAccess]) -> Access:
    return Access(manage=bool(meeting.search_manage), member=bool(meeting.search_member))


def visible_materials(viewer: Viewer) -> QuerySet[Material]:
    """documents.access's rule for every meeting at once."""
    return Material.objects.filter(materials_visible_q(viewer))


def visible_bodies(viewer: Viewer) -> QuerySet[Body]:
    """Bodies for the filter: public ones, those the user manages, and those they sit on today."""
    return Body.objects.filter(viewer.bodies).order_by("display_order", "id")


# --- the form ------------------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Word"), max_length=100, required=False, strip=True)
    body = forms.ChoiceField(label=_("Body"), required=False)
    year = forms.TypedChoiceField(label=_("Fiscal year"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, bodies: list[Body], years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        # Allowlisted: only the bodies and years the user may see can be asked for.
        self.bodies = {b.slug: b for b in bodies}
        body_field, year_field = self.fields["body"], self.fields["year"]
        assert isinstance(body_field, forms.ChoiceField) and isinstance(year_field, forms.ChoiceField)
        body_field.choices = [("", _("All bodies"))] + [(b.slug, b.name) for b in bodies]
        year_field.choices = [("", _("All years"))] + [(y, fiscal_year_label(y)) for y in years]

    def clean_body(self) -> Body | None:
        return self.bodies.get(self.cleaned_data.get("body") or "")


# --- the search ----------------------------------------------------------------------------------


@dataclass
class ItemHit:
    meeting: Meeting
    number: str
    title: str
    detail: str


@dataclass
class Results:
    meetings: Page | list
    meetings_count: int
    items: Page | list
    items_count: int
    materials: Page | list
    materials_count: int


def _scoped(qs: QuerySet, *, body: Body | None, year: int | None, prefix: str = "") -> QuerySet:
    if body is not None:
        qs = qs.filter(**{f"{prefix}body_id": body.pk})
    if year is not None:
        qs = qs.filter(**{f"{prefix}fiscal_year": year})
    return qs


def _page(qs_or_list, number, per_page: int) -> Page:
    return Paginator(qs_or_list, per_page).get_page(number)


MEETING_FIELDS = ("title", "theme", "name", "venue_name", "venue_room")


def _item_hits(scoped: QuerySet[Meeting], viewer: Viewer, terms: list[str]) -> list[ItemHit]:
    """次第 items matching every term, in the approved snapshots the user may read (latest meeting first)."""
    with_agenda = with_access(
        scoped.filter(agenda__approved_version__isnull=False)
        .select_related("agenda__approved_version")
        .order_by("-fiscal_year", *LATEST_FIRST, "body__display_order", "pk"),
        viewer,
    )
    hits = []
    for meeting in with_agenda:
        agenda = visible_agenda(meeting, access_of(meeting))
        for item in (agenda or {}).get("items", []):
            if matches(terms, item.get("title", ""), item.get("detail", "")):
                hits.append(ItemHit(meeting, item.get("number", ""), item.get("title", ""), item.get("detail", "")))
    return hits


def _material_hits(viewer: Viewer, terms: list[str], *, body: Body | None, year: int | None) -> QuerySet[Material]:
    """Materials the user may see whose title or label has every term (latest meeting first)."""
    return (
        _scoped(visible_materials(viewer), body=body, year=year, prefix="meeting__")
        .filter(_words_q(terms, ("title", "label")))
        .select_related("current_version", "meeting__body")
        .order_by(
            "-meeting__fiscal_year",
            Coalesce("meeting__start_at", Cast("meeting__planned_month", DateTimeField())).desc(nulls_last=True),
            "meeting_id",
            "position",
            "id",
        )
    )


def search(
    user,
    *,
    terms: list[str],
    body: Body | None,
    year: int | None,
    kind: str | None = None,
    page=1,
    viewer: Viewer | None = None,
) -> Results:
    """Meetings, 次第 items and materials matching every term that the user may see.

    Without `kind`, the first PREVIEW of each group; with it, one group paged PER_PAGE at a time.
    A fixed number of queries whatever the data size (the 次第 is matched in its approved snapshots,
    which is what the meeting page shows)."""
    viewer = viewer or viewer_for(user)
    per_page = PER_PAGE if kind else PREVIEW
    number = page if kind else 1
    empty = _page([], 1, per_page)

    scoped = _scoped(visible_meetings(viewer), body=body, year=year).select_related("body")
    meetings_qs = scoped
    if terms:
        meetings_qs = meetings_qs.filter(_words_q(terms, MEETING_FIELDS, number_field="number"))
    meetings_qs = meetings_qs.order_by("-fiscal_year", *LATEST_FIRST, "body__display_order", "pk")

    found_meetings = _page(meetings_qs, number, per_page) if kind in (None, "meetings") else empty
    meetings_count = found_meetings.paginator.count if kind in (None, "meetings") else meetings_qs.count()

    hits = _item_hits(scoped, viewer, terms) if terms else []
    found_items = _page(hits, number if kind == "items" else 1, per_page) if kind in (None, "items") else empty

    materials_qs = _material_hits(viewer, terms, body=body, year=year) if terms else Material.objects.none()
    found_materials = _page(materials_qs, number, per_page) if kind in (None, "materials") else empty
    materials_count = found_materials.paginator.count if kind in (None, "materials") else materials_qs.count()

    return Results(
        meetings=found_meetings,
        meetings_count=meetings_count,
        items=found_items,
        items_count=len(hits),
        materials=found_materials,
        materials_count=materials_count,
    )


@require_GET
def search_view(request):
    viewer = viewer_for(request.user)
    bodies = list(visible_bodies(viewer))
    years = sorted(set(visible_meetings(viewer).values_list("fiscal_year", flat=True).distinct()), reverse=True)
    form = SearchForm(request.GET or None, bodies=bodies, years=years)
    context = {"form": form, "bodies": bodies, "years": years, "results": None, "kind": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        terms = terms_of(data["q"])
        kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else None
        if terms or data["body"] is not None or data["year"] is not None:
            context["results"] = search(
                request.user,
                terms=terms,
                body=data["body"],
                year=data["year"],
                kind=kind,
                page=request.GET.get("page", 1),
                viewer=viewer,
            )
            context.update(terms=terms, kind=kind, query_string=_query_string(request, drop=("kind", "page")))
    return render(request, "search/search.html", context)


def _query_string(request, *, drop: tuple[str, ...]) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()
