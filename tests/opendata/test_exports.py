"""The CSV datasets, Popolo, the Atom feeds and the datasets page, on the demo as `make run` loads it;
and what every export answers with: ETag / Last-Modified and conditional GET, cache headers, the filters
of OParl lists, and the rate limit per client address with its translated 429."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from opendata.views import EVENT_COLUMNS, MEETING_COLUMNS, ROSTER_COLUMNS
from tests.opendata.conftest import popolo_validator

COMMITTEE = "dx-plan-committee"
ATOM = "{http://www.w3.org/2005/Atom}"


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def _atom(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 (our own feed, made in this test)


def _hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def test_the_datasets_are_two_links_from_the_home_page(demo, client):
    home = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in home
    assert "/opendata/" in _hrefs(home)
    page = client.get("/opendata/")
    assert page.status_code == 200
    text = page.content.decode()
    links = _hrefs(text)
    assert {"/opendata/meetings.csv", "/opendata/feed.atom", f"/opendata/bodies/{COMMITTEE}/roster.csv",
            f"/opendata/bodies/{COMMITTEE}/feed.atom", f"/opendata/bodies/{COMMITTEE}/popolo.json", "/oparl/"} <= links
    assert "CC BY 4.0" in text and settings.DXPLAN_OPENDATA_LICENSE_URL in links
    assert "public" not in page.get("Cache-Control", "")  # a page with the site's forms is never shared


def test_the_licence_is_a_setting(demo, client, settings):
    settings.DXPLAN_OPENDATA_LICENSE_NAME = "政府標準利用規約(第2.0版)"
    settings.DXPLAN_OPENDATA_LICENSE_URL = "https://www.digital.go.jp/resources/open_data/"
    assert "政府標準利用規約(第2.0版)" in client.get("/opendata/").content.decode()
    assert client.get("/oparl/").json()["license"] == settings.DXPLAN_OPENDATA_LICENSE_URL


def test_meetings_csv_follows_the_event_list(demo, client):
    response = client.get("/opendata/meetings.csv")
    rows = _csv(response)
    assert rows[0] == [*EVENT_COLUMNS, *MEETING_COLUMNS]
    assert rows[0][:5] == ["全国地方公共団体コード", "法人番号", "ID", "地方公共団体名", "イベント名"]
    first = next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[4].endswith("策定委員会 第1回"))
    assert first["開始日"] == "2023-05-10" and first["開始時間"] == "14:00"
    assert first["全国地方公共団体コード"] == "020001" and first["地方公共団体名"] == "青森県"
    assert first["法人番号"] == "2000020020001"  # 青森県's own: check digit 2, "000020", 020001
    assert first["言語コード"] == "ja" and first["イベント種類"] == "会議" and first["状態"] == "開催済"
    assert first["URL"].startswith(settings.SITE_URL + "/meetings/") and first["コンテンツURL"] == first["URL"]
    assert first["公開区分"] == "公開(公開)" or first["公開区分"].startswith("公開")
    assert all(re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", dict(zip(rows[0], r, strict=True))["開始日"]) for r in rows[1:])
    assert not response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Disposition"] == 'inline; filename="020001_event.csv"'  # 定義書: [団体コード]_event
    body = client.get(f"/opendata/bodies/{COMMITTEE}/meetings.csv", {"bom": "1"})
    assert body["Content-Disposition"] == f'inline; filename="020001_event_{COMMITTEE}_excel.csv"'


def test_each_meeting_names_the_secretariat_as_it_was_called_on_its_day(demo, client):
    """The demo's DX推進課 moved from 企画政策部 to 総合政策部 on 2024-04-01: the meetings before carry the old
    name in 連絡先名称 and 主催者, those after the new one (not the first meeting's name for every row)."""
    rows = _csv(client.get(f"/opendata/bodies/{COMMITTEE}/meetings.csv"))
    by_day = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[rows[0].index("開始日")]]
    before = [r for r in by_day if r["開始日"] < "2024-04-01"]
    after = [r for r in by_day if r["開始日"] >= "2024-04-01"]
    assert before and after
    assert {r["連絡先名称"] for r in before} == {r["主催者"] for r in before} == {"青森県企画政策部DX推進課"}
    assert {r["連絡先名称"] for r in after} == {r["主催者"] for r in after} == {"青森県総合政策部DX推進課"}


