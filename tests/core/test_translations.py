"""The Japanese catalogue (locale/ja/LC_MESSAGES/django.po) is complete, compiled and used.

Japanese is the default language and the msgids are English, so a string missing from the
catalogue shows in English to every user. These tests read the .po with a small parser of their
own (no polib), compare it with the compiled .mo, look for translatable strings in the sources that
the catalogue lacks (as `makemessages` would find them), and render a few pages in both languages.

After changing a translatable string:
    DEBUG=true .venv/bin/python manage.py makemessages -l ja --no-location -i ".venv/*" -i "var/*" \
        -i "tests/*" -i "bench/*"
    (translate the new entries)
    DEBUG=true .venv/bin/python manage.py compilemessages -l ja -i .venv
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

BASE_DIR = Path(__file__).resolve().parents[2]
PO_PATH = BASE_DIR / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
SOURCE_DIRS = [
    "committee", "core", "meetings", "documents", "notices", "search", "demo", "opendata", "fees", "dxplan",
    "templates",
]
SOURCE_SUFFIXES = {".py", ".html", ".txt"}

# msgids that are written the same way in Japanese on purpose. A msgid without Latin letters is
# Japanese already and is allowed to stay as it is too.
SAME_IN_JAPANESE = {"SHA-256"}

# ---------------------------------------------------------------------------------------------
# A small .po reader: enough for the files makemessages writes (no obsolete entries are used).


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    lineno: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def where(self) -> str:
        return f"django.po:{self.lineno} {self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str, lineno: int) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise AssertionError(f"django.po:{lineno}: not a quoted string: {text!r}")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            i += 1
            if i >= len(body) or body[i] not in _ESCAPES:
                raise AssertionError(f"django.po:{lineno}: unknown escape in {text!r}")
            out.append(_ESCAPES[body[i]])
        elif char == '"':
            raise AssertionError(f"django.po:{lineno}: unescaped quote in {text!r}")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # which field continuation lines extend

    def finish():
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    def append(entry: Entry, where: tuple[str, int | None], text: str):
        name, index = where
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text)

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete entry: not used at run time
        if line.startswith("#"):
            if current is not None and target is not None and target[0] == "msgstr":
                finish()  # a comment after msgstr opens the next entry
            if current is None:
                current = Entry(lineno=lineno)
            if line.startswith("#,"):
                current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if match:
            keyword, index, quoted = match[1], match[2], match[3]
            name = "msgstr" if keyword.startswith("msgstr") else keyword
            if name in ("msgctxt", "msgid") and current is not None and target is not None and target[0] == "msgstr":
                finish()
            if current is None:
                current = Entry(lineno=lineno)
            if name == "msgid":
                current.lineno = lineno
            target = (name, int(index) if index is not None else (0 if name == "msgstr" else None))
            if name != "msgstr":
                setattr(current, name, "")
            append(current, target, _unquote(quoted, lineno))
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise AssertionError(f"django.po:{lineno}: a string outside an entry")
            append(current, target, _unquote(line, lineno))
            continue
        raise AssertionError(f"django.po:{lineno}: cannot read {raw!r}")
    finish()
    return entries


@cache
def po_entries() -> tuple[Entry, ...]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing"
    return tuple(parse_po(PO_PATH))


def messages() -> list[Entry]:
    return [entry for entry in po_entries() if not entry.is_header]


def header() -> dict[str, str]:
    heads = [entry for entry in po_entries() if entry.is_header]
    assert len(heads) == 1, "the .po needs exactly one header entry"
    fields = {}
    for line in heads[0].msgstr[0].splitlines():
        name, _sep, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


# ---------------------------------------------------------------------------------------------
# The catalogue itself


def test_the_po_parses_and_holds_messages():
    assert len(messages()) > 100
    keys = [(entry.msgctxt, entry.msgid) for entry in messages()]
    assert len(keys) == len(set(keys)), "duplicate msgids"


def test_the_header_is_japanese_with_one_plural_form():
    fields = header()
    assert fields.get("Language") == "ja"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert fields.get("Plural-Forms") == "nplurals=1; plural=0;"
    head = next(entry for entry in po_entries() if entry.is_header)
    assert "fuzzy" not in head.flags, "a fuzzy header is ignored by msgfmt"


def test_every_message_is_translated():
    empty = []
    for entry in messages():
        if entry.msgid_plural is None:
            if set(entry.msgstr) != {0} or not entry.msgstr[0]:
                empty.append(entry.where)
        elif set(entry.msgstr) != {0} or not entry.msgstr[0]:
            # Japanese has one plural form: exactly msgstr[0]
            empty.append(entry.where)
    assert not empty, "untranslated entries:\n" + "\n".join(empty)


def test_no_message_is_fuzzy():
    fuzzy = [entry.where for entry in messages() if "fuzzy" in entry.flags]
    assert not fuzzy, "fuzzy entries are ignored at run time; check and unflag:\n" + "\n".join(fuzzy)


def _translation_is_expected_to_differ(msgid: str) -> bool:
    return msgid not in SAME_IN_JAPANESE and re.search(r"[A-Za-z]", msgid) is not None


def test_english_msgids_are_really_translated():
    same = [
        entry.where
        for entry in messages()
        if entry.msgid_plural is None
        and entry.msgstr.get(0) == entry.msgid
        and _translation_is_expected_to_differ(entry.msgid)
    ]
    assert not same, "msgstr copies the English msgid:\n" + "\n".join(same)


PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
TAG = re.compile(r"</?[A-Za-z][^>]*>")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_placeholders_and_tags_are_kept():
    wrong = []
    for entry in messages():
        source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        target = entry.msgstr.get(0, "")
        if "python-format" in entry.flags or PLACEHOLDER.search(source):
            expected = _placeholders(source)
            if entry.msgid_plural is not None:
                # msgstr[0] serves every count: it takes the plural's placeholders
                expected = sorted(set(expected) | set(_placeholders(entry.msgid)))
                got = sorted(set(_placeholders(target)))
            else:
                got = _placeholders(target)
            if got != expected:
                wrong.append(f"{entry.where}: {expected} != {got} in {target!r}")
        if sorted(TAG.findall(source)) != sorted(TAG.findall(target)):
            wrong.append(f"{entry.where}: HTML tags differ in {target!r}")
        if "{{" in target or "{%" in target:
            wrong.append(f"{entry.where}: template syntax in {target!r}")
    assert not wrong, "\n".join(wrong)


def test_the_compiled_mo_matches_the_po():
    assert MO_PATH.exists(), "compile the catalogue: manage.py compilemessages -l ja -i .venv"
    with MO_PATH.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)
    assert compiled.info().get("plural-forms") == "nplurals=1; plural=0;"
    catalog = compiled._catalog  # the .mo as read: {msgid: msgstr} and {(msgid, n): msgstr}
    stale = []
    for entry in messages():
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if catalog.get(key) != entry.msgstr[0]:
                stale.append(entry.where)
        elif catalog.get((key, 0)) != entry.msgstr[0]:
            stale.append(entry.where)
    expected_size = len(messages()) + 1  # the header is in the .mo too
    counted = len({key[0] if isinstance(key, tuple) else key for key in catalog})
    assert not stale, "django.mo is out of date; run compilemessages:\n" + "\n".join(stale)
    assert counted == expected_size, "django.mo holds other messages than django.po; run compilemessages"


def test_django_uses_the_catalogue_for_every_message():
    wrong = []
    with translation.override("ja"):
        for entry in messages():
            if entry.msgctxt is not None:
                got = translation.pgettext(entry.msgctxt, entry.msgid)
            elif entry.msgid_plural is not None:
                got = translation.ngettext(entry.msgid, entry.msgid_plural, 2)
            else:
                got = translation.gettext(entry.msgid)
            if got != entry.msgstr[0]:
                wrong.append(f"{entry.where}: got {got!r}")
            elif _translation_is_expected_to_differ(entry.msgid) and got == entry.msgid:
                wrong.append(f"{entry.where}: shown untranslated")
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------------------------------------
# Every translatable string in the sources is in the catalogue

# The keywords makemessages passes to xgettext, by name: which arguments are (context, msgid, plural).
KEYWORDS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def _source_files():
    for directory in SOURCE_DIRS:
        for path in sorted((BASE_DIR / directory).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                yield path


def _python_messages(source: str, filename: str):
    """(context, msgid, plural, line) for each call to a gettext function with literal arguments."""
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in KEYWORDS:
            continue
        positions = KEYWORDS[name]
        values = []
        for position in positions:
            if position is None:
                values.append(None)
                continue
            if position >= len(node.args):
                break
            arg = node.args[position]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                break  # not a literal: makemessages cannot see it either
            values.append(arg.value)
        else:
            context, msgid, plural = values
            yield context, msgid, plural, node.lineno


_TEMPLATIZED_CALL = re.compile(
    r"\b(gettext|pgettext|ngettext|npgettext|_)\(\s*"
    r"((?:u?(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")\s*,?\s*)+)(?:count\s*)?\)"
)


def _template_messages(source: str, filename: str):
    """What makemessages reads from a template: Django's own templatize, then its gettext calls."""
    code = templatize(source, origin=filename)
    for match in _TEMPLATIZED_CALL.finditer(code):
        args = ast.literal_eval("[" + match[2] + "]")
        line = code.count("\n", 0, match.start()) + 1
        name = match[1]
        if name in ("gettext", "_"):
            yield None, args[0], None, line
        elif name == "ngettext":
            yield None, args[0], args[1], line
        elif name == "pgettext":
            yield args[0], args[1], None, line
        else:
            yield args[0], args[1], args[2], line


