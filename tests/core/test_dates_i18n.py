"""Dates follow the page's language: 和暦 with weekday in Japanese, ISO in English; 年度 and months too.
Checked on the filters and on public pages asked for with Accept-Language."""

import datetime as dt
import zoneinfo
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core.templatetags import dxplan as filters

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
DAY = dt.date(2023, 5, 10)
START = dt.datetime(2023, 5, 10, 14, 0, tzinfo=TOKYO)
END = dt.datetime(2023, 5, 10, 16, 0, tzinfo=TOKYO)


def meeting(**kwargs):
    values = {"start_at": START, "end_at": END, "time_undecided": False, "planned_month": None}
    return SimpleNamespace(**(values | kwargs))


CASES = [
    # (filter, value, arg, Japanese, English)
    ("jdate", DAY, None, "令和5年5月10日(水)", "2023-05-10 (Wed)"),
    ("jdate", DAY, "short", "令和5年5月10日", "2023-05-10"),
    ("jdate", START, None, "令和5年5月10日(水)", "2023-05-10 (Wed)"),
    ("jdate", dt.date(2019, 5, 1), None, "令和元年5月1日(水)", "2019-05-01 (Wed)"),
    ("jdate", dt.date(2019, 4, 30), "short", "平成31年4月30日", "2019-04-30"),
    ("jdatetime", START, None, "令和5年5月10日(水) 14:00", "2023-05-10 (Wed) 14:00"),
    # 05:00 UTC on the 10th is 14:00 in Tokyo; 20:00 UTC on the 9th is already the 10th there.
    ("jdatetime", dt.datetime(2023, 5, 9, 20, 0, tzinfo=dt.UTC), None, "令和5年5月10日(水) 05:00",
     "2023-05-10 (Wed) 05:00"),
    ("fiscal_year", 2023, None, "令和5年度", "FY2023"),
    ("fiscal_year", 2019, None, "令和元年度", "FY2019"),
    ("fiscal_year", "2024", None, "令和6年度", "FY2024"),
    ("month_label", 5, None, "5月", "May"),
    ("month_label", 12, None, "12月", "Dec"),
    ("jdate", None, None, "", ""),
    ("fiscal_year", None, None, "", ""),
]


@pytest.mark.parametrize(("name", "value", "arg", "ja", "en"), CASES)
@pytest.mark.parametrize("language", ["ja", "en"])
def test_filters_follow_the_active_language(name, value, arg, ja, en, language):
    function = getattr(filters, name)
    with translation.override(language):
        got = function(value) if arg is None else function(value, arg)
    assert got == (ja if language == "ja" else en)


def test_english_variants_of_the_language_count_as_english():
    with translation.override("en-gb"):
        assert filters.jdate(DAY) == "2023-05-10 (Wed)"


@pytest.mark.parametrize(
    ("value", "ja", "en"),
    [
        (meeting(), "令和5年5月10日(水) 14:00–16:00", "2023-05-10 (Wed) 14:00–16:00"),
        (meeting(end_at=None), "令和5年5月10日(水) 14:00", "2023-05-10 (Wed) 14:00"),
        (meeting(time_undecided=True), "令和5年5月10日(水) 時刻未定", "2023-05-10 (Wed) (time to be fixed)"),
        (
            meeting(start_at=None, end_at=None, planned_month=dt.date(2023, 10, 1)),
            "令和5年10月(日程未定)",
            "2023-10 (day to be fixed)",
        ),
    ],
)
def test_meeting_when_in_both_languages(value, ja, en):
    with translation.override("ja"):
        assert filters.meeting_when(value) == ja
    with translation.override("en"):
        assert filters.meeting_when(value) == en


def test_filters_in_templates_follow_the_language():
    template = Template('{{ day|jdate }} / {{ day|jdate:"short" }} / {{ year|fiscal_year }} / {{ month|month_label }}')
    context = Context({"day": DAY, "year": 2023, "month": 4})
    with translation.override("ja"):
        assert template.render(context) == "令和5年5月10日(水) / 令和5年5月10日 / 令和5年度 / 4月"
    with translation.override("en"):
        assert template.render(context) == "2023-05-10 (Wed) / 2023-05-10 / FY2023 / Apr"


# --- on the public pages ------------------------------------------------------------------------


@pytest.fixture
def meeting_of_body(body, secretariat, in_term):
    from meetings import services

    return services.meeting_create(actor=secretariat, body=body, start_at=START, end_at=END, venue_name="青森県庁")


@pytest.mark.parametrize(
    ("language", "expected", "unexpected"),
    [
        ("ja", ["令和5年5月10日(水) 14:00–16:00", "令和5年度"], ["2023-05-10", "FY2023"]),
        ("en", ["2023-05-10 (Wed) 14:00–16:00", "FY2023"], ["令和5年5月10日", "令和5年度"]),
    ],
)
def test_public_pages_show_dates_in_the_browsers_language(meeting_of_body, body, language, expected, unexpected):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = [
        client.get(reverse("meetings:detail", args=[meeting_of_body.pk])).content.decode(),
        client.get(reverse("meetings:body_meetings", args=[body.slug])).content.decode(),
        client.get(reverse("meetings:schedule_year", args=[2023])).content.decode(),
    ]
    assert f'lang="{language}"' in pages[0]
    assert expected[0] in pages[0] and expected[0] in pages[1]
    assert expected[1] in pages[1] and expected[1] in pages[2]
    for page in pages:
        for text in unexpected:
            assert text not in page


@pytest.mark.parametrize(("language", "month"), [("ja", "<th scope=\"col\" class=\"text-center\">4月</th>"),
                                                 ("en", "<th scope=\"col\" class=\"text-center\">Apr</th>")])
def test_the_schedule_names_months_in_the_language(db, language, month):
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get(reverse("meetings:schedule_year", args=[2023])).content.decode()
    assert month in page
