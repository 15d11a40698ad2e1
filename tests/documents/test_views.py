"""Downloads and the secretariat's materials page: who may have what (404 otherwise, never 403), the
headers no title can break, the ZIP of exactly the visible materials, download logging, escaping,
and query counts that do not grow with the number of materials."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from urllib.parse import unquote

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee.models import Appointment
from core.models import AuditEntry, User
from documents import selectors, services
from documents.models import Download, Material, MaterialVersion
from documents.views import download_name
from tests import factories
from tests.conftest import TOKYO

from .conftest import (
    CLOSED,
    LEVELS,
    MEMBERS,
    PUBLIC,
    SECRETARIAT_ONLY,
    client_for,
    pdf_bytes,
    stored_files,
    upload,
)

ROLES = ("anonymous", "outsider", "other_member", "member", "attendee", "chair", "secretariat", "other_secretariat",
         "superuser")
READERS = {"member", "attendee", "chair", "secretariat", "superuser"}  # members on the day, invited, secretariat
SEES = {
    SECRETARIAT_ONLY: {"secretariat", "superuser"},
    MEMBERS: READERS,
    CLOSED: READERS,
    PUBLIC: set(ROLES),
}
LOGIN = "login"
ACTIONS = ("list", "download", "zip", "versions")
# Content-Disposition: an ASCII fallback and the RFC 5987 name, nothing else.
DISPOSITION = re.compile(r"attachment; filename=\"[A-Za-z0-9._-]+\"; filename\*=UTF-8''[A-Za-z0-9%._~-]+")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def filename_of(response) -> str:
    """The UTF-8 name (RFC 6266 prefers filename* to the fallback), parsed back from a well-formed header."""
    value = response["Content-Disposition"]
    assert DISPOSITION.fullmatch(value), value
    return unquote(value.split("filename*=UTF-8''", 1)[1], encoding="utf-8", errors="strict")


def outcome(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


def user_for(request, role: str):
    return None if role == "anonymous" else request.getfixturevalue(role)


def visible(user, meeting) -> list[Material]:
    return list(selectors.materials_visible_to(user or AnonymousUser(), meeting))


# --- the permission matrix ---------------------------------------------------------------------


def _expected(action: str, level: str, role: str) -> object:
    if action == "versions":  # earlier versions: the secretariat only, whatever the level
        return 200 if role in ("secretariat", "superuser") else (LOGIN if role == "anonymous" else 404)
    return 200 if role in SEES[level] else 404


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("level", LEVELS)
def test_permission_matrix(request, add_material, meeting, secretariat, attendee, level, action):
    """One material at one level, as every role meets it by one way in."""
    data = pdf_bytes()
    material = add_material(level, data=data)
    if action == "versions":
        services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    got = {}
    for role in ROLES:
        user = user_for(request, role)
        if action == "list":
            got[role] = 200 if material in visible(user, meeting) else 404
            continue
        if action == "download":
            response = client_for(user).get(reverse("documents:download", args=[material.pk]))
        elif action == "zip":
            response = client_for(user).get(reverse("documents:download_all", args=[meeting.pk]))
        else:
            response = client_for(user).get(reverse("documents:version_download", args=[material.pk, 1]))
        got[role] = outcome(response)
        if got[role] == 200 and action == "zip":
            names = zipfile.ZipFile(io.BytesIO(body_of(response))).namelist()
            assert names == [download_name(material, material.current_version)], role
        elif got[role] == 200:
            assert body_of(response) == data, role
    assert got == {role: _expected(action, level, role) for role in ROLES}, f"{action} {level}"


def test_unknown_material_and_meeting_answer_404(secretariat, meeting):
    client = client_for(secretariat)
    assert client.get(reverse("documents:download", args=[999999])).status_code == 404
    assert client.get(reverse("documents:version_download", args=[999999, 1])).status_code == 404
    assert client.get(reverse("documents:download_all", args=[999999])).status_code == 404


def test_a_material_still_without_a_file_answers_404_even_to_the_secretariat(meeting, secretariat):
    material = services.material_create(actor=secretariat, meeting=meeting, title="準備中")
    assert material in visible(secretariat, meeting)
    assert client_for(secretariat).get(reverse("documents:download", args=[material.pk])).status_code == 404
    assert not Download.objects.exists()


def test_members_of_a_private_body_only(add_material, body, member, outsider, meeting):
    material = add_material(PUBLIC)
    body.is_public = False
    body.save(update_fields=["is_public"])
    url = reverse("documents:download", args=[material.pk])
    assert client_for(None).get(url).status_code == 404
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(member).get(url).status_code == 200
    assert client_for(None).get(reverse("documents:download_all", args=[meeting.pk])).status_code == 404


# --- terms of office: judged on the meeting day ---------------------------------------------------


def _appointed(body, email: str, start: dt.date, end: dt.date):
    user = factories.UserFactory(email=email)
    factories.AppointmentFactory(body=body, person=factories.PersonFactory(user=user), term_start=start, term_end=end)
    return user


def test_a_member_whose_term_ended_before_the_meeting_does_not_see_members_materials(add_material, body, meeting):
    former = _appointed(body, "former@test.example", dt.date(2022, 5, 10), dt.date(2023, 5, 31))
    for_members, for_all = add_material(MEMBERS), add_material(PUBLIC, title="公開")
    client = client_for(former)
    assert client.get(reverse("documents:download", args=[for_members.pk])).status_code == 404
    assert client.get(reverse("documents:download", args=[for_all.pk])).status_code == 200
    assert visible(former, meeting) == [for_all]


def test_a_member_appointed_after_the_meeting_does_not_see_its_members_materials(add_material, body, meeting):
    later = _appointed(body, "later@test.example", dt.date(2023, 7, 1), dt.date(2024, 3, 31))
    material = add_material(MEMBERS)
    assert client_for(later).get(reverse("documents:download", args=[material.pk])).status_code == 404


def test_a_member_who_ended_early_before_the_meeting_does_not_see_them(add_material, member_appointment, meeting):
    Appointment.objects.filter(pk=member_appointment.pk).update(
        ended_on=dt.date(2023, 6, 1), end_reason=Appointment.EndReason.RESIGNED
    )
    material = add_material(MEMBERS)
    assert client_for(member_appointment.person.user).get(
        reverse("documents:download", args=[material.pk])).status_code == 404


def test_a_members_right_to_members_materials_ends_with_the_term(add_material, member, meeting):
    # SECURITY.md: revoking a right (a term ends) takes effect at once; earlier download URLs stop working.
    material, public = add_material(MEMBERS), add_material(PUBLIC, title="公開")
    url = reverse("documents:download", args=[material.pk])
    with time_machine.travel(dt.datetime(2024, 3, 31, 23, 0, tzinfo=TOKYO), tick=False):
        assert client_for(member).get(url).status_code == 200  # the last day of the term
    with time_machine.travel(dt.datetime(2024, 4, 1, 9, 0, tzinfo=TOKYO), tick=False):
        assert client_for(member).get(url).status_code == 404
        assert visible(member, meeting) == [public]


# --- headers -------------------------------------------------------------------------------------


def test_download_headers(add_material, member):
    data = pdf_bytes()
    material = add_material(MEMBERS, title="(仮称)青森県DX推進プランの策定及び推進について", data=data)
    response = client_for(member).get(reverse("documents:download", args=[material.pk]))
    assert response.status_code == 200
    assert filename_of(response) == "資料1_(仮称)青森県DX推進プランの策定及び推進について.pdf"
    assert f'filename="material-{material.pk}.pdf"' in response["Content-Disposition"]
    assert "filename*=UTF-8''%E8%B3%87%E6%96%991_" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "no-store" in response["Cache-Control"]
    assert int(response["Content-Length"]) == len(data) == len(body_of(response))


HOSTILE = [
    'say "hello"',
    "x\r\nSet-Cookie: stolen=1\r\n\r\n<html>",
    "<svg onload=alert(1)>",
    "../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    'a; filename="evil.html"; b=',
    "\u202egpj.exe",
    "tab\there\x1b[31mred\x7f",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_a_hostile_title_cannot_break_the_header(add_material, member, title):
    material = add_material(MEMBERS)
    # Written past the service (which keeps titles to one line), as an import or the admin might.
    Material.objects.filter(pk=material.pk).update(title=title)
    response = client_for(member).get(reverse("documents:download", args=[material.pk]))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and not response.cookies.get("stolen")
    for value in response.headers.values():
        assert "\r" not in value and "\n" not in value
    name = filename_of(response)
    assert name.startswith("資料1_") and name.endswith(".pdf")
    assert not set(name) & set('/\\"<>:*?|\r\n\t\x00\u202e')


def test_an_earlier_version_is_named_with_its_number(add_material, secretariat):
    material = add_material(MEMBERS, title="報告書.pdf版")
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    response = client_for(secretariat).get(reverse("documents:version_download", args=[material.pk, 1]))
    assert filename_of(response) == "資料1_報告書.pdf版_v1.pdf"
    assert f'filename="material-{material.pk}-v1.pdf"' in response["Content-Disposition"]


def test_x_accel_redirect_hands_the_file_to_nginx(settings, add_material, member, secretariat):
    settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX = "/protected/"
    material = add_material(MEMBERS)
    response = client_for(member).get(reverse("documents:download", args=[material.pk]))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{material.current_version.file.name}"
    assert response.content == b""
    assert response["Content-Security-Policy"] == "sandbox" and response["X-Content-Type-Options"] == "nosniff"
    assert filename_of(response) == download_name(material, material.current_version)
    assert Download.objects.filter(material=material, user=member).count() == 1
    old = client_for(secretariat).get(reverse("documents:version_download", args=[material.pk, 1]))
    assert old["X-Accel-Redirect"] == f"/protected/{material.current_version.file.name}" and old.content == b""


# --- the ZIP --------------------------------------------------------------------------------------


@pytest.fixture
def materials(meeting, secretariat, add_material):
    """資料1 委員, 資料2 公開, 資料3 事務局のみ, 資料4 委員 (withdrawn), 参考資料1 非公開, 次第 without a file."""
    made = {
        "m1": add_material(MEMBERS, title="設置要綱", data=pdf_bytes(1)),
        "m2": add_material(PUBLIC, title="策定及び推進について", data=pdf_bytes(2)),
        "m3": add_material(SECRETARIAT_ONLY, title="青森県DX推進方向", data=pdf_bytes(3)),
        "m4": add_material(MEMBERS, title="取り下げた資料", data=pdf_bytes(4)),
        "ref": add_material(CLOSED, title="人事案", label="参考資料1", data=pdf_bytes(5)),
        "empty": services.material_create(actor=secretariat, meeting=meeting, title="次第", label=""),
    }
    services.material_withdraw(actor=secretariat, material=made["m4"], reason="誤掲載")
    return made


def _zip(client, meeting):
    response = client.get(reverse("documents:download_all", args=[meeting.pk]))
    assert response.status_code == 200
    data = body_of(response)
    assert int(response["Content-Length"]) == len(data)
    assert response["Content-Type"] == "application/zip"
    assert filename_of(response) == "策定委員会_第1回_資料一式.zip"
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        ("anonymous", ["m2"]),
        ("outsider", ["m2"]),
        ("member", ["m1", "m2", "ref"]),
        ("attendee", ["m1", "m2", "ref"]),
        ("secretariat", ["m1", "m2", "m3", "ref"]),
    ],
)
def test_the_zip_holds_exactly_the_visible_materials_in_label_order(request, materials, meeting, role, keys):
    archive = _zip(client_for(user_for(request, role)), meeting)
    expected = [materials[k] for k in keys]
    assert archive.namelist() == [download_name(m, m.current_version) for m in expected]
    for info, material in zip(archive.infolist(), expected, strict=True):
        assert info.flag_bits & 0x800, info.filename  # UTF-8 names
        assert info.compress_type == zipfile.ZIP_STORED
        with material.current_version.file.open("rb") as handle:
            assert archive.read(info) == handle.read()


def test_the_zip_serves_the_newest_version(add_material, secretariat, member, meeting):
    material = add_material(MEMBERS, data=pdf_bytes(1))
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(3)))
    archive = _zip(client_for(member), meeting)
    assert archive.read(archive.namelist()[0]) == pdf_bytes(3)


def test_zip_names_are_safe_and_unique(meeting, secretariat, member, add_material):
    add_material(MEMBERS, title="../../etc/passwd", label="")
    add_material(MEMBERS, title="../../etc/passwd", label="")
    add_material(MEMBERS, title="<svg onload=alert(1)>\r\n")
    names = _zip(client_for(member), meeting).namelist()
    assert len(set(names)) == 3
    for name in names:
        assert "/" not in name and "\\" not in name and "\r" not in name and "<" not in name
        assert not name.startswith(".")


def test_no_visible_material_means_no_zip(add_material, meeting, member):
    add_material(SECRETARIAT_ONLY)
    assert client_for(member).get(reverse("documents:download_all", args=[meeting.pk])).status_code == 404


# --- download logging ---------------------------------------------------------------------------


def test_downloading_a_members_material_is_logged_with_the_version(add_material, secretariat, member):
    material = add_material(MEMBERS)
    url = reverse("documents:download", args=[material.pk])
    client = client_for(member)
    client.get(url, REMOTE_ADDR="192.0.2.10")
    services.material_replace(actor=secretariat, material=material, upload=upload("v2.pdf", pdf_bytes(2)))
    client.get(url, REMOTE_ADDR="192.0.2.10")
    rows = list(Download.objects.filter(material=material).order_by("id"))
    assert [(r.user, r.version.number, r.via_zip, r.ip_address) for r in rows] == [
        (member, 1, False, "192.0.2.10"), (member, 2, False, "192.0.2.10"),
    ]
    entries = AuditEntry.objects.filter(action="material_downloaded", target_id=str(material.pk)).order_by("id")
    assert [(e.actor, e.data["version"], e.ip_address) for e in entries] == [
        (member, 1, "192.0.2.10"), (member, 2, "192.0.2.10"),
    ]


def test_closed_material_downloads_are_logged_too(add_material, chair):
    material = add_material(CLOSED)
    client_for(chair).get(reverse("documents:download", args=[material.pk]))
    assert Download.objects.get(material=material).user == chair


def test_public_downloads_are_not_logged(add_material, member):
    material = add_material(PUBLIC)
    for user in (None, member):
        assert client_for(user).get(reverse("documents:download", args=[material.pk])).status_code == 200
    assert not Download.objects.exists()
    assert not AuditEntry.objects.filter(action="material_downloaded").exists()


def test_refused_downloads_are_not_logged(add_material, outsider):
    material = add_material(MEMBERS)
    assert client_for(outsider).get(reverse("documents:download", args=[material.pk])).status_code == 404
    assert not Download.objects.exists()


def test_the_zip_logs_each_members_material(materials, member, meeting):
    client_for(member).get(reverse("documents:download_all", args=[meeting.pk]))
    logged = {(d.material_id, d.version_id, d.via_zip) for d in Download.objects.filter(user=member)}
    assert logged == {(m.pk, m.current_version_id, True) for m in (materials["m1"], materials["ref"])}
    entries = AuditEntry.objects.filter(action="material_downloaded", actor=member)
    assert {(e.target_id, e.data["version"], e.data["zip"]) for e in entries} == {
        (str(materials["m1"].pk), 1, True), (str(materials["ref"].pk), 1, True),
    }


# --- the secretariat's page ---------------------------------------------------------------------


def manage_url(meeting) -> str:
    return reverse("documents:manage", args=[meeting.pk])


def english_client(user):
    # The site speaks Japanese by default (LocaleMiddleware); these pages are asserted by their msgids.
    return client_for(user, HTTP_ACCEPT_LANGUAGE="en")


def test_the_page_lists_who_has_not_downloaded(add_material, meeting, secretariat, member, chair, attendee):
    """The materials page counts who has not downloaded each members' material; the names are one click
    away, on the material's own page (issue 13: a list of names per material does not scale)."""
    material = add_material(MEMBERS)
    names = {r.holder_name for r in selectors.not_downloaded(material)}
    assert names == {"佐藤 志穂", "森 樹男", "参考 人子"}
    names_url = reverse("documents:not_downloaded", args=[material.pk])
    client = english_client(secretariat)
    page = client.get(manage_url(meeting)).content.decode()
    listed = page[page.index("Members who have not downloaded yet"):]
    assert f'href="{names_url}">3 of 3 not downloaded' in listed
    names_page = client.get(names_url).content.decode()
    assert "佐藤 志穂" in names_page and "森 樹男" in names_page and "参考 人子" in names_page

    client_for(member).get(reverse("documents:download", args=[material.pk]))
    assert {r.holder_name for r in selectors.not_downloaded(material)} == {"森 樹男", "参考 人子"}
    page = client.get(manage_url(meeting)).content.decode()
    listed = page[page.index("Members who have not downloaded yet"):]
    assert "2 of 3 not downloaded" in listed
    names_page = client.get(names_url).content.decode()
    assert "佐藤 志穂" not in names_page and "森 樹男" in names_page and "参考 人子" in names_page


