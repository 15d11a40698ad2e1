"""PDF documents from HTML templates (WeasyPrint), and the 会議資料一式 compiled from several PDFs (pypdf).

The Japanese font is the vendored IPAex Gothic (documents/fonts, IPA Font License), named by an absolute
file:// URL, so a fresh machine without root and without any system Japanese font prints the same PDF,
with the font embedded. WeasyPrint fetches nothing but files under the font and static directories:
a template can never make the server read another file or reach the network (SECURITY.md).
"""
from __future__ import annotations

import io
import logging
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# At INFO, each render would log every step (weasyprint.progress) and every font table it subsets
# (fontTools): dozens of lines per PDF. A level set in settings.LOGGING is left alone.
for _name in ("weasyprint.progress", "fontTools"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILE = FONT_DIR / "ipaexg.ttf"
FONT_FAMILY = "IPAexGothic"
CONTENTS_TEMPLATE = "documents/print/materials_contents.html"
STYLE_TEMPLATE = "documents/print/_style.html"


def page_css() -> str:
    """The font and the page: A4 portrait with the margins of an ordinary office document."""
    return (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{FONT_FILE.as_uri()}") format("truetype"); }}\n'
        "@page { size: A4 portrait; margin: 20mm 20mm 18mm 20mm; }\n"
        f'html {{ font-family: "{FONT_FAMILY}", sans-serif; }}\n'
    )


# --- fetching ------------------------------------------------------------------------------------


class URLNotAllowedError(ValueError):
    """WeasyPrint asked for something outside the font and static directories."""


def allowed_roots() -> tuple[Path, ...]:
    """The directories WeasyPrint may read from: the vendored fonts and the project's static files."""
    roots = [FONT_DIR, Path(settings.STATIC_ROOT)]
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, list | tuple) else entry))
    return tuple(root.resolve() for root in roots)


def allowed_path(url: str) -> Path:
    """The local file a file:// URL names, if it lies under an allowed directory; else URLNotAllowedError."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise URLNotAllowedError(f"Only local font and static files may be used in a PDF, not {url[:200]!r}.")
    # resolve() removes ../ and follows links, so neither can lead outside the allowed directories.
    path = Path(url2pathname(parts.path)).resolve()
    if not any(path.is_relative_to(root) for root in allowed_roots()) or not path.is_file():
        raise URLNotAllowedError(f"{url[:200]!r} is not a font or static file of the project.")
    return path


class LocalFileFetcher(URLFetcher):
    """WeasyPrint's fetcher, limited to files under `allowed_roots()`: no network, no other file."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url, headers=None):
        path = allowed_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type})


# --- rendering -----------------------------------------------------------------------------------


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """One HTML document as PDF bytes, with the Japanese font embedded (subset)."""
    fetcher = LocalFileFetcher()
    fonts = FontConfiguration()
    stylesheet = CSS(string=page_css(), font_config=fonts, url_fetcher=fetcher)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)


def print_css() -> str:
    """The print templates' stylesheet, inline in each document (the page and the PDF use the same)."""
    return render_to_string(STYLE_TEMPLATE)


def render_pdf(template_name: str, context: dict, *, base_url: str | None = None) -> bytes:
    """Render a print template (the same one its HTML print view shows) to PDF bytes."""
    context = {**context, "print_css": context.get("print_css") or print_css(), "pdf": True}
    html = render_to_string(template_name, context)
    return html_to_pdf(html, base_url=base_url)


# --- 会議資料一式 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One material for the compiled PDF: its file if it is a PDF, else its format (listed, not included)."""

    label: str
    title: str = ""
    source: bytes | IO[bytes] | None = None
    extension: str = "pdf"


@dataclass
class ContentsEntry:
    label: str
    title: str
    extension: str
    status: str  # "included", "not_pdf" or "unreadable"
    pages: int = 0
    page: int | None = None  # its first page in the compiled PDF

    @property
    def included(self) -> bool:
        return self.status == "included"


def _as_part(part: Part | tuple[str, bytes | IO[bytes] | None]) -> Part:
    if isinstance(part, Part):
        return part
    label, source = part
    return Part(label=label, source=source)


def read_pdf(source: bytes | IO[bytes]) -> PdfReader | None:
    """The PDF, or None when it cannot be read (damaged, encrypted with a password, no pages)."""
    try:
        reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source)
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        pages = list(reader.pages)
        for page in pages:  # a broken page tree fails here, not half-way through the merge
            _ = page.mediabox
        return reader if pages else None
    except Exception:  # pypdf raises many kinds of error for a damaged file; it is listed, not fatal
        logger.warning("A material could not be read as PDF; it is listed but not included.", exc_info=True)
        return None


