"""Copy a directory written by files_backup into the file storage (an empty bucket or MEDIA_ROOT)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import filestore, pagecache


class Command(BaseCommand):
    help = "Copy the files under DIRECTORY (from files_backup) into the default storage under the same names."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory written by files_backup.")
        try:
            copied, size = filestore.restore(directory)
        except FileExistsError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{copied} files ({size} bytes) restored from {directory}")
        # The database was restored before the files (deploy/backup/dxplan-restore) by pg_restore, whose writes
        # no process of the site saw: every page kept in the shared cache is dropped.
        pagecache.invalidate()