def test_uploading_through_the_page(meeting, secretariat, media_root):
    data = pdf_bytes()
    response = english_client(secretariat).post(
        manage_url(meeting), {"title": "設置要綱", "label": "", "file": upload("設置要綱.pdf", data)}
    )
    assert response.status_code == 302
    material = Material.objects.get(meeting=meeting)
    assert (material.label, material.title, material.visibility) == ("資料1", "設置要綱", SECRETARIAT_ONLY)
    assert (media_root / material.current_version.file.name).read_bytes() == data


def test_a_refused_upload_shows_the_error_on_the_form_and_stores_nothing(meeting, secretariat, media_root):
    response = english_client(secretariat).post(
        manage_url(meeting), {"title": "資料", "file": upload("資料1.pdf", b"<html><script>alert(1)</script>")}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["file"] == ["The content of this file does not match its extension .pdf. Save it again in that "
                              "format and upload it."]
    assert "does not match its extension .pdf" in response.content.decode()
    assert not Material.objects.exists() and not MaterialVersion.objects.exists()
    assert stored_files(media_root) == []


def test_a_refused_upload_is_explained_in_japanese_by_default(meeting, secretariat, media_root):
    response = client_for(secretariat).post(
        manage_url(meeting), {"title": "資料", "file": upload("資料1.pdf", b"<html><script>alert(1)</script>")}
    )
    assert response.status_code == 200
    [message] = response.context["form"].errors["file"]
    assert ".pdf" in message and re.search(r"[\u3040-\u30ff]", message), message
    assert "does not match its extension" not in response.content.decode()
    assert stored_files(media_root) == []


def test_a_hostile_file_name_is_shown_escaped(meeting, secretariat):
    client = english_client(secretariat)
    client.post(manage_url(meeting), {"title": "資料", "file": upload("<svg onload=alert(1)>.pdf", pdf_bytes())})
    assert MaterialVersion.objects.get().original_name == "<svg onload=alert(1)>.pdf"
    page = client.get(manage_url(meeting)).content.decode()
    assert "&lt;svg onload=alert(1)&gt;.pdf" in page
    assert "<svg onload" not in page


def test_a_hostile_title_is_shown_escaped_in_the_admin_audit_list(add_material, superuser):
    add_material(MEMBERS, title="<svg onload=alert(1)>")
    page = client_for(superuser).get(reverse("admin:core_auditentry_changelist")).content.decode()
    assert "資料1 &lt;svg onload=alert(1)&gt;" in page
    assert "<svg onload" not in page


def test_actions_through_the_page(add_material, meeting, secretariat):
    material = add_material(SECRETARIAT_ONLY)
    client = english_client(secretariat)
    action = lambda name: reverse("documents:manage_action", args=[material.pk, name])  # noqa: E731
    assert client.post(action("visibility"), {"visibility": MEMBERS}).status_code == 302
    assert client.post(action("replace"), {"file": upload("v2.pdf", pdf_bytes(2)), "note": "修正"}).status_code == 302
    assert client.post(action("withdraw"), {"reason": "誤掲載"}).status_code == 302
    material.refresh_from_db()
    assert (material.visibility, material.current_version.number, material.is_withdrawn) == (MEMBERS, 2, True)
    assert client.post(action("restore")).status_code == 302
    assert client.post(action("close")).status_code == 302
    response = client.post(action("visibility"), {"visibility": PUBLIC}, follow=True)
    assert "can never be made public" in response.content.decode()
    material.refresh_from_db()
    assert (material.is_withdrawn, material.is_closed, material.visibility) == (False, True, MEMBERS)
    assert client.post(action("no-such-action")).status_code == 404


def test_a_refused_replacement_through_the_page_stores_nothing(add_material, secretariat, media_root):
    material = add_material(MEMBERS)
    before = stored_files(media_root)
    response = english_client(secretariat).post(
        reverse("documents:manage_action", args=[material.pk, "replace"]),
        {"file": upload("v2.pdf", b"MZ\x90\x00" + b"\x00" * 64)}, follow=True,
    )
    assert "does not match its extension .pdf" in response.content.decode()
    assert MaterialVersion.objects.filter(material=material).count() == 1
    assert stored_files(media_root) == before


@pytest.mark.parametrize("role", ["member", "chair", "other_secretariat", "outsider"])
def test_forged_posts_change_nothing(request, add_material, role):
    material = add_material(SECRETARIAT_ONLY)
    client = client_for(user_for(request, role))
    for name, data in [("visibility", {"visibility": PUBLIC}), ("withdraw", {"reason": "x"}),
                       ("replace", {"file": upload("v2.pdf", pdf_bytes(2))})]:
        assert client.post(reverse("documents:manage_action", args=[material.pk, name]), data).status_code == 404
    assert client.post(manage_url(material.meeting), {"title": "x"}).status_code == 404
    material.refresh_from_db()
    assert (material.visibility, material.is_withdrawn, material.current_version.number) == (SECRETARIAT_ONLY, False, 1)
    assert Material.objects.count() == 1


# --- query counts ------------------------------------------------------------------------------------


def _add_many(add_material, start: int, count: int) -> None:
    for n in range(start, start + count):
        add_material(MEMBERS if n % 3 else PUBLIC, title=f"資料その{n}", data=pdf_bytes())


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)


