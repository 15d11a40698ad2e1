"""Roster import and export (committee/resources.py), the export view and the admin import view.

The committee's terms run to 2024-03-31 under the guidelines in force (conftest), so every imported
委嘱 of 2023-05-10 must end then. An import is all or nothing: counts of Person and Appointment rows
are compared before and after every failing import.
"""
import csv
import datetime as dt
import io
from urllib.parse import quote

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import translation

from committee import selectors, services
from committee.models import Affiliation, Appointment, Guideline, Person
from committee.resources import (
    COLUMNS,
    RosterImportError,
    RosterResource,
    parse_date,
    read_dataset,
    roster_import,
)
from core.models import AuditEntry
from tests import factories
from tests.conftest import APPOINTED, appoint

HEADER = ["姓", "名", "姓よみ", "名よみ", "所属・役職", "区分", "委嘱日", "任期開始", "性別", "生年", "メールアドレス"]
ROWS = [
    ["青木", "花子", "アオキ", "ハナコ", "青森大学教授", "委員", "2023-05-10", "", "女性", "1970", "aoki@example.com"],
    ["伊藤", "一郎", "イトウ", "イチロウ", "株式会社テスト代表取締役", "有識者", "2023/5/10", "", "男", "", ""],
    ["上田", "健", "ｳｴﾀﾞ", "ケン", "企画政策部次長", "庁内構成員", "令和5年5月10日", "", "", "", ""],
]
TERM_END = dt.date(2024, 3, 31)


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in English, whatever translations the project gains."""
    with translation.override("en"):
        yield


def csv_bytes(rows, *, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header=HEADER, blank_rows_after=0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for number in range(blank_rows_after):
        # Formatting alone makes Excel keep a row in the sheet; it holds no value.
        sheet.cell(row=len(rows) + 2 + number, column=1).number_format = "@"
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def replaced(row, **cells):
    """A copy of `row` with some cells changed, named by column: replaced(row, 区分="委員長")."""
    new = list(row)
    for name, value in cells.items():
        new[HEADER.index(name)] = value
    return new


def counts() -> tuple[int, int, int]:
    return Person.objects.count(), Appointment.objects.count(), Affiliation.objects.count()


def imported(body) -> list[tuple]:
    appointments = Appointment.objects.filter(body=body).select_related("person").order_by("person__sort_key")
    return [
        (
            a.person.family_name,
            a.person.given_name,
            a.person.family_name_kana,
            a.person.given_name_kana,
            a.affiliation_on(a.term_start),
            a.category,
            a.appointed_on,
            a.term_start,
            a.term_end,
            a.person.gender,
            a.person.birth_year,
            a.person.email,
        )
        for a in appointments
    ]


EXPECTED = [
    ("青木", "花子", "あおき", "はなこ", "青森大学教授", "member", APPOINTED, APPOINTED, TERM_END, "female", 1970,
     "aoki@example.com"),
    ("伊藤", "一郎", "いとう", "いちろう", "株式会社テスト代表取締役", "expert", APPOINTED, APPOINTED, TERM_END, "male",
     None, ""),
    ("上田", "健", "うえだ", "けん", "企画政策部次長", "internal", APPOINTED, APPOINTED, TERM_END, "", None, ""),
]


# --- import: good files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("名簿.csv", lambda: csv_bytes(ROWS)),  # UTF-8 with BOM, as Excel saves "CSV UTF-8"
        ("名簿.CSV", lambda: csv_bytes(ROWS, encoding="utf-8")),
        ("名簿.csv", lambda: csv_bytes(ROWS, encoding="cp932")),  # Shift_JIS, as Excel saves plain "CSV"
        ("名簿.xlsx", lambda: xlsx_bytes(ROWS)),
    ],
    ids=["utf8-bom", "utf8", "cp932", "xlsx"],
)
def test_good_file_imports_every_row(body, secretariat, filename, make):
    outcome = roster_import(actor=secretariat, body=body, data=make(), filename=filename)

    assert outcome.ok, outcome.errors
    assert outcome.created == 3
    assert imported(body) == EXPECTED
    guideline = body.guidelines.get()
    assert set(Appointment.objects.filter(body=body).values_list("guideline", "appointed_by")) == {
        (guideline.pk, guideline.appointing_authority)
    }


def test_import_writes_one_audit_entry_per_appointment_by_the_actor(body, secretariat):
    roster_import(actor=secretariat, body=body, data=csv_bytes(ROWS), filename="roster.csv")

    entries = AuditEntry.objects.filter(action="appointment_created")
    assert entries.count() == 3
    assert set(entries.values_list("actor", flat=True)) == {secretariat.pk}


def test_excel_date_cells_and_numbers_are_accepted(body, secretariat):
    rows = [replaced(row, 委嘱日=dt.datetime(2023, 5, 10), 生年=1970 if row[0] == "青木" else None) for row in ROWS]

    outcome = roster_import(actor=secretariat, body=body, data=xlsx_bytes(rows), filename="roster.xlsx")

    assert outcome.ok, outcome.errors
    assert imported(body) == EXPECTED


def test_reiwa_gannen_date_imports_under_the_guidelines_of_2019(db, secretariat, unit):
    body = factories.BodyFactory(secretariat=unit)
    factories.GuidelineFactory(
        body=body,
        effective_on=dt.date(2019, 4, 1),
        term_rule=Guideline.TermRule.YEARS,
        term_years=2,
        term_fixed_end=None,
    )
    row = replaced(ROWS[0], 委嘱日="令和元年5月7日")

    outcome = roster_import(actor=secretariat, body=body, data=csv_bytes([row]), filename="roster.csv")

    assert outcome.ok, outcome.errors
    appointment = Appointment.objects.get(body=body)
    assert (appointment.appointed_on, appointment.term_start, appointment.term_end) == (
        dt.date(2019, 5, 7),
        dt.date(2019, 5, 7),
        dt.date(2021, 5, 6),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-05-10", dt.date(2023, 5, 10)),
        ("2023/5/10", dt.date(2023, 5, 10)),
        ("２０２３／５／１０", dt.date(2023, 5, 10)),
        ("令和5年5月10日", dt.date(2023, 5, 10)),
        ("令和５年５月１０日", dt.date(2023, 5, 10)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        (dt.datetime(2023, 5, 10, 0, 0), dt.date(2023, 5, 10)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date_accepts_western_and_era_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30", "10/5/2023", "2023-05", "明日",
        "令和0年5月1日", "令和元年4月30日", "平成31年5月1日", "平成32年1月1日",
    ],
)
def test_parse_date_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_blank_rows_are_skipped_and_numbering_follows_the_file(body, secretariat):
    bad = replaced(ROWS[2], 区分="委員長")
    data = csv_bytes([ROWS[0]]) + b"\r\n" + csv_bytes([[""] * len(HEADER), ROWS[1], bad], header=None, encoding="utf-8")
    before = counts()

    outcome = roster_import(actor=secretariat, body=body, data=data, filename="roster.csv")

    # header 1, 青木 2, empty line 3, row of empty cells 4, 伊藤 5, 上田 6
    assert [number for number, _message in outcome.errors] == [6]
    assert counts() == before


def test_empty_rows_at_the_end_of_a_worksheet_are_ignored(body, secretariat):
    data = xlsx_bytes(ROWS, blank_rows_after=5)

    outcome = roster_import(actor=secretariat, body=body, data=data, filename="roster.xlsx")

    assert outcome.ok, outcome.errors
    assert outcome.created == 3


def test_headers_with_stray_spaces_or_half_width_kana_are_recognised(body, secretariat):
    header = [f" {name} " for name in HEADER]
    header[HEADER.index("メールアドレス")] = "ﾒｰﾙｱﾄﾞﾚｽ"

    outcome = roster_import(actor=secretariat, body=body, data=csv_bytes(ROWS, header=header), filename="r.csv")

    assert outcome.ok, outcome.errors
    assert imported(body) == EXPECTED


# --- import: bad rows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"姓よみ": "上田"}, "姓よみ", "上田"),
        ({"姓よみ": ""}, "姓よみ", ""),
        ({"名よみ": "Ken"}, "名よみ", "Ken"),
        ({"委嘱日": "2023-02-30"}, "委嘱日", "2023-02-30"),
        ({"委嘱日": "令和5年13月1日"}, "委嘱日", "令和5年13月1日"),
        ({"委嘱日": ""}, "委嘱日", ""),
        ({"任期開始": "来月"}, "任期開始", "来月"),
        ({"区分": "委員長"}, "区分", "委員長"),
        ({"性別": "不明"}, "性別", "不明"),
        ({"生年": "1850"}, "生年", ""),
        ({"メールアドレス": "ueda@"}, "メールアドレス", "ueda@"),
        ({"姓": ""}, "姓", ""),
        ({"姓": "上" * 61}, "姓", ""),
        ({"所属・役職": "所" * 251}, "所属・役職", ""),
        ({"名よみ": "ケ" * 81}, "名よみ", "80"),
        ({"任期開始": "2024-04-01"}, "姓", "amend the guidelines"),  # after the day all terms end under them
    ],
)
def test_one_bad_row_imports_nothing_and_is_reported_with_its_number(body, secretariat, cells, column, fragment):
    rows = [ROWS[0], ROWS[1], replaced(ROWS[2], **cells)]
    before = counts()

    outcome = roster_import(actor=secretariat, body=body, data=csv_bytes(rows), filename="roster.csv")

    assert not outcome.ok
    assert outcome.created == 0
    assert [number for number, _message in outcome.errors] == [4]  # header is row 1: the 3rd data row is row 4
    message = outcome.errors[0][1]
    assert message.startswith(f"{column}: ")
    assert fragment in message
    assert counts() == before
    assert not AuditEntry.objects.filter(action="appointment_created").exists()


def test_overlap_with_a_member_already_on_the_body_imports_nothing(body, secretariat, member_appointment):
    person = member_appointment.person  # 佐藤 志穂 (さとう), in office 2023-05-10 to 2024-03-31
    again = replaced(ROWS[2], 姓=person.family_name, 名=person.given_name, 姓よみ="サトウ", 名よみ="シホ")
    before = counts()

    outcome = roster_import(
        actor=secretariat, body=body, data=csv_bytes([ROWS[0], ROWS[1], again]), filename="roster.csv"
    )

    assert len(outcome.errors) == 1
    number, message = outcome.errors[0]
    assert number == 4
    assert message.startswith("姓: ") and "佐藤 志穂" in message and "2023-05-10" in message
    assert counts() == before
    assert Appointment.objects.filter(person=person).count() == 1


def test_the_same_person_twice_in_one_file_is_an_overlap(body, secretariat):
    before = counts()

    outcome = roster_import(
        actor=secretariat, body=body, data=csv_bytes([ROWS[0], ROWS[1], ROWS[0]]), filename="roster.csv"
    )

    assert [number for number, _message in outcome.errors] == [4]
    assert "青木 花子" in outcome.errors[0][1]
    assert counts() == before


def test_every_bad_row_is_listed_and_nothing_is_left(body, secretariat, member_appointment):
    rows = [
        replaced(ROWS[0], 姓よみ="青木"),  # row 2: reading in kanji
        ROWS[1],  # row 3: fine
        replaced(ROWS[2], 姓="佐藤", 名="志穂", 姓よみ="さとう"),  # row 4: already on the body
        replaced(ROWS[2], 姓="遠藤", 姓よみ="えんどう", 委嘱日="5月10日", 区分="座長"),  # row 5: two problems
        replaced(ROWS[2], 姓="大野", 姓よみ="おおの"),  # row 6: fine, after the failures
    ]
    before = counts()

    outcome = roster_import(actor=secretariat, body=body, data=csv_bytes(rows), filename="roster.csv")

    assert sorted({number for number, _message in outcome.errors}) == [2, 4, 5]
    assert {message.split(":")[0] for number, message in outcome.errors if number == 5} == {"区分", "委嘱日"}
    assert outcome.created == 0
    assert counts() == before


def test_a_database_error_on_one_row_does_not_stop_the_report_of_later_rows(body, secretariat, monkeypatch):
    """On PostgreSQL an error inside the transaction aborts it unless the row ran in a savepoint."""
    real_save = Person.save

    def failing_save(self, *args, **kwargs):
        if self.family_name == "伊藤":
            with connection.cursor() as cursor:  # a NOT NULL violation raised by the database itself
                cursor.execute("INSERT INTO committee_person (family_name) VALUES (NULL)")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Person, "save", failing_save)
    rows = [ROWS[0], ROWS[1], replaced(ROWS[2], 区分="委員長"), replaced(ROWS[2], 姓="大野", 姓よみ="おおの")]
    before = counts()

    outcome = roster_import(actor=secretariat, body=body, data=csv_bytes(rows), filename="roster.csv")

    assert [number for number, _message in outcome.errors] == [3, 4]
    assert "committee_person" not in outcome.errors[0][1]  # no database internals in what the user reads
    assert counts() == before


# --- import: files that cannot be read -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "fragment"),
    [
        (csv_bytes(ROWS, header=None), "roster.csv", "column names"),
        (b"", "roster.csv", "column names"),
        (b"\r\n\r\n", "roster.csv", "column names"),
        (csv_bytes([]), "roster.csv", "no rows"),
        (csv_bytes([[""] * len(HEADER)] * 3), "roster.csv", "no rows"),
        (csv_bytes([r[:2] + r[3:] for r in ROWS], header=HEADER[:2] + HEADER[3:]), "roster.csv", "姓よみ"),
        (csv_bytes(ROWS), "roster.txt", ".csv"),
        (csv_bytes(ROWS), "roster", ".csv"),
        (b"\x00\x01PK\x03\x04 not a workbook", "roster.xlsx", "Excel"),
        (csv_bytes(ROWS), "roster.xlsx", "Excel"),
        (b"\xff\xfe\x00\xd8garbage\x81", "roster.csv", "CSV"),
        (csv_bytes([ROWS[0] + ["extra"]]), "roster.csv", "2"),
    ],
    ids=[
        "no-header", "empty", "empty-lines", "header-only", "empty-rows-only", "missing-required-column",
        "txt", "no-extension", "garbage-xlsx", "csv-named-xlsx", "undecodable-csv", "more-cells-than-columns",
    ],
)
def test_unreadable_files_raise_a_clear_error_and_leave_nothing(body, secretariat, data, filename, fragment):
    before = counts()

    with pytest.raises(RosterImportError) as excinfo:
        roster_import(actor=secretariat, body=body, data=data, filename=filename)

    assert fragment in excinfo.value.message
    assert counts() == before


def test_read_dataset_keeps_the_rows_of_a_shift_jis_file():
    dataset = read_dataset(csv_bytes(ROWS, encoding="cp932"), "名簿.csv")

    assert dataset.headers == HEADER
    assert [list(row) for row in dataset] == ROWS


def test_too_many_rows_are_refused(body, secretariat, monkeypatch):
    monkeypatch.setattr("committee.resources.MAX_ROWS", 2)

    with pytest.raises(RosterImportError, match="2"):
        roster_import(actor=secretariat, body=body, data=csv_bytes(ROWS), filename="roster.csv")
    assert not Appointment.objects.exists()


# --- import: people are matched only among those the importer manages ----------------------------


def test_a_namesake_on_another_secretariats_body_is_not_linked(body, secretariat, other_member):
    stranger = other_member.person  # 加藤 夢人 (かとう) on a body of another unit
    row = replaced(ROWS[0], 姓="加藤", 名="夢人", 姓よみ="カトウ", 名よみ="ユメト", メールアドレス="kato@example.com")

    outcome = roster_import(actor=secretariat, body=body, data=csv_bytes([row]), filename="roster.csv")

    assert outcome.ok, outcome.errors
    appointment = Appointment.objects.get(body=body)
    assert appointment.person != stranger
    assert appointment.person.email == "kato@example.com"
    assert not selectors.people_managed_by(secretariat).filter(pk=stranger.pk).exists()


def test_a_person_the_importer_manages_is_reused(body, secretariat, unit, member_appointment):
    second = factories.BodyFactory(secretariat=unit)
    factories.GuidelineFactory(body=second)
    person = member_appointment.person
    row = replaced(ROWS[0], 姓="佐藤", 名="志穂", 姓よみ="さとう", 名よみ="")

    outcome = roster_import(actor=secretariat, body=second, data=csv_bytes([row]), filename="roster.csv")

    assert outcome.ok, outcome.errors
    assert Appointment.objects.get(body=second).person == person


# --- export -------------------------------------------------------------------------------------


@pytest.fixture
def roster(body, member_appointment, chair_appointment, vice_chair_appointment, other_member):
    """森 (chair), 石井 (vice chair), 佐藤 (member) and 竹内 (resigned in June) on the body; a post seat;
    加藤 on another body. 佐藤's affiliation changes on 2023-10-01."""
    services.affiliation_change(
        actor=None, appointment=member_appointment, text="弘前大学准教授", valid_from=dt.date(2023, 10, 1)
    )
    resigned = appoint(body, "竹内", "たけうち", given="一", affiliation="竹内商店")
    services.appointment_end(actor=None, appointment=resigned, ended_on=dt.date(2023, 6, 30), reason="resigned")
    services.appointment_create(actor=None, body=body, post_title="企画政策部次長", appointed_on=APPOINTED)
    return body