def test_the_corporate_number_of_a_local_government():
    from opendata.views import corporate_number

    # 法人番号 published by 国税庁 for 東京都 (130001) and 大阪府 (270008); 青森県 (020001).
    assert corporate_number("130001") == "8000020130001"
    assert corporate_number("270008") == "4000020270008"
    assert corporate_number("020001") == "2000020020001"
    assert corporate_number("") == "" and corporate_number("02000") == ""


def test_the_corporate_number_is_a_setting(demo, client, settings):
    settings.DXPLAN_CORPORATE_NUMBER = "1234567890123"
    rows = _csv(client.get("/opendata/meetings.csv"))
    assert {r[1] for r in rows[1:]} == {"1234567890123"}


# イベント一覧 of デジタル庁's 自治体標準オープンデータセット (正式版, データ項目定義書A, sheet 12): its 79
# データ項目 in their order, written out here rather than read from opendata.views, so that a change of
# the columns fails this test. Taken from the header rows of two datasets published to that definition
# on BODIK, which agree: 岡崎市 232025_event.csv and 大阪府 270008_event.csv (Osaka adds two columns of its
# own after 備考); mirrored in suzuking001/event_map, data/okazaki_events.csv and data/osaka_events.csv.
STANDARD_EVENT_HEADER = [
    "全国地方公共団体コード", "法人番号", "ID", "地方公共団体名", "イベント名", "言語コード", "イベント通称",
    "サブタイトル", "イベント名_カナ", "イベント名_英語", "コンテンツURL", "状態", "キーワード", "タグ",
    "対象となる産業", "開催パターン", "開始日", "終了日", "開始時間", "終了時間", "開始日時特記事項", "所要時間",
    "掲載開始日", "掲載終了日", "概要", "説明", "サブイベント", "イベント種類", "料金(基本)", "料金(詳細)",
    "連絡先名称", "連絡先電話番号", "連絡先内線番号", "主催者", "共催団体", "関連組織", "対象者", "対象者備考",
    "場所名称", "集合（受付）場所", "所在地_全国地方公共団体コード", "町字ID", "所在地_連結表記", "所在地_都道府県",
    "所在地_市区町村", "所在地_町字", "所在地_番地以下", "建物名等(方書)", "緯度", "経度", "アクセス方法",
    "駐車場情報", "駐車場料金", "駐輪場情報", "Web開催", "Web開催URL", "ツール・環境", "定員", "定員備考",
    "料金種別", "決済種別", "外国語対応", "外国語対応備考", "開催条件", "参加申込終了日", "参加申込終了時間",
    "参加申込方法", "申込開始日", "申込開始時刻", "申込URL", "URL", "授乳室", "おむつ替えコーナー", "飲食可否",
    "ベビーカー貸出", "ベビーカー利用", "画像", "画像_ライセンス", "備考",
]
COMMITTEE_HEADER = ["会議体名", "回", "年度", "公開区分", "非公開の根拠", "次第URL", "議事録URL", "OParl", "審議結果"]


def test_the_meetings_csv_has_exactly_the_event_list_columns_then_the_committees(demo, client):
    for path in ("/opendata/meetings.csv", f"/opendata/bodies/{COMMITTEE}/meetings.csv"):
        response = client.get(path)
        raw = response.content.decode("utf-8")
        assert raw.startswith(",".join(STANDARD_EVENT_HEADER + COMMITTEE_HEADER) + "\r\n")  # one header row, CRLF
        rows = _csv(response)
        assert rows[0] == STANDARD_EVENT_HEADER + COMMITTEE_HEADER
        assert len(STANDARD_EVENT_HEADER) == 79 and all(len(r) == len(rows[0]) for r in rows)
        assert len(set(rows[0])) == len(rows[0])  # no column named twice
        for row in (dict(zip(rows[0], r, strict=True)) for r in rows[1:]):
            # 全国地方公共団体コード: six digits with the check digit; 法人番号 13 digits.
            assert re.fullmatch(r"\d{6}", row["全国地方公共団体コード"]) and re.fullmatch(r"\d{13}", row["法人番号"])
            # Date YYYY-MM-DD and time hh:mm, or empty.
            for column in ("開始日", "終了日", "参加申込終了日", "申込開始日"):
                assert re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", row[column]), (column, row[column])
            for column in ("開始時間", "終了時間", "参加申込終了時間", "申込開始時刻"):
                assert re.fullmatch(r"(\d{2}:\d{2})?", row[column]), (column, row[column])
            assert row["ID"].isdigit() and row["URL"].startswith(settings.SITE_URL + "/meetings/")
            assert row["Web開催URL"] == ""  # the online meeting's link is for members only
    excel = client.get("/opendata/meetings.csv", {"bom": "1"}).content
    assert excel.startswith(b"\xef\xbb\xbf" + ",".join(STANDARD_EVENT_HEADER).encode("utf-8"))


