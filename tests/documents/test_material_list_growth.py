"""The secretariat's materials page at many times the demo's size (issue 13): a fixed number of queries
whatever the number of materials and readers, one page of materials, counts of who has not downloaded
each members' material with the names one click away, on the material's own page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from documents.models import Download, Material, MaterialVersion
from documents.views import MATERIALS_PAGE
from tests.meetings.conftest import add_members

from .conftest import MEMBERS, client_for

MAX_BYTES = 200 * 1024
MATERIALS = 240  # the demo's meeting has 7
READERS = 150  # members in office on the meeting day (the demo's committee has 12)
DOWNLOADERS = 40  # of them, who downloaded every members' material


@pytest.fixture
def crowded(add_material, meeting, body, guideline, member):
    """A meeting with MATERIALS materials (a third members-only) and READERS more members (besides the
    fixture's member), DOWNLOADERS of whom downloaded every members' material: bulk rows, as the page
    reads them."""
    first = add_material(MEMBERS, title="資料0")
    appointments = add_members(body, guideline, 0, READERS)
    materials = Material.objects.bulk_create(
        Material(meeting=meeting, label=f"参考{n}", title=f"参考資料{n}", position=100 + n,
                 visibility=("public", MEMBERS, "secretariat")[n % 3])
        for n in range(1, MATERIALS)
    )
    members_only = [first, *(m for m in materials if m.visibility == MEMBERS)]
    version = MaterialVersion.objects.get(material=first)
    Download.objects.bulk_create(
        Download(material=m, version=version, user_id=a.person.user_id)
        for m in members_only for a in appointments[:DOWNLOADERS]
    )
    return members_only


def test_the_material_list_has_capped_queries_and_one_page_of_materials(
    crowded, meeting, secretariat, django_assert_max_num_queries
):
    client = client_for(secretariat, HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("documents:manage", args=[meeting.pk])
    client.get(url)  # sessions, content types
    with django_assert_max_num_queries(20):
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < MAX_BYTES, len(response.content)
    assert page.count('id="vis-') == MATERIALS_PAGE
    assert f"1–{MATERIALS_PAGE} of {MATERIALS}" in page
    # Only this page's members' materials are counted; everyone but the DOWNLOADERS has still to download.
    listed = page[page.index("Members who have not downloaded yet"):]
    readers = READERS + 1  # and the fixture's member (佐藤 志穂), who downloaded nothing
    first_page = Material.objects.filter(meeting=meeting).order_by("position", "id")[:MATERIALS_PAGE]
    on_page = [m for m in first_page if m.visibility == MEMBERS]
    assert len(on_page) >= 10
    assert listed.count(f"{readers - DOWNLOADERS} of {readers} not downloaded") == len(on_page)
    assert "委員0001" not in listed  # names are on the material's own page

    with django_assert_max_num_queries(20):
        last = client.get(url, {"page": MATERIALS // MATERIALS_PAGE})
    assert f"<td>参考{MATERIALS - 1}</td>" not in page and f"<td>参考{MATERIALS - 1}</td>" in last.content.decode()


def test_the_names_are_one_click_away_and_bounded(crowded, secretariat, django_assert_max_num_queries):
    client = client_for(secretariat, HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("documents:not_downloaded", args=[crowded[1].pk])
    client.get(url)
    with django_assert_max_num_queries(15):
        response = client.get(url)
    page = response.content.decode()
    assert len(response.content) < MAX_BYTES
    assert "委員0000" not in page and "委員0039" not in page  # the DOWNLOADERS
    assert "委員0040" in page and "委員0149" in page and "佐藤 志穂" in page
    assert f"{READERS + 1 - DOWNLOADERS} readers have not downloaded it yet." in page


def test_the_names_page_is_only_for_the_secretariat_and_members_materials(
    add_material, secretariat, member, other_secretariat
):
    material = add_material(MEMBERS)
    url = reverse("documents:not_downloaded", args=[material.pk])
    assert client_for(member).get(url).status_code == 404
    assert client_for(other_secretariat).get(url).status_code == 404
    assert client_for(secretariat).get(url).status_code == 200
    public = add_material("public")
    assert client_for(secretariat).get(reverse("documents:not_downloaded", args=[public.pk])).status_code == 404


def test_the_counts_and_the_names_page_speak_japanese(add_material, meeting, secretariat, member):
    material = add_material(MEMBERS)
    client = client_for(secretariat, HTTP_ACCEPT_LANGUAGE="ja")
    page = client.get(reverse("documents:manage", args=[meeting.pk])).content.decode()
    assert "1人中1人が未ダウンロード" in page and "not downloaded" not in page
    names = client.get(reverse("documents:not_downloaded", args=[material.pk])).content.decode()
    assert "1人がまだダウンロードしていません。" in names and "佐藤 志穂" in names
    assert "資料の一覧に戻る" in names