@cache
def source_messages() -> tuple[tuple[str, str | None, str, str | None], ...]:
    found = []
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(BASE_DIR).as_posix()
        reader = _python_messages if path.suffix == ".py" else _template_messages
        for context, msgid, plural, line in reader(text, relative):
            found.append((f"{relative}:{line}", context, msgid, plural))
    return tuple(found)


def test_the_source_scan_finds_known_strings():
    # guards the scanner itself: a template tag, a blocktranslate with a variable, a plural, lazy Python
    msgids = {msgid for _where, _context, msgid, _plural in source_messages()}
    assert "Advisory bodies" in msgids
    assert "As of %(date)s" in msgids
    assert "One agenda is waiting for your approval." in msgids
    assert "Member (委員)" in msgids


def test_every_translatable_string_in_the_sources_is_in_the_catalogue():
    catalogue = {(entry.msgctxt, entry.msgid): entry for entry in messages()}
    missing = []
    for where, context, msgid, plural in source_messages():
        if msgid == "":
            continue
        entry = catalogue.get((context, msgid))
        if entry is None:
            missing.append(f"{where}: {msgid!r}")
        elif plural is not None and entry.msgid_plural != plural:
            missing.append(f"{where}: plural {plural!r} (catalogue: {entry.msgid_plural!r})")
    assert not missing, (
        "strings not in locale/ja/LC_MESSAGES/django.po: run makemessages, translate, compilemessages\n"
        + "\n".join(missing)
    )


