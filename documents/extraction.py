"""Reading the text of a material's file, page by page, for the search.

PDF with pypdf (a page each), xlsx with openpyxl (a sheet each), pptx (a slide each) and docx (one page:
the file holds no page breaks) from their XML parts, CSV and text as one page. Other types are not read.
An unreadable file raises ExtractionError with a message for the secretariat; nothing here writes.

OCR (optional, off by default: DXPLAN_OCR): the pages of a PDF without text (a scan) are read again from the
copy OCRmyPDF makes with a text layer (Debian packages ocrmypdf and tesseract-ocr-jpn; `ocr_pages`).
"""

from __future__ import annotations

import io
import re
import subprocess  # noqa: S404 - ocrmypdf, with a fixed argument list and no shell
import tempfile
import zipfile
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET  # noqa: S405 - a DOCTYPE (entity expansion) is refused before parsing

from django.conf import settings
from django.utils.translation import gettext as _

MAX_PAGES = 2000
MAX_PAGE_CHARS = 200_000  # a page longer than this is cut: no real page holds that much text
MAX_XML_BYTES = 50 * 1024 * 1024
SUPPORTED = ("pdf", "docx", "xlsx", "pptx", "csv", "txt")

_SLIDE = re.compile(r"^ppt/slides/slide(\d+)\.xml$")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


class ExtractionError(Exception):
    """The file could not be read; the message says why, for the secretariat."""


def extract_pages(data: IO[bytes], extension: str) -> list[str]:
    """The text of each page of the file (an empty string for a page without text)."""
    readers = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "pptx": _pptx, "csv": _plain, "txt": _plain}
    reader = readers.get(extension)
    if reader is None:
        raise ExtractionError(_("Files of this type are not read for the search."))
    try:
        pages = reader(data)
    except ExtractionError:
        raise
    except Exception as exc:  # every reader raises its own types on a damaged file
        raise ExtractionError(_("The file could not be read (%(error)s).") % {"error": type(exc).__name__}) from exc
    return [_clean(page)[:MAX_PAGE_CHARS] for page in pages[:MAX_PAGES]]


OCR_TIMEOUT = 600  # seconds for one file; a longer scan is left unread (and said so)


def ocr_command(source: Path, target: Path) -> list[str]:
    """OCRmyPDF: a text layer on the pages that have none (--skip-text leaves the others as they are)."""
    return ["ocrmypdf", "--skip-text", "--quiet", "--jobs", "1", "-l", settings.DXPLAN_OCR_LANGUAGES,
            "--output-type", "pdf", str(source), str(target)]


def ocr_pages(data: IO[bytes]) -> list[str]:
    """The text of each page of a scanned PDF, read by OCR; ExtractionError says why it could not be."""
    with tempfile.TemporaryDirectory(prefix="dxplan-ocr-") as folder:
        source, target = Path(folder) / "scan.pdf", Path(folder) / "text.pdf"
        source.write_bytes(data.read())
        try:
            subprocess.run(ocr_command(source, target), check=True, capture_output=True, timeout=OCR_TIMEOUT)  # noqa: S603
        except FileNotFoundError as exc:
            raise ExtractionError(_("OCR is switched on, but ocrmypdf is not installed on the server.")) from exc
        except subprocess.TimeoutExpired as exc:
            raise ExtractionError(_("OCR took longer than %(seconds)s seconds and was stopped.")
                                  % {"seconds": OCR_TIMEOUT}) from exc
        except subprocess.CalledProcessError as exc:
            raise ExtractionError(_("OCR could not read the file (exit status %(code)s).")
                                  % {"code": exc.returncode}) from exc
        with target.open("rb") as result:
            return extract_pages(result, "pdf")


def with_ocr(data: IO[bytes], extension: str, pages: list[str]) -> list[str]:
    """`pages` with those that have no text read by OCR, when DXPLAN_OCR is on and the file is a PDF."""
    if not settings.DXPLAN_OCR or extension != "pdf" or all(page.strip() for page in pages):
        return pages
    data.seek(0)
    scanned = ocr_pages(data)
    return [page if page.strip() else (scanned[n] if n < len(scanned) else "") for n, page in enumerate(pages)]


def _clean(text: str) -> str:
    # NUL is refused by PostgreSQL; runs of blanks left by the layout say nothing.
    text = text.replace("\x00", "")
    return re.sub(r"[ \t\u3000]+", " ", re.sub(r"\n\s*\n+", "\n", text)).strip()


def _pdf(data: IO[bytes]) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(data)
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:
            raise ExtractionError(_("The PDF is protected by a password.")) from exc
    return [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]


def _xml(archive: zipfile.ZipFile, name: str) -> ET.Element:
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise ExtractionError(_("The file is too large to be read."))
    raw = archive.read(name)
    if b"<!DOCTYPE" in raw[:4096].upper():
        raise ExtractionError(_("The file could not be read (%(error)s).") % {"error": "DOCTYPE"})
    return ET.fromstring(raw)  # noqa: S314 - no DOCTYPE, so no entity can expand


def _docx(data: IO[bytes]) -> list[str]:
    with zipfile.ZipFile(data) as archive:
        root = _xml(archive, "word/document.xml")
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p")]
    return ["\n".join(paragraphs)]


def _pptx(data: IO[bytes]) -> list[str]:
    with zipfile.ZipFile(data) as archive:
        slides = sorted(
            (int(m.group(1)), name) for name in archive.namelist() if (m := _SLIDE.match(name)) is not None
        )
        pages = []
        for _number, name in slides[:MAX_PAGES]:
            root = _xml(archive, name)
            pages.append("\n".join("".join(t.text or "" for t in p.iter(f"{_A}t")) for p in root.iter(f"{_A}p")))
    return pages


def _xlsx(data: IO[bytes]) -> list[str]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    book = load_workbook(io.BytesIO(data.read()), read_only=True, data_only=True)
    try:
        pages = []
        for sheet in book.worksheets[:MAX_PAGES]:
            lines, size = [], 0
            for row in sheet.iter_rows(values_only=True):
                line = " ".join(str(v) for v in row if v is not None)
                if line:
                    lines.append(line)
                    size += len(line)
                if size > MAX_PAGE_CHARS:
                    break
            pages.append("\n".join(lines))
        return pages
    finally:
        book.close()


def _plain(data: IO[bytes]) -> list[str]:
    raw = data.read(MAX_PAGE_CHARS * 4)
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return [raw.decode(encoding)]
        except UnicodeDecodeError:
            continue
    return [raw.decode("utf-8", errors="replace")]
