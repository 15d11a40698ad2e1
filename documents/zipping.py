"""The 資料一式 ZIP: zipstream-ng's streamed archive (stored, never deflated: materials are PDFs and Office
files, compressed already) with a fast CRC-32.

A stored member costs reading the file, its CRC-32 and sending the bytes. zipstream-ng takes the CRC-32 from
zipfile, that is zlib's: about 1.5–2.7 GB/s on the CI machine, the largest share of the ZIP's time in the
worker (bench/nginx_download.py). zlib-ng's (requirements.txt) gives the same values about ten times as fast
(vectorised with PCLMULQDQ), so it replaces the one zipstream-ng calls. Without zlib-ng installed the
archive is the same, only slower.
"""
from __future__ import annotations

from collections.abc import Callable

import zipstream.ng
from zipstream import ZipStream


def _fast_crc32() -> Callable[[bytes, int], int] | None:
    try:
        from zlib_ng import zlib_ng
    except ImportError:  # pragma: no cover - zlib-ng is in requirements.txt
        return None
    return zlib_ng.crc32


fast_crc32 = _fast_crc32()
if fast_crc32 is not None:
    zipstream.ng.crc32 = fast_crc32  # the name zipstream-ng's _file_data calls for every chunk


def zip_stream() -> ZipStream:
    """An empty archive whose length is known before the first byte (Content-Length)."""
    return ZipStream(sized=True)
