"""System checks of the settings a deploying prefecture changes: its colour and its accessibility policy."""

import datetime as dt

from django.conf import settings
from django.core.checks import Error, Warning, register

from .branding import HEX_COLOR, contrast_ratio

LEVELS = ("A", "AA", "AAA")
CONFORMANCE = ("conforms", "partial", "considered")


@register()
def brand_color_check(app_configs, **kwargs):
    value = str(settings.DXPLAN_BRAND_COLOR).strip()
    if not HEX_COLOR.fullmatch(value):
        return [
            Error(
                f"DXPLAN_BRAND_COLOR must be a hex colour such as #0017c1, not {value!r}.",
                hint="Six hexadecimal digits after #; the default is used until it is fixed.",
                id="dxplan.E101",
            )
        ]
    ratio = contrast_ratio(value, "#ffffff")
    if ratio < 4.5:
        return [
            Warning(
                f"DXPLAN_BRAND_COLOR {value} has a contrast of {ratio:.2f}:1 against white; text in it needs "
                "4.5:1 (JIS X 8341-3:2016 1.4.3, level AA).",
                hint="Choose a darker colour.",
                id="dxplan.W102",
            )
        ]
    return []


@register()
def accessibility_policy_check(app_configs, **kwargs):
    errors = []
    if settings.DXPLAN_ACCESSIBILITY_LEVEL not in LEVELS:
        errors.append(
            Error(f"DXPLAN_ACCESSIBILITY_LEVEL must be one of {', '.join(LEVELS)}.", id="dxplan.E103")
        )
    if settings.DXPLAN_ACCESSIBILITY_CONFORMANCE not in CONFORMANCE:
        errors.append(
            Error(
                "DXPLAN_ACCESSIBILITY_CONFORMANCE must be conforms (準拠), partial (一部準拠) or considered (配慮).",
                id="dxplan.E104",
            )
        )
    dates = ("DXPLAN_ACCESSIBILITY_POLICY_DATE", "DXPLAN_ACCESSIBILITY_TARGET_DATE", "DXPLAN_ACCESSIBILITY_TESTED_ON")
    for name in dates:
        value = getattr(settings, name)
        try:
            if value:
                dt.date.fromisoformat(value)
        except ValueError:
            errors.append(Error(f"{name} must be a date such as 2026-11-30, not {value!r}.", id="dxplan.E105"))
    return errors
