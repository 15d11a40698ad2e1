"""Type aliases shared by the apps."""

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from .models import User

AnyUser: TypeAlias = User | AnonymousUser
"""Whoever makes a request (`request.user`): a logged-in account or the anonymous visitor."""


def account_of(user: AnyUser | None) -> User | None:
    """The account behind `user`, for a "by" column: None for the anonymous visitor or nobody (a task)."""
    return user if user is not None and user.is_authenticated else None
