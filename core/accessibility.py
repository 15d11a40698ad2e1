"""The accessibility test record (docs/accessibility/) as the policy page and the results page show it.

pages.toml names the pages tested and how each was chosen (JIS X 8341-3:2016 附属書JB); results.json holds
what axe-core found on each, in each language, and the manual checks (written by the record run of
tests/browser, see docs/accessibility/README.md). The browser tests read the same pages.toml, so the pages
CI checks are the pages the record names."""

import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from django.conf import settings

RECORD_DIR = Path(settings.BASE_DIR) / "docs" / "accessibility"


@dataclass(frozen=True)
class Page:
    id: str
    name: str
    name_en: str
    user: str
    url: str
    chosen: str
    args: tuple[str, ...] = ()
    query: str = ""
    status: int = 200
    action: str = ""
    lang: str = ""  # the page's language when it does not follow the site's (a printed Japanese document)
    path: str = ""
    axe: dict = field(default_factory=dict, compare=False)  # language → {"violations": […], "passes": n}
    manual: dict = field(default_factory=dict, compare=False)  # check → outcome


@dataclass(frozen=True)
class Record:
    pages: tuple[Page, ...]
    selection: dict
    tested_on: dt.date | None
    axe_version: str
    tags: tuple[str, ...]

    @property
    def representative(self) -> int:
        return sum(1 for p in self.pages if p.chosen == "representative")

    @property
    def random(self) -> int:
        return sum(1 for p in self.pages if p.chosen == "random")

    def _undecided(self) -> list[float]:
        """The contrast measured where axe-core could not decide."""
        return [
            float(entry["ratio"])
            for page in self.pages
            for key in ("contrast_ja", "contrast_en")
            for entry in page.manual.get(key, {}).get("undecided", [])
        ]

    @property
    def contrast_undecided(self) -> int:
        return len(self._undecided())

    @property
    def contrast_lowest(self) -> float | None:
        return min(self._undecided(), default=None)

    @property
    def media(self) -> int:
        return sum(page.manual.get(key, 0) for page in self.pages for key in ("media_ja", "media_en"))

    @property
    def passed(self) -> int:
        """Pages axe found nothing on, in every language recorded."""
        return sum(1 for p in self.pages if p.axe and all(not r["violations"] for r in p.axe.values()))


def load_pages(directory: Path = RECORD_DIR) -> tuple[list[Page], dict]:
    """The pages of the record and how they were chosen."""
    data = tomllib.loads((directory / "pages.toml").read_text(encoding="utf-8"))
    pages = [Page(**{**row, "args": tuple(row.get("args", ()))}) for row in data["page"]]
    return pages, data.get("selection", {})


@lru_cache(maxsize=1)
def record() -> Record:
    pages, selection = load_pages()
    results_path = RECORD_DIR / "results.json"
    results = json.loads(results_path.read_text(encoding="utf-8")) if results_path.exists() else {}
    by_id = results.get("pages", {})
    pages = [_with_results(page, by_id.get(page.id, {})) for page in pages]
    tested_on = results.get("tested_on")
    return Record(
        pages=tuple(pages),
        selection=selection,
        tested_on=dt.date.fromisoformat(tested_on) if tested_on else None,
        axe_version=results.get("axe_version", ""),
        tags=tuple(results.get("tags", ())),
    )


def _with_results(page: Page, found: dict) -> Page:
    """The page with what results.json recorded for it (nothing yet: empty)."""
    return replace(page, axe=found.get("axe", {}), manual=found.get("manual", {}), path=found.get("path", ""))
