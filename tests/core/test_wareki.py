"""和暦: era boundaries, weekdays, Asia/Tokyo, 年度, and the template filters in both languages."""
import datetime as dt
import zoneinfo

import pytest
from django.template import Context, Template
from django.utils import translation

from core import wareki
from core.templatetags import dxplan as filters

UTC = dt.UTC
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2023, 5, 10), "令和5年5月10日(水)"),  # the seed committee's first meeting
        (dt.date(2019, 4, 30), "平成31年4月30日(火)"),
        (dt.date(2019, 5, 1), "令和元年5月1日(水)"),
        (dt.date(2019, 12, 31), "令和元年12月31日(火)"),
        (dt.date(2020, 1, 1), "令和2年1月1日(水)"),
        (dt.date(1989, 1, 7), "昭和64年1月7日(土)"),
        (dt.date(1989, 1, 8), "平成元年1月8日(日)"),
        (dt.date(1926, 12, 24), "大正15年12月24日(金)"),
        (dt.date(1926, 12, 25), "昭和元年12月25日(土)"),
        (dt.date(1912, 7, 29), "明治45年7月29日(月)"),
        (dt.date(1912, 7, 30), "大正元年7月30日(火)"),
        (dt.date(1873, 1, 1), "明治6年1月1日(水)"),
        (dt.date(2024, 2, 29), "令和6年2月29日(木)"),
    ],
)
def test_format_date_across_era_boundaries(day, expected):
    assert wareki.format_date(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2019, 4, 30), ("平成", 31)),
        (dt.date(2019, 5, 1), ("令和", 1)),
        (dt.date(2023, 5, 10), ("令和", 5)),
        (dt.date(1989, 1, 7), ("昭和", 64)),
        (dt.date(1989, 1, 8), ("平成", 1)),
    ],
)
def test_era_year(day, expected):
    assert wareki.era_year(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [(dt.date(2019, 5, 1), "令和元年"), (dt.date(2020, 5, 1), "令和2年"), (dt.date(1989, 1, 8), "平成元年")],
)
def test_era_year_label_writes_the_first_year_as_gannen(day, expected):
    assert wareki.era_year_label(day) == expected


def test_dates_before_the_gregorian_calendar_are_refused():
    with pytest.raises(ValueError, match="1873"):
        wareki.era_year(dt.date(1872, 12, 31))


@pytest.mark.parametrize("offset", range(7))
def test_weekday_follows_the_calendar(offset):
    # 2023-05-08 was a Monday; seven consecutive days cover every weekday once.
    day = dt.date(2023, 5, 8) + dt.timedelta(days=offset)
    assert wareki.format_date(day).endswith(f"({'月火水木金土日'[offset]})")
    assert wareki.format_date_iso(day).endswith(f"({('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[offset]})")


def test_format_date_without_weekday():
    assert wareki.format_date(dt.date(2023, 5, 10), weekday=False) == "令和5年5月10日"
    assert wareki.format_date_iso(dt.date(2023, 5, 10), weekday=False) == "2023-05-10"


@pytest.mark.parametrize("formatter", [wareki.format_date, wareki.format_datetime, wareki.format_date_iso])
def test_none_formats_as_empty(formatter):
    assert formatter(None) == ""


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (dt.datetime(2023, 5, 10, 14, 0, tzinfo=TOKYO), "令和5年5月10日(水) 14:00"),
        # 15:30 UTC on the 9th is already 00:30 on the 10th in Tokyo.
        (dt.datetime(2023, 5, 9, 15, 30, tzinfo=UTC), "令和5年5月10日(水) 00:30"),
        # The era changed at midnight Tokyo time, nine hours before midnight UTC.
        (dt.datetime(2019, 4, 30, 15, 0, tzinfo=UTC), "令和元年5月1日(水) 00:00"),
        (dt.datetime(2019, 4, 30, 14, 59, tzinfo=UTC), "平成31年4月30日(火) 23:59"),
    ],
)
def test_format_datetime_renders_aware_datetimes_in_tokyo(moment, expected):
    assert wareki.format_datetime(moment) == expected


