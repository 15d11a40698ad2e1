"""Who records, inside the transaction of the change, that members' materials changed.

documents sits below notices and participation (the import-linter floors), so it cannot call them: they
register a recorder here in their `ready()`. The material services call every recorder inside their own
transaction, not after commit and not through a signal that logs and swallows errors. So the 資料掲載のお知らせ
waiting to go out (notices) and the subscribers' mails (participation) are written with the publication
and commit or roll back with it; a recorder that fails fails the change, and nothing is published without
its notice.

- published(material, replaced): the material became visible to members (to members or to the public), or
  its file was replaced (差替) while members see it (`replaced=True`).
- hidden(material): members no longer see it (withdrawn, or back to the secretariat only).

Recorders take the lock order of docs/locking.md as they find it: the services have locked the meeting and
then the material before they call them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.db import transaction

from .models import Material


class PublishedRecorder(Protocol):
    def __call__(self, *, sender: type[Material], material: Material, replaced: bool, **kwargs: Any) -> None: ...


HiddenRecorder = Callable[..., None]

_published: dict[str, PublishedRecorder] = {}
_hidden: dict[str, HiddenRecorder] = {}


def on_published(key: str, recorder: PublishedRecorder) -> None:
    """Register `recorder` under `key` (registering again replaces it: ready() may run twice)."""
    _published[key] = recorder


def on_hidden(key: str, recorder: HiddenRecorder) -> None:
    _hidden[key] = recorder


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Material recorders run inside the transaction of the change.")


def published(material: Material, *, replaced: bool) -> None:
    """Called by the services, inside their transaction; an error propagates and rolls the change back."""
    _in_transaction()
    for recorder in list(_published.values()):
        recorder(sender=Material, material=material, replaced=replaced)


def hidden(material: Material) -> None:
    _in_transaction()
    for recorder in list(_hidden.values()):
        recorder(sender=Material, material=material)
