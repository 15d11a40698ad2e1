"""Names that every mail of the site carries: its domain and the Message-ID of a delivery."""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings


def site_domain() -> str:
    """The host of SITE_URL (never the request's Host header)."""
    return urlparse(settings.SITE_URL).hostname or "dxplan.invalid"


def message_id_for(notice_pk, delivery_pk) -> str:
    """A deterministic Message-ID: a resend or a retry carries the same one, so clients see one mail."""
    return f"<notice-{notice_pk}-delivery-{delivery_pk}@{site_domain()}>"