def test_format_date_of_an_aware_datetime_uses_the_tokyo_date():
    assert wareki.format_date(dt.datetime(2023, 5, 9, 15, 30, tzinfo=UTC)) == "令和5年5月10日(水)"
    assert wareki.format_date_iso(dt.datetime(2023, 5, 9, 15, 30, tzinfo=UTC)) == "2023-05-10 (Wed)"


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2023, 10, "令和5年10月"), (2019, 4, "平成31年4月"), (2019, 5, "令和元年5月")],
)
def test_format_month(year, month, expected):
    assert wareki.format_month(year, month) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2024, 3, 31), 2023),
        (dt.date(2024, 4, 1), 2024),
        (dt.date(2023, 5, 10), 2023),
        (dt.date(2024, 1, 1), 2023),
        (dt.date(2023, 12, 31), 2023),
        # 2024-03-31 15:30 UTC is 1 April in Tokyo: the new 年度 has begun.
        (dt.datetime(2024, 3, 31, 15, 30, tzinfo=UTC), 2024),
        (dt.datetime(2024, 3, 31, 14, 59, tzinfo=UTC), 2023),
    ],
)
def test_fiscal_year_of(value, expected):
    assert wareki.fiscal_year_of(value) == expected


@pytest.mark.parametrize("fiscal_year", [1989, 2019, 2023, 2024])
def test_fiscal_year_bounds_run_from_april_to_march(fiscal_year):
    first, last = wareki.fiscal_year_bounds(fiscal_year)
    assert (first, last) == (dt.date(fiscal_year, 4, 1), dt.date(fiscal_year + 1, 3, 31))
    assert wareki.fiscal_year_of(first) == wareki.fiscal_year_of(last) == fiscal_year
    assert wareki.fiscal_year_of(first - dt.timedelta(days=1)) == fiscal_year - 1
    assert wareki.fiscal_year_of(last + dt.timedelta(days=1)) == fiscal_year + 1


@pytest.mark.parametrize(
    ("fiscal_year", "expected"),
    [
        (2023, "令和5年度"),
        (2020, "令和2年度"),
        # The era changed on 1 May 2019; official documents call FY2019 令和元年度.
        (2019, "令和元年度"),
        # A year ending on 31 March 2019 (still 平成31年) is 平成30年度, not 平成31年度.
        (2018, "平成30年度"),
        # 平成 began on 8 January 1989, in the last quarter of FY1988: that year stays 昭和63年度.
        (1988, "昭和63年度"),
        (1989, "平成元年度"),
        # 昭和 began on 25 December 1926: FY1926 is 大正15年度.
        (1926, "大正15年度"),
        (1927, "昭和2年度"),
    ],
)
def test_fiscal_year_label(fiscal_year, expected):
    assert wareki.fiscal_year_label(fiscal_year) == expected


def render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template(source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", "令和5年5月10日(水)|令和5年5月10日|令和5年5月10日(水) 00:30|令和5年度"),
        ("en", "2023-05-10 (Wed)|2023-05-10|2023-05-10 (Wed) 00:30|FY2023"),
    ],
)
def test_filters_follow_the_active_language(language, expected):
    # The filters are template builtins (settings TEMPLATES), so no {% load %} is needed.
    source = '{{ day|jdate }}|{{ day|jdate:"short" }}|{{ moment|jdatetime }}|{{ fy|fiscal_year }}'
    context = {"day": dt.date(2023, 5, 10), "moment": dt.datetime(2023, 5, 9, 15, 30, tzinfo=UTC), "fy": 2023}
    assert render(source, language, **context) == expected


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("value", [None, ""])
def test_filters_render_empty_values_as_nothing(language, value):
    with translation.override(language):
        assert filters.jdate(value) == filters.jdatetime(value) == filters.fiscal_year(value) == ""


@pytest.mark.parametrize(("language", "expected"), [("ja", "令和元年度"), ("en", "FY2019")])
def test_fiscal_year_filter_accepts_a_string(language, expected):
    with translation.override(language):
        assert filters.fiscal_year("2019") == expected
