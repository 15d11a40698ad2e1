"""The CSV for the accounting system (per meeting and per 年度) and the PDF 支出内訳.

The CSV is a data format, not a page: its headings and values are the same in every language, UTF-8 with
a byte order mark (Excel opens it as UTF-8) and CRLF line ends. Columns: see README.md, 報酬・謝金."""

from __future__ import annotations

import io

from django.utils import timezone

from core.csvsafe import formula_safe_writer

from .models import FeeSheet, Statement

COLUMNS = [
    "年度",
    "会議体",
    "会議",
    "開催日",
    "氏名",
    "ふりがな",
    "区分",
    "役職",
    "出席方法",
    "報酬・謝金",
    "費用弁償・旅費",
    "支給総額",
    "源泉徴収税額",
    "差引支給額",
    "状態",
    "承認日",
    "適用基準",
    "備考",
]
KIND = {"remuneration": "報酬", "honorarium": "謝金", "": ""}
POST = {"chair": "委員長", "vice_chair": "副委員長", "member": "委員"}
MODE = {"venue": "会場", "online": "オンライン", "": "欠席"}
STATUS: dict[str, str] = {FeeSheet.Status.OPEN: "未承認", FeeSheet.Status.APPROVED: "承認済"}


def payable(statements: list[Statement]) -> list[Statement]:
    """The rows the accounting system pays: something is owed (absent and unpaid members are left out)."""
    return [s for s in statements if s.gross_amount > 0]


def _rule_label(statement: Statement) -> str:
    rule = statement.rule_set
    if rule is None:
        return ""
    label = f"{KIND[rule.kind]} {rule.effective_on.isoformat()}施行"
    return f"{label} (例)" if rule.is_example else label


def _remarks(statement: Statement) -> str:
    return f"修正: {statement.correction_reason}" if statement.correction_reason else ""


def _row(statement: Statement) -> list[str | int]:
    sheet = statement.sheet
    meeting = sheet.meeting
    approved = ""
    if sheet.status == FeeSheet.Status.APPROVED and sheet.approved_at:
        approved = timezone.localtime(sheet.approved_at).date().isoformat()
    return [
        meeting.fiscal_year,
        meeting.body.name,
        meeting.label,
        meeting.reference_date.isoformat(),
        statement.person.full_name,
        statement.person.full_name_kana,
        KIND[statement.kind],
        POST[statement.post],
        MODE[statement.mode],
        statement.base_amount,
        statement.travel_amount,
        statement.gross_amount,
        statement.tax_amount,
        statement.net_amount,
        STATUS[sheet.status],
        approved,
        _rule_label(statement),
        _remarks(statement),
    ]


def to_csv(statements: list[Statement]) -> bytes:
    """UTF-8 with BOM, CRLF, every field quoted only where needed; payable rows only."""
    out = io.StringIO()
    writer = formula_safe_writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for statement in payable(statements):
        writer.writerow(_row(statement))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


ANNUAL_COLUMNS = [
    "年度",
    "会議体",
    "氏名",
    "ふりがな",
    "区分",
    "回数",
    "報酬・謝金",
    "費用弁償・旅費",
    "支給総額",
    "源泉徴収税額",
    "差引支給額",
    "未承認",
]


def annual_csv(fiscal_year: int, body_name: str, rows: list) -> bytes:
    """年間支払額 per person (approved statements only) for the 支払調書; same format as `to_csv`."""
    out = io.StringIO()
    writer = formula_safe_writer(out, lineterminator="\r\n")
    writer.writerow(ANNUAL_COLUMNS)
    for row in rows:
        t = row.totals
        writer.writerow(
            [fiscal_year, body_name, row.person.full_name, row.person.full_name_kana, "・".join(row.kinds),
             t.count, t.base, t.travel, t.gross, t.tax, t.net, row.open_count]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")
