"""Type aliases shared by the apps."""

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from .models import User

AnyUser: TypeAlias = User | AnonymousUser
"""Whoever makes a request (`request.user`): a logged-in account or the anonymous visitor."""
