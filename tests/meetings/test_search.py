"""The public search: what each person finds (never a closed item, a members' material or a meeting of a
body they may not know), the body and 年度 filters, NFKC, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from committee.models import Appointment, Body
from documents import services as document_services
from documents.models import Material, MaterialVersion
from meetings import services
from meetings.access import viewer_for
from meetings.models import Agenda, Attendee, Meeting
from search import indexer
from search.selectors import Filters, search_entries
from tests import factories
from tests.documents.conftest import pdf_bytes, upload

from .conftest import add_meetings, plan, sign_in

URL = reverse("search:search")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _material(meeting, actor, title, visibility, **kwargs) -> Material:
    return document_services.material_create(
        actor=actor, meeting=meeting, title=title, upload=upload("資料.pdf", pdf_bytes()), visibility=visibility,
        **kwargs,
    )


@pytest.fixture
def scene(meeting, secretariat, chair):
    """第1回 (notices sent) with a closed item 人事案件 and a material at every level, all about 骨子案."""
    closed = services.agenda_item_add(
        actor=secretariat, meeting=meeting, title="人事案件（骨子案の担当）", is_public=False,
        closure_basis="委員の承諾",
    )
    _material(meeting, secretariat, "骨子案（公開）", Material.Visibility.PUBLIC)
    _material(meeting, secretariat, "骨子案（委員限り）", Material.Visibility.MEMBERS)
    _material(meeting, secretariat, "骨子案（非公開）", Material.Visibility.MEMBERS, is_closed=True)
    _material(meeting, secretariat, "骨子案（事務局のみ）", Material.Visibility.SECRETARIAT)
    _material(meeting, secretariat, "人事案件の資料", Material.Visibility.MEMBERS, agenda_item=closed)
    _material(meeting, secretariat, "ＤＸガイドライン", Material.Visibility.PUBLIC)
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    return services.meeting_mark_notified(actor=secretariat, meeting=meeting)


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # assertions name the English msgids
    if user is not None:
        sign_in(client, user)
    return client


def _find(user, **params):
    indexer.reindex_all()  # the fixtures' transaction never commits, so the index is built here
    response = _client(user).get(URL, params)
    assert response.status_code == 200
    return response


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


MATERIALS = ("骨子案（公開）", "骨子案（委員限り）", "骨子案（非公開）", "骨子案（事務局のみ）")


@pytest.mark.parametrize(
    ("who", "found"),
    [
        (None, {"骨子案（公開）"}),
        ("outsider", {"骨子案（公開）"}),
        ("other_member", {"骨子案（公開）"}),
        ("member", {"骨子案（公開）", "骨子案（委員限り）", "骨子案（非公開）"}),
        ("chair", {"骨子案（公開）", "骨子案（委員限り）", "骨子案（非公開）"}),
        ("secretariat", set(MATERIALS)),
        ("superuser", set(MATERIALS)),
    ],
)
def test_materials_found_are_those_the_user_may_see(scene, who, found, request):
    user = request.getfixturevalue(who) if who else None
    page = _text(_find(user, q="骨子案"))
    assert {title for title in MATERIALS if title in page} == found
    # The same answer as the meeting page's one visibility function.
    viewer = viewer_for(user or _anonymous())
    listed = {e.material for e in search_entries(viewer, ["骨子案"], Filters(kinds=["material"]))}
    from documents.selectors import materials_visible_to

    expected = {m for m in materials_visible_to(user or _anonymous(), scene) if "骨子案" in m.title}
    assert listed == expected


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_a_public_material_shows_type_size_date_and_download_link(scene):
    indexer.reindex_all()
    page = _text(Client().get(URL, {"q": "骨子案"}))  # Japanese, the default
    material = Material.objects.get(title="骨子案（公開）")
    assert reverse("documents:download", args=[material.pk]) in page
    assert "(PDF, " in page
    assert "令和5年6月7日(水) 14:00" in page  # 和暦 in Japanese (the default) …
    english = _text(Client(HTTP_ACCEPT_LANGUAGE="en").get(URL, {"q": "骨子案"}))
    assert "2023-06-07 (Wed) 14:00" in english  # … ISO in English
    assert "策定委員会 第1回" in page


@pytest.mark.parametrize("who", [None, "outsider", "other_member"])
def test_closed_items_and_their_materials_never_reach_the_public(scene, who, request):
    user = request.getfixturevalue(who) if who else None
    page = _text(_find(user, q="人事"))
    assert "人事案件" not in page
    assert "0 results" in page


@pytest.mark.parametrize("who", ["member", "chair", "secretariat"])
def test_members_find_closed_items(scene, who, request):
    page = _text(_find(request.getfixturevalue(who), q="人事"))
    assert "人事案件（骨子案の担当）" in page
    assert "人事案件の資料" in page


def test_agenda_items_are_found_in_the_approved_version_only_once_notices_are_out(meeting, secretariat, chair):
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    assert "骨子案について" not in _text(_find(None, q="骨子案"))  # approved, notices not yet sent
    assert "骨子案について" in _text(_find(chair, q="骨子案"))  # members read the approved 次第
    services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    page = _text(_find(None, q="骨子案"))
    assert "(1) 骨子案について" in page
    assert reverse("meetings:detail", args=[meeting.pk]) + "#agenda" in page


def test_a_draft_agenda_is_never_searched(meeting):
    page = _text(_find(None, q="意見交換"))
    assert "0 results" in page
    assert "(2) 意見交換" not in page


@pytest.mark.parametrize("who", [None, "outsider", "other_member"])
def test_a_private_body_stays_unknown(scene, body, who, request):
    Body.objects.filter(pk=body.pk).update(is_public=False)
    user = request.getfixturevalue(who) if who else None
    page = _text(_find(user, q="骨子案"))
    assert "0 results" in page
    assert "骨子案（公開）" not in page
    assert body.name not in page  # not offered in the body filter either
    assert "策定委員会" not in _text(_find(user))
    # Asked for by its address, it is refused like any value not offered.
    refused = _text(_find(user, q="骨子案", body="dx-plan"))
    assert "骨子案（公開）" not in refused and 'aria-describedby="id_body-error"' in refused


def test_members_of_a_private_body_find_its_meetings(scene, body, member):
    Body.objects.filter(pk=body.pk).update(is_public=False)
    page = _text(_find(member, q="骨子案", body="dx-plan"))
    assert "骨子案（委員限り）" in page


def test_a_former_member_reads_only_what_the_public_reads(scene, member_appointment, member):
    Appointment.objects.filter(pk=member_appointment.pk).update(ended_on=dt.date(2023, 5, 31), end_reason="辞任")
    page = _text(_find(member, q="骨子案"))
    assert "骨子案（公開）" in page
    assert "骨子案（委員限り）" not in page


def test_an_invited_attendee_sees_the_members_side(scene):
    user = factories.UserFactory(email="witness@test.example")
    person = factories.PersonFactory(family_name="参考", user=user)
    Attendee.objects.create(meeting=scene, role=Attendee.Role.WITNESS, person=person, position=1)
    assert "骨子案（委員限り）" in _text(_find(user, q="骨子案"))


def test_body_and_year_filters(scene, other_body, secretariat):
    other_unit_staff = factories.StaffAssignmentFactory(unit=other_body.secretariat).user
    other = plan(other_body, other_unit_staff, title="骨子案の検討会")
    _material(other, other_unit_staff, "骨子案（別の審議会）", Material.Visibility.PUBLIC)
    both = _text(_find(None, q="骨子案"))
    assert "骨子案（公開）" in both and "骨子案（別の審議会）" in both and "骨子案の検討会" in both

    only_other = _text(_find(None, q="骨子案", body="other-body"))
    assert "骨子案（別の審議会）" in only_other and "骨子案（公開）" not in only_other

    assert "骨子案（公開）" in _text(_find(None, q="骨子案", year="2023"))
    response = _find(None, q="骨子案", year="2024")  # not offered: no meetings in FY2024
    assert "骨子案（公開）" not in _text(response)
    assert 'aria-describedby="id_year-error"' in _text(response)


def test_body_and_year_without_a_word_list_the_meetings(scene):
    page = _text(_find(None, body="dx-plan", year="2023"))
    assert "策定委員会 第1回" in page
    assert "骨子案（公開）" not in page  # materials need a word


def test_words_are_normalised_and_case_insensitive(scene):
    for query in ("ＤＸガイド", "dxガイド", "Dx　ｶﾞｲﾄﾞﾗｲﾝ", "ｶﾞｲﾄﾞ", "ｄｘ"):
        assert "ＤＸガイドライン" in _text(_find(None, q=query)), query
    # Every word must match: the two words are in different materials.
    assert "ＤＸガイドライン" not in _text(_find(None, q="ガイド 委員限り"))


def test_a_meeting_is_found_by_number_place_and_title(scene):
    for query in ("第1回", "青森県庁"):
        assert "策定委員会 第1回" in _text(_find(None, q=query)), query


def test_empty_query_shows_the_bodies_and_years_not_the_rows(scene, body):
    page = _text(_find(None))
    assert body.name in page
    assert reverse("meetings:schedule_year", args=[2023]) in page
    assert "骨子案" not in page


def test_more_results_are_paged(scene, secretariat):
    for n in range(25):
        _material(scene, secretariat, f"参考データ{n}", Material.Visibility.PUBLIC)
    first = _text(_find(None, q="参考データ"))
    assert first.count("/download/") == 20
    assert "Page 1 of 2" in first
    second = _text(_find(None, q="参考データ", page="2"))
    assert second.count("/download/") == 5 and "Page 2 of 2" in second


def test_the_kind_filter(scene):
    page = _text(_find(None, q="骨子案", kind="agenda"))
    assert "骨子案（公開）" not in page and "骨子案について" in page


# --- queries ------------------------------------------------------------------------------------


def _grow(body, start: int, count: int, secretariat) -> None:
    """`count` meetings with an approved 次第 (notices sent) and public, members' and closed materials."""
    meetings = add_meetings(body, start, count, agenda_status=Agenda.Status.APPROVED)
    Meeting.objects.filter(pk__in=[m.pk for m in meetings]).update(
        title="骨子案の検討", status=Meeting.Status.NOTIFIED
    )
    from meetings.models import AgendaVersion

    agendas = list(Agenda.objects.filter(meeting__in=meetings))
    snapshot = {
        "meeting": {},
        "items": [
            {"number": "1", "depth": 0, "title": "骨子案について", "detail": "", "presenter": "", "time": "",
             "public": True},
            {"number": "2", "depth": 0, "title": "骨子案の人事", "detail": "", "presenter": "", "time": "",
             "public": False},
        ],
        "note": "",
    }
    versions = AgendaVersion.objects.bulk_create(
        AgendaVersion(agenda=a, number=1, snapshot=snapshot, sha256="0" * 64, decision="approved") for a in agendas
    )
    for agenda, version in zip(agendas, versions, strict=True):
        agenda.approved_version = version
    Agenda.objects.bulk_update(agendas, ["approved_version"])
    materials = Material.objects.bulk_create(
        Material(meeting=m, label=f"資料{i}", title=f"骨子案資料{i}", position=i, visibility=visibility,
                 is_closed=i == 4)
        for m in meetings
        for i, visibility in enumerate(("public", "members", "secretariat", "members"), start=1)
    )
    file_versions = MaterialVersion.objects.bulk_create(
        MaterialVersion(material=mat, number=1, file="materials/x.pdf", original_name="x.pdf", extension="pdf",
                        content_type="application/pdf", size=1234, sha256="0" * 64)
        for mat in materials
    )
    for mat, version in zip(materials, file_versions, strict=True):
        mat.current_version = version
    Material.objects.bulk_update(materials, ["current_version"])


