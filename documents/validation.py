"""Checking an uploaded file: its content must be one of the allowed types and match its extension.

The type is read from the content (filetype), never trusted from the name or the browser. Text and
CSV are accepted only if they decode (UTF-8 or Shift_JIS) and do not look like markup.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

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
# Byte-order marks before the markup must not hide it.
MARKUP = re.compile(
    rb"^(?:\s|\xef\xbb\xbf)*(<\?xml|<!doctype|<!--|<html|<svg|<script|<head|<body|<iframe)", re.IGNORECASE
)


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


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "cp932"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            # A multibyte character cut at the end of the sample is not an error.
            if exc.start >= len(head) - 3:
                return True
            continue
        return True
    return False


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
        if MARKUP.match(head) or not _is_text(head):
            raise ValidationError(
                _("The content of this file is not plain text or CSV (HTML, XML and binary files are refused)."),
                code="content",
            )
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
