"""Roles that core must know of but that higher apps define (core imports no app).

A higher app registers a predicate here in its AppConfig.ready(); core asks without importing it.
"""

from __future__ import annotations

from collections.abc import Callable

from .types import AnyUser

_second_factor_required: list[Callable[[AnyUser], bool]] = []


def require_second_factor_for(predicate: Callable[[AnyUser], bool]) -> None:
    """Users for whom `predicate(user)` is true must give a one-time code (e.g. the secretariat)."""
    if predicate not in _second_factor_required:
        _second_factor_required.append(predicate)


def needs_second_factor(user: AnyUser) -> bool:
    """Staff, superusers, and anyone a registered predicate names."""
    return bool(user.is_staff or user.is_superuser or any(p(user) for p in _second_factor_required))
