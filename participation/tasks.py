"""Periodic work of the participation app. Tasks are thin: they call the service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def purge_personal_data() -> int:
    """Daily (django-celery-beat): delete observers' personal data DXPLAN_OBSERVER_DATA_DAYS after the
    meeting. Safe to run twice: a meeting purged once is skipped."""
    return services.personal_data_purge()
