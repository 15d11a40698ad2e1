"""Uploads: the type is read from the content and must match the extension; markup, executables, empty
and oversize files are refused with a clear (translatable) message, and nothing is left behind."""
from __future__ import annotations

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from documents import services
from documents.models import Material, MaterialVersion
from documents.validation import check_upload, clean_filename

from .conftest import (
    image_bytes,
    ole_bytes,
    ooxml_bytes,
    pdf_bytes,
    stored_files,
    upload,
    xlsx_bytes,
)

OOXML = "application/vnd.openxmlformats-officedocument"
CSV_UTF8 = "番号,氏名,所属\n1,森 樹男,弘前大学\n2,佐藤 志穂,青森県\n".encode()
CSV_SJIS = "番号,氏名,所属\n1,森 樹男,弘前大学\n".encode("cp932")

ACCEPTED = [
    ("資料1.pdf", pdf_bytes, "pdf", "application/pdf"),
    ("設置要綱.docx", lambda: ooxml_bytes("word/document.xml"), "docx", f"{OOXML}.wordprocessingml.document"),
    ("名簿.xlsx", xlsx_bytes, "xlsx", f"{OOXML}.spreadsheetml.sheet"),
    ("名簿_zip.xlsx", lambda: ooxml_bytes("xl/workbook.xml"), "xlsx", f"{OOXML}.spreadsheetml.sheet"),
    ("説明.pptx", lambda: ooxml_bytes("ppt/presentation.xml"), "pptx", f"{OOXML}.presentationml.presentation"),
    ("旧形式.doc", lambda: ole_bytes("doc"), "doc", "application/msword"),
    ("旧形式.xls", lambda: ole_bytes("xls"), "xls", "application/vnd.ms-excel"),
    ("席図.png", lambda: image_bytes("PNG"), "png", "image/png"),
    ("写真.jpg", lambda: image_bytes("JPEG"), "jpg", "image/jpeg"),
    ("写真.JPEG", lambda: image_bytes("JPEG"), "jpeg", "image/jpeg"),
    ("名簿.csv", lambda: CSV_UTF8, "csv", "text/csv"),
    ("名簿_sjis.csv", lambda: CSV_SJIS, "csv", "text/csv"),
    ("メモ.txt", lambda: "委員会の記録です。\n".encode(), "txt", "text/plain"),
    ("メモ_bom.txt", lambda: "\ufeff委員会の記録です。\n".encode(), "txt", "text/plain"),
]

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
XML = b'<?xml version="1.0"?><root><a>1</a></root>'
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"This program cannot be run"

REFUSED = [
    # (name, content, code)
    ("資料1.pdf", HTML, "mismatch"),  # HTML renamed .pdf
    ("資料1.pdf", SVG, "mismatch"),
    ("資料1.pdf", XML, "mismatch"),
    ("資料1.pdf", ELF, "mismatch"),  # an executable renamed .pdf
    ("資料1.pdf", EXE, "mismatch"),
    ("資料1.pdf", image_bytes("PNG"), "mismatch"),  # content of another allowed type
    ("資料1.docx", pdf_bytes(), "mismatch"),
    ("資料1.docx", ooxml_bytes("xl/workbook.xml"), "mismatch"),  # a workbook named as a document
    ("席図.png", image_bytes("JPEG"), "mismatch"),
    ("資料1.xlsx", ooxml_bytes("misc/data.xml"), "mismatch"),  # a plain ZIP
    ("page.html", HTML, "type"),
    ("drawing.svg", SVG, "type"),
    ("data.xml", XML, "type"),
    ("setup.exe", EXE, "type"),
    ("app.js", b"alert(1)\n", "type"),
    ("README", b"text\n", "type"),
    ("資料1.pdf.exe", EXE, "type"),
    ("メモ.txt", HTML, "content"),  # markup is not plain text
    ("名簿.csv", SVG, "content"),
    ("名簿.csv", XML, "content"),
    ("メモ.txt", b"\xef\xbb\xbf" + HTML, "content"),  # a byte-order mark does not hide it
    ("メモ.txt", b"<!-- note -->\n<html><script>alert(1)</script></html>", "content"),
    ("メモ.txt", ELF, "content"),
    ("名簿.csv", b"\x80\x81\xfe\xff" * 20, "content"),  # neither UTF-8 nor Shift_JIS
]