def test_the_event_list_carries_the_observation_while_registration_is_open(demo, client):
    """定員 and the 申込 columns: the 傍聴 registration the meeting page offers, until it is stopped; a change
    of the settings moves the CSV's Last-Modified, so a conditional request gets the new seats."""
    from django.utils import timezone

    from meetings import services as meeting_services
    from meetings.models import Meeting
    from participation import services

    meeting = (
        Meeting.objects.filter(body__slug=COMMITTEE, status__in=("planned", "notified"), start_at__gt=timezone.now())
        .order_by("start_at")
        .first()
    )
    assert meeting is not None and meeting.openness == "public"

    def row() -> dict[str, str]:
        response = client.get(f"/opendata/bodies/{COMMITTEE}/meetings.csv")
        rows = _csv(response)
        return {"Last-Modified": response["Last-Modified"]} | next(
            dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[2] == str(meeting.pk)
        )

    opens = timezone.localtime(timezone.now()).replace(hour=9, minute=0, second=0, microsecond=0)
    closes = timezone.localtime(meeting.start_at) - dt.timedelta(days=1)

    def save(seats: int, method: str) -> None:
        services.observation_settings_save(
            actor=None, meeting=meeting, public_seats=seats, press_seats=2, max_party=2, opens_at=opens,
            closes_at=closes, method=method,
        )

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1), tick=True):
        save(20, "first_come")
        first = row()
    assert first["定員"] == "20" and first["定員備考"] == "傍聴席。ほかに報道関係者席2"
    assert (first["申込開始日"], first["申込開始時刻"]) == (opens.date().isoformat(), "09:00")
    assert (first["参加申込終了日"], first["参加申込終了時間"]) == (closes.date().isoformat(), closes.strftime("%H:%M"))
    assert first["参加申込方法"] == "申込URLから申込(先着順)"
    assert first["申込URL"] == f"{settings.SITE_URL}/meetings/{meeting.pk}/observe/"
    assert client.get(first["申込URL"][len(settings.SITE_URL):]).status_code == 200  # the form it points to
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=True):
        save(30, "lottery")
        second = row()
        again = client.get(
            f"/opendata/bodies/{COMMITTEE}/meetings.csv", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
        )
    assert second["定員"] == "30" and second["参加申込方法"] == "申込URLから申込(申込多数の場合は抽選)"
    assert again.status_code == 200 and second["Last-Modified"] != first["Last-Modified"]
    # Registration stops when the meeting is cancelled: the row no longer invites anyone.
    meeting_services.meeting_cancel(actor=None, meeting=meeting, reason="都合により")
    cancelled = row()
    assert cancelled["定員"] == cancelled["申込URL"] == cancelled["申込開始日"] == "" and cancelled["状態"] == "中止"


def test_a_line_break_in_a_value_never_splits_a_record(demo, client):
    # デジタル庁「行政データにおける機械可読性に関するルール」L1-14: one record, one line.
    from meetings import services
    from meetings.models import Meeting

    meeting = Meeting.objects.filter(body__slug=COMMITTEE).order_by("-pk").first()
    services.meeting_cancel(actor=None, meeting=meeting, reason="台風のため\r\n会場が使えません\n")
    raw = client.get(f"/opendata/bodies/{COMMITTEE}/meetings.csv").content.decode("utf-8")
    lines = raw.split("\r\n")
    assert lines[-1] == "" and all("\n" not in line and "\r" not in line for line in lines)
    rows = [next(csv.reader([line])) for line in lines[:-1]]
    assert all(len(r) == len(rows[0]) for r in rows)
    cancelled = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[2] == str(meeting.pk)]
    assert cancelled[0]["備考"] == "台風のため 会場が使えません"