def test_the_zip_runs_a_fixed_number_of_queries(add_material, meeting, member):
    client = client_for(member)
    url = reverse("documents:download_all", args=[meeting.pk])
    _add_many(add_material, 0, 3)
    with_3 = _queries(lambda: client.get(url))
    _add_many(add_material, 3, 27)
    with_30 = _queries(lambda: client.get(url))
    assert with_30 == with_3 <= 12
    assert Download.objects.filter(via_zip=True).count() == 2 + 20  # the members-only ones, each time


def test_materials_visible_to_runs_a_fixed_number_of_queries(add_material, meeting, member, attendee, secretariat):
    def counts() -> list[int]:
        # Fresh user objects: the secretariat check caches its answer on the instance.
        users = [None, *User.objects.filter(pk__in=[member.pk, attendee.pk, secretariat.pk]).order_by("pk")]
        return [_queries(lambda u=u: [(m.current_version, m.agenda_item) for m in visible(u, meeting)])
                for u in users]

    _add_many(add_material, 0, 3)
    with_3 = counts()
    _add_many(add_material, 3, 27)
    assert counts() == with_3
    assert max(with_3) <= 4


def test_the_secretariat_page_runs_a_fixed_number_of_queries(add_material, meeting, secretariat, member, chair):
    client = client_for(secretariat)
    _add_many(add_material, 0, 3)
    with_3 = _queries(lambda: client.get(manage_url(meeting)))
    _add_many(add_material, 3, 27)
    with_30 = _queries(lambda: client.get(manage_url(meeting)))
    assert with_30 == with_3


def test_nobody_to_read_is_not_everyone_has_downloaded(add_material, meeting, secretariat, body):
    """With no member in office on the meeting day and no attendee invited, the page does not claim that
    everyone has downloaded the members' materials (issue 10)."""
    add_material(MEMBERS)
    client = client_for(secretariat)
    text = client.get(manage_url(meeting), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "everyone has downloaded it" not in text
    assert "Nobody is invited to read the members" in text
