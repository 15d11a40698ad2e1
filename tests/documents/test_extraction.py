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


def test_office_and_plain_text_readers():
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as package:
        ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        package.writestr("word/document.xml", f'<w:document xmlns:w="{ns}"><w:body><w:p><w:r><w:t>人材</w:t></w:r>'
                                              f'<w:r><w:t>育成</w:t></w:r></w:p></w:body></w:document>')
    docx.seek(0)
    assert extract_pages(docx, "docx") == ["人材育成"]
    pptx = io.BytesIO()
    with zipfile.ZipFile(pptx, "w") as package:
        ns = "http://schemas.openxmlformats.org/drawingml/2006/main"
        for n in (2, 1, 10):
            package.writestr(f"ppt/slides/slide{n}.xml", f'<p:sld xmlns:a="{ns}" xmlns:p="x"><a:p><a:r><a:t>スライド{n}'
                                                         "</a:t></a:r></a:p></p:sld>")
    pptx.seek(0)
    assert extract_pages(pptx, "pptx") == ["スライド1", "スライド2", "スライド10"]
    assert extract_pages(io.BytesIO("議事録".encode("cp932")), "txt") == ["議事録"]


def test_an_entity_bomb_is_refused():
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as package:
        package.writestr("word/document.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    docx.seek(0)
    with pytest.raises(ExtractionError):
        extract_pages(docx, "docx")


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
