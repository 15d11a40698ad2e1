"""Public pages of the roster: the body page, its guidelines, the list of bodies, and the roster export.

Who may reach each URL at all is in tests/test_url_matrix.py; these tests check what the pages show.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from committee import services
from committee.models import Affiliation, Appointment, Person
from committee.views import ROSTER_PAGE
from core import kana
from core.models import AuditEntry
from tests import factories
from tests.conftest import APPOINTED, TOKYO, appoint

TERM_END = dt.date(2024, 3, 31)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 at production strength costs ~0.4 s per account; these tests make several.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client: Client, user) -> None:
    # UserFactory hashes the password in memory only (skip_postgeneration_save); store it, or the
    # session's password-hash check logs the user straight out again.
    user.save(update_fields=["password"])
    client.force_login(user, backend=MODEL_BACKEND)


class _RosterTable(HTMLParser):
    """The rows of <table class="... roster-table">, each a tuple of its cells' text."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._in_table = self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "roster-table" in (dict(attrs).get("class") or ""):
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def roster_rows(response) -> list[tuple[str, ...]]:
    assert response.status_code == 200
    parser = _RosterTable()
    parser.feed(response.content.decode())
    return parser.rows


def body_url(slug: str = "dx-plan", **query) -> str:
    url = reverse("committee:body_detail", args=[slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- the roster on the body page -----------------------------------------------------------------


def test_roster_is_numbered_in_gojuon_order_with_affiliation_and_chair_marker(
    client, body, chair, vice_chair, member, in_term
):
    rows = roster_rows(client.get(body_url()))

    # いしい < さとう < もり, whatever order they were appointed in (森 first, 石井, then 佐藤).
    assert rows == [
        ("1", "石井 重成", "石井の所属", "副委員長"),
        ("2", "佐藤 志穂", "佐藤の所属", ""),
        ("3", "森 樹男", "森の所属", "委員長"),
    ]


def test_roster_follows_readings_not_characters(client, body, in_term):
    # 渡辺 (わたなべ) sorts last although its first character has the lowest code point of the three.
    appoint(body, "渡辺", "わたなべ")
    appoint(body, "青木", "アオキ")  # katakana readings are stored as hiragana
    appoint(body, "斎藤", "さいとう")

    names = [row[1] for row in roster_rows(client.get(body_url()))]

    assert names == ["青木 太郎", "斎藤 太郎", "渡辺 太郎"]


PRIVATE = {
    "email": "hidden-address-7c1@private.example",
    "phone": "090-7777-31415",
    "postal_address": "秘密県秘密市非公開町9-9-9",
    "note": "事務局だけのメモ-ZZQ",
    "birth_year": 1937,
}


@pytest.mark.parametrize("viewer", ["anonymous", "member"])
def test_roster_never_shows_private_data(client, body, chair, member_appointment, in_term, viewer):
    for person in Person.objects.all():
        for field, value in PRIVATE.items():
            setattr(person, field, value)
        person.gender = Person.Gender.FEMALE
        person.save()
    Appointment.objects.update(note="委嘱の内部メモ-QQX")
    if viewer == "member":
        sign_in(client, member_appointment.person.user)

    response = client.get(body_url())
    html = response.content.decode()

    assert [row[1] for row in roster_rows(response)] == ["佐藤 志穂", "森 樹男"]  # the page did render the roster
    for value in (*PRIVATE.values(), "委嘱の内部メモ-QQX"):
        assert str(value) not in html
    assert "female" not in html.lower()
    assert str(Person.Gender.FEMALE.label) not in html


def test_roster_on_a_past_date_leaves_out_who_had_resigned(client, body, chair, member_appointment, in_term):
    services.appointment_end(
        actor=None, appointment=member_appointment, ended_on=dt.date(2023, 7, 31), reason=Appointment.EndReason.RESIGNED
    )

    on_last_day = [row[1] for row in roster_rows(client.get(body_url(on="2023-07-31")))]
    after = client.get(body_url(on="2023-08-01"))
    before_terms = client.get(body_url(on="2023-05-09"))

    assert on_last_day == ["佐藤 志穂", "森 樹男"]
    assert [row[1] for row in roster_rows(after)] == ["森 樹男"]
    assert after.context["day"] == dt.date(2023, 8, 1)
    assert roster_rows(before_terms) == []


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2023-02-30", "", "2023-6-1", "0001-01-01", "1800-01-01", "9999-12-31", "2023-06-01%00", "%E4%BB%A4"],
)
def test_invalid_roster_date_falls_back_to_today(client, body, member, in_term, value):
    response = client.get(body_url(on=value))

    assert response.status_code == 200
    assert response.context["day"] == in_term
    assert [row[1] for row in roster_rows(response)] == ["佐藤 志穂"]


@pytest.mark.parametrize("value", ["0001-01-01", "1800-01-01", "9999-12-31", "nonsense"])
def test_invalid_report_date_falls_back_to_today(client, secretariat, body, member, in_term, value):
    sign_in(client, secretariat)

    response = client.get(reverse("committee:composition") + f"?on={value}")

    assert response.status_code == 200
    assert response.context["day"] == in_term


KANA = "あかさたなはまやらわ"


def _reading(n: int) -> str:
    return "".join(KANA[int(digit)] for digit in f"{n:04d}")


def _add_members(body, guideline, start: int, count: int) -> None:
    """`count` members with an affiliation each, made with bulk_create (no signals, no history)."""
    people = Person.objects.bulk_create(
        Person(
            family_name=f"委員{n:04d}",
            given_name="花子",
            family_name_kana=_reading(n),
            sort_key=kana.sort_key(_reading(n)),
            email=f"member{n}@private.example",
        )
        for n in range(start, start + count)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(
            body=body,
            person=person,
            guideline=guideline,
            appointed_on=APPOINTED,
            term_start=APPOINTED,
            term_end=TERM_END,
        )
        for person in people
    )
    Affiliation.objects.bulk_create(
        Affiliation(appointment=appointment, text=f"所属{appointment.person.family_name}", valid_from=APPOINTED)
        for appointment in appointments
    )


@pytest.mark.parametrize("viewer", ["anonymous", "secretariat"])
def test_roster_page_queries_do_not_grow_with_the_roster(
    client, body, guideline, chair, vice_chair, secretariat, in_term, django_assert_num_queries, viewer
):
    _add_members(body, guideline, 0, 10)  # with the chair and vice chair: 12
    if viewer == "secretariat":
        sign_in(client, secretariat)
    client.get(body_url())  # first request of the process: caches (content types, templates) fill
    with CaptureQueriesContext(connection) as twelve:
        response = client.get(body_url())
    assert len(roster_rows(response)) == 12

    _add_members(body, guideline, 10, 488)
    rows = []
    for page in range(1, 500 // ROSTER_PAGE + 1):  # the roster is paginated (issue 13): every page as cheap
        with django_assert_num_queries(len(twelve)):
            response = client.get(body_url(), {"page": page})
        rows += roster_rows(response)

    assert len(rows) == 500
    assert rows[-1][0] == "500"
    assert ("委員0487 花子", "所属委員0487") in {row[1:3] for row in rows}


def test_names_are_escaped_on_the_body_page(client, body, in_term):
    appoint(
        body, "<script>alert(1)</script>", "すくりぷと", given="<b>太字</b>", affiliation="<img src=x onerror=alert(2)>"
    )

    html = client.get(body_url()).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>太字</b>" not in html
    assert "<img src=x" not in html


def test_manage_link_only_for_the_bodys_secretariat(client, body, secretariat, other_secretariat, in_term):
    edit_url = reverse("committee:body_edit", args=[body.slug])
    admin_url = reverse("admin:committee_body_change", args=[body.pk])

    anonymous = client.get(body_url()).content.decode()
    sign_in(client, other_secretariat)
    foreign = client.get(body_url()).content.decode()
    sign_in(client, secretariat)
    own = client.get(body_url()).content.decode()

    assert edit_url not in anonymous
    assert edit_url not in foreign
    assert edit_url in own
    assert admin_url not in own  # the secretariat's pages never link to /admin/


# --- guidelines ----------------------------------------------------------------------------------


@pytest.fixture
def articles(guideline):
    factories.GuidelineArticleFactory(
        guideline=guideline,
        position=1,
        number="第1",
        heading="設置",
        text="DX推進プランを策定するため、委員会を設置する。",
    )
    factories.GuidelineArticleFactory(
        guideline=guideline, position=2, number="第2", heading="所掌事項", text="改正前の所掌事項を定める。"
    )
    return guideline


def guideline_url(version: dt.date | str | None = None) -> str:
    if version is None:
        return reverse("committee:guideline_current", args=["dx-plan"])
    return reverse("committee:guideline_detail", args=["dx-plan", str(version)])


def test_guideline_page_shows_articles_and_rule_summary(client, articles, in_term):
    response = client.get(guideline_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()

    assert response.status_code == 200
    assert "DX推進プランを策定するため、委員会を設置する。" in html
    assert "(所掌事項)" in html
    rules = {str(label): str(value) for label, value in response.context["rules"]}
    assert rules["Term of office"] == "Until 2024-03-31"
    assert rules["Convened by"] == "青森県企画政策部長"
    assert rules["Reappointment"] == "Allowed"
    for label, value in rules.items():
        assert label in html
        assert value in html


def test_body_page_shows_purpose_and_links_the_guidelines(client, articles, in_term):
    html = client.get(body_url()).content.decode()

    assert "DX推進プランを策定するため、委員会を設置する。" in html
    assert guideline_url("2023-04-13") in html


def test_old_guideline_versions_stay_readable_after_an_amendment(client, articles, in_term):
    new = services.guideline_amend(
        actor=None,
        guideline=articles,
        effective_on=dt.date(2023, 10, 1),
        amendment_note="第2を改正",
        convener_title="青森県総合政策部長",
    )
    new.articles.filter(position=2).update(text="改正後の所掌事項を定める。")

    current = client.get(guideline_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert current.context["guideline"] == articles  # the amendment is not in force yet
    assert guideline_url("2023-10-01") in current.content.decode()

    with time_machine.travel(dt.datetime(2023, 11, 1, 10, tzinfo=TOKYO), tick=False):
        current = client.get(guideline_url(), HTTP_ACCEPT_LANGUAGE="en")
        old = client.get(guideline_url("2023-04-13"), HTTP_ACCEPT_LANGUAGE="en")
        amended = client.get(guideline_url("2023-10-01"), HTTP_ACCEPT_LANGUAGE="en")

    assert current.context["guideline"] == new
    assert old.status_code == 200
    old_html = old.content.decode()
    assert "改正前の所掌事項を定める。" in old_html
    assert "改正後の所掌事項を定める。" not in old_html
    assert "青森県企画政策部長" in old_html
    assert "Not the version in force today" in old_html
    amended_html = amended.content.decode()
    assert "改正後の所掌事項を定める。" in amended_html
    assert "改正前の所掌事項を定める。" not in amended_html
    assert "青森県総合政策部長" in amended_html
    assert "第2を改正" in amended_html
    assert "Not the version in force today" not in amended_html


@pytest.mark.parametrize("version", ["2023-04-12", "2023-04-14", "2099-01-01", "1800-01-01", "2023-13-01", "current"])
def test_unknown_guideline_version_is_not_found(client, articles, in_term, version):
    assert client.get(guideline_url(version)).status_code == 404


# --- the list of bodies ----------------------------------------------------------------------------


def test_home_lists_public_bodies_not_private_ones(client, body, unit, in_term):
    private = factories.BodyFactory(
        name="非公開の庁内会議ABC", slug="private-meeting", secretariat=unit, is_public=False
    )
    factories.BodyFactory(name="公開の部会XYZ", slug="public-wg", secretariat=unit, parent=private)

    for url in (reverse("committee:home"), reverse("committee:body_list")):
        html = client.get(url).content.decode()
        assert body.name in html
        assert "公開の部会XYZ" in html
        assert "非公開の庁内会議ABC" not in html
        assert "private-meeting" not in html


def test_public_child_does_not_name_its_private_parent(client, unit, in_term):
    private = factories.BodyFactory(
        name="非公開の庁内会議ABC", slug="private-meeting", secretariat=unit, is_public=False
    )
    child = factories.BodyFactory(name="公開の部会XYZ", slug="public-wg", secretariat=unit, parent=private)

    html = client.get(body_url(child.slug)).content.decode()

    assert "公開の部会XYZ" in html
    assert "非公開の庁内会議ABC" not in html
    assert "private-meeting" not in html


def test_private_child_is_not_listed_on_its_public_parent(client, body, unit, in_term):
    factories.BodyFactory(name="非公開の作業部会DEF", slug="private-wg", secretariat=unit, parent=body, is_public=False)
    factories.BodyFactory(name="公開の作業部会GHI", slug="public-wg", secretariat=unit, parent=body)

    html = client.get(body_url()).content.decode()

    assert "公開の作業部会GHI" in html
    assert "非公開の作業部会DEF" not in html


# --- roster export -------------------------------------------------------------------------------


def test_roster_export_is_an_attachment_and_leaves_an_audit_entry(client, secretariat, body, chair, member, in_term):
    sign_in(client, secretariat)

    response = client.get(reverse("committee:roster_export", args=["dx-plan", "csv"]) + "?on=2023-06-01")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=\"roster.csv\"; filename*=UTF-8''")
    assert "\r" not in response["Content-Disposition"] and "\n" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff姓,名,")
    assert "佐藤,志穂" in text and "森,樹男" in text
    entry = AuditEntry.objects.get(action="roster_exported")
    assert entry.actor == secretariat
    assert entry.target_id == str(body.pk)
    assert entry.data == {"format": "csv", "on": "2023-06-01", "rows": 2}


def test_roster_export_filename_cannot_break_the_header(client, secretariat, body, member, in_term):
    body.short_name = '策定"委員会\r\nX-Injected: 1'
    body.save(update_fields=["short_name"])
    sign_in(client, secretariat)

    response = client.get(reverse("committee:roster_export", args=["dx-plan", "xlsx"]))

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 2  # only the quotes around the ASCII fallback name
    assert "X-Injected" not in response.headers
    assert response.content[:2] == b"PK"  # an xlsx workbook (a zip file)


def test_body_page_lists_its_meetings_of_the_latest_two_years(client, body, secretariat, in_term):
    from meetings import services as meeting_services

    older = meeting_services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2021, 9, 1))
    last = meeting_services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2022, 9, 1))
    this = meeting_services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2023, 9, 1))
    html = client.get(body_url()).content.decode()
    assert f'href="/meetings/{this.pk}/"' in html and f'href="/meetings/{last.pk}/"' in html
    assert f'href="/meetings/{older.pk}/"' not in html  # on the meetings page, linked from here
    assert html.index("令和5年度") < html.index("令和4年度")
    assert "/bodies/dx-plan/meetings/" in html


def test_the_composition_report_says_when_a_term_ends_early(client, secretariat, body, member_appointment, in_term):
    """A resignation within the horizon is listed with the terms ending soon, saying it is a 辞任 and not
    the term's expiry."""
    from committee import services
    from committee.models import Appointment

    services.appointment_end(actor=secretariat, appointment=member_appointment, ended_on=in_term + dt.timedelta(days=5),
                             reason=Appointment.EndReason.RESIGNED)
    sign_in(client, secretariat)
    page = client.get(reverse("committee:composition"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "佐藤 志穂 (辞任: 令和5年6月6日(火))" in page
