"""The one outbox, for the floors below notices (core imports no app; committee sits below notices).

notices keeps the outbox (notices.models.OutboxMail) and its thin sending task, and registers its entry
points here in NoticesConfig.ready(). `outbox_write` writes one mail row in the caller's transaction; the
row is handed to the sending task when that transaction commits, so a rolled-back action sends nothing
and a committed one cannot lose its mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured


class Writer(Protocol):
    def __call__(self, *, topic: str, to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> Any:
        ...


_writer: Writer | None = None
_queue: Callable[[list[int]], int] | None = None


def register(*, writer: Writer, queue: Callable[[list[int]], int]) -> None:
    """Called once by the app that keeps the outbox (notices)."""
    global _writer, _queue  # noqa: PLW0603 - the registry is this module's state
    _writer, _queue = writer, queue


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
