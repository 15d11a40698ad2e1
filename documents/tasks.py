"""Celery tasks of the materials. They take ids only."""

from __future__ import annotations

from celery import shared_task

from . import services
from .models import MaterialVersion


@shared_task(name="documents.tasks.extract_text", acks_late=True)
def extract_text(version_id: int) -> None:
    """Read the text of one uploaded file for the search (safe to run twice: only a pending file is read)."""
    version = MaterialVersion.objects.filter(pk=version_id).first()
    if version is not None:
        services.material_text_extract(version=version)
