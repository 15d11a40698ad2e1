"""Reading the text of a material's file, page by page, for the search.

PDF with pypdf (a page each), xlsx with openpyxl (a sheet each), pptx with python-pptx (a slide each) and
docx with python-docx (one page: the file holds no page breaks), CSV and text as one page. Other types are
not read.
An unreadable file raises ExtractionError with a message for the secretariat; nothing here writes.

OCR (optional, off by default: DXPLAN_OCR): the pages of a PDF without text (a scan) are read again from the
copy OCRmyPDF makes with a text layer (Debian packages ocrmypdf and tesseract-ocr-jpn; `ocr_pages`).
"""

from __future__ import annotations

import io
import re
import subprocess  # noqa: S404 - ocrmypdf, with a fixed argument list and no shell
import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

MAX_PAGES = 2000
MAX_PAGE_CHARS = 200_000  # a page longer than this is cut: no real page holds that much text
SUPPORTED = ("pdf", "docx", "xlsx", "pptx", "csv", "txt")



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


def _docx(data: IO[bytes]) -> list[str]:
    """python-docx: paragraphs and tables in document order, as one page (a .docx holds no page breaks of
    its own; Word lays the pages out when it opens the file)."""
    from docx import Document
    from docx.table import Table

    document = Document(io.BytesIO(data.read()))
    lines: list[str] = []
    size = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    if not cells or cell.text != cells[-1]:  # a merged cell is returned once per grid column
                        cells.append(cell.text)
                lines.append(" ".join(c for c in cells if c))
        else:
            lines.append(block.text)
        size += len(lines[-1])
        if size > MAX_PAGE_CHARS:
            break
    return ["\n".join(line for line in lines if line)]


def _pptx(data: IO[bytes]) -> list[str]:
    """python-pptx: a page per slide, with the text of its shapes, tables and groups in slide order."""
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data.read()))
    return ["\n".join(_shape_texts(slide.shapes)) for slide in list(presentation.slides)[:MAX_PAGES]]


def _shape_texts(shapes) -> list[str]:
    texts: list[str] = []
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP: the shapes inside it
            texts.extend(_shape_texts(shape.shapes))
        elif getattr(shape, "has_table", False):
            for row in shape.table.rows:
                texts.append(" ".join(cell.text for cell in row.cells if cell.text))
        elif getattr(shape, "has_text_frame", False) and shape.text_frame.text:
            texts.append(shape.text_frame.text)
    return texts


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
