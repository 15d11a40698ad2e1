"""The index and its one query interface, on the database the suite runs on (SQLite by default,
PostgreSQL with DATABASE_URL): words inside materials and minutes, by speaker, folded, and only what
the user may open."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from documents import services as documents
from meetings.access import viewer_for
from meetings.models import Minutes, MinutesEntry
from search import indexer
from search.models import SearchEntry
from search.selectors import Filters, search_entries
from search.text import fold, snippet, terms_of, tsquery_of, tsvector_of
from tests.documents.conftest import MEMBERS, PUBLIC, upload


def found(user, query: str, **filters) -> list[SearchEntry]:
    return list(search_entries(viewer_for(user or AnonymousUser()), terms_of(query), Filters(**filters)))


@pytest.fixture
def pdf_material(commit, add_material, two_page_pdf):
    return commit(add_material, PUBLIC, title="青森県DX推進方向", label="資料3", data=two_page_pdf)


@pytest.fixture
def minutes(meeting, commit):
    def make():
        record = Minutes.objects.create(meeting=meeting, status=Minutes.Status.PUBLISHED)
        for position, (speaker, text, closed) in enumerate([
            ("委員長", "人材の確保について御意見を伺います。", False),
            ("森委員", "デジタル人材の育成が急務です。", False),
            ("事務局", "人材育成の予算は来年度に計上します。", False),
            ("副委員長", "非公開の人事案件について審議しました。", True),
        ]):
            MinutesEntry.objects.create(minutes=record, position=position, speaker=speaker, text=text,
                                        is_closed=closed)
        return record

    return commit(make)


@pytest.mark.parametrize("term", ["人材", "人材の育成", "2025年の崖"])
def test_a_term_inside_a_pdf_is_found_on_its_page(pdf_material, term):
    hits = [e for e in found(None, term) if e.material_id == pdf_material.pk]
    assert [e.page for e in hits] == [2]


def test_the_first_page_and_the_title_are_found_too(pdf_material):
    assert {e.page for e in found(None, "推進") if e.material_id == pdf_material.pk} == {None, 1}


def test_a_one_character_term(pdf_material):
    assert 2 in {e.page for e in found(None, "崖")}


@pytest.mark.parametrize("query", ["dx推進", "ＤＸ推進", "ｄｘ", "DX"])
def test_width_and_case_variants(pdf_material, query):
    assert 1 in {e.page for e in found(None, query)}


@pytest.mark.parametrize("query", ["でじたる", "デジタル", "ﾃﾞｼﾞﾀﾙ"])
def test_kana_variants(minutes, query):
    assert [e.speaker for e in found(None, query)] == ["森委員"]


def test_several_words_must_all_be_there(pdf_material):
    assert [e.page for e in found(None, "人材 2025年") if e.material_id] == [2]
    assert found(None, "人材 推進の方向") == []


def test_speaker_and_role_filters(minutes):
    assert {e.speaker for e in found(None, "人材")} == {"委員長", "森委員", "事務局"}
    assert [e.speaker for e in found(None, "人材", speaker="森")] == ["森委員"]
    assert [e.speaker for e in found(None, "人材", role="member")] == ["森委員"]
    assert [e.speaker for e in found(None, "人材", role="secretariat")] == ["事務局"]
    assert [e.speaker for e in found(None, "人材", role="chair")] == ["委員長"]


def test_a_closed_passage_is_found_by_the_secretariat_only(minutes, secretariat, member, outsider):
    assert found(None, "人事案件") == []
    assert found(outsider, "人事案件") == []
    assert found(member, "人事案件") == []
    assert [e.speaker for e in found(secretariat, "人事案件")] == ["副委員長"]


def test_unpublished_minutes_are_the_secretariats(minutes, commit, secretariat, member):
    Minutes.objects.filter(pk=minutes.pk).update(status=Minutes.Status.CONFIRMING)
    assert found(None, "急務") == [] and found(member, "急務") == []
    assert len(found(secretariat, "急務")) == 1


def test_a_members_material_is_not_found_by_the_public(commit, add_material, two_page_pdf, member, secretariat):
    material = commit(add_material, MEMBERS, data=two_page_pdf)
    assert found(None, "2025年の崖") == []
    assert [e.material_id for e in found(member, "2025年の崖")] == [material.pk]
    assert [e.material_id for e in found(secretariat, "2025年の崖")] == [material.pk]


def test_a_withdrawn_material_is_no_longer_found(pdf_material, commit, secretariat, member):
    assert found(None, "2025年の崖")
    commit(documents.material_withdraw, actor=secretariat, material=pdf_material, reason="誤り")
    assert found(None, "2025年の崖") == []
    assert found(member, "2025年の崖") == []


def test_a_replaced_file_is_found_by_its_new_text_only(pdf_material, commit, secretariat):
    from tests.documents.conftest import pdf_bytes

    commit(documents.material_replace, actor=secretariat, material=pdf_material, upload=upload("v2.pdf", pdf_bytes()))
    assert found(None, "2025年の崖") == []
    assert [e.page for e in found(None, "DX推進方向")] == [None]  # the title stays


def test_meetings_agenda_and_bodies_are_indexed(meeting, body, commit, secretariat):
    indexer.reindex_all()
    assert any(e.kind == "meeting" for e in found(secretariat, "青森県庁"))
    assert any(e.kind == "body" for e in found(None, body.name))


def test_reindexing_twice_changes_nothing(pdf_material, minutes):
    first = indexer.reindex_all()
    assert indexer.reindex_all() == first
    assert SearchEntry.objects.filter(material=pdf_material).count() == 3  # the title and two pages


def test_folding_and_literals():
    assert fold("ＤＸ ｶﾞｲﾄﾞ カタカナ") == "dx がいど かたかな"
    assert tsquery_of(["a", "ab", "abc"]) == "'a':* & ('ab') & ('ab' <-> 'bc')"
    assert tsvector_of("ab c") == "'ab':1 'b':2 'c':4"
    assert tsvector_of("it's dx") == "'it':1 't''':2 '''s':3 's':4 'dx':6 'x':7"
    assert tsvector_of("abcd") == "'ab':1 'bc':2 'cd':3 'd':4 'abcd':1"
    assert [piece for piece, marked in snippet("これはＤＸ推進です", ["dx"]) if marked] == ["ＤＸ"]


@pytest.mark.parametrize(("label", "role"), [
    ("委員長", "chair"), ("会長", "chair"), ("副委員長", "officer"), ("森委員", "member"),
    ("事務局（DX推進課）", "secretariat"), ("参考人", "other"), ("", ""),
])
def test_speaker_roles(label, role):
    assert indexer.speaker_role(label) == role


@pytest.mark.parametrize(("label", "recorded", "role"), [
    ("森", "presiding", "chair"),  # the editor's role wins over what the label suggests
    ("森委員", "vice_chair", "officer"),
    ("青森県 説明員", "attendee", "other"),
    ("委員長", "", "chair"),  # a passage written before roles were recorded
])
def test_the_role_the_editor_recorded_comes_first(label, recorded, role):
    assert indexer.speaker_role(label, recorded) == role
