"""Small text helpers shared by the apps."""
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def single_line(value: str, max_length: int | None = None) -> str:
    """Collapse CR, LF and other control characters to one space (for headers, logs and labels)."""
    flat = _CONTROL.sub(" ", value or "").strip()
    return flat[:max_length] if max_length else flat
