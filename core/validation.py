"""Checks shared by the apps: dates that a form names in the reader's calendar (令和6年3月31日 in Japanese)
before the database's constraints refuse them, and archives (ZIP, OOXML) checked by their directory before
anything unpacks them."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .templatetags.dxplan import jdate

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # django-stubs' type of a gettext_lazy string


def local_date(value: dt.date) -> str:
    """A date for a message in the active language: 令和6年3月31日 in Japanese, 2024-03-31 in English."""
    return str(jdate(value, "short"))


def end_before_start(
    *, start: dt.date | None, end: dt.date | None, field: str, message: str | _StrPromise
) -> dict[str, ValidationError]:
    """{field: error} when both dates are known and `end` is before `start`; `message` takes %(start)s and
    %(end)s. A field-keyed error also keeps Django from checking the constraint on that field twice."""
    if start is None or end is None or end >= start:
        return {}
    dates = {"start": local_date(start), "end": local_date(end)}
    return {field: ValidationError(message, code="end_before_start", params=dates)}


@dataclass(frozen=True)
class ArchiveLimits:
    """What a ZIP (and so an OOXML file: .docx, .xlsx, .pptx) may hold once unpacked."""

    max_total_bytes: int
    max_ratio: int
    max_entries: int
    # Entries smaller than this may compress as well as they like: a short run of repeated XML is not a bomb.
    ratio_floor_bytes: int = 1024 * 1024

    @classmethod
    def from_settings(cls) -> ArchiveLimits:
        return cls(
            max_total_bytes=settings.DXPLAN_ARCHIVE_MAX_BYTES,
            max_ratio=settings.DXPLAN_ARCHIVE_MAX_RATIO,
            max_entries=settings.DXPLAN_ARCHIVE_MAX_ENTRIES,
        )


def check_archive(file: IO[bytes], *, limits: ArchiveLimits | None = None) -> int:
    """Refuse a ZIP bomb by its central directory, before anything unpacks it: too many entries, too many
    bytes once unpacked, or an entry that unpacks to more than `max_ratio` times its packed size. Returns the
    unpacked total. Raises ValidationError (codes "archive", "archive_size", "archive_ratio", "archive_entries").

    The directory's sizes are what zipfile (and openpyxl, python-docx, pypdf's callers) will produce at most:
    zipfile stops an entry at its declared size and fails its CRC check if the data says otherwise, so a
    directory that lies about its sizes cannot make a reader unpack more than was checked here."""
    limits = limits or ArchiveLimits.from_settings()
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ValidationError(_("The file is damaged or not a valid archive."), code="archive") from None
    finally:
        file.seek(0)
    if len(entries) > limits.max_entries:
        raise ValidationError(
            _("The file holds %(count)s parts; at most %(limit)s are accepted.")
            % {"count": f"{len(entries):,}", "limit": f"{limits.max_entries:,}"},
            code="archive_entries",
        )
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_total_bytes:
        raise ValidationError(
            _("Unpacked, the file would be %(size)s; at most %(limit)s is accepted.")
            % {"size": filesizeformat(total), "limit": filesizeformat(limits.max_total_bytes)},
            code="archive_size",
        )
    for entry in entries:
        if entry.file_size > limits.ratio_floor_bytes and entry.file_size > limits.max_ratio * max(
            entry.compress_size, 1
        ):
            raise ValidationError(
                _("The file contains a part that unpacks to %(ratio)s times its size (at most %(limit)s times is "
                  "accepted). It looks like a ZIP bomb; save the file again and upload it.")
                % {"ratio": f"{entry.file_size // max(entry.compress_size, 1):,}", "limit": limits.max_ratio},
                code="archive_ratio",
            )
    return total
