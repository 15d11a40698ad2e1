"""The search page: ranked results with marked snippets, the page of a material, the speaker of a passage,
filters, sort, pages, escaping, and a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from meetings.models import Minutes, MinutesEntry
from search import indexer
from search.models import SearchEntry
from tests.documents.conftest import PUBLIC, client_for

URL = reverse("search:search")


def _text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def pdf_material(commit, add_material, two_page_pdf):
    return commit(add_material, PUBLIC, title="青森県DX推進方向", label="資料3", data=two_page_pdf)


@pytest.fixture
def minutes(meeting, commit):
    def make():
        record = Minutes.objects.create(meeting=meeting, status=Minutes.Status.PUBLISHED)
        MinutesEntry.objects.create(minutes=record, position=1, speaker="森委員", text="人材の育成が急務です。")
        MinutesEntry.objects.create(minutes=record, position=2, speaker="事務局", text="人材<script>alert(1)</script>")
        return record

    return commit(make)


def test_a_word_inside_a_pdf_shows_its_page_and_is_marked(pdf_material):
    page = _text(Client().get(URL, {"q": "２０２５年の崖"}))
    assert "<mark>2025年の崖</mark>" in page
    assert reverse("documents:download", args=[pdf_material.pk]) + "#page=2" in page
    assert "2ページ" in page  # Japanese, the default
    assert "page 2" in _text(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"q": "人材"}))


def test_passages_show_their_speaker_and_are_escaped(minutes):
    page = _text(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"q": "人材"}))
    assert "Speaker: 森委員" in page and "Speaker: 事務局" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_filters_by_role_speaker_and_kind(minutes, pdf_material):
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    by_role = _text(english.get(URL, {"q": "人材", "role": "member"}))
    assert "Speaker: 森委員" in by_role and "Speaker: 事務局" not in by_role
    by_name = _text(english.get(URL, {"q": "人材", "speaker": "事務"}))
    assert "Speaker: 事務局" in by_name and "Speaker: 森委員" not in by_name
    materials = _text(english.get(URL, {"q": "人材", "kind": "material"}))
    assert "#page=2" in materials and "Speaker:" not in materials


def test_a_value_not_offered_is_refused(minutes):
    page = _text(Client().get(URL, {"q": "人材", "role": "mayor", "kind": "x"}))
    assert 'aria-describedby="id_role-error"' in page and "<mark>" not in page


def test_sort_by_date(minutes, pdf_material):
    assert "<mark>" in _text(Client().get(URL, {"q": "人材", "sort": "date"}))


def _many(meeting, count: int) -> None:
    rows = []
    for n in range(count):
        kind = (SearchEntry.Kind.MINUTES, SearchEntry.Kind.MEETING, SearchEntry.Kind.MATERIAL)[n % 3]
        rows.append(indexer._finish(SearchEntry(
            kind=kind, body_id=meeting.body_id, meeting=meeting, title=f"行{n}", text=f"人材の話 {n} デジタル",
            speaker="森委員" if kind == "minutes" else "", fiscal_year=meeting.fiscal_year)))
    SearchEntry.objects.bulk_create(rows)


@pytest.mark.parametrize("who", [None, "member", "secretariat"])
@pytest.mark.parametrize("params", [{"q": "人材"}, {"q": "人 でじたる", "sort": "date", "page": "3"},
                                    {"q": "人材", "role": "member", "kind": "minutes"},
                                    {"q": "人材 デジタル", "near": "30"}])
def test_a_fixed_number_of_queries_over_500_rows(meeting, minutes, who, params, request,
                                                  django_assert_max_num_queries):
    client = client_for(request.getfixturevalue(who) if who else None)
    _many(meeting, 500)
    assert SearchEntry.objects.count() > 500
    client.get(URL, params)
    with django_assert_max_num_queries(12):
        assert client.get(URL, params).status_code == 200


def test_a_word_found_everywhere_is_counted_up_to_a_cap(meeting, minutes, monkeypatch):
    from search import views

    monkeypatch.setattr(views, "CAP", 30)
    _many(meeting, 120)  # a third of them meeting rows, which the public finds
    page = _text(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"q": "人材"}))
    assert "More than 30 results" in page and "Page 1 of 2" in page


def test_words_near_each_other(minutes, meeting, commit):
    def far():
        filler = "以下、地域の実情を踏まえて説明いたします。" * 3
        text = f"人材について。{filler}急務です。"
        MinutesEntry.objects.create(minutes=minutes, position=3, speaker="池田委員", text=text)

    commit(far)
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Speaker: 池田委員" in _text(english.get(URL, {"q": "人材 急務"}))
    near = _text(english.get(URL, {"q": "人材 急務", "near": "10"}))
    assert "Speaker: 森委員" in near and "Speaker: 池田委員" not in near
    refused = _text(english.get(URL, {"q": "人材 急務", "near": "7"}))
    assert 'aria-describedby="id_near-error"' in refused and "<mark>" not in refused


def test_the_postgresql_table_keeps_its_texts_out_of_line_and_the_index_has_no_pending_list(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's storage options (the suite runs on SQLite)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'search_searchentry'")
        assert "toast_tuple_target=128" in cursor.fetchone()[0]
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'search_entry_tokens_gin'")
        assert "fastupdate=off" in cursor.fetchone()[0]
