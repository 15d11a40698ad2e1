"""Authentication helpers."""


def axes_username(request, credentials) -> str:
    """Count failed logins per email address whatever its case (accounts are stored lower-case)."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    return str(username).strip().lower()