def test_export_lists_members_in_office_on_the_day_in_gojuon_order(roster):
    dataset = RosterResource(body=roster, day=dt.date(2023, 6, 1)).export()

    assert dataset.headers == list(COLUMNS.values())
    assert [(r["姓"], r["名"], r["姓よみ"], r["所属・役職"]) for r in dataset.dict] == [
        ("石井", "重成", "いしい", "石井の所属"),
        ("佐藤", "志穂", "さとう", "佐藤の所属"),
        ("竹内", "一", "たけうち", "竹内商店"),
        ("森", "樹男", "もり", "森の所属"),
    ]
    sato = dataset.dict[1]
    assert (sato["区分"], sato["性別"]) == ("委員", "女性")
    assert (sato["委嘱日"], sato["任期開始"], sato["任期終了"]) == ("2023-05-10", "2023-05-10", "2024-03-31")


def test_export_shows_the_affiliation_of_that_date_and_leaves_out_who_left(roster):
    dataset = RosterResource(body=roster, day=dt.date(2023, 12, 1)).export()

    assert [(r["姓"], r["所属・役職"]) for r in dataset.dict] == [
        ("石井", "石井の所属"),
        ("佐藤", "弘前大学准教授"),
        ("森", "森の所属"),
    ]


def test_export_outside_every_term_is_empty(roster):
    assert len(RosterResource(body=roster, day=dt.date(2024, 4, 1)).export()) == 0


