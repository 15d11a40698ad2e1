"""The demo data against the seed: the 2023年度スケジュール cell by cell, 第1回's 次第 and 出席者名簿, the
convener's approval, the chair elected at 第1回, and a second load that changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from committee import selectors as committee_selectors
from committee.models import Body, OfficerTerm
from core.models import AuditEntry
from documents.models import Material
from meetings import selectors
from meetings.models import Agenda, Meeting, OfficerElection

COMMITTEE = "dx-plan-committee"


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def demo(demo_loaded, db, settings):
    """The demo, loaded once for this module (tests/conftest.py: demo_loaded); its files stay where it wrote them."""
    settings.MEDIA_ROOT = demo_loaded / "media"
    settings.DEBUG = True
    settings.VAR_DIR = demo_loaded


def first_meeting() -> Meeting:
    return Meeting.objects.select_related("agenda__approved_version").get(body__slug=COMMITTEE, number=1)


# --- the year's schedule --------------------------------------------------------------------------


def _entry_text(kind: str, entry) -> str:
    if kind == "meeting":
        day = f" {timezone.localtime(entry.start_at):%-m/%-d}" if entry.start_at else ""
        theme = f" {entry.theme}" if entry.theme else ""
        return f"{entry.label}{day}{theme}"
    day = f"{entry.start_on:%-m/%-d} " if entry.start_precision == "day" else ""
    return f"{day}{entry.name}"


def _schedule(rows) -> dict[str, list[tuple[tuple[int, ...], list[str]]]]:
    return {
        row.body.slug: [(tuple(c.months), [_entry_text(k, e) for k, e in c.entries]) for c in row.cells] for row in rows
    }


def _months(filled: dict) -> list[tuple[tuple[int, ...], list[str]]]:
    """Twelve one-month cells 4月…3月, with `filled` ({month or months: texts}) in place of the empty ones."""
    cells, skip = [], set()
    for month in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3):
        if month in skip:
            continue
        span = next((key for key in filled if isinstance(key, tuple) and key[0] == month), None)
        if span:
            cells.append((span, filled[span]))
            skip.update(span)
        else:
            cells.append(((month,), filled.get(month, [])))
    return cells


SEED_SCHEDULE = {
    COMMITTEE: _months(
        {
            5: ["第1回 5/10"],
            6: ["第2回 6/7 骨子案検討"],
            7: ["第3回 7/26 素案検討"],
            9: ["パブコメ"],
            10: ["第4回 原案検討"],
        }
    ),
    "dx-honbu": _months({6: ["6/2 設立"], 3: ["プラン了承"]}),
    "kanjikai": _months(
        {
            5: ["準備会 5/22"],
            8: ["プラン素案検討"],
            (9, 10, 11, 12): ["R6事業構築等に向け適宜開催"],
            1: ["プラン原案検討"],
        }
    ),
}


def test_year_schedule_matches_the_seed_cell_by_cell(demo):
    rows = selectors.year_schedule(fiscal_year=2023, bodies=committee_selectors.public_bodies())

    assert [r.body.slug for r in rows] == [COMMITTEE, "dx-honbu", "kanjikai"]
    assert _schedule(rows) == SEED_SCHEDULE


def test_the_4th_meeting_has_only_its_month(demo):
    fourth = Meeting.objects.get(body__slug=COMMITTEE, number=4)
    assert (fourth.start_at, fourth.planned_month, fourth.fiscal_year) == (None, dt.date(2023, 10, 1), 2023)
    assert fourth.when_ja == "令和5年10月(日程未定)"


class _ScheduleTable(HTMLParser):
    """Rows of the schedule table: (body, [(colspan, text), ...])."""

    def __init__(self):
        super().__init__()
        self.head: list[str] = []
        self.rows: list[tuple[str, list[tuple[int, str]]]] = []
        self._section = None
        self._cell: list[str] | None = None
        self._span = 1
        self._row: list = []

    def handle_starttag(self, tag, attrs):
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td") and self._section:
            self._cell, self._span = [], int(dict(attrs).get("colspan") or 1)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._row.append((self._span, " ".join(" ".join(self._cell).split())))
            self._cell = None
        elif tag == "tr" and self._section == "thead":
            self.head = [text for _span, text in self._row]
        elif tag == "tr" and self._section == "tbody" and self._row:
            self.rows.append((self._row[0][1], self._row[1:]))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_schedule_page_is_laid_out_like_the_seed(demo, client):
    response = client.get(reverse("meetings:schedule_year", args=[2023]))
    assert response.status_code == 200
    table = _ScheduleTable()
    table.feed(response.content.decode())

    assert table.head[1:] == [f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    empty = (1, "")
    assert table.rows == [
        (
            "DX推進プラン策定委員会",
            [
                empty,
                (1, "第1回 5/10"),
                (1, "第2回 6/7 骨子案検討"),
                (1, "第3回 7/26 素案検討"),
                empty,
                (1, "↔ パブコメ"),
                (1, "第4回 原案検討"),
                empty,
                empty,
                empty,
                empty,
                empty,
            ],
        ),
        ("DX推進本部会議", [empty, empty, (1, "6/2 設立"), *[empty] * 8, (1, "プラン了承")]),
        (
            "幹事会",
            [
                empty,
                (1, "準備会 5/22"),
                empty,
                empty,
                (1, "プラン素案検討"),
                (4, "↔ R6事業構築等に向け適宜開催"),
                (1, "プラン原案検討"),
                empty,
                empty,
            ],
        ),
    ]
    assert 'colspan="4"' in response.content.decode()


def test_the_schedule_redirects_to_the_current_fiscal_year(demo, client, in_term):
    response = client.get(reverse("meetings:schedule"))
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:schedule_year", args=[2023])


# --- 第1回 ------------------------------------------------------------------------------------


def test_the_first_meetings_agenda_is_the_seeds(demo, client):
    meeting = first_meeting()
    items = [(i["number"], i["title"], i["detail"]) for i in meeting.agenda.approved_version.snapshot["items"]]
    assert items == [
        ("1", "開会", ""),
        ("2", "青森県企画政策部次長挨拶", ""),
        ("3", "委員長及び副委員長選任", ""),
        ("4", "議事", ""),
        ("(1)", "(仮称)青森県DX推進プランの策定及び推進について", ""),
        ("(2)", "意見交換", "(仮称)青森県DX推進プランにおける本県のめざす姿について"),
        ("5", "閉会", ""),
    ]

    html = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    shown = re.findall(r'<span class="agenda-number">([^<]*)</span>\s*<span class="agenda-title">([^<]*)</span>', html)
    assert [number for number, _title in shown] == ["1", "2", "3", "4", "(1)", "(2)", "5"]
    assert "令和5年5月10日(水) 14:00" in html
    materials = re.findall(r"<li>・ ([^<]*)</li>", html)
    assert materials[:3] == ["次第", "出席者名簿", "席図"]
    assert materials[3].startswith("資料1 ")


def test_the_first_meetings_agenda_was_approved_by_the_convener(demo):
    agenda = first_meeting().agenda
    version = agenda.approved_version
    assert agenda.status == Agenda.Status.APPROVED
    assert version.decided_as == "青森県企画政策部長"
    assert version.decided_by.email == "director@demo.dxplan.example"
    assert version.decided_by == Body.objects.get(slug=COMMITTEE).convener_account


def test_mori_was_elected_chair_at_the_first_meeting(demo):
    election = OfficerElection.objects.select_related("officer_term__appointment__person").get(meeting=first_meeting())
    term = election.officer_term
    assert (term.role, term.appointment.holder_name) == (OfficerTerm.Role.CHAIR, "森 樹男")
    assert term.selected_on == dt.date(2023, 5, 10)
    # From then on the chair approves: the 2nd meeting's 次第 is his.
    second = Meeting.objects.get(body__slug=COMMITTEE, number=2)
    assert selectors.approver_for(second).title == "委員長"
    assert selectors.approver_for(second).user.email == "chair@demo.dxplan.example"


SEED_ROSTER = [
    ("池田 右文", "○", ""),
    ("石井 重成", "○", ""),
    ("石澤 諒", "○", ""),
    ("加藤 夢人", "○", ""),
    ("佐藤 志穂", "○", ""),
    ("立花 拓也", "○", ""),
    ("舘田 あゆみ", "○", ""),
    ("本田 政邦", "○", ""),
    ("森 樹男", "○", ""),
    ("森本 登志男", "", "○"),
    ("山内 和彦", "○", ""),
    ("蕨 加奈子", "", "○"),
]


class _AttendanceTable(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "attendance-table" in (dict(attrs).get("class") or ""):
            self._in_body = None
        elif tag == "tbody" and self._in_body is None:
            self._in_body = True
        elif self._in_body and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_first_meetings_attendance_list_is_the_seeds(demo, client):
    response = client.get(reverse("meetings:attendance_list", args=[first_meeting().pk]))
    assert response.status_code == 200  # held: the public reads it
    table = _AttendanceTable()
    table.feed(response.content.decode())

    assert [(number, name, venue, online) for number, name, _aff, venue, online in table.rows] == [
        (str(i), name, venue, online) for i, (name, venue, online) in enumerate(SEED_ROSTER, start=1)
    ]
    assert [row[3] for row in table.rows].count("○") == 10
    assert [row[4] for row in table.rows].count("○") == 2
    assert table.rows[0][2] == "株式会社池田介護研究所代表"
    assert "出席者名簿" in response.content.decode()


def test_the_first_meetings_seating_puts_the_chair_at_the_head(demo):
    seats = first_meeting().seats.select_related("attendance__appointment__person", "attendance__attendee")
    zones = {}
    for seat in seats.order_by("position"):
        zones.setdefault(seat.zone, []).append(seat.attendance.holder_name)
    assert zones["head"] == ["森 樹男"]
    assert zones["online"] == ["森本 登志男", "蕨 加奈子"]
    assert zones["foot"] == ["企画政策部DX推進課"]
    assert len(zones["left"]) + len(zones["right"]) == 9


def test_the_working_groups_three_meetings(demo):
    meetings = list(Meeting.objects.filter(body__slug="dx-wg-2022").order_by("number"))
    assert [(m.label, m.date, m.fiscal_year) for m in meetings] == [
        ("第1回", dt.date(2022, 12, 14), 2022),
        ("第2回", dt.date(2023, 1, 16), 2022),
        ("第3回", dt.date(2023, 2, 17), 2022),
    ]
    topics = [i["title"] for i in meetings[2].agenda.approved_version.snapshot["items"]]
    assert topics == [
        "議事",
        "「令和4年度デジタル対応社会推進調査・分析業務」調査結果報告",
        "「青森県DX推進方向」(案)について",
    ]
    assert {m.agenda.approved_version.decided_by.email for m in meetings} == {"deputy@demo.dxplan.example"}


def test_loading_the_demo_twice_creates_nothing_new(demo, settings):
    models = [*apps.get_app_config("meetings").get_models(), AuditEntry, Material, OfficerTerm]
    before = {m._meta.label: m.objects.count() for m in models}
    assert Meeting.objects.filter(fiscal_year__lte=2023).count() == 10  # the seed's; the live 年度 adds more

    call_command("load_demo", stdout=StringIO())

    assert {m._meta.label: m.objects.count() for m in models} == before


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith("//"):
            self.hrefs.append(href.split("#")[0])


def _links_of(html: str) -> set[str]:
    parser = _Links()
    parser.feed(html)
    return set(parser.hrefs)


def test_no_link_of_the_secretariats_meeting_and_renewal_pages_leads_to_a_404(demo):
    """Every meeting's manage page and every body's renewal page, on the demo of the day: each link they show
    answers (the letters' PDF of a meeting nobody is invited to, and amending the guidelines of a body that has
    none, were links to a 404). The schedule of the first and the last 年度 it shows links to no year beyond."""
    from core.models import User
    from tests.meetings.conftest import sign_in

    client = Client()
    sign_in(client, User.objects.get(email="secretariat@demo.dxplan.example"))
    pages = [reverse("meetings:manage", args=[pk]) for pk in Meeting.objects.values_list("pk", flat=True)]
    pages += [reverse("committee:body_renew", args=[slug]) for slug in Body.objects.values_list("slug", flat=True)]
    followed: dict[str, int] = {}
    managed = 0
    for page in pages:
        response = client.get(page)
        if response.status_code == 404:  # a body another unit serves
            continue
        assert response.status_code == 200, page
        managed += 1
        for href in _links_of(response.content.decode()) - set(followed):
            if "/logout" in href or href.startswith(("/static/", "/admin/")):
                continue
            followed[href] = client.get(href).status_code
    missing = {href: status for href, status in followed.items() if status == 404}
    assert not missing, missing
    assert managed >= 10 and len(followed) > 50
    for year, beyond in ((1990, "/schedule/1989/"), (2100, "/schedule/2101/")):
        links = _links_of(Client().get(f"/schedule/{year}/").content.decode())
        assert beyond not in links and any(link.startswith("/schedule/") for link in links)


def test_the_guidelines_dates_on_the_public_pages_carry_the_weekday(demo):
    """Dates shown in Japanese are 和暦 with the weekday (令和6年4月1日(月)), the 施行日 of the 設置要綱 too (the
    guidelines' own text is quoted as adopted)."""
    body = Client().get("/bodies/dx-plan-committee/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "令和6年4月1日(月)施行" in body and "令和6年4月1日施行" not in body
    guidelines = Client().get("/bodies/dx-plan-committee/guidelines/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert ">令和5年4月13日(木)</a>" in guidelines and ">令和6年4月1日(月)</a>" in guidelines
    assert ">令和5年4月13日</a>" not in guidelines


def test_the_published_summary_has_one_name_everywhere(demo):
    """The meeting page, its print and the open data call the published summary 議事要旨 (the page and OParl
    said 議事概要, the print and its file 議事要旨)."""
    from meetings.models import Minutes

    minutes = Minutes.objects.filter(status=Minutes.Status.PUBLISHED, kind=Minutes.Kind.SUMMARY).first()
    assert minutes is not None
    pk = minutes.meeting_id
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    page = client.get(f"/meetings/{pk}/").content.decode()
    printed = client.get(f"/meetings/{pk}/print/minutes.html").content.decode()
    oparl = str(client.get(f"/oparl/meeting/{pk}/").json())
    assert "議事要旨" in page and "議事要旨" in printed
    assert "議事概要" not in page + printed + oparl
