"""Authentication helpers."""

from .text import single_line


def axes_username(request, credentials) -> str:
    """Count failed logins per email address whatever its case (accounts are stored lower-case). Whatever was
    typed is flattened to one line and cut to an address's length: axes stores it (PostgreSQL refuses NUL,
    the column holds 255 characters)."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    return single_line(str(username), 254).lower()