# --- round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_another_body_keeps_the_roster(roster, secretariat, fmt):
    day = dt.date(2023, 12, 1)
    exported = RosterResource(body=roster, day=day).export()
    data = ("\ufeff" + exported.csv).encode() if fmt == "csv" else exported.export("xlsx")
    other = factories.BodyFactory(secretariat=roster.secretariat, slug="copy")
    factories.GuidelineFactory(body=other)

    outcome = roster_import(actor=secretariat, body=other, data=data, filename=f"roster.{fmt}")

    assert outcome.ok, outcome.errors
    assert outcome.created == 3
    copied = RosterResource(body=other, day=day).export()
    keep = ["姓", "名", "姓よみ", "名よみ", "所属・役職", "区分", "性別", "生年", "メールアドレス"]
    assert [[row[k] for k in keep] for row in copied.dict] == [[row[k] for k in keep] for row in exported.dict]


# --- export view --------------------------------------------------------------------------------


def sign_in(client, user):
    # UserFactory sets the password after saving and skips the save that would store it, so the
    # session hash of the object in hand does not match the database row: store it first.
    user.save(update_fields=["password"])
    client.force_login(user)
    return client



def export_url(body, fmt="csv", on="2023-06-01") -> str:
    return reverse("committee:roster_export", args=[body.slug, fmt]) + (f"?on={on}" if on else "")