def test_the_excel_variant_has_a_byte_order_mark(demo, client):
    response = client.get("/opendata/meetings.csv", {"bom": "1"})
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "_excel.csv" in response["Content-Disposition"]
    assert response.content[3:].decode("utf-8") == client.get("/opendata/meetings.csv").content.decode("utf-8")


def test_the_roster_has_an_excel_variant_too(demo, client):
    path = f"/opendata/bodies/{COMMITTEE}/roster.csv"
    plain = client.get(path, {"on": "2023-06-01"})
    excel = client.get(path, {"on": "2023-06-01", "bom": "1"})
    assert excel.content == b"\xef\xbb\xbf" + plain.content
    assert excel.content[3:].decode("utf-8").startswith("氏名,読み,所属,役職,任期\r\n")
    assert 'filename="roster_dx-plan-committee_2023-06-01_excel.csv"' in excel["Content-Disposition"]


def test_roster_csv_per_body_and_date(demo, client):
    rows = _csv(client.get(f"/opendata/bodies/{COMMITTEE}/roster.csv", {"on": "2023-06-01"}))
    assert rows[0] == list(ROSTER_COLUMNS)
    assert len(rows) == 13
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["森 樹男"][1] == "もり" and by_name["森 樹男"][3] == "委員長"
    assert {r[4] for r in rows[1:]} == {"2023-05-10/2024-03-31"}
    before = _csv(client.get(f"/opendata/bodies/{COMMITTEE}/roster.csv", {"on": "2023-04-01"}))
    assert before == [list(ROSTER_COLUMNS)]


def test_popolo_validates_and_has_posts_with_dates(demo, client):
    data = client.get(f"/opendata/bodies/{COMMITTEE}/popolo.json").json()
    errors = list(popolo_validator().iter_errors(data))
    assert not errors, [e.message for e in errors[:5]]
    # FY2023, the seed's term (the demo also puts the committee in office in the current 年度).
    fy2023 = [m for m in data["memberships"] if m["start_date"] < "2024-04-01"]
    members = [m for m in fy2023 if m["post_id"].endswith("#post-member")]
    assert len(members) == 12 and {m["end_date"] for m in members} == {"2024-03-31"}
    chairs = [m for m in fy2023 if m["post_id"].endswith("#post-chair")]
    assert len(chairs) == 1 and chairs[0]["start_date"] == "2023-05-10"
    person = {p["id"]: p["name"] for p in data["persons"]}
    assert person[chairs[0]["person_id"]] == "森 樹男"
    assert any(e["start_date"] == "2023-05-10T14:00:00+09:00" for e in data["events"])
    for person in data["persons"]:
        assert set(person) <= {"id", "name", "family_name", "given_name", "sort_name", "other_names"}


def test_a_popolo_schema_check_can_fail(demo, client):
    data = client.get(f"/opendata/bodies/{COMMITTEE}/popolo.json").json()
    del data["persons"][0]["name"]
    assert list(popolo_validator().iter_errors(data))


