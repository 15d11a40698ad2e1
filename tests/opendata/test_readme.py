"""Issue 16's acceptance: the README says what is published, where, and under which licence."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _open_data_section() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"^### Open data\n(.*?)(?=^#{2,3} )", text, flags=re.S | re.M)
    assert found, "README has an Open data section"
    return found.group(1)


def test_the_readme_says_what_is_published_where_and_under_which_licence():
    section = _open_data_section()
    for where in ("/oparl/", "/opendata/", "/opendata/meetings.csv", "/opendata/bodies/<slug>/roster.csv",
                  "/opendata/bodies/<slug>/popolo.json", "/opendata/feed.atom", "/opendata/bodies/<slug>/feed.atom"):
        assert f"`{where}" in section, where
    for what in ("OParl 1.1", "Popolo", "イベント一覧", "委員名簿", "Atom", "AgendaItem", "`result`"):
        assert what in section, what
    assert "CC BY 4.0" in section and "DXPLAN_OPENDATA_LICENSE_" in section
    assert "?bom=1" in section and "429" in section