def test_csv_export_is_a_utf8_bom_attachment_with_an_rfc5987_name(client, roster, secretariat):
    sign_in(client, secretariat)

    response = client.get(export_url(roster))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('策定委員会_名簿_20230601.csv')}" in disposition
    assert "\r" not in disposition and "\n" not in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS.values())
    assert [row[0] for row in rows[1:]] == ["石井", "佐藤", "竹内", "森"]


def test_xlsx_export_opens_as_a_workbook(client, roster, secretariat):
    sign_in(client, secretariat)

    response = client.get(export_url(roster, "xlsx", on="2023-12-01"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["姓", "石井", "佐藤", "森"]


def test_export_writes_an_audit_entry(client, roster, secretariat):
    sign_in(client, secretariat)

    client.get(export_url(roster), REMOTE_ADDR="192.0.2.10")

    entry = AuditEntry.objects.get(action="roster_exported")
    assert (entry.actor, entry.target_id, entry.ip_address) == (secretariat, str(roster.pk), "192.0.2.10")
    assert entry.data == {"format": "csv", "on": "2023-06-01", "rows": 4}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("outsider", 404),
        ("member", 404),
        ("chair", 404),
        ("other_member", 404),
        ("other_secretariat", 404),
        ("secretariat", 200),
        ("superuser", 200),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_permissions(client, request, roster, who, status, fmt):
    if who != "anonymous":
        sign_in(client, request.getfixturevalue(who))

    response = client.get(export_url(roster, fmt))

    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={quote(export_url(roster, fmt))}"
    assert AuditEntry.objects.filter(action="roster_exported").exists() == (status == 200)


def test_export_in_an_unknown_format_is_404(client, roster, secretariat):
    sign_in(client, secretariat)

    assert client.get(export_url(roster, "json")).status_code == 404
    assert not AuditEntry.objects.filter(action="roster_exported").exists()


# --- admin import view ----------------------------------------------------------------------------


@pytest.fixture
def admin_login(client):
    """Log a user in to the admin; where a second factor is required, as one who gave it."""

    def login(user):
        sign_in(client, user)
        if settings.DXPLAN_REQUIRE_2FA:
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.plugins.otp_static.models import StaticDevice

            device = StaticDevice.objects.create(user=user, name="test")
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return login


def import_url(body) -> str:
    return reverse("admin:committee_body_import", args=[body.pk])


def upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_admin_import_creates_the_rows_and_redirects(admin_login, body, secretariat):
    client = admin_login(secretariat)

    assert client.get(import_url(body)).status_code == 200
    response = client.post(import_url(body), {"file": upload(csv_bytes(ROWS, encoding="cp932"), "名簿.csv")})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:committee_body_change", args=[body.pk])
    assert imported(body) == EXPECTED


def test_admin_import_with_a_bad_row_shows_it_and_creates_nothing(admin_login, body, secretariat):
    client = admin_login(secretariat)
    rows = [ROWS[0], ROWS[1], replaced(ROWS[2], 姓よみ="<script>alert(1)</script>")]
    before = counts()

    response = client.post(import_url(body), {"file": upload(csv_bytes(rows), "roster.csv")})

    assert response.status_code == 200
    assert [number for number, _message in response.context["row_errors"]] == [4]
    page = response.content.decode()
    assert "<td>4</td>" in page
    assert "姓よみ: " in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert counts() == before


def test_admin_import_of_an_unreadable_file_shows_the_message(admin_login, body, secretariat):
    client = admin_login(secretariat)

    response = client.post(import_url(body), {"file": upload(csv_bytes(ROWS), "roster.txt")})

    assert response.status_code == 200
    assert len(response.context["form"].errors["file"]) == 1
    assert ".csv" in response.context["form"].errors["file"][0]
    assert not Appointment.objects.filter(body=body).exists()


def test_admin_import_refuses_another_secretariats_body(admin_login, body, other_secretariat):
    client = admin_login(other_secretariat)
    before = counts()

    assert client.get(import_url(body)).status_code == 404
    response = client.post(import_url(body), {"file": upload(csv_bytes(ROWS), "roster.csv")})

    assert response.status_code == 404
    assert counts() == before


@pytest.mark.parametrize("who", ["anonymous", "outsider", "member"])
def test_admin_import_sends_non_staff_to_the_admin_login(client, request, body, who):
    if who != "anonymous":
        sign_in(client, request.getfixturevalue(who))
    before = counts()

    for response in (
        client.get(import_url(body)),
        client.post(import_url(body), {"file": upload(csv_bytes(ROWS), "roster.csv")}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login") + "?next=")
    assert counts() == before
