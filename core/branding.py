"""The organisation's colour (DXPLAN_BRAND_COLOR) as a stylesheet, and the contrast it gives."""

import re

from django.conf import settings

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_BRAND_COLOR = "#0017c1"  # デジタル庁デザインシステムの primary (Blue 900)


def brand_color() -> str:
    """The configured colour in lower case; the default when it is not a #rrggbb colour (core.checks
    reports that), so nothing unchecked ever reaches a stylesheet."""
    value = str(settings.DXPLAN_BRAND_COLOR).strip()
    return value.lower() if HEX_COLOR.fullmatch(value) else DEFAULT_BRAND_COLOR


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(color: str) -> str:
    """Black or white, whichever reads better on `color`."""
    return "#ffffff" if contrast_ratio(color, "#ffffff") >= contrast_ratio(color, "#000000") else "#000000"


def stylesheet() -> str:
    """The brand as CSS custom properties, for the design's stylesheets to use (static/css/dxplan.css)."""
    color = brand_color()
    return (
        "/* dxplan: the organisation's colour (DXPLAN_BRAND_COLOR) */\n"
        ":root {\n"
        f"  --brand-color: {color};\n"
        f"  --brand-color-contrast: {text_on(color)};\n"
        "}\n"
        ".site-header { border-top: 0.25rem solid var(--brand-color); }\n"
    )
