"""The printed documents: 次第, 出席者名簿, 席図, 開催通知, 委嘱状 and 会議資料一式 as PDFs with their Japanese text
(extracted with pypdf) and the IPAex font embedded; who may fetch each (404 where refused); the
fetcher that keeps WeasyPrint away from the network and from other files; the download headers.

The meeting here is 第1回 on 2023-05-10 14:00 (the seed's date); "now" is 2023-06-01 (`in_term`).
PDF renders are counted: each costs WeasyPrint ~0.3–1 s.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from committee.models import OrgUnit, OrgUnitName
from documents import pdf
from documents import services as material_services
from documents.models import Download, Material
from documents.print_views import pdf_response, safe_filename
from meetings import services as meeting_services
from meetings.models import Attendance, Attendee, Meeting
from tests import factories
from tests.conftest import TOKYO
from tests.documents.conftest import client_for, image_bytes, upload

START = dt.datetime(2023, 5, 10, 14, 0, tzinfo=TOKYO)
ONLINE_URL = "https://meet.example/secret-room-4711"

ANONYMOUS, OUTSIDER, OTHER_MEMBER, MEMBER, GUEST = "anonymous", "outsider", "other_member", "member", "guest"
CHAIR, OTHER_SECRETARIAT, SECRETARIAT, SUPERUSER = "chair", "other_secretariat", "secretariat", "superuser"
ROLES = (ANONYMOUS, OUTSIDER, OTHER_MEMBER, MEMBER, GUEST, CHAIR, OTHER_SECRETARIAT, SECRETARIAT, SUPERUSER)
INSIDERS = (MEMBER, GUEST, CHAIR, SECRETARIAT, SUPERUSER)
MANAGERS = (SECRETARIAT, SUPERUSER)
LOGIN = "login"


# --- helpers -------------------------------------------------------------------------------------


def text_pdf(*pages: str) -> bytes:
    """A small valid PDF whose pages carry the given ASCII text (Helvetica, not embedded)."""
    objects = {1: "<< /Type /Catalog /Pages 2 0 R >>",
               2: f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(len(pages)))}] "
                  f"/Count {len(pages)} >>",
               3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    for i, text in enumerate(pages):
        stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET"
        objects[4 + 2 * i] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                              f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>")
        objects[5 + 2 * i] = f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream"
    out, offsets = b"%PDF-1.4\n", []
    for number in sorted(objects):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{objects[number]}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def pages_text(data: bytes) -> list[str]:
    """Each page's text with white space removed (a line may wrap anywhere in Japanese)."""
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return "".join(pages_text(data))


