"""OCR of scanned PDFs, for the search: off by default; switched on, the pages without text are read from
OCRmyPDF's copy (ocrmypdf stands in here: the test checks the command it is given); a failure is recorded
and shown to the secretariat, and the upload stands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from documents import extraction
from documents.models import MaterialVersion
from tests.documents.conftest import MEMBERS, PUBLIC, client_for

from .test_index import found


@pytest.fixture(scope="module")
def text_layer_pdf() -> bytes:
    """What OCRmyPDF returns for a one-page scan: the same page with its words as text."""
    from documents.pdf import html_to_pdf, page_css

    body = "<p>スキャンした人材育成計画</p>"
    return html_to_pdf(f"<html><head><style>{page_css()}</style></head><body>{body}</body></html>")


@pytest.fixture
def ocrmypdf(monkeypatch, text_layer_pdf):
    """A stand-in for the ocrmypdf program: records each command and writes the text-layer copy."""
    calls: list[list[str]] = []

    def run(command, **kwargs):
        calls.append(command)
        assert kwargs.get("timeout") and kwargs.get("check") and not kwargs.get("shell")
        Path(command[-1]).write_bytes(text_layer_pdf)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(extraction.subprocess, "run", run)
    return calls


def _version(material) -> MaterialVersion:
    return MaterialVersion.objects.get(pk=material.current_version_id)


def test_ocr_is_off_by_default(settings, commit, add_material, ocrmypdf):
    assert settings.DXPLAN_OCR is False
    material = commit(add_material, PUBLIC)  # the fixture's PDF has a page without text
    assert _version(material).text_status == MaterialVersion.TextStatus.EMPTY
    assert ocrmypdf == []
    assert found(None, "人材育成") == []


def test_switched_on_a_scan_is_read_and_found_on_its_page(settings, commit, add_material, ocrmypdf):
    settings.DXPLAN_OCR = True
    material = commit(add_material, PUBLIC)
    version = _version(material)
    assert version.text_status == MaterialVersion.TextStatus.DONE and version.text_error == ""
    assert "人材育成" in version.pages.get(number=1).text
    assert [(e.material_id, e.page) for e in found(None, "人材育成")] == [(material.pk, 1)]
    [command] = ocrmypdf
    assert command[0] == "ocrmypdf" and "--skip-text" in command
    assert command[command.index("-l") + 1] == "jpn+eng"


def test_a_pdf_with_text_is_not_sent_to_ocr(settings, commit, add_material, two_page_pdf, ocrmypdf):
    settings.DXPLAN_OCR = True
    commit(add_material, PUBLIC, data=two_page_pdf)
    assert ocrmypdf == []


@pytest.mark.parametrize(("error", "message"), [
    (FileNotFoundError("ocrmypdf"), "ocrmypdf is not installed"),
    (subprocess.CalledProcessError(6, ["ocrmypdf"]), "exit status 6"),
    (subprocess.TimeoutExpired(["ocrmypdf"], 600), "longer than 600 seconds"),
])
def test_an_ocr_failure_is_shown_to_the_secretariat_and_the_upload_stands(
    settings, commit, add_material, monkeypatch, meeting, secretariat, error, message
):
    settings.DXPLAN_OCR = True

    def fail(command, **kwargs):
        raise error

    monkeypatch.setattr(extraction.subprocess, "run", fail)
    material = commit(add_material, MEMBERS)
    version = _version(material)
    assert version.text_status == MaterialVersion.TextStatus.EMPTY
    assert message in version.text_error
    page = client_for(secretariat, HTTP_ACCEPT_LANGUAGE="en").get(f"/manage/meetings/{meeting.pk}/materials/")
    assert page.status_code == 200 and message in page.content.decode()
