"""Template filters loaded everywhere (settings TEMPLATES builtins)."""
import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from core import wareki

register = template.Library()
# Not strftime("%b"): that follows the process's C locale, not the page's language.
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _japanese() -> bool:
    return (get_language() or "ja").startswith("ja")


@register.filter
def jdate(value, arg: str = ""):
    """令和5年5月10日(水) in Japanese, 2023-05-10 (Wed) in English. `|jdate:"short"` drops the weekday."""
    if not value:
        return ""
    weekday = arg != "short"
    if _japanese():
        try:
            return wareki.format_date(value, weekday=weekday)
        except ValueError:  # before 明治6年 (1873): no 和暦 in this calendar; show the date as it is
            pass
    return wareki.format_date_iso(value, weekday=weekday)


@register.filter
def jdatetime(value):
    """令和5年5月10日(水) 14:00 in Japanese, 2023-05-10 (Wed) 14:00 in English."""
    if not value:
        return ""
    if _japanese():
        try:
            return wareki.format_datetime(value)
        except ValueError:
            pass
    local = timezone.localtime(value) if isinstance(value, dt.datetime) and timezone.is_aware(value) else value
    return f"{wareki.format_date_iso(local)} {local:%H:%M}"


@register.filter
def fiscal_year(value: int):
    """令和5年度 in Japanese, FY2023 in English."""
    if value in (None, ""):
        return ""
    return wareki.fiscal_year_label(int(value)) if _japanese() else f"FY{int(value)}"


@register.filter
def month_label(value: int):
    """5月 in Japanese, May in English."""
    if value in (None, ""):
        return ""
    month = int(value)
    return f"{month}月" if _japanese() else MONTHS_EN[month - 1]


@register.filter
def meeting_when(meeting):
    """A meeting's date as planned: with time, day only (時刻未定), or the month only (日程未定)."""
    if meeting.start_at:
        if getattr(meeting, "time_undecided", False):
            suffix = " 時刻未定" if _japanese() else " (time to be fixed)"
            return jdate(meeting.start_at) + suffix
        text = jdatetime(meeting.start_at)
        if meeting.end_at:
            text += "–" + timezone.localtime(meeting.end_at).strftime("%H:%M")
        return text
    month = meeting.planned_month
    if month is None:
        return ""
    if _japanese():
        return wareki.format_month(month.year, month.month) + "(日程未定)"
    return f"{month:%Y-%m} (day to be fixed)"


# The colour of a status label (static/css/components.css, .status-label[data-color]) by the state's value.
# The word on the label carries the meaning; the colour only groups: done, under way, needs attention, stopped.
STATUS_COLORS = {
    "approved": "green", "held": "green", "minutes_published": "green", "published": "green", "finalised": "green",
    "venue": "green", "online": "green", "present": "green",
    "notified": "blue", "submitted": "blue", "confirming": "blue",
    "returned": "yellow", "postponed": "yellow", "pending": "yellow",
    "cancelled": "red", "failed": "red",
}


@register.filter
def status_color(value) -> str:
    """The label colour of a state value (`meeting.status`, `agenda.status`, an answer …); gray otherwise."""
    return STATUS_COLORS.get(str(value), "gray")