def embedded_fonts(data: bytes) -> set[str]:
    """Base names of the fonts whose program is embedded (FontFile2 / FontFile3)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and ({"/FontFile2", "/FontFile3"} & set(descriptor.get_object())):
                    names.add(str(font["/BaseFont"]))
    return names


def assert_pdf(response, *, private: bool) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    cache = response.get("Cache-Control", "")
    assert ("private" in cache and "no-store" in cache) if private else "no-store" not in cache
    data = response.content
    assert data.startswith(b"%PDF-")
    assert any("IPAexGothic" in name for name in embedded_fonts(data)), embedded_fonts(data)
    return data


def _url(name: str, *args) -> str:
    return reverse(f"print:{name}", args=args)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def organisation(body):
    """DX推進課 under 企画政策部 until 2024-03-31 and under 総合政策部 from 2024-04-01 (as committee/demo.py)."""
    def unit(code, kind, name, parent=None, valid_from=dt.date(2000, 4, 1)):
        made = OrgUnit.objects.create(code=code, kind=kind)
        OrgUnitName.objects.create(unit=made, name=name, parent=parent, valid_from=valid_from)
        return made

    prefecture = unit("aomori", OrgUnit.Kind.GOVERNMENT, "青森県", valid_from=dt.date(1871, 9, 4))
    kikaku = unit("kikaku-seisaku", OrgUnit.Kind.DEPARTMENT, "企画政策部", prefecture)
    sogo = unit("sogo-seisaku", OrgUnit.Kind.DEPARTMENT, "総合政策部", prefecture, dt.date(2024, 4, 1))
    division = body.secretariat
    division.names.all().delete()
    OrgUnitName.objects.create(unit=division, name="DX推進課", parent=kikaku, valid_from=dt.date(2023, 4, 1),
                               valid_until=dt.date(2024, 3, 31))
    OrgUnitName.objects.create(unit=division, name="DX推進課", parent=sogo, valid_from=dt.date(2024, 4, 1))
    division.phone, division.email = "017-734-9999", "dx-suishin@dxplan.example"
    division.save(update_fields=["phone", "email"])
    return division


@pytest.fixture
def guest(first):
    """An invited 説明員 with an account (no appointment to the body)."""
    user = factories.UserFactory(email="explainer@test.example")
    person = factories.PersonFactory(family_name="説明", given_name="花子", family_name_kana="せつめい", user=user)
    Attendee.objects.create(meeting=first, role=Attendee.Role.EXPLAINER, person=person, title="青森県新産業創造課",
                            position=1)
    return user


@pytest.fixture
def first(body, secretariat, chair, member, in_term) -> Meeting:
    """第1回 on 2023-05-10 14:00–16:00 with an online link; 次第 approved (notices not yet sent)."""
    meeting = meeting_services.meeting_create(
        actor=secretariat, body=body, start_at=START, end_at=START + dt.timedelta(hours=2), venue_name="青森県庁",
        venue_room="北棟8階 会議室", online_url=ONLINE_URL, online_note="Teams会議",
    )
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    business = meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="議事")
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, parent=business,
                                     title="(仮称)青森県DX推進プランの策定及び推進について")
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, parent=business, title="意見交換",
                                     detail="本県のめざす姿について")
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, parent=business, title="人事案件",
                                     is_public=False, closure_basis="委員の承諾 (第4-4)")
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="閉会")
    version = meeting_services.agenda_submit(actor=secretariat, meeting=meeting)
    # The chair is chosen at this meeting, so the convening official (第4-1) approves its 次第.
    body.convener_account = factories.UserFactory(email="director@test.example")
    body.save(update_fields=["convener_account"])
    meeting_services.agenda_approve(actor=body.convener_account, meeting=meeting, sha256=version.sha256)
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.SECRETARIAT, title="企画政策部DX推進課", position=1)
    meeting_services.attendance_prepare(actor=secretariat, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def notified(first, secretariat) -> Meeting:
    return meeting_services.meeting_mark_notified(actor=secretariat, meeting=first)


@pytest.fixture
def held(notified, secretariat, chair, member) -> Meeting:
    """Held: the chair at the venue, the member online; seats generated."""
    rows = {r.appointment.person.user: r for r in notified.attendances.select_related("appointment__person")
            if r.appointment_id}
    meeting_services.attendance_reply(actor=secretariat, attendance=rows[chair], reply="venue", on_behalf=True)
    meeting_services.attendance_reply(actor=secretariat, attendance=rows[member], reply="online", on_behalf=True)
    meeting = meeting_services.meeting_mark_held(actor=secretariat, meeting=notified)
    present = Attendance.Actual.PRESENT
    records = {rows[chair].pk: (present, "venue"), rows[member].pk: (present, "online")}
    meeting_services.attendance_record(actor=secretariat, meeting=meeting, records=records)
    meeting_services.seating_generate(actor=secretariat, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def users(secretariat, chair, member, guest, outsider, other_member, other_secretariat, superuser):
    return {ANONYMOUS: None, OUTSIDER: outsider, OTHER_MEMBER: other_member, MEMBER: member, GUEST: guest,
            CHAIR: chair, OTHER_SECRETARIAT: other_secretariat, SECRETARIAT: secretariat, SUPERUSER: superuser}


@pytest.fixture
def materials(notified, secretariat):
    """資料1 (2 pages) and 資料2 (1 page) public PDFs, 資料3 a PNG, 資料4 a damaged PDF, and 参考資料1 members
    only; made out of label order so that the order printed is the materials' own."""
    def add(label, title, data, name, visibility, position):
        return material_services.material_create(
            actor=secretariat, meeting=notified, title=title, label=label, upload=upload(name, data),
            visibility=visibility, position=position)

    add("参考資料1", "委員意見シート", text_pdf("MEMBERS-ONLY"), "sheet.pdf", "members", 5)
    add("資料2", "策定及び推進について", text_pdf("MATERIAL-TWO"), "two.pdf", "public", 2)
    add("資料4", "壊れたファイル", b"%PDF-1.4\n" + b"\x00garbage" * 64, "broken.pdf", "public", 4)
    add("資料3", "推進体制図", image_bytes("PNG"), "chart.png", "public", 3)
    add("資料1", "設置要綱", text_pdf("MATERIAL-ONE-A", "MATERIAL-ONE-B"), "one.pdf", "public", 1)
    return notified


