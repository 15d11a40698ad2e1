"""Signals of the materials, sent after the change is committed. Other apps listen (search indexes the text
read from a file); documents imports none of them.

- material_text_read(material, version): the text of one of its files was read (or could not be).

What must not be lost when it fails (the 資料掲載のお知らせ, the subscribers' mails) is not a signal: see
documents.recorders, called inside the transaction of the publication.
"""

from __future__ import annotations

import logging

import django.dispatch
from django.db import transaction

logger = logging.getLogger(__name__)

material_text_read = django.dispatch.Signal()


def send_on_commit(signal: django.dispatch.Signal, material, **kwargs) -> None:
    """Send `signal` once the current transaction commits (at once outside one). A receiver's error is
    logged and does not undo the change, which is committed by then."""

    def send():
        for receiver, result in signal.send_robust(sender=type(material), material=material, **kwargs):
            if isinstance(result, Exception):
                logger.error("A receiver of a material signal failed: %r", receiver, exc_info=result)

    transaction.on_commit(send)
