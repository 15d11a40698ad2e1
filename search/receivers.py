"""The index follows its sources: a change to a body, meeting, 次第, material or minutes passage
rebuilds that source's rows once the transaction commits (once per source, however often it was saved).

Who may find a row is decided at query time (selectors.py), so changes of visibility need nothing here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import transaction

from . import indexer

logger = logging.getLogger(__name__)
_pending = threading.local()


def schedule(index: Callable[[int], int], pk: int | None) -> None:
    """Run `index(pk)` after the commit; a source saved many times in one transaction is rebuilt once
    (the first flush empties the queue; a source left by a rolled-back transaction is merely rebuilt)."""
    if pk is None:
        return
    queue: dict | None = getattr(_pending, "queue", None)
    if queue is None:
        queue = _pending.queue = {}
    if (index, pk) not in queue:
        queue[(index, pk)] = None
    transaction.on_commit(_flush)


def _flush() -> None:
    queue = getattr(_pending, "queue", None) or {}
    _pending.queue = None
    for index, pk in queue:
        try:
            index(pk)
        except Exception:  # the change is committed; `manage.py search_reindex` repairs the index
            logger.exception("Could not index %s %s.", index.__name__, pk)


def on_body_saved(sender, instance, **kwargs) -> None:
    schedule(indexer.index_body, instance.pk)


def on_article_changed(sender, instance, **kwargs) -> None:
    schedule(indexer.index_body, getattr(instance, "body_id", None) or _body_of_article(instance))


def _body_of_article(article) -> int | None:
    from committee.models import Guideline

    return Guideline.objects.filter(pk=article.guideline_id).values_list("body_id", flat=True).first()


def on_meeting_saved(sender, instance, **kwargs) -> None:
    schedule(indexer.index_meeting, instance.pk)


def on_agenda_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is None or "approved_version" in update_fields:
        schedule(indexer.index_agenda, instance.meeting_id)


MATERIAL_FIELDS = {"title", "label", "current_version", "meeting"}


def on_material_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is None or MATERIAL_FIELDS & set(update_fields):
        schedule(indexer.index_material, instance.pk)


def on_material_text_read(sender, material, **kwargs) -> None:
    schedule(indexer.index_material, material.pk)


def on_minutes_entry_saved(sender, instance, **kwargs) -> None:
    schedule(indexer.index_minutes_entry, instance.pk)


def on_minutes_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is None or "kind" in update_fields:
        schedule(indexer.index_minutes, instance.pk)