@pytest.mark.parametrize(("name", "build", "extension", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_allowed_types_are_accepted(name, build, extension, content_type):
    data = build()
    checked = check_upload(upload(name, data))
    assert (checked.extension, checked.content_type) == (extension, content_type)
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.original_name == name


@pytest.mark.parametrize(("name", "build", "extension", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_file_is_stored_under_a_generated_name(meeting, secretariat, media_root, name, build, extension,
                                                        content_type):
    data = build()
    material = services.material_create(actor=secretariat, meeting=meeting, title="資料", upload=upload(name, data))
    version = material.current_version
    assert re.fullmatch(rf"materials/[0-9a-f]{{32}}\.{extension}", version.file.name)
    assert (media_root / version.file.name).read_bytes() == data
    assert (version.original_name, version.content_type, version.size) == (name, content_type, len(data))


@pytest.mark.parametrize(("name", "data", "code"), REFUSED, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSED)])
def test_refused_upload_leaves_nothing_behind(meeting, secretariat, media_root, name, data, code):
    with pytest.raises(ValidationError) as refused:
        services.material_create(actor=secretariat, meeting=meeting, title="資料", upload=upload(name, data))
    assert refused.value.code == code
    assert not Material.objects.exists()
    assert not MaterialVersion.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(("name", "data", "code"), REFUSED[:6], ids=[r[0] + str(i) for i, r in enumerate(REFUSED[:6])])
def test_refused_replacement_keeps_the_material_as_it_was(add_material, secretariat, media_root, name, data, code):
    material = add_material()
    before = stored_files(media_root)
    with pytest.raises(ValidationError) as refused:
        services.material_replace(actor=secretariat, material=material, upload=upload(name, data))
    assert refused.value.code == code
    material.refresh_from_db()
    assert material.current_version.number == 1
    assert MaterialVersion.objects.filter(material=material).count() == 1
    assert stored_files(media_root) == before


def test_empty_file_is_refused(meeting, secretariat, media_root):
    with pytest.raises(ValidationError) as refused:
        services.material_create(actor=secretariat, meeting=meeting, title="資料", upload=upload("資料1.pdf", b""))
    assert refused.value.code == "empty"
    assert refused.value.messages == ["The file is empty."]
    assert not Material.objects.exists() and stored_files(media_root) == []


def test_oversize_file_is_refused(settings, meeting, secretariat, media_root):
    settings.DXPLAN_UPLOAD_MAX_BYTES = 1024
    data = pdf_bytes(pages=8)
    assert len(data) > 1024
    with pytest.raises(ValidationError) as refused:
        services.material_create(actor=secretariat, meeting=meeting, title="資料", upload=upload("資料1.pdf", data))
    assert refused.value.code == "size"
    assert "the limit is 1.0\xa0KB" in refused.value.messages[0]
    assert not Material.objects.exists() and not MaterialVersion.objects.exists()
    assert stored_files(media_root) == []


def test_file_at_the_limit_is_accepted(settings):
    data = pdf_bytes()
    settings.DXPLAN_UPLOAD_MAX_BYTES = len(data)
    assert check_upload(upload("資料1.pdf", data)).size == len(data)


def test_size_is_measured_not_taken_from_the_upload(settings):
    # A client (or a handler) may claim any size; the bytes read decide.
    settings.DXPLAN_UPLOAD_MAX_BYTES = 1024
    lying = upload("資料1.pdf", pdf_bytes(pages=8))
    lying.size = 10
    with pytest.raises(ValidationError) as refused:
        check_upload(lying)
    assert refused.value.code == "size"


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system32\\資料.pdf", "資料.pdf"),
        ("C:\\Users\\事務局\\Desktop\\資料1.pdf", "資料1.pdf"),
        ("/var/www/media/x.pdf", "x.pdf"),
        ("資料\r\n1\x00.pdf", "資料1.pdf"),
    ],
)
def test_traversal_names_are_stored_under_a_generated_name(meeting, secretariat, media_root, name, base):
    material = services.material_create(actor=secretariat, meeting=meeting, title="資料",
                                        upload=upload(name, pdf_bytes()))
    version = material.current_version
    assert version.original_name == base
    assert re.fullmatch(r"materials/[0-9a-f]{32}\.pdf", version.file.name)
    files = stored_files(media_root)
    assert [p.relative_to(media_root).as_posix() for p in files] == [version.file.name]
    assert not (media_root.parent / "etc").exists()


def test_clean_filename_keeps_only_a_printable_base_name():
    assert clean_filename("../../<svg onload=alert(1)>.pdf") == "<svg onload=alert(1)>.pdf"
    assert clean_filename("a/b\\c\u202etxt.exe") == "ctxt.exe"
    assert clean_filename("..") == "file"
    assert clean_filename("") == "file"


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("資料1.pdf", HTML, "The content of this file does not match its extension .pdf."),
        ("page.html", HTML, "Files of this type (.html) cannot be uploaded."),
        ("メモ.txt", HTML, "The content of this file is not plain text or CSV"),
    ],
)
def test_messages_say_what_was_wrong(name, data, expected):
    with pytest.raises(ValidationError) as refused:
        check_upload(upload(name, data))
    assert refused.value.messages[0].startswith(expected)


JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("name", "data", "limit"),
    [
        ("資料1.pdf", b"", None),
        ("資料1.pdf", HTML, None),
        ("page.html", HTML, None),
        ("メモ.txt", HTML, None),
        ("資料1.pdf", pdf_bytes(pages=8), 1024),
    ],
    ids=["empty", "mismatch", "type", "content", "size"],
)
def test_messages_are_in_japanese_for_japanese_users(settings, name, data, limit):
    if limit:
        settings.DXPLAN_UPLOAD_MAX_BYTES = limit
    with pytest.raises(ValidationError) as in_english:
        check_upload(upload(name, data))
    with translation.override("ja"), pytest.raises(ValidationError) as in_japanese:
        check_upload(upload(name, data))
    message = in_japanese.value.messages[0]
    assert message != in_english.value.messages[0]
    assert JAPANESE.search(message), message
