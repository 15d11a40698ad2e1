"""Read the text of files still waiting for it, then rebuild the search index from the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from documents import services
from documents.models import MaterialVersion
from search import indexer


class Command(BaseCommand):
    help = "Read the text of material files not read yet, then rebuild the search index."

    def add_arguments(self, parser):
        parser.add_argument("--no-extract", action="store_true", help="Only rebuild the index.")

    def handle(self, *args, no_extract: bool = False, **options):
        if not no_extract:
            pending = MaterialVersion.objects.filter(text_status=MaterialVersion.TextStatus.PENDING)
            read = 0
            for version in pending.select_related("material").iterator(chunk_size=100):
                services.material_text_extract(version=version)
                read += 1
            self.stdout.write(f"Read the text of {read} files.")
        counts = indexer.reindex_all()
        self.stdout.write("Indexed " + ", ".join(f"{kind}: {n}" for kind, n in counts.items()) + ".")
