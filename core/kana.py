"""読み: kana readings, normalised to hiragana, and the 五十音 sort key.

The sort key follows JIS X 4061 at its first level: 濁点 and 半濁点 are ignored
(さとう = ざとう), small kana count as their full size (っ = つ), and the long
vowel mark stands for the vowel before it. Ties are broken by the full reading,
where unvoiced comes before voiced (はら < ばら < ぱら).
"""
from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_KATA_TO_HIRA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
_SMALL = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ")
_VOWEL_ROWS = {
    "あ": "あかさたなはまやらわがざだばぱ",
    "い": "いきしちにひみりぎじぢびぴ",
    "う": "うくすつぬふむゆるぐずづぶぷゔ",
    "え": "えけせてねへめれげぜでべぺ",
    "お": "おこそとのほもよろをごぞどぼぽ",
}
_VOWEL_OF = {kana: vowel for vowel, row in _VOWEL_ROWS.items() for kana in row}
_SEPARATORS = {" ", "\u3000", "・", "･"}


def to_hiragana(value: str) -> str:
    """Katakana (full or half width) to hiragana; spaces of either width removed at the ends."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    return text.translate(_KATA_TO_HIRA)


def is_hiragana_reading(value: str) -> bool:
    return bool(value) and all(
        "\u3041" <= ch <= "\u3096" or ch == "ー" or ch in _SEPARATORS for ch in value
    )


def normalise_reading(value: str, *, required: bool = True) -> str:
    """Return the reading in hiragana or raise ValidationError with a message in the user's language."""
    reading = to_hiragana(value)
    reading = "".join(" " if ch in _SEPARATORS else ch for ch in reading)
    reading = " ".join(reading.split())
    if not reading:
        if required:
            raise ValidationError(_("Enter the reading in kana."), code="required")
        return ""
    if not is_hiragana_reading(reading):
        raise ValidationError(
            _("The reading must be written in hiragana or katakana only (got “%(value)s”)."),
            code="invalid_reading",
            params={"value": value},
        )
    return reading


def _primary(reading: str) -> str:
    out: list[str] = []
    for ch in reading.replace(" ", ""):
        if ch == "ー":
            ch = _VOWEL_OF.get(out[-1], "ー") if out else "ー"
        base = unicodedata.normalize("NFD", ch)[0].translate(_SMALL)
        out.append(base)
    return "".join(out)


def _encode(text: str) -> str:
    # Hex code points sort the same under every database collation (C, ICU, glibc).
    return "".join(f"{ord(ch):05x}" for ch in text)


def sort_key(family_reading: str, given_reading: str = "") -> str:
    """A string that orders people 五十音順 by family then given reading, under any collation."""
    family = to_hiragana(family_reading).replace(" ", "")
    given = to_hiragana(given_reading).replace(" ", "")
    parts = [_primary(family), _primary(given), family, given]
    return "00000".join(_encode(part) for part in parts)