# ---------------------------------------------------------------------------------------------
# Pages


@pytest.mark.django_db
def test_the_home_page_is_japanese_by_default(client):
    response = client.get(reverse("committee:home"))
    content = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in content
    assert "会議体" in content
    assert "Advisory bodies" not in content


@pytest.mark.django_db
def test_the_home_page_follows_accept_language(client):
    japanese = client.get(reverse("committee:home"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    english = client.get(reverse("committee:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "会議体一覧" in japanese
    assert "審議会等" in japanese
    assert "ログイン" in japanese
    assert "Advisory bodies" not in japanese
    assert '<html lang="en">' in english
    assert "Advisory bodies" in english
    assert "Log in" in english
    assert "審議会等" not in english


@pytest.mark.django_db
def test_a_body_page_is_japanese(client, body):
    response = client.get(reverse("committee:body_detail", args=[body.slug]), HTTP_ACCEPT_LANGUAGE="ja")
    content = response.content.decode()
    assert response.status_code == 200
    assert "（五十音順、敬称略）" in content
    assert "要綱設置の委員会" in content or "附属機関" in content or "庁内会議" in content
    assert "in gojūon order" not in content


@pytest.mark.django_db
def test_the_login_page_is_japanese(client):
    content = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "<h1" in content and "ログイン</h1>" in content