# --- the documents -------------------------------------------------------------------------------


def test_agenda_pdf_for_the_public(materials):  # 1 render
    response = Client().get(_url("agenda_pdf", materials.pk))
    data = assert_pdf(response, private=False)
    text = text_of(data)
    for expected in ("第1回「(仮称)青森県DX推進プラン」策定委員会", "令和5年5月10日(水)14:00～16:00", "次第",
                     "1.開会", "2.議事", "(1)(仮称)青森県DX推進プランの策定及び推進について", "(2)意見交換",
                     "本県のめざす姿について", "【資料】", "資料1設置要綱", "資料3推進体制図"):
        assert expected in text, expected
    assert "人事案件" not in text  # a closed item is left out of the public 次第
    assert "参考資料1" not in text  # and so is a members-only material
    assert ONLINE_URL not in text
    assert quote("策定委員会_第1回_次第.pdf", safe="") in response["Content-Disposition"]


def test_agenda_for_members_marks_closed_items_and_restricted_materials(materials, member):
    response = client_for(member).get(_url("agenda_html", materials.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert "人事案件" in content and "【非公開】" in content
    assert "参考資料1 委員意見シート（委員限り）" in content
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_agenda_draft_preview_only_for_the_secretariat(first, secretariat, member):
    meeting_services.agenda_item_add(actor=secretariat, meeting=first, title="その他")  # reopens the 次第
    draft = client_for(secretariat).get(_url("agenda_html", first.pk) + "?draft=1")
    assert draft.status_code == 200
    assert "その他" in draft.content.decode() and '<p class="draft-mark">案</p>' in draft.content.decode()
    # A member asking for the draft reads the approved version, which has no その他.
    approved = client_for(member).get(_url("agenda_html", first.pk) + "?draft=1").content.decode()
    assert "その他" not in approved
    assert 'class="draft-mark"' not in approved


def test_html_print_view_allows_only_its_own_inline_style(notified):
    response = Client().get(_url("agenda_html", notified.pk))
    css = re.search(r"<style>(.*?)</style>", response.content.decode(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = response["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_attendance_pdf_in_the_seed_format_after_the_meeting(held):  # 1 render
    data = assert_pdf(Client().get(_url("attendance_pdf", held.pk)), private=False)
    text = text_of(data)
    for expected in ("第1回「(仮称)青森県DX推進プラン」策定委員会出席者名簿", "■委員", "(五十音順、敬称略)",
                     "番号", "氏名", "所属", "会場出席", "オンライン出席", "佐藤志穂", "佐藤の所属", "森樹男",
                     "■事務局", "企画政策部DX推進課", "○"):
        assert expected in text, expected
    # 五十音順: さとう before もり
    assert text.index("佐藤志穂") < text.index("森樹男")


def test_seating_pdf_for_members(held, member):  # 1 render
    data = assert_pdf(client_for(member).get(_url("seating_pdf", held.pk)), private=True)
    text = text_of(data)
    for expected in ("席図", "森樹男", "委員長", "企画政策部DX推進課", "■オンライン出席", "佐藤志穂"):
        assert expected in text, expected


@pytest.mark.parametrize(("letter_date", "sender", "secretariat_name", "deadline", "not_named"), [
    ("2023-04-26", "青森県企画政策部長", "青森県企画政策部DX推進課", "令和5年5月3日(水)までに", "総合政策部"),
    # After the 部 was renamed, the letter is signed by the head of the 部 of that day, the one its 問合せ先
    # names; and since the meeting day is before the letter's, no reply deadline is printed at all.
    ("2024-05-01", "青森県総合政策部長", "青森県総合政策部DX推進課", None, "企画政策部"),
], ids=["2023-under-kikaku-seisaku", "2024-under-sogo-seisaku"])
def test_notice_names_the_secretariat_as_it_was_on_the_letter_date(  # 2 renders
    organisation, notified, secretariat, member_appointment, letter_date, sender, secretariat_name, deadline,
    not_named, settings
):
    """Sender and 問合せ先 come from the same dated organisation: the letter's date (issue 10)."""
    url = _url("notice_pdf", notified.pk, member_appointment.pk) + f"?date={letter_date}"
    data = assert_pdf(client_for(secretariat).get(url), private=True)
    text = text_of(data)
    day = dt.date.fromisoformat(letter_date)
    era_year = "令和5年" if day.year == 2023 else "令和6年"
    for expected in (f"{era_year}{day.month}月{day.day}日", "佐藤志穂様", f"{sender}（公印省略）",
                     "第1回「(仮称)青森県DX推進プラン」策定委員会の開催について（通知）", "記",
                     "令和5年5月10日(水)14:00～16:00", "青森県庁北棟8階会議室", "オンライン出席も可能です",
                     ONLINE_URL, "(1)(仮称)青森県DX推進プランの策定及び推進について", "(2)意見交換",
                     settings.SITE_URL + f"/meetings/{notified.pk}/",
                     f"【問合せ先】{secretariat_name}（事務局）", "017-734-9999", "dx-suishin@dxplan.example", "以上"):
        assert expected in text, expected
    # The sender is the head of the 部 the 問合せ先 belongs to, on the same day.
    assert sender.removesuffix("長") in secretariat_name
    assert not_named not in text
    assert (deadline in text) if deadline else ("までに" not in text)
    assert "開会" not in text  # 議題 are the items under 議事


def test_another_official_named_by_the_guidelines_signs_as_written(organisation, notified, secretariat,
                                                                    member_appointment, body):
    """A convener who is not the head of the secretariat's 部 (here the governor) is not renamed."""
    body.guidelines.update(convener_title="青森県知事")
    url = _url("notice_html", notified.pk, member_appointment.pk) + "?date=2024-05-01"
    page = client_for(secretariat).get(url).content.decode()
    assert "青森県知事" in page and "青森県総合政策部DX推進課" in page


def test_the_reply_deadline_is_never_before_the_letter(organisation, notified, secretariat, member_appointment):
    """A week before the meeting when the letter goes out in time; a late letter moves the deadline to
    after its own date; a deadline asked for before the letter's date is refused with the reason."""
    url = _url("notice_html", notified.pk, member_appointment.pk)
    client = client_for(secretariat)
    in_time = client.get(url + "?date=2023-04-20").content.decode()
    assert "令和5年5月3日(水)までに" in in_time
    late = client.get(url + "?date=2023-05-06").content.decode()  # the meeting is on 5月10日
    assert "令和5年5月3日" not in late and "令和5年5月9日(火)までに" in late
    assert 'class="deadline-moved"' in late and 'class="deadline-moved"' not in in_time  # and says why
    asked = client.get(url + "?date=2023-05-06&deadline=2023-05-08").content.decode()
    assert "令和5年5月8日(月)までに" in asked and 'class="deadline-moved"' not in asked
    very_late = client.get(url + "?date=2023-05-09").content.decode()
    assert "令和5年5月9日(火)までに" in very_late
    refused = client.get(url + "?date=2023-05-06&deadline=2023-05-03", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    text = refused.content.decode()
    assert 'id="letter-refused"' in text and "before the letter" in text
    all_letters = client.get(_url("notices_pdf", notified.pk) + "?date=2023-05-06&deadline=2023-05-03")
    assert all_letters.status_code == 400


def test_the_online_line_is_printed_once(organisation, notified, secretariat, member_appointment):
    """The demo's note 「Web会議システムによるオンライン出席を併用」 is the online line, not a second one."""
    Meeting.objects.filter(pk=notified.pk).update(online_note="Web会議システムによるオンライン出席を併用")
    url = _url("notice_html", notified.pk, member_appointment.pk) + "?date=2023-04-20"
    page = client_for(secretariat).get(url).content.decode()
    particulars = re.search(r'<table class="particulars">(.*?)</table>', page, re.S).group(1)
    assert particulars.count("Web会議システム") == 1
    assert "※Web会議システムによるオンライン出席を併用" in particulars
    lines = [line.strip() for line in re.sub(r"<[^>]+>", "\n", page.split("<main>")[1]).splitlines()]
    lines = [line for line in lines if line]
    assert len(lines) == len(set(lines)), [line for line in lines if lines.count(line) > 1]


def test_notice_deadline_and_date_from_the_query(organisation, notified, secretariat, member_appointment):
    url = _url("notice_html", notified.pk, member_appointment.pk)
    content = client_for(secretariat).get(url + "?date=2023-04-20&deadline=2023-05-01").content.decode()
    assert "令和5年4月20日" in content and "令和5年5月1日(月)までに" in content
    assert client_for(secretariat).get(url + "?deadline=tomorrow").status_code == 400


def test_notices_pdf_one_letter_a_page(organisation, notified, secretariat):  # 1 render
    data = assert_pdf(client_for(secretariat).get(_url("notices_pdf", notified.pk) + "?date=2023-04-26"),
                      private=True)
    pages = pages_text(data)
    assert len(pages) == 2  # the chair and the member in office on the meeting day
    assert "佐藤志穂様" in pages[0] and "森樹男様" in pages[1]  # 五十音順
    assert all("企画政策部DX推進課" in page for page in pages)


def test_commission_pdf(body, secretariat, member_appointment):  # 1 render
    data = assert_pdf(client_for(secretariat).get(_url("commission_pdf", member_appointment.pk)), private=True)
    text = text_of(data)
    for expected in ("委嘱状", "佐藤志穂様", "「(仮称)青森県DX推進プラン」策定委員会委員に委嘱します。",
                     "任期は、令和5年5月10日から令和6年3月31日までとします。", "青森県企画政策部長"):
        assert expected in text, expected


def test_a_commission_after_the_rename_is_signed_by_the_head_of_the_renamed_department(
    organisation, body, secretariat
):
    """The 要綱 says 青森県企画政策部長 appoints; a 委嘱 of 2024-05-01, after the 部 became 総合政策部, is
    signed by the head of the 部 of that day, while one of 2023 keeps the old name."""
    guideline = body.guidelines.get()
    later = factories.AppointmentFactory(body=body, guideline=guideline, appointed_by="",
                                         appointed_on=dt.date(2024, 5, 1), term_start=dt.date(2024, 5, 1),
                                         term_end=dt.date(2026, 3, 31))
    earlier = factories.AppointmentFactory(body=body, guideline=guideline, appointed_by="")
    client = client_for(secretariat)
    signed_later = client.get(_url("commission_html", later.pk)).content.decode()
    assert "青森県総合政策部長" in signed_later and "企画政策部長" not in signed_later
    assert "青森県企画政策部長" in client.get(_url("commission_html", earlier.pk)).content.decode()


def test_materials_pdf_for_the_public(materials):  # 2 renders
    response = Client().get(_url("materials_pdf", materials.pk))
    data = assert_pdf(response, private=False)
    pages = pages_text(data)
    assert len(pages) == 5  # cover, contents, 資料1 (2 pages), 資料2
    assert "資料一式" in pages[0] and "委員限り" not in pages[0]
    contents = pages[1]
    assert "目次" in contents
    assert contents.index("資料1") < contents.index("資料2") < contents.index("資料3") < contents.index("資料4")
    assert "PDF以外の形式（png）のため収録していません" in contents
    assert "ファイルを読み込めないため収録していません" in contents
    assert "参考資料1" not in contents
    assert pages[2:] == ["MATERIAL-ONE-A-3-", "MATERIAL-ONE-B-4-", "MATERIAL-TWO-5-"]  # with their numbers
    assert not Download.objects.exists()  # public materials are not logged


def test_materials_pdf_for_a_member_includes_members_only_and_logs_it(materials, member):  # 2 renders
    data = assert_pdf(client_for(member).get(_url("materials_pdf", materials.pk)), private=True)
    pages = pages_text(data)
    assert len(pages) == 6 and pages[-1] == "MEMBERS-ONLY-6-"
    assert "委員限りの資料を含みます" in pages[0]
    logged = Download.objects.get()
    assert logged.material.label == "参考資料1" and logged.user == member and logged.via_zip


def test_compile_pdfs_numbers_pages_and_lists_what_is_left_out():  # 1 render (the contents)
    cover = text_pdf("COVER")
    data, entries = pdf.compile_pdfs(cover, [
        pdf.Part("資料1", "Two pages", text_pdf("A1", "A2")),
        pdf.Part("資料2", "Word file", None, "docx"),
        ("資料3", b"not a pdf at all"),
        ("資料4", io.BytesIO(text_pdf("D1"))),
    ], context={"title_line": "第1回テスト", "when": ""})
    assert [(e.label, e.status, e.page) for e in entries] == [
        ("資料1", "included", 3), ("資料2", "not_pdf", None), ("資料3", "unreadable", None), ("資料4", "included", 5),
    ]
    pages = pages_text(data)
    assert pages[0] == "COVER" and "目次" in pages[1] and pages[2:] == ["A1-3-", "A2-4-", "D1-5-"]
    outline = [item.title for item in PdfReader(io.BytesIO(data)).outline]
    assert outline == ["目次", "資料1 Two pages", "資料4"]


def test_every_page_carries_the_number_the_contents_give():  # 2 renders (contents, numbers)
    """The 目次 says on which page each material begins; that page carries that number at its foot, and
    so does every page after the cover: a rotated page and a page of another size too (issue 10)."""
    rotated = PdfWriter()
    rotated.append(PdfReader(io.BytesIO(text_pdf("R1"))))
    rotated.pages[0].rotate(90)
    a3 = text_pdf("B1").replace(b"/MediaBox [0 0 595 842]", b"/MediaBox [0 0 842 1191]")
    buffer = io.BytesIO()
    rotated.write(buffer)
    data, entries = pdf.compile_pdfs(text_pdf("COVER"), [
        pdf.Part("資料1", "Two pages", text_pdf("A1", "A2")),
        pdf.Part("資料2", "A3", a3),
        pdf.Part("資料3", "Landscape", buffer.getvalue()),
    ], context={"title_line": "第1回テスト", "when": ""})
    reader = PdfReader(io.BytesIO(data))
    contents = re.sub(r"\s+", "", reader.pages[1].extract_text())
    for entry in entries:
        listed = re.search(rf"{entry.label}{entry.title.replace(' ', '')}(\d+)", contents)
        assert listed and int(listed.group(1)) == entry.page, contents
        assert f"-{entry.page}-" in re.sub(r"\s+", "", reader.pages[entry.page - 1].extract_text())
    pages = pages_text(data)
    assert [page[-len(f"-{n}-"):] for n, page in enumerate(pages, start=1)][1:] == [
        f"-{n}-" for n in range(2, len(pages) + 1)]
    assert "-1-" not in pages[0]  # the cover is page 1, unnumbered
    assert [round(float(p.mediabox.width)) for p in reader.pages[4:]] == [842, 842]  # sizes kept


# --- what WeasyPrint may fetch -------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://example.com/logo.png",
    "https://example.com/style.css",
    "ftp://example.com/x",
    "data:text/plain,hello",
    "file:///etc/passwd",
    "file://example.com/etc/passwd",
    pdf.FONT_DIR.as_uri() + "/../../dxplan/settings.py",
    pdf.FONT_DIR.as_uri() + "/%2e%2e/%2e%2e/dxplan/settings.py",
    pdf.FONT_DIR.as_uri() + "/",
])
def test_fetcher_refuses_the_network_and_other_files(url):
    with pytest.raises(pdf.URLNotAllowedError):
        pdf.LocalFileFetcher().fetch(url)


def test_fetcher_serves_the_vendored_font():
    response = pdf.LocalFileFetcher().fetch(pdf.FONT_FILE.as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType font


def test_rendering_never_reaches_the_network_or_other_files(monkeypatch):  # 1 render
    opened = []
    monkeypatch.setattr("urllib.request.OpenerDirector.open", lambda self, *a, **k: opened.append(a))
    monkeypatch.setattr("weasyprint.urls.URLFetcher.fetch", lambda self, url, headers=None: opened.append(url))
    html = ('<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head><body>'
            '<p>委員会</p><img src="file:///etc/passwd"><img src="https://example.com/a.png"></body></html>')
    data = pdf.html_to_pdf(html)
    assert opened == []
    assert "委員会" in text_of(data)


def test_download_headers_cannot_be_broken_by_a_title():
    name = safe_filename('策定"委員会\r\nX-Evil: 1', "<svg onload=alert(1)>", "第1回")
    response = pdf_response(b"%PDF-1.4", name, "meeting-1.pdf", private=True)
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header and "<" not in header
    assert header.startswith('attachment; filename="meeting-1.pdf"; filename*=UTF-8\'\'')
    assert response["Cache-Control"] == "private, no-store"


# --- who may fetch what --------------------------------------------------------------------------


def _expect(allowed, status=200, *, login=False) -> dict[str, object]:
    expected = {role: status if role in allowed else 404 for role in ROLES}
    if login:
        expected[ANONYMOUS] = LOGIN
    return expected


# case: (state fixture, HTML url name, PDF url name, url arguments, expected per role)
ACCESS = {
    "agenda-notified": ("notified", "agenda_html", "agenda_pdf", "meeting", _expect(ROLES)),
    "agenda-approved-not-notified": ("first", "agenda_html", "agenda_pdf", "meeting", _expect(INSIDERS)),
    "agenda-private-body": ("private", "agenda_html", "agenda_pdf", "meeting", _expect(INSIDERS)),
    "attendance-before-the-meeting": ("notified", "attendance_html", "attendance_pdf", "meeting", _expect(INSIDERS)),
    "attendance-held": ("held", "attendance_html", "attendance_pdf", "meeting", _expect(ROLES)),
    "attendance-held-private-body": ("held_private", "attendance_html", "attendance_pdf", "meeting",
                                     _expect(INSIDERS)),
    "seating-held": ("held", "seating_html", "seating_pdf", "meeting", _expect(INSIDERS)),
    "notice-member": ("notified", "notice_html", "notice_pdf", "member_notice", _expect(MANAGERS, login=True)),
    "notice-other-body's-member": ("notified", "notice_html", "notice_pdf", "other_notice",
                                   _expect((), login=True)),
    "notices": ("notified", None, "notices_pdf", "meeting", _expect(MANAGERS, login=True)),
    "commission-member": ("notified", "commission_html", "commission_pdf", "member_commission",
                          _expect(MANAGERS, login=True)),
    "commission-other-body": ("notified", "commission_html", "commission_pdf", "other_commission",
                              _expect((OTHER_SECRETARIAT, SUPERUSER), login=True)),
    "materials-private-body": ("materials_private", None, "materials_pdf", "meeting", _expect(INSIDERS)),
    "materials-none": ("notified", None, "materials_pdf", "meeting", _expect(())),
}


def _state(name: str, request) -> Meeting:
    if name in ("private", "held_private", "materials_private"):
        meeting = request.getfixturevalue({"private": "notified", "held_private": "held",
                                           "materials_private": "materials"}[name])
        meeting.body.is_public = False
        meeting.body.save(update_fields=["is_public"])
        return meeting
    return request.getfixturevalue(name)


def _args(kind: str, meeting: Meeting, request) -> list:
    if kind == "meeting":
        return [meeting.pk]
    if kind == "member_notice":
        return [meeting.pk, request.getfixturevalue("member_appointment").pk]
    other = request.getfixturevalue("other_member").person.appointments.get()
    if kind == "other_notice":
        return [meeting.pk, other.pk]
    if kind == "member_commission":
        return [request.getfixturevalue("member_appointment").pk]
    return [other.pk]


def _outcome(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next="):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("case", list(ACCESS))
def test_access(case, users, request):
    """Every print URL for every role: the HTML view answers as expected; the PDF is checked wherever it
    is refused, and where it is allowed only for the documents the tests above do not render already."""
    state, html_name, pdf_name, kind, expected = ACCESS[case]
    meeting = _state(state, request)
    args = _args(kind, meeting, request)
    wrong = []
    for role in ROLES:
        for name in (html_name, pdf_name):
            if name is None or (name == pdf_name and expected[role] == 200):
                continue  # a rendered PDF costs a second; the tests above fetch each kind
            got = _outcome(client_for(users[role]).get(_url(name, *args)))
            if got != expected[role]:
                wrong.append(f"{name} {role}: expected {expected[role]}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_revoked_material_leaves_the_compiled_pdf_at_once(materials, secretariat):
    """A material put back to members only is gone from the public 資料一式 and 次第 at the next request."""
    for material in Material.objects.filter(meeting=materials, visibility="public"):
        material_services.material_set_visibility(actor=secretariat, material=material, visibility="members")
    assert Client().get(_url("materials_pdf", materials.pk)).status_code == 404
    assert "資料1" not in Client().get(_url("agenda_html", materials.pk)).content.decode()


def test_a_letter_asks_only_a_member_with_an_account_to_log_in(organisation, notified, secretariat, member_appointment):
    """A letter is what reaches a member without an address, who has no account: it asks them to answer the
    secretariat by phone or mail, not to log in; a member with an account is given the page to answer on."""
    url = _url("notice_html", notified.pk, member_appointment.pk)
    client = client_for(secretariat)
    with_account = client.get(url + "?date=2023-04-20").content.decode()
    assert "ログインし" in with_account and "電話又はメールで御回答ください" not in with_account
    person = member_appointment.person
    person.user = None
    person.save(update_fields=["user"])
    without = client.get(url + "?date=2023-04-20").content.decode()
    assert "ログインし" not in without and "下記の問合せ先まで電話又はメールで御回答ください" in without
