"""和暦: Japanese era dates. One helper renders every date shown in Japanese.

An era table is enough (see shared/STACK.md): 2019-04-30 is 平成31年, 2019-05-01 is 令和元年.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

# (first day counted here, era name, Gregorian year of the era's 元年); newest first.
# 明治 is counted from the adoption of the Gregorian calendar (明治6年1月1日).
ERAS: tuple[tuple[dt.date, str, int], ...] = (
    (dt.date(2019, 5, 1), "令和", 2019),
    (dt.date(1989, 1, 8), "平成", 1989),
    (dt.date(1926, 12, 25), "昭和", 1926),
    (dt.date(1912, 7, 30), "大正", 1912),
    (dt.date(1873, 1, 1), "明治", 1868),
)
WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def era_year(value: dt.date | dt.datetime) -> tuple[str, int]:
    """The era name and the year within it, e.g. ("令和", 5)."""
    day = _as_date(value)
    for start, name, first_year in ERAS:
        if day >= start:
            return name, day.year - first_year + 1
    raise ValueError(f"{day} is before the Gregorian calendar was adopted in Japan (1873).")


def era_year_label(value: dt.date | dt.datetime) -> str:
    """令和5年 / 令和元年."""
    name, year = era_year(value)
    return f"{name}{'元' if year == 1 else year}年"


def fiscal_year_label(fiscal_year: int) -> str:
    """令和5年度 for fiscal year 2023 (1 April 2023 to 31 March 2024).

    A 年度 in which the era changed is named by the era in force for most of it, as official
    documents do: FY2019 (平成 until 30 April) is 令和元年度, while FY1988 (平成 from 8 January 1989)
    stays 昭和63年度. Naming by the era on 1 April or on 31 March gets one of the two wrong.
    """
    # 30 September is mid-year: an era in force on it covers at least 183 of the year's days.
    return era_year_label(dt.date(fiscal_year, 9, 30)) + "度"


def format_date(value: dt.date | dt.datetime | None, *, weekday: bool = True) -> str:
    """令和5年5月10日(水)."""
    if value is None:
        return ""
    day = _as_date(value)
    text = f"{era_year_label(day)}{day.month}月{day.day}日"
    return f"{text}({WEEKDAYS_JA[day.weekday()]})" if weekday else text


def format_datetime(value: dt.datetime | None, *, weekday: bool = True) -> str:
    """令和5年5月10日(水) 14:00, in Asia/Tokyo."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{format_date(local, weekday=weekday)} {local:%H:%M}"


def format_month(year: int, month: int) -> str:
    """令和5年10月 (a month fixed, the day still 未定)."""
    return f"{era_year_label(dt.date(year, month, 1))}{month}月"


def format_date_iso(value: dt.date | dt.datetime | None, *, weekday: bool = True) -> str:
    """2023-05-10 (Wed): the English form."""
    if value is None:
        return ""
    day = _as_date(value)
    return f"{day:%Y-%m-%d} ({WEEKDAYS_EN[day.weekday()]})" if weekday else f"{day:%Y-%m-%d}"


def fiscal_year_of(value: dt.date | dt.datetime) -> int:
    """年度: the fiscal year starting 1 April; 2024-03-31 belongs to 2023."""
    day = _as_date(value)
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(fiscal_year: int) -> tuple[dt.date, dt.date]:
    return dt.date(fiscal_year, 4, 1), dt.date(fiscal_year + 1, 3, 31)
