"""Checks that model `clean()` runs before the database's constraints, so that a form names the dates it
refuses in the reader's calendar (令和6年3月31日 in Japanese) instead of the constraint's plain sentence."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from .templatetags.dxplan import jdate

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # django-stubs' type of a gettext_lazy string


def local_date(value: dt.date) -> str:
    """A date for a message in the active language: 令和6年3月31日 in Japanese, 2024-03-31 in English."""
    return str(jdate(value, "short"))


def end_before_start(
    *, start: dt.date | None, end: dt.date | None, field: str, message: str | _StrPromise
) -> dict[str, ValidationError]:
    """{field: error} when both dates are known and `end` is before `start`; `message` takes %(start)s and
    %(end)s. A field-keyed error also keeps Django from checking the constraint on that field twice."""
    if start is None or end is None or end >= start:
        return {}
    dates = {"start": local_date(start), "end": local_date(end)}
    return {field: ValidationError(message, code="end_before_start", params=dates)}
