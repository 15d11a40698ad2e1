"""Reading the text of uploaded files for the search: page by page, recorded failures, never blocking."""

from __future__ import annotations

import io
import zipfile

import pytest

from documents import services
from documents.extraction import ExtractionError, extract_pages
from documents.models import MaterialVersion
from tests.documents.conftest import MEMBERS, SECRETARIAT_ONLY, client_for, image_bytes, upload, xlsx_bytes

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def add_material(add_material, django_capture_on_commit_callbacks):
    """The documents fixture, with what is queued on commit run (the test's transaction never commits)."""

    def add(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return add_material(*args, **kwargs)

    return add


@pytest.fixture(scope="session")
def two_page_pdf() -> bytes:
    from documents.pdf import html_to_pdf, page_css

    html = (f"<html><head><style>{page_css()} .next{{page-break-before:always}}</style></head><body>"
            "<p>第一頁 ＤＸ推進</p><p class=next>人材の育成と2025年の崖</p></body></html>")
    return html_to_pdf(html)


def test_a_pdf_is_read_page_by_page(add_material, two_page_pdf):
    material = add_material(MEMBERS, data=two_page_pdf)
    version = MaterialVersion.objects.get(pk=material.current_version_id)
    assert version.text_status == MaterialVersion.TextStatus.DONE
    pages = list(version.pages.values_list("number", "text"))
    assert [n for n, _ in pages] == [1, 2]
    assert "ＤＸ推進" in pages[0][1]
    assert "2025年の崖" in pages[1][1] and "2025年の崖" not in pages[0][1]


def test_reading_twice_changes_nothing(add_material, two_page_pdf):
    material = add_material(MEMBERS, data=two_page_pdf)
    version = MaterialVersion.objects.get(pk=material.current_version_id)
    services.material_text_extract(version=version)
    assert version.pages.count() == 2


def test_a_replaced_file_is_read_too(add_material, secretariat, two_page_pdf, django_capture_on_commit_callbacks):
    material = add_material(MEMBERS)
    with django_capture_on_commit_callbacks(execute=True):
        version = services.material_replace(actor=secretariat, material=material,
                                            upload=upload("v2.pdf", two_page_pdf))
    version.refresh_from_db()
    assert version.pages.count() == 2


def test_a_blank_pdf_is_marked_empty(add_material):
    material = add_material(MEMBERS)
    assert MaterialVersion.objects.get(pk=material.current_version_id).text_status == "empty"


def test_a_spreadsheet_is_read_by_sheet(add_material):
    material = add_material(MEMBERS, data=xlsx_bytes(), name="名簿.xlsx")
    version = MaterialVersion.objects.get(pk=material.current_version_id)
    assert version.text_status == "done"
    assert version.pages.get().text == "委員名簿"


def _docx_bytes() -> io.BytesIO:
    from docx import Document

    document = Document()
    document.add_heading("デジタル人材の育成", level=1)
    document.add_paragraph("人材").add_run("育成")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "区分", "人数"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "合計"  # a merged cell is read once
    data = io.BytesIO()
    document.save(data)
    data.seek(0)
    return data


def _pptx_bytes() -> io.BytesIO:
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    layout = presentation.slide_layouts[6]  # blank
    for n in (1, 2, 10):
        slide = presentation.slides.add_slide(layout)
        slide.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1)).text_frame.text = f"スライド{n}"
    last = presentation.slides[2]
    group = last.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1)).text_frame.text = "まとめて"
    table = last.shapes.add_table(1, 2, Inches(1), Inches(3), Inches(4), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "委員", "12名"
    data = io.BytesIO()
    presentation.save(data)
    data.seek(0)
    return data


def test_office_and_plain_text_readers():
    """Word and PowerPoint files as Office writes them, read by python-docx and python-pptx."""
    assert extract_pages(_docx_bytes(), "docx") == ["デジタル人材の育成\n人材育成\n区分 人数\n合計"]
    assert extract_pages(_pptx_bytes(), "pptx") == ["スライド1", "スライド2", "スライド10\nまとめて\n委員 12名"]
    assert extract_pages(io.BytesIO("議事録".encode("cp932")), "txt") == ["議事録"]


def test_an_entity_bomb_is_not_expanded():
    """A .docx whose document part declares entities: they are never expanded (at worst the file is refused)."""
    source = zipfile.ZipFile(_docx_bytes())
    bomb = io.BytesIO()
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    with zipfile.ZipFile(bomb, "w") as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = (f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
                        f'<w:document xmlns:w="{ns}"><w:body><w:p><w:r><w:t>&h;</w:t></w:r></w:p></w:body></w:document>'
                        ).encode()
            package.writestr(item, data)
    bomb.seek(0)
    try:
        pages = extract_pages(bomb, "docx")
    except ExtractionError:
        return
    assert sum(len(page) for page in pages) < 1000, "an entity was expanded"


def test_a_damaged_pdf_is_recorded_and_shown_to_the_secretariat(add_material, meeting, secretariat):
    material = add_material(SECRETARIAT_ONLY, data=b"%PDF-1.4\n" + b"\x00garbage" * 50)
    version = MaterialVersion.objects.get(pk=material.current_version_id)
    assert version.text_status == MaterialVersion.TextStatus.FAILED
    assert version.text_error
    page = client_for(secretariat, HTTP_ACCEPT_LANGUAGE="en").get(f"/manage/meetings/{meeting.pk}/materials/")
    assert page.status_code == 200
    assert "Text could not be read" in page.content.decode()


def test_an_image_is_not_read_and_the_upload_stands(add_material):
    material = add_material(MEMBERS, data=image_bytes("PNG"), name="図.png")
    version = MaterialVersion.objects.get(pk=material.current_version_id)
    assert version.text_status == MaterialVersion.TextStatus.UNSUPPORTED
    assert not version.pages.exists()


def test_a_broker_failure_leaves_the_file_pending(add_material, monkeypatch):
    from celery import current_app

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app.tasks["documents.tasks.extract_text"], "delay", down)
    material = add_material(MEMBERS)
    assert MaterialVersion.objects.get(pk=material.current_version_id).text_status == "pending"
