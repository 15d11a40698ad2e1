"""The words of the search, folded the same way in the index and in a query.

Folding: NFKC (ＤＸ → DX, ｶﾅ → カナ, ① → 1), case-folded, katakana as hiragana (カタカナ = かたかな), and
common 異体字 as their usual form (髙 → 高, 﨑 → 崎, 澤 → 沢).
A folded text keeps, for each of its characters, where it came from in the original, so that a snippet
can mark the original words.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

_KATA_TO_HIRA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# 異体字 and 旧字体 found in names and older documents, as their common form (髙橋 = 高橋, 﨑 = 崎), which
# NFKC leaves as they are.
_VARIANTS = str.maketrans({
    "髙": "高", "﨑": "崎", "嵜": "崎", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斉", "澤": "沢", "濱": "浜",
    "濵": "浜", "櫻": "桜", "廣": "広", "國": "国", "會": "会", "學": "学", "體": "体", "實": "実", "縣": "県",
    "區": "区", "關": "関", "圓": "円", "萬": "万", "與": "与", "舊": "旧", "藝": "芸", "號": "号", "應": "応",
    "發": "発", "勞": "労", "檢": "検", "條": "条", "變": "変", "惠": "恵", "眞": "真", "黑": "黒", "冨": "富",
    "德": "徳", "\U00020bb7": "吉", "﨟": "臈",
})
_MARKS = ("\u3099", "\u309a")  # combining (han)dakuten, left by a half-width ﾞ ﾟ
MAX_TERMS = 5
MAX_TERM_LENGTH = 50
_LATIN_WORD = re.compile(r"[0-9a-z]+")


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold().translate(_KATA_TO_HIRA).translate(_VARIANTS)


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original character."""
    text = text or ""
    table: dict[int, str] = {}
    for char in set(text):
        folded = _fold_char(char)
        if len(folded) != 1 or folded in _MARKS:
            break
        if folded != char:
            table[ord(char)] = folded
    else:  # every character folds to one character of its own (the usual text): no map to build
        return text.translate(table), list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        for piece in _fold_char(char):
            if piece in _MARKS and out:
                composed = unicodedata.normalize("NFC", out[-1] + piece)
                if len(composed) == 1:
                    out[-1] = composed
                    continue
            out.append(piece)
            where.append(index)
    return "".join(out), where


def fold(text: str) -> str:
    """fold_with_map's text, faster (NFKC over the whole text composes a half-width ﾞ as the map does)."""
    return unicodedata.normalize("NFKC", text or "").casefold().translate(_KATA_TO_HIRA).translate(_VARIANTS)


def terms_of(query: str) -> list[str]:
    """The folded words of a query (split on any space, 全角 included), each once, at most MAX_TERMS."""
    words = [word[:MAX_TERM_LENGTH] for word in fold(query).split()]
    return list(dict.fromkeys(words))[:MAX_TERMS]


# --- PostgreSQL: character bigrams in a tsvector ---------------------------------------------------


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_of(folded: str) -> str:
    """A tsvector literal: every pair of neighbouring characters (a bigram) at its position, the last
    character of each run alone (so a one-character prefix query finds it), and whole Latin words."""
    positions: dict[str, list[int]] = {}
    position = 1
    for run in folded.split():
        for i in range(len(run) - 1):
            positions.setdefault(run[i : i + 2], []).append(min(position + i, 16383))
        positions.setdefault(run[-1], []).append(min(position + len(run) - 1, 16383))
        for word in _LATIN_WORD.finditer(run):
            if len(word.group()) > 2:
                positions.setdefault(word.group(), []).append(min(position + word.start(), 16383))
        position += len(run) + 1  # a gap: no phrase runs across a space
    return " ".join(
        f"{_quoted(lexeme)}:{','.join(str(p) for p in sorted(set(at))[:256])}" for lexeme, at in positions.items()
    )


def tsquery_of(terms: list[str]) -> str:
    """A tsquery literal: one character as a prefix, two as a bigram, longer as a phrase of bigrams."""
    parts = []
    for term in terms:
        if len(term) == 1:
            parts.append(f"{_quoted(term)}:*")
        else:
            parts.append("(" + " <-> ".join(_quoted(term[i : i + 2]) for i in range(len(term) - 1)) + ")")
    return " & ".join(parts)


def tsquery_all_of(terms: list[str]) -> str:
    """A tsquery literal the GIN index answers without reading a row: every bigram of every term, in any
    order (the same as tsquery_of for terms of one or two characters, a superset of its rows otherwise)."""
    parts = []
    for term in terms:
        if len(term) == 1:
            parts.append(f"{_quoted(term)}:*")
        else:
            parts.extend(_quoted(bigram) for bigram in dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))
    return " & ".join(parts)


def near_patterns(terms: list[str], near: int | None) -> list[str]:
    """Proximity: for each pair of neighbouring words of the query, a regular expression (the same for
    PostgreSQL and Python's re, which SQLite's REGEXP uses) matching the folded text where one is at most
    `near` characters from the other, in either order."""
    if not near or len(terms) < 2:
        return []
    patterns = []
    for first, second in itertools.pairwise(terms):
        a, b = re.escape(first), re.escape(second)
        patterns.append(f"(?s)(?:{a}.{{0,{near}}}{b}|{b}.{{0,{near}}}{a})")
    return patterns


# --- SQLite: FTS5 trigrams, LIKE for shorter terms ------------------------------------------------


def fts_query_of(terms: list[str]) -> str:
    """An FTS5 MATCH expression for the terms of three characters or more (the trigram tokenizer's
    minimum), or '' when there are none."""
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms if len(term) >= 3)


def like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- snippets -------------------------------------------------------------------------------------


def snippet(text: str, terms: list[str], *, width: int = 80) -> list[tuple[str, bool]]:
    """A window of `text` around the first term found, as (piece, is_match) pairs; every occurrence of a
    term in it is a match. The pieces are the original characters (the template escapes them)."""
    folded, where = fold_with_map(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = folded.find(term)
        while start != -1 and len(spans) < 200:
            spans.append((where[start], where[start + len(term) - 1] + 1))
            start = folded.find(term, start + len(term))
    spans.sort()
    first = spans[0][0] if spans else 0
    begin = max(0, first - width // 3)
    end = min(len(text), begin + width)
    pieces: list[tuple[str, bool]] = [("…", False)] if begin > 0 else []
    cursor = begin
    for start, stop in spans:
        if stop <= cursor or start >= end:
            continue
        start = max(start, cursor)
        if start > cursor:
            pieces.append((text[cursor:start], False))
        pieces.append((text[start:min(stop, end)], True))
        cursor = min(stop, end)
    if cursor < end:
        pieces.append((text[cursor:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
