"""Signals of the materials, sent after the change is committed. Other apps listen (notices announces
published materials); documents imports none of them.

- material_published(material, replaced): the material became visible to members (to members or to the
  public), or its file was replaced (差替) while members see it (`replaced=True`).
- material_hidden(material): members no longer see it (withdrawn, or back to the secretariat only).
- material_text_read(material, version): the text of one of its files was read (or could not be).
"""

from __future__ import annotations

import logging

import django.dispatch
from django.db import transaction

logger = logging.getLogger(__name__)

material_published = django.dispatch.Signal()
material_hidden = django.dispatch.Signal()
material_text_read = django.dispatch.Signal()


def send_on_commit(signal: django.dispatch.Signal, material, **kwargs) -> None:
    """Send `signal` once the current transaction commits (at once outside one). A receiver's error is
    logged and does not undo the change, which is committed by then."""

    def send():
        for receiver, result in signal.send_robust(sender=type(material), material=material, **kwargs):
            if isinstance(result, Exception):
                logger.error("A receiver of a material signal failed: %r", receiver, exc_info=result)

    transaction.on_commit(send)
