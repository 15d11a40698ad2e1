"""Spreadsheet formulas in CSV (OWASP "CSV injection"): a cell that Excel or LibreOffice would run as a
formula (=, +, -, @, also after leading tabs, line breaks or spaces) is refused in uploads and made inert in exports."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")
# + or - followed only by digits and the punctuation of numbers, dates and phone numbers is data, not a
# formula worth refusing: -500, +81-3-1234-5678, 2023-05-10 written as -, a lone dash for "none".
_NUMBER_LIKE = re.compile(r"[+-][\d\s,.()/\-]*")
_BLANKS = " \t\r\n\u3000"


def is_formula(value: object) -> bool:
    """Whether a spreadsheet would treat this cell as a formula that can call functions or other programs.
    Leading blanks do not hide one: tab and CR are on OWASP's list, and LibreOffice can trim spaces on import."""
    if not isinstance(value, str):
        return False
    text = value.lstrip(_BLANKS)
    if not text or not text.startswith(FORMULA_STARTS):
        return False
    if text[0] in "=@":
        return True
    return not _NUMBER_LIKE.fullmatch(text)


def neutralise(value: Any) -> Any:
    """The cell as text a spreadsheet shows as written: an apostrophe before a formula."""
    return "'" + value if is_formula(value) else value


class FormulaSafeWriter:
    """csv.writer whose rows have their formulas neutralised; same writerow / writerows."""

    def __init__(self, out: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def formula_safe_writer(out: Any, **kwargs: Any) -> FormulaSafeWriter:
    """Use instead of csv.writer for every CSV the project writes."""
    return FormulaSafeWriter(out, **kwargs)


def first_formula(lines: Iterable[str]) -> tuple[int, int, str] | None:
    """(row, column, cell), both counted from 1, of the first formula in the CSV `lines`; None if there is
    none. Raises csv.Error for text that is not CSV."""
    for row_number, row in enumerate(csv.reader(lines), start=1):
        for column, cell in enumerate(row, start=1):
            if is_formula(cell):
                return row_number, column, cell
    return None
