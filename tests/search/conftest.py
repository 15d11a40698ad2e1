"""Fixtures for the search tests: the materials tests' meeting and uploads, with what is queued on commit
run (the test's transaction never commits), and Celery in-process."""

from __future__ import annotations

import pytest

from tests.documents.conftest import add_material, english, media_root, meeting  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _in_process(eager_celery):
    return None


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """commit(fn, *args, **kwargs): call fn and run what it queued on commit (extraction, indexing)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture(scope="session")
def two_page_pdf() -> bytes:
    from documents.pdf import html_to_pdf, page_css

    html = (f"<html><head><style>{page_css()} .next{{page-break-before:always}}</style></head><body>"
            "<p>第一頁 ＤＸ推進の方向</p><p class=next>人材の育成と2025年の崖</p></body></html>")
    return html_to_pdf(html)
