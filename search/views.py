"""The search page: words inside meetings, 次第 items, materials (page by page), minutes (by speaker) and
bodies, ranked, with highlighted snippets, filters, sort and pages.

What a result may show is decided in the query (selectors.visible_q, with the access rules of
meetings.access and documents.access), so a page of results costs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from committee.models import Body
from core.templatetags.dxplan import fiscal_year as fiscal_year_label
from meetings.access import Viewer, viewer_for
from meetings.models import Meeting

from .models import SearchEntry
from .selectors import SORTS, Filters, entries, search_ids
from .text import snippet, terms_of

PER_PAGE = 20
CAP = 1000  # results counted at most: the count costs no more than this many rows, whatever the index holds
Kind = SearchEntry.Kind


class CappedPaginator(Paginator):
    """Pages over the ids of at most CAP + 1 results (search_ids): counting costs no more than that, whatever
    the index holds; `more` says there were more than CAP."""

    def __init__(self, ids: list[int], per_page: int):
        self.more = len(ids) > CAP
        super().__init__(ids[:CAP], per_page)


def results_page(viewer: Viewer, terms: list[str], filters: Filters, number) -> tuple[Page, list[SearchEntry]]:
    """What the page shows: one query for the ids of the results (capped), one for the rows of this page."""
    page = CappedPaginator(search_ids(viewer, terms, filters, limit=CAP + 1), PER_PAGE).get_page(number)
    return page, entries(list(page.object_list))


def visible_meetings(viewer: Viewer) -> QuerySet[Meeting]:
    """Meetings the user may know exist (meetings.access: a public body, or the private side)."""
    return Meeting.objects.filter(viewer.meetings)


def visible_bodies(viewer: Viewer) -> QuerySet[Body]:
    """Bodies for the filter: public ones, those the user manages, and those they sit on today."""
    return Body.objects.filter(viewer.bodies).order_by("display_order", "id")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Word"), max_length=100, required=False, strip=True)
    body = forms.ChoiceField(label=_("Body"), required=False)
    year = forms.TypedChoiceField(label=_("Fiscal year"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Everything")), *Kind.choices])
    speaker = forms.CharField(label=_("Speaker"), max_length=60, required=False, strip=True)
    role = forms.ChoiceField(
        label=_("Speaker's role"), required=False, choices=[("", _("Any role")), *SearchEntry.Role.choices]
    )
    near = forms.TypedChoiceField(
        label=_("Words near each other"), coerce=int, required=False, empty_value=None,
        choices=[("", _("Anywhere in the same page or passage")), (10, _("Within 10 characters")),
                 (30, _("Within 30 characters")), (100, _("Within 100 characters"))],
    )
    sort = forms.ChoiceField(
        label=_("Order"), required=False, choices=[("relevance", _("Best match first")), ("date", _("Latest first"))]
    )

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

    def filters(self) -> Filters:
        data = self.cleaned_data
        body: Body | None = data["body"]
        sort = data["sort"] if data["sort"] in SORTS else "relevance"
        return Filters(body_id=body.pk if body else None, year=data["year"], kinds=[data["kind"]] if data["kind"]
                       else [], speaker=data["speaker"], role=data["role"], sort=sort, near=data["near"])


@dataclass
class Hit:
    """One result as the page shows it: where it links, and the snippet with the words marked."""

    entry: SearchEntry
    url: str
    pieces: list[tuple[str, bool]]


def _url(entry: SearchEntry) -> str:
    if entry.kind == Kind.BODY:
        return reverse("committee:body_detail", args=[entry.body.slug])
    if entry.kind == Kind.MATERIAL and entry.material_id is not None:
        url = reverse("documents:download", args=[entry.material_id])
        return f"{url}#page={entry.page}" if entry.page else url
    anchor = {Kind.AGENDA: "#agenda", Kind.MINUTES: "#minutes"}.get(Kind(entry.kind), "")
    return reverse("meetings:detail", args=[entry.meeting_id]) + anchor


def hits_of(rows: list[SearchEntry], terms: list[str]) -> list[Hit]:
    """The snippets of one page of results (in Python, over at most PER_PAGE texts of a chunk each)."""
    return [Hit(entry=e, url=_url(e), pieces=snippet(e.text or e.title, terms) if terms else
                [(e.text[:120], False)]) for e in rows]


@require_GET
def search_view(request):
    viewer = viewer_for(request.user)
    bodies = list(visible_bodies(viewer))
    years = sorted(set(visible_meetings(viewer).values_list("fiscal_year", flat=True).distinct()), reverse=True)
    form = SearchForm(request.GET or None, bodies=bodies, years=years)
    context = {"form": form, "bodies": bodies, "years": years, "results": None}
    if form.is_bound and form.is_valid():
        terms = terms_of(form.cleaned_data["q"])
        filters = form.filters()
        if terms or any((filters.body_id, filters.year, filters.kinds, filters.speaker, filters.role)):
            if not terms and not (filters.kinds or filters.speaker or filters.role):
                filters.kinds = [Kind.MEETING]  # a body or 年度 alone lists its meetings
            page, rows = results_page(viewer, terms, filters, request.GET.get("page", 1))
            params = request.GET.copy()
            params.pop("page", None)
            context.update(results=page, hits=hits_of(rows, terms), terms=terms, query_string=params.urlencode())
    return render(request, "search/search.html", context)
