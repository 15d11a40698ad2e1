"""Checking an uploaded file: its content must be one of the allowed types and match its extension.

The type is read from the content (filetype), never trusted from the name or the browser. Office files
(.docx, .xlsx, .pptx) are ZIPs and are checked by their directory against ZIP bombs. Text and CSV are read
whole: they must decode (UTF-8 or Shift_JIS), contain no markup anywhere, and a CSV no cell a spreadsheet
would run as a formula.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.csvsafe import first_formula
from core.validation import check_archive

# extension -> (content type served, what filetype must detect, or None for text)
ALLOWED: dict[str, tuple[str, str | None]] = {
    "pdf": ("application/pdf", "application/pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": ("application/msword", "application/msword"),
    "xls": ("application/vnd.ms-excel", "application/vnd.ms-excel"),
    "ppt": ("application/vnd.ms-powerpoint", "application/vnd.ms-powerpoint"),
    "png": ("image/png", "image/png"),
    "jpg": ("image/jpeg", "image/jpeg"),
    "jpeg": ("image/jpeg", "image/jpeg"),
    "csv": ("text/csv", None),
    "txt": ("text/plain", None),
}
# The old Office formats share one container; filetype names it by whichever it recognises first.
OLE_FAMILY = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
              "application/x-ole-storage"}
# Markup anywhere in a text or CSV file (a browser sniffing it, or a viewer rendering it, would run it).
MARKUP = re.compile(r"<(?:\?xml|!doctype|!--|html|svg|script|head|body|iframe)", re.IGNORECASE)
_MARKUP_OVERLAP = 16  # longer than any match above, so markup cut between two chunks is still found
ZIP_BASED = {"docx", "xlsx", "pptx"}


@dataclass(frozen=True)
class CheckedFile:
    extension: str
    content_type: str
    size: int
    sha256: str
    original_name: str


def clean_filename(name: str) -> str:
    """The base name only (no directories of either kind), without control characters; for display."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    return base.strip().strip(".")[:200] or "file"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def _decoded(upload, encoding: str) -> Iterator[str]:
    """The whole upload as text, a chunk at a time; UnicodeDecodeError if it is not in `encoding`."""
    decoder = codecs.getincrementaldecoder(encoding)()
    upload.seek(0)
    for chunk in upload.chunks():
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _encoding(upload) -> str | None:
    """UTF-8 or Shift_JIS (cp932) if the whole file decodes in it and holds no NUL; else None."""
    for encoding in ("utf-8", "cp932"):
        try:
            for text in _decoded(upload, encoding):
                if "\x00" in text:
                    return None
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _has_markup(upload, encoding: str) -> bool:
    tail = ""
    for text in _decoded(upload, encoding):
        if MARKUP.search(tail + text):
            return True
        tail = (tail + text)[-_MARKUP_OVERLAP:]
    return False


def _lines(upload, encoding: str) -> Iterator[str]:
    """The decoded file line by line (line ends kept), for csv.reader."""
    rest = ""
    for text in _decoded(upload, encoding):
        lines = (rest + text).splitlines(keepends=True)
        rest = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        yield from lines
    if rest:
        yield rest


def _check_text(upload, extension: str) -> None:
    """Text and CSV, read whole: decodable, no markup anywhere, and for CSV no formula in any cell."""
    not_text = ValidationError(
        _("The content of this file is not plain text or CSV (HTML, XML and binary files are refused)."),
        code="content",
    )
    encoding = _encoding(upload)
    if encoding is None or _has_markup(upload, encoding):
        raise not_text
    if extension != "csv":
        return
    try:
        found = first_formula(_lines(upload, encoding))
    except csv.Error:
        raise not_text from None
    if found is not None:
        row, column, cell = found
        raise ValidationError(
            _("Row %(row)s, column %(column)s starts with “%(start)s”: a spreadsheet would run it as a formula. "
              "Remove the formula, or put an apostrophe (') before it, and upload the file again.")
            % {"row": row, "column": column, "start": cell.lstrip()[:1]},
            code="formula",
        )


def check_upload(upload) -> CheckedFile:
    """Validate an uploaded file; raise ValidationError with a message in the user's language.

    Reads the file once in chunks to measure and hash it; nothing is stored here.
    """
    name = clean_filename(getattr(upload, "name", ""))
    extension = _extension(name)
    if extension not in ALLOWED:
        raise ValidationError(
            _("Files of this type (.%(ext)s) cannot be uploaded. Allowed: PDF, Word, Excel, PowerPoint, PNG, JPEG, "
              "CSV and text.") % {"ext": extension or "?"},
            code="type",
        )
    limit = settings.DXPLAN_UPLOAD_MAX_BYTES
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="size",
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    content_type, expected = ALLOWED[extension]
    if expected is None:
        _check_text(upload, extension)
        upload.seek(0)
    else:
        kind = filetype.guess(head)
        detected = kind.mime if kind else None
        same_family = expected in OLE_FAMILY and detected in OLE_FAMILY
        if detected != expected and not same_family:
            raise ValidationError(
                _("The content of this file does not match its extension .%(ext)s. Save it again in that format "
                  "and upload it.") % {"ext": extension},
                code="mismatch",
            )
        if extension in ZIP_BASED:
            check_archive(upload)
    digest = hashlib.sha256()
    measured = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        measured += len(chunk)
        if measured > limit:
            raise ValidationError(_("The file is larger than the limit."), code="size")
    upload.seek(0)
    if measured == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    return CheckedFile(
        extension=extension, content_type=content_type, size=measured, sha256=digest.hexdigest(), original_name=name
    )
