"""The one outbox, for the floors below notices (core imports no app; committee sits below notices).

notices keeps the outbox (notices.models.OutboxMail) and its thin sending task, and registers its entry
points here in NoticesConfig.ready(). `outbox_write` writes one mail row in the caller's transaction; the
row is handed to the sending task when that transaction commits, so a rolled-back action sends nothing
and a committed one cannot lose its mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class Writer(Protocol):
    def __call__(self, *, topic: str, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> Any:
        ...


@dataclass(frozen=True)
class MailState:
    """What the outbox says of one row: pending (also while being sent or waiting for a retry), sent or
    failed; `last_error` is the reason of the failure, or of the last temporary one while it is retried."""

    state: str
    last_error: str = ""
    sent_at: Any = None


_writer: Writer | None = None
_queue: Callable[[list[int]], int] | None = None
_states: Callable[[list[int]], dict[int, MailState]] | None = None
_discard: Callable[[list[int]], int] | None = None
_on_failed: dict[str, Callable[[int, str], None]] = {}


def register(
    *,
    writer: Writer,
    queue: Callable[[list[int]], int],
    states: Callable[[list[int]], dict[int, MailState]],
    discard: Callable[[list[int]], int],
) -> None:
    """Called once by the app that keeps the outbox (notices)."""
    global _writer, _queue, _states, _discard  # noqa: PLW0603 - the registry is this module's state
    _writer, _queue, _states, _discard = writer, queue, states, discard


def on_failed(topic: str, receiver: Callable[[int, str], None]) -> None:
    """Called by an app that writes mails of `topic`: `receiver(row_id, reason)` runs when the outbox marks
    one of them failed for good (in the transaction of that mark), e.g. to write its own audit entry."""
    _on_failed[topic] = receiver


def failed(topic: str, row_id: int, reason: str) -> None:
    """Called by the outbox when it marked a row failed."""
    receiver = _on_failed.get(topic)
    if receiver is not None:
        receiver(row_id, reason)


def outbox_write(*, topic: str, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> int:
    """Write one mail in the caller's transaction (queued on commit); returns the row's id."""
    if _writer is None:
        raise ImproperlyConfigured("No outbox is registered (is the notices app installed?).")
    return int(_writer(topic=topic, to=to, subject=subject, text=text, headers=headers).pk)


def outbox_queue(ids: list[int]) -> int:
    """Hand rows to the sending task now (ids of rows that no longer exist are skipped by the task)."""
    if _queue is None:
        raise ImproperlyConfigured("No outbox is registered (is the notices app installed?).")
    return _queue(ids)


def outbox_states(ids: list[int]) -> dict[int, MailState]:
    """The state of each row of `ids` (in one query); rows that no longer exist are left out."""
    if _states is None:
        raise ImproperlyConfigured("No outbox is registered (is the notices app installed?).")
    return _states(list(ids)) if ids else {}


def outbox_discard(ids: list[int]) -> int:
    """Delete the rows of `ids` that are still waiting and not being sent (a mail that became pointless, such
    as an invitation replaced by a newer one). A row being sent or already sent is left as it is."""
    if _discard is None:
        raise ImproperlyConfigured("No outbox is registered (is the notices app installed?).")
    return _discard(list(ids)) if ids else 0
