"""Copy every stored file (materials and their versions) from the file storage to a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import filestore


class Command(BaseCommand):
    help = "Copy every file of the default storage (local MEDIA_ROOT or the S3 bucket) into DIRECTORY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        copied, size = filestore.backup(directory)
        self.stdout.write(f"{copied} files ({size} bytes) copied to {directory}")
