"""How a file leaves the server once its view has decided that this user may have it.

The views decide access (documents.selectors, meetings.selectors); this module only hands over the bytes,
in the way the settings choose:
- files on local disk with DXPLAN_X_ACCEL_REDIRECT_PREFIX: an empty response whose X-Accel-Redirect names
  the file in nginx's `internal` location (deploy/nginx/dxplan.conf), and nginx sends it;
- files on local disk otherwise, and files in object storage with DXPLAN_S3_DOWNLOADS=stream: the bytes
  streamed through Django in constant memory (from S3, the object's body read in chunks);
- object storage with DXPLAN_S3_DOWNLOADS=redirect: a redirect to a presigned address valid
  DXPLAN_S3_URL_SECONDS that names the attachment and its type. A generated file (the 資料一式 ZIP, the
  会議資料一式 PDF) is first written to the bucket under generated/ (expired there by a lifecycle rule, see
  deploy/README.md) and the redirect points at it.
"""
from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse

CHUNK_SIZE = 256 * 1024  # Django's 4 KiB blocks halve the rate when the server cannot sendfile
GENERATED_PREFIX = "generated/"


def is_object_storage(storage: Storage | Any) -> bool:
    """Whether `storage` is django-storages' S3 backend (installed only with requirements-s3.txt)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:
        return False
    wrapped = getattr(storage, "_wrapped", storage)  # default_storage is a lazy object
    return isinstance(wrapped, S3Storage) or isinstance(storage, S3Storage)


def redirects() -> bool:
    """Whether downloads from object storage are redirects to presigned addresses (else streamed)."""
    return is_object_storage(default_storage) and settings.DXPLAN_S3_DOWNLOADS == "redirect"


def content_disposition(filename: str, fallback: str) -> str:
    # RFC 6266/5987: an ASCII fallback and the UTF-8 name percent-encoded; no title can break the header.
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_headers(response: HttpResponseBase, filename: str, fallback: str) -> None:
    response["Content-Disposition"] = content_disposition(filename, fallback)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"


def _key(storage: Any, name: str) -> str:
    return storage._normalize_name(name)  # the object key: the storage's location prefix and the name


def _name(file: FieldFile) -> str:
    if not file.name:  # callers pass the file of a stored version, which always has one
        raise ValueError("The file has no stored name.")
    return file.name


def chunks(file: FieldFile, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The stored file's bytes, opened only when the first chunk is asked for (a ZIP reads one file at a
    time). From object storage the body is read as it arrives, never whole into memory."""
    storage = file.storage
    name = _name(file)
    if is_object_storage(storage):
        s3: Any = storage  # django-storages' S3Storage, which has no type hints
        client = s3.connection.meta.client
        body = client.get_object(Bucket=s3.bucket_name, Key=_key(s3, name))["Body"]
        try:
            yield from body.iter_chunks(size)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as handle:
        yield from iter(lambda: handle.read(size), b"")


def _presigned_redirect(storage: Any, name: str, *, content_type: str, filename: str, fallback: str) -> HttpResponse:
    url = storage.url(
        name,
        parameters={"ResponseContentDisposition": content_disposition(filename, fallback),
                    "ResponseContentType": content_type},
        expire=settings.DXPLAN_S3_URL_SECONDS,
    )
    response = HttpResponseRedirect(url)
    # The address is a short-lived key to the file: never cached, never passed on as a referrer.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def file_response(file: FieldFile, *, size: int, content_type: str, filename: str, fallback: str) -> HttpResponseBase:
    """The stored file as an attachment, handed over as the settings say (see the module)."""
    storage = file.storage
    name = _name(file)
    response: HttpResponseBase
    if is_object_storage(storage):
        if settings.DXPLAN_S3_DOWNLOADS == "redirect":
            return _presigned_redirect(storage, name, content_type=content_type, filename=filename,
                                       fallback=fallback)
        response = StreamingHttpResponse(chunks(file), content_type=content_type)
        response["Content-Length"] = str(size)
    elif settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX:
        # nginx serves the file from an internal location; Django has decided who may have it.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX.rstrip("/") + "/" + quote(name)
    else:
        response = FileResponse(file.open("rb"), content_type=content_type)
        response.block_size = CHUNK_SIZE
        response["Content-Length"] = str(size)
    attachment_headers(response, filename, fallback)
    return response


class _IterableReader(io.RawIOBase):
    """A read-only file over an iterable of bytes, for uploading a generated stream in parts."""

    def __init__(self, parts: Iterable[bytes]):
        self._parts = iter(parts)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._parts)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def generated_redirect(content: bytes | Iterable[bytes], *, content_type: str, filename: str,
                       fallback: str) -> HttpResponseBase | None:
    """With redirects from object storage, write a generated file (ZIP, compiled PDF) to the bucket under
    generated/ and answer with a redirect to it; otherwise None, and the view streams it itself."""
    if not redirects():
        return None
    storage: Any = default_storage
    name = f"{GENERATED_PREFIX}{uuid.uuid4().hex}/{fallback}"
    source = io.BytesIO(content) if isinstance(content, bytes | bytearray) else io.BufferedReader(
        _IterableReader(content), buffer_size=CHUNK_SIZE)
    storage.connection.meta.client.upload_fileobj(
        source, storage.bucket_name, _key(storage, name), ExtraArgs={"ContentType": content_type}
    )
    return _presigned_redirect(storage, name, content_type=content_type, filename=filename, fallback=fallback)
