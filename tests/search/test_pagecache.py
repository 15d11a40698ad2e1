"""A visitor's search is kept in the public page cache per query (issue 13): asking again costs no query,
and what a publication or a withdrawal changes shows at once (the write drops every kept page)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from documents import services as documents
from tests.documents.conftest import MEMBERS, PUBLIC

URL = reverse("search:search")
QUERY = {"q": "推進方向"}
TITLE = "青森県DX推進方向"


@pytest.fixture(autouse=True)
def page_cache(page_cache_on):
    """Every test here runs with the page cache on (tests/conftest.py)."""


def _search(**params) -> bytes:
    response = Client().get(URL, params or QUERY)
    assert response.status_code == 200
    return response.content


def _text(content: bytes) -> str:
    return re.sub(r"\s+", " ", content.decode())


def _fresh(settings, **params) -> bytes:
    settings.DXPLAN_PAGE_CACHE = False
    try:
        return _search(**params)
    finally:
        settings.DXPLAN_PAGE_CACHE = True


def test_the_same_search_again_costs_no_query(commit, add_material, django_assert_num_queries):
    commit(add_material, PUBLIC, title=TITLE, label="資料3")
    first = _search()
    assert TITLE in _text(first)
    with django_assert_num_queries(0):
        assert _search() == first
    assert TITLE not in _text(_search(q="別の言葉"))  # each query is its own copy


def test_a_publication_and_a_withdrawal_show_at_once(settings, commit, add_material, secretariat):
    material = commit(add_material, MEMBERS, title=TITLE, label="資料3")
    before = _search()
    assert TITLE not in _text(before)  # members only: not for a visitor
    assert _search() == before  # kept

    commit(documents.material_set_visibility, actor=secretariat, material=material, visibility=PUBLIC)
    published = _search()
    assert TITLE in _text(published)
    assert published == _fresh(settings)

    commit(documents.material_withdraw, actor=secretariat, material=material, reason="誤りがあったため")
    withdrawn = _search()
    assert TITLE not in _text(withdrawn)
    assert withdrawn == _fresh(settings)