SEARCHES = ({"q": "骨子案"}, {"q": "骨子案", "kind": "material", "page": "2"}, {})


def test_queries_do_not_grow_with_the_data(scene, body, secretariat, request):
    """Each search (SEARCHES) by a visitor, a member and the secretariat: the same queries with ten times the
    meetings, items and materials. The data is grown once for all of them."""
    clients = {who: _client(request.getfixturevalue(who) if who else None) for who in (None, "member", "secretariat")}
    _grow(body, 100, 6, secretariat)
    indexer.reindex_all()
    small = {}
    for who, client in clients.items():
        for n, params in enumerate(SEARCHES):
            client.get(URL, params)  # caches (content types, templates)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL, params).status_code == 200
            small[who, n] = len(queries)

    _grow(body, 1000, 60, secretariat)  # ten times as many meetings, items and materials
    indexer.reindex_all()
    grew = {}
    for who, client in clients.items():
        for n, params in enumerate(SEARCHES):
            with CaptureQueriesContext(connection) as large:
                response = client.get(URL, params)
            assert response.status_code == 200
            if len(large) != small[who, n]:
                grew[who, n] = [q["sql"] for q in large.captured_queries]
            if params.get("q") and not params.get("kind") and who is None:
                assert "骨子案の人事" not in _text(response)
    assert grew == {}


