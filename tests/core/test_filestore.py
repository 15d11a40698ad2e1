"""manage.py files_backup / files_restore with local storage (the S3 form runs in tests/deploy/test_restore.py)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_backup_and_restore_keep_every_name_and_byte(settings, media, tmp_path):
    stored = {
        "materials/a1.pdf": b"%PDF-1.4 one",
        "materials/b2.xlsx": b"PK\x03\x04 two",
        "generated/x/meeting-1-materials.zip": b"made again on demand",
    }
    for name, data in stored.items():
        assert default_storage.save(name, ContentFile(data)) == name
    backup = tmp_path / "backup"
    call_command("files_backup", str(backup))
    copied = sorted(p.relative_to(backup).as_posix() for p in backup.rglob("*") if p.is_file())
    assert copied == ["materials/a1.pdf", "materials/b2.xlsx"]  # generated copies are not kept

    settings.MEDIA_ROOT = tmp_path / "fresh"
    call_command("files_restore", str(backup))
    for name in copied:
        with default_storage.open(name, "rb") as handle:
            assert handle.read() == stored[name]
    with pytest.raises(CommandError, match="already stored"):  # never over a file already stored
        call_command("files_restore", str(backup))
    with pytest.raises(CommandError):
        call_command("files_restore", str(tmp_path / "missing"))