def test_feeds_are_atom_with_absolute_links(demo, client):
    response = client.get("/opendata/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = _atom(response.content)
    entries = root.findall(f"{ATOM}entry")
    assert entries
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert all(link.startswith(settings.SITE_URL + "/") for link in links)
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert any(t.startswith("【資料掲載】") or "資料" in t for t in titles)
    # the demo's past meeting had its 議事要旨 published: the feed says so, linking to the minutes
    minutes = [e for e in entries if e.find(f"{ATOM}title").text.startswith("【議事録公開】")]
    assert minutes and all(e.find(f"{ATOM}link").get("href").endswith("#minutes-heading") for e in minutes)
    body = _atom(client.get(f"/opendata/bodies/{COMMITTEE}/feed.atom").content)
    assert all("策定委員会" in e.find(f"{ATOM}title").text for e in body.findall(f"{ATOM}entry"))
    page = client.get(f"/bodies/{COMMITTEE}/").content.decode()
    assert f'href="/opendata/bodies/{COMMITTEE}/feed.atom"' in page
    assert f"webcal://{settings.SITE_URL.split('://')[1]}/bodies/{COMMITTEE}/calendar.ics" in page
    calendar = f'title="カレンダー (iCalendar)" href="/bodies/{COMMITTEE}/calendar.ics">'
    assert f'<link rel="alternate" type="text/calendar" {calendar}' in page
    from meetings.models import Meeting

    first = Meeting.objects.get(body__slug=COMMITTEE, number=1)
    meeting_page = client.get(f"/meetings/{first.pk}/").content.decode()
    feed = f'title="更新情報 (Atom)" href="/opendata/bodies/{COMMITTEE}/feed.atom"'
    assert f'<link rel="alternate" type="application/atom+xml" {feed}' in meeting_page
    assert f'type="application/json" title="OParl" href="/oparl/meeting/{first.pk}/"' in meeting_page


def test_the_meetings_page_of_a_body_announces_its_feeds(demo, client):
    page = client.get(f"/bodies/{COMMITTEE}/meetings/").content.decode()
    assert (f'<link rel="alternate" type="application/atom+xml" title="更新情報 (Atom)" '
            f'href="/opendata/bodies/{COMMITTEE}/feed.atom">') in page
    assert (f'<link rel="alternate" type="text/calendar" title="カレンダー (iCalendar)" '
            f'href="/bodies/{COMMITTEE}/calendar.ics">') in page
    assert f'type="text/csv" title="meetings_{COMMITTEE}.csv" href="/opendata/bodies/{COMMITTEE}/meetings.csv"' in page


def test_a_cancelled_meeting_appears_in_the_feed(demo, client):
    from meetings import services
    from meetings.models import Meeting

    meeting = Meeting.objects.filter(body__slug=COMMITTEE, start_at__isnull=True).first() or Meeting.objects.filter(
        body__slug=COMMITTEE).order_by("-pk").first()
    services.meeting_cancel(actor=None, meeting=meeting, reason="台風のため")
    root = _atom(client.get(f"/opendata/bodies/{COMMITTEE}/feed.atom").content)
    first = root.findall(f"{ATOM}entry")[0]
    assert first.find(f"{ATOM}title").text.startswith("【中止】")
    assert "台風のため" in first.find(f"{ATOM}summary").text


# Every address of opendata/urls.py that publishes data (the datasets page is a page: see below).
EXPORTS = [
    "/oparl/", "/oparl/body/", "/oparl/body/020001/", "/oparl/body/020001/meeting/", "/oparl/body/020001/person/",
    "/opendata/meetings.csv", f"/opendata/bodies/{COMMITTEE}/meetings.csv", f"/opendata/bodies/{COMMITTEE}/roster.csv",
    f"/opendata/bodies/{COMMITTEE}/popolo.json", "/opendata/feed.atom", f"/opendata/bodies/{COMMITTEE}/feed.atom",
]


def _first_meeting_paths() -> list[str]:
    from meetings.models import Meeting

    first = Meeting.objects.get(body__slug=COMMITTEE, number=1)
    return [f"/oparl/meeting/{first.pk}/", f"/oparl/organization/{first.body_id}/meeting/",
            f"/oparl/agendaItem/{first.pk}-1/"]


@pytest.mark.parametrize("path", EXPORTS)
def test_every_export_answers_conditional_requests(demo, client, path):
    _answers_conditional_requests(client, path)


def test_oparl_objects_and_their_lists_answer_conditional_requests(demo, client):
    for path in _first_meeting_paths():
        _answers_conditional_requests(client, path)


def _answers_conditional_requests(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    etag = response["ETag"]
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and not again.content


def test_oparl_objects_carry_last_modified(demo, client):
    response = client.get("/oparl/body/020001/")
    assert response["Last-Modified"]
    assert client.get("/oparl/body/020001/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/opendata/meetings.csv", "meeting"),
        (f"/opendata/bodies/{COMMITTEE}/meetings.csv", "meeting"),
        (f"/opendata/bodies/{COMMITTEE}/roster.csv", "person"),
        (f"/opendata/bodies/{COMMITTEE}/popolo.json", "person"),
        (f"/opendata/bodies/{COMMITTEE}/popolo.json", "meeting"),
    ],
)
def test_csv_and_popolo_carry_last_modified_that_moves_with_a_change(demo, client, path, change):
    from django.utils.http import parse_http_date

    from committee.models import Appointment
    from meetings.models import Meeting

    response = client.get(path)
    assert response.status_code == 200
    before = response["Last-Modified"]
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=before).status_code == 304
    later = dt.datetime.fromtimestamp(parse_http_date(before), tz=dt.UTC) + dt.timedelta(days=1)
    with time_machine.travel(later, tick=False):
        if change == "person":
            person = Appointment.objects.filter(body__slug=COMMITTEE).first().person
            person.family_name_kana = person.family_name_kana + "ー"
            person.save()
        else:
            meeting = Meeting.objects.filter(body__slug=COMMITTEE).order_by("pk").first()
            meeting.venue_room = "第2会議室"
            meeting.save()
    after = client.get(path, HTTP_IF_MODIFIED_SINCE=before)
    assert after.status_code == 200, "a change after Last-Modified must not answer 304"
    assert parse_http_date(after["Last-Modified"]) == int(later.timestamp())