def _contents_pdf(entries: list[ContentsEntry], front_pages: int, template: str, context: dict) -> PdfReader:
    """The contents page(s); page numbers count the cover and the contents pages themselves."""
    contents_pages = 1
    for _attempt in range(4):  # a long list may need more than one page; the numbers move with it
        page = front_pages + contents_pages + 1
        for entry in entries:
            entry.page = page if entry.included else None
            page += entry.pages
        rendered = PdfReader(io.BytesIO(render_pdf(template, {**context, "entries": entries})))
        if len(rendered.pages) == contents_pages:
            return rendered
        contents_pages = len(rendered.pages)
    return rendered


def _page_box(page) -> tuple[float, float, float, float]:
    box = page.cropbox
    return float(box.left), float(box.bottom), float(box.width), float(box.height)


def _stamps_html(sizes: list[tuple[float, float]], numbers: list[int]) -> str:
    """One page per page to number, each of that page's size, its number centred at the foot."""
    kinds = {size: f"s{i}" for i, size in enumerate(dict.fromkeys(sizes))}
    css = ["html, body { margin: 0; padding: 0; }",
           ".sheet { break-after: page; position: relative; }",
           ".sheet:last-child { break-after: auto; }",
           ".number { position: absolute; left: 0; right: 0; text-align: center; font-size: 9pt; }"]
    for (width, height), name in kinds.items():
        css.append(f"@page {name} {{ size: {width:.2f}pt {height:.2f}pt; margin: 0; }}")
        css.append(f".{name} {{ page: {name}; height: {height - 2:.2f}pt; }}")
        css.append(f".{name} .number {{ top: {height - 26:.2f}pt; }}")
    sheets = "".join(f'<div class="sheet {kinds[size]}"><div class="number">- {n} -</div></div>'
                     for size, n in zip(sizes, numbers, strict=True))
    return f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><style>{"".join(css)}</style></head>' \
           f"<body>{sheets}</body></html>"


def stamp_page_numbers(writer: PdfWriter, *, skip: int = 1) -> None:
    """Print each page's running number (「- 3 -」, the cover being page 1) at its foot, after the first
    `skip` pages: the numbers the 目次 gives. The numbers are one WeasyPrint document, a page of the same
    size for each page to stamp, laid over it; a rotated page is straightened first so the number sits at
    the foot as the page is read."""
    targets = list(writer.pages)[skip:]
    if not targets:
        return
    for page in targets:
        if page.rotation:
            page.transfer_rotation_to_content()
    boxes = [_page_box(page) for page in targets]
    stamps = PdfReader(io.BytesIO(html_to_pdf(_stamps_html([(w, h) for _x, _y, w, h in boxes],
                                                           list(range(skip + 1, skip + 1 + len(targets)))))))
    if len(stamps.pages) != len(targets):  # never expected; unnumbered is better than misnumbered
        logger.error("Page numbers not stamped: %s stamps for %s pages.", len(stamps.pages), len(targets))
        return
    for page, stamp, (left, bottom, _w, _h) in zip(targets, stamps.pages, boxes, strict=True):
        page.merge_translated_page(stamp, left, bottom)


def compile_pdfs(cover_pdf: bytes, parts: Iterable[Part | tuple[str, bytes | IO[bytes] | None]], *,
                 contents_template: str = CONTENTS_TEMPLATE, context: dict | None = None,
                 ) -> tuple[bytes, list[ContentsEntry]]:
    """Cover, contents (label, title, first page), then each readable PDF part in the order given; every
    page after the cover carries its running number, the one the contents give.

    A part that is not a PDF is listed in the contents as not included, with its format; so is a PDF
    that cannot be read. Returns the PDF and the contents entries (to know what went in).
    """
    cover = PdfReader(io.BytesIO(cover_pdf))
    entries: list[ContentsEntry] = []
    readers: list[PdfReader] = []
    for part in map(_as_part, parts):
        extension = (part.extension or "").lower()
        if extension != "pdf" or part.source is None:
            entries.append(ContentsEntry(part.label, part.title, extension, "not_pdf"))
            continue
        reader = read_pdf(part.source)
        if reader is None:
            entries.append(ContentsEntry(part.label, part.title, extension, "unreadable"))
            continue
        entries.append(ContentsEntry(part.label, part.title, extension, "included", pages=len(reader.pages)))
        readers.append(reader)
    contents = _contents_pdf(entries, len(cover.pages), contents_template, context or {})
    writer = PdfWriter()
    writer.append(cover, import_outline=False)
    writer.append(contents, outline_item="目次", import_outline=False)
    included = iter(readers)
    for entry in entries:
        if entry.included:
            writer.append(next(included), outline_item=f"{entry.label} {entry.title}".strip(), import_outline=False)
    stamp_page_numbers(writer, skip=len(cover.pages))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), entries


def merge_pdfs(cover_pdf: bytes, parts: Iterable[Part | tuple[str, bytes | IO[bytes] | None]], *,
               contents_template: str = CONTENTS_TEMPLATE, context: dict | None = None) -> bytes:
    """会議資料一式: cover, contents page, then each PDF part; see `compile_pdfs`."""
    return compile_pdfs(cover_pdf, parts, contents_template=contents_template, context=context)[0]
