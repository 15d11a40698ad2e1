"""The index and its one query interface, on the database the suite runs on (SQLite by default,
PostgreSQL with DATABASE_URL): words inside materials and minutes, by speaker, folded, and only what
the user may open."""

from __future__ import annotations

import datetime as dt

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


@pytest.fixture
def passages(meeting, commit):
    """Published minutes whose passages hold 人材 and 予算 near each other or far apart."""
    far = "人材の確保は重要です。地域の実情を踏まえて丁寧に検討を進めていく必要があると考えております。予算も必要です。"

    def make():
        record = Minutes.objects.create(meeting=meeting, status=Minutes.Status.PUBLISHED)
        for position, (speaker, text) in enumerate([
            ("森委員", "人材育成の予算を確保します。"),
            ("池田委員", far),
            ("髙橋委員", "予算は人材に使います。人材、人材、人材。"),
        ]):
            MinutesEntry.objects.create(minutes=record, position=position, speaker=speaker, text=text)
        return record

    return commit(make)


@pytest.mark.parametrize("query", ["人材 予算", "予算　人材"])
def test_proximity(passages, query):
    assert {e.speaker for e in found(None, query)} == {"森委員", "池田委員", "髙橋委員"}
    assert {e.speaker for e in found(None, query, near=10)} == {"森委員", "髙橋委員"}
    assert {e.speaker for e in found(None, query, near=100)} == {"森委員", "池田委員", "髙橋委員"}


def test_proximity_of_three_words(passages):
    assert [e.speaker for e in found(None, "育成 人材 予算", near=10)] == ["森委員"]


def test_relevance_puts_the_passage_saying_it_most_first(passages):
    assert found(None, "人材")[0].speaker == "髙橋委員"


def test_date_order_is_latest_first(meeting, commit, secretariat):
    from meetings.services import meeting_create

    older = commit(meeting_create, actor=secretariat, body=meeting.body,
                   start_at=meeting.start_at - dt.timedelta(days=400))

    def make():
        for held, text in ((older, "人材、人材、人材について。"), (meeting, "人材について。")):
            record = Minutes.objects.create(meeting=held, status=Minutes.Status.PUBLISHED)
            MinutesEntry.objects.create(minutes=record, position=1, speaker="委員長", text=text)

    commit(make)
    by_relevance = [e.meeting_id for e in found(secretariat, "人材", kinds=["minutes"])]
    by_date = [e.meeting_id for e in found(secretariat, "人材", kinds=["minutes"], sort="date")]
    assert by_relevance == [older.pk, meeting.pk]
    assert by_date == [meeting.pk, older.pk]


@pytest.mark.parametrize(("query", "speaker"), [("高橋", "髙橋委員"), ("髙橋", "髙橋委員"), ("池田", "池田委員")])
def test_variant_kanji_of_names(meeting, commit, query, speaker):
    def make():
        record = Minutes.objects.create(meeting=meeting, status=Minutes.Status.PUBLISHED)
        MinutesEntry.objects.create(minutes=record, position=1, speaker="髙橋委員", text="髙橋でございます。")
        MinutesEntry.objects.create(minutes=record, position=2, speaker="池田委員", text="池田です。")

    commit(make)
    assert [e.speaker for e in found(None, query)] == [speaker]


def test_variant_folding():
    assert fold("髙橋 﨑 澤田 𠮷野") == fold("高橋 崎 沢田 吉野") == "高橋 崎 沢田 吉野"
    assert [piece for piece, marked in snippet("髙橋委員の発言", ["高橋"]) if marked] == ["髙橋"]


def test_the_count_is_capped_and_the_ranked_rows_are_the_latest(meeting, commit, secretariat):
    """A word found in more rows than the cap: the ids stop at the cap (the page says "more than"), and
    relevance ranks the latest rows, so the cost is bounded whatever the word matches."""
    from search.selectors import search_ids

    rows = [indexer._finish(SearchEntry(kind="meeting", body_id=meeting.body_id, meeting=meeting, title=f"行{n}",
                                        text="人材" * (1 + n % 3), date=dt.date(2024, 1, 1) + dt.timedelta(days=n)))
            for n in range(30)]
    SearchEntry.objects.bulk_create(rows)
    ids = search_ids(viewer_for(secretariat), ["人材"], Filters(kinds=["meeting"]), limit=11)
    assert len(ids) == 11
    latest = set(SearchEntry.objects.filter(kind="meeting", text__startswith="人材").order_by("-date")
                 .values_list("id", flat=True)[:11])
    assert set(ids) == latest


def test_an_article_of_the_guidelines_is_found(guideline, commit, secretariat):
    from tests import factories

    text = "委員会は、ＤＸ推進プランの策定について審議する。"
    commit(factories.GuidelineArticleFactory, guideline=guideline, text=text)
    hits = [e for e in found(None, "策定について審議") if e.kind == "body"]
    assert [e.guideline_id for e in hits] == [guideline.pk]