# --- the site around it: the header's search box, footers with the secretariat, breadcrumbs ----------


def test_every_page_has_the_search_box_and_the_general_footer(scene, settings):
    settings.DXPLAN_ORGANISATION_CONTACT = "企画政策部DX推進課 017-000-0000"
    page = _text(_find(None))
    assert 'role="search"' in page and 'id="site-search-q"' in page and f'action="{URL}"' in page
    assert "企画政策部DX推進課 017-000-0000" in page


def test_body_and_meeting_pages_name_the_bodys_secretariat_in_the_footer(scene, body, unit):
    unit.phone, unit.email = "017-734-9999", "dx@pref.example.jp"
    unit.save(update_fields=["phone", "email"])
    for url in (
        reverse("meetings:detail", args=[scene.pk]),
        reverse("meetings:body_meetings", args=[body.slug]),
        reverse("committee:guideline_current", args=[body.slug]),
    ):
        footer = _text(Client().get(url)).split("<footer")[1]
        assert "DX推進課" in footer and "017-734-9999" in footer and 'href="mailto:dx@pref.example.jp"' in footer, url


def test_the_meeting_page_has_breadcrumbs_and_shows_attendance_once_held(held, client):
    page = _text(client.get(reverse("meetings:detail", args=[held.pk])))
    assert '<nav aria-label="パンくずリスト">' in page
    crumbs = page.split('<nav aria-label="パンくずリスト">')[1].split("</nav>")[0]
    assert reverse("committee:home") in crumbs and reverse("committee:body_detail", args=["dx-plan"]) in crumbs
    assert 'aria-current="page">第1回' in crumbs
    assert "令和5年6月7日(水) 14:00–16:00" in page and "青森県庁" in page and "公開" in page
    assert "佐藤 志穂" in page or "佐藤志穂" in page
    assert "Present" in page or "出席" in page


def test_meetings_are_listed_latest_first_month_only_ones_in_their_month(body, secretariat, in_term):
    from tests.meetings.conftest import plan

    june = plan(body, secretariat, day=dt.date(2023, 6, 7))
    august = services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2023, 8, 1))
    july = plan(body, secretariat, day=dt.date(2023, 7, 26))
    indexer.reindex_all()
    found = search_entries(viewer_for(secretariat), ["策定委員会"], Filters(kinds=["meeting"]))
    assert [e.meeting for e in found][:3] == [august, july, june]


def test_the_kind_of_an_agenda_item_found_is_not_a_count_in_japanese(scene):
    """Items of the 次第 found are labelled as such; 「議題数」 (a count) was the wrong word (issue 10)."""
    indexer.reindex_all()
    with translation.override("ja"):
        page = Client(HTTP_ACCEPT_LANGUAGE="ja").get(URL, {"q": "骨子案"}).content.decode()
    assert "骨子案" in page
    assert "議題数" not in page