def test_a_signed_in_visitor_is_never_cached_by_a_proxy(demo, client):
    from core.models import User

    user = User.objects.get(email="member@demo.dxplan.example")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/opendata/meetings.csv")
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_oparl_filters(demo, client):
    future = client.get("/oparl/body/020001/meeting/", {"modified_since": "2999-01-01T00:00:00+09:00"}).json()
    assert future["data"] == [] and future["pagination"]["totalElements"] == 0
    everything = client.get("/oparl/body/020001/meeting/", {"modified_until": "2999-01-01T00:00:00+09:00"}).json()
    assert everything["pagination"]["totalElements"] > 0
    items = client.get("/oparl/body/020001/agendaItem/", {"created_since": "2999-01-01"}).json()
    assert items["data"] == []
    bad = client.get("/oparl/body/020001/meeting/", {"modified_since": "yesterday"})
    assert bad.status_code == 400 and "modified_since" in bad.json()["detail"]
    limited = client.get("/oparl/body/020001/person/", {"limit": 2, "modified_until": "2999-01-01"}).json()
    assert "modified_until=2999-01-01" in limited["links"]["next"] and "limit=2" in limited["links"]["next"]


def test_ids_come_from_site_url_not_the_host_header(demo, settings):
    settings.ALLOWED_HOSTS = ["evil.example", "testserver"]
    response = Client(HTTP_HOST="evil.example").get("/oparl/")
    assert "evil.example" not in response.content.decode()
    feed = Client(HTTP_HOST="evil.example").get("/opendata/feed.atom")
    assert b"evil.example" not in feed.content


def test_rate_limit_per_client_address(db, client, settings):
    settings.DXPLAN_OPENDATA_RATE = "3/m"
    cache.clear()
    for _ in range(3):
        assert client.get("/oparl/").status_code == 200
    refused = client.get("/oparl/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "リクエストが多すぎます" in refused.content.decode()
    assert "no-store" in refused["Cache-Control"]
    english = client.get("/opendata/meetings.csv", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 429 and "Too many requests" in english.content.decode()
    assert Client(REMOTE_ADDR="192.0.2.10").get("/oparl/").status_code == 200


@pytest.mark.parametrize("path", [*EXPORTS, "/opendata/"])
def test_every_export_answers_429_once_the_limit_is_reached(demo, client, settings, path):
    settings.DXPLAN_OPENDATA_RATE = "1/m"
    cache.clear()
    assert client.get(path).status_code == 200
    refused = client.get(path)
    assert refused.status_code == 429, path
    assert refused["Retry-After"] == "60" and "no-store" in refused["Cache-Control"]
    assert "リクエストが多すぎます" in refused.content.decode()
    assert "public" not in refused["Cache-Control"] and "ETag" not in refused


def test_behind_a_proxy_the_limit_counts_the_forwarded_address(db, settings):
    settings.DXPLAN_OPENDATA_RATE = "1/m"
    settings.PROXY_COUNT = 1  # the one setting every reader of the client address honours (core.http)
    cache.clear()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert Client(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").get("/oparl/").status_code == 200
    assert Client(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.2").get("/oparl/").status_code == 200
    assert Client(**proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").get("/oparl/").status_code == 429


def test_only_get_and_head(db, client):
    assert client.post("/oparl/").status_code == 405
    assert client.head("/opendata/meetings.csv").status_code == 200


def test_the_japanese_feed_gives_a_materials_size_in_japanese(demo, client):
    entries = _atom(client.get("/opendata/feed.atom", HTTP_ACCEPT_LANGUAGE="ja").content).findall(f"{ATOM}entry")
    sizes = [e.find(f"{ATOM}summary").text for e in entries if e.find(f"{ATOM}title").text.startswith("【資料")]
    assert sizes and all(re.fullmatch(r"[A-Z]+、[\d,]+バイト", s) for s in sizes), sizes
