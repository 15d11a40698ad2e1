"""Backups of the stored files: every object of the default storage copied to a directory and back,
under the same names, whether the storage is local (MEDIA_ROOT) or an S3 bucket. The database refers to
files by these names, so a dump and a copy taken together restore a consistent site."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage, storages

# Generated downloads (presigned ZIPs and PDFs) are made again on demand and are not backed up.
SKIP_PREFIXES = ("generated/",)


def _s3(storage: Any) -> bool:
    return hasattr(storage, "bucket_name") and hasattr(storage, "connection")


def names() -> Iterator[str]:
    """Every stored file's name, in no particular order."""
    storage: Any = storages["default"]
    if _s3(storage):
        client = storage.connection.meta.client
        prefix = storage._normalize_name("")
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket_name, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(prefix):]
        return
    root = Path(storage.location)
    if root.exists():
        for path in root.rglob("*"):
            if path.is_file():
                yield path.relative_to(root).as_posix()


def backup(directory: Path) -> tuple[int, int]:
    """Copy every stored file to `directory` (created); returns (files, bytes)."""
    count = size = 0
    for name in names():
        if name.startswith(SKIP_PREFIXES):
            continue
        target = directory / name
        if not target.resolve().is_relative_to(directory.resolve()):
            raise ValueError(f"A stored name leads outside the backup directory: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        count, size = count + 1, size + target.stat().st_size
    return count, size


def restore(directory: Path) -> tuple[int, int]:
    """Store every file under `directory` under its relative name; a name already stored is refused."""
    count = size = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if default_storage.exists(name):
            raise FileExistsError(f"{name} is already stored: restore into an empty bucket or MEDIA_ROOT.")
        with open(path, "rb") as handle:
            stored = default_storage.save(name, File(handle, name=name))
        if stored != name:
            raise RuntimeError(f"{name} was stored as {stored}")
        count, size = count + 1, size + path.stat().st_size
    return count, size
