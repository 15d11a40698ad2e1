"""No English left on the pages a Japanese secretariat sees, admin included (issue 10, item 5).

A secretariat account (and a superuser for the admin) opens every /manage/ page of the URL matrix that the
secretariat may open and, in the admin, the index, every changelist, add form, change form and history page
of our apps' models, with Accept-Language: ja. The visible text (tags, scripts and styles stripped; titles,
placeholders, aria-labels, alt texts and button values kept) must not contain an English message of a
catalogue: our own .po, Django's (core, admin, auth) where Japanese has a translation, and
django-simple-history's, which has no Japanese and whose messages our .po translates.

The admin of third-party apps (axes, django-otp, django-celery-beat) is excluded: those are the superuser's
maintenance screens, and their catalogues have no Japanese.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import django
import pytest
import simple_history
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.committee.test_admin import client_for
from tests.core.test_translations import PO_PATH, parse_po
from tests.test_url_matrix import MATRIX, MEETING, SECRETARIAT, STATEMENT, meeting, member_statement  # noqa: F401

JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}
OUR_APPS = {"core", "committee", "meetings", "documents", "notices", "fees", "auth"}
DJANGO_DIR = Path(django.__file__).parent
CATALOGUES_WITH_JA = [
    DJANGO_DIR / "conf" / "locale" / "ja" / "LC_MESSAGES" / "django.po",
    DJANGO_DIR / "contrib" / "admin" / "locale" / "ja" / "LC_MESSAGES" / "django.po",
    DJANGO_DIR / "contrib" / "auth" / "locale" / "ja" / "LC_MESSAGES" / "django.po",
]
# No Japanese of its own: every message is English on a Japanese page unless our .po translates it.
SIMPLE_HISTORY_PO = Path(simple_history.__file__).parent / "locale" / "de" / "LC_MESSAGES" / "django.po"
# Single words are checked only when they are UI labels that data never holds.
SINGLE_WORDS = {
    "History", "Changed by", "Change reason", "Object", "Revert", "Home", "Save", "Delete", "Search", "Filter",
    "Action", "Actions", "Comment", "Add", "Change", "View", "Close", "Yes", "No", "Unknown", "Today", "Now",
}
# English that is right on a Japanese page: names of formats and standards, and placeholders of forms.
# What Django makes of a name without a verbose name: "full_name" becomes the column label "Full name".
LABEL = re.compile(r"[A-Z][a-z]+(?: [a-z]+){1,4}")
# django-otp names its models without gettext, so no catalogue can translate them (the superuser's sidebar).
UNTRANSLATABLE = {"Static devices", "TOTP devices"}
ALLOWED = {"CSV", "PDF", "Excel", "ZIP", "iCalendar", "URL", "SHA-256", "Email", "E-mail"}


class _Text(HTMLParser):
    KEEP_ATTRS = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        values = dict(attrs)
        self.parts.extend(values[name] or "" for name in self.KEEP_ATTRS if name in values)
        if tag == "input" and values.get("type") in ("submit", "button", "reset"):
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [" ".join(part.split()) for part in parser.parts if part.strip()]


def _msgids(path: Path, *, need_translation: bool) -> set[str]:
    found = set()
    for entry in parse_po(path):
        if entry.is_header or entry.msgctxt is not None:
            continue
        translated = entry.msgstr.get(0, "")
        if need_translation and (not translated or translated == entry.msgid):
            continue
        found.add(entry.msgid)
        if entry.msgid_plural:
            found.add(entry.msgid_plural)
    return found


def _checked(msgid: str) -> bool:
    """Messages whose appearance on a page is English for certain: plain words, no placeholders or markup."""
    if "%" in msgid or "{" in msgid or "<" in msgid or msgid in ALLOWED:
        return False
    if not re.fullmatch(r"[A-Za-z][A-Za-z ,.'’?!()/-]*", msgid):
        return False
    return len(msgid.split()) >= 2 or msgid in SINGLE_WORDS


@cache
def english_messages() -> frozenset[str]:
    ours = {e.msgid for e in parse_po(PO_PATH) if not e.is_header and e.msgctxt is None}
    theirs = set().union(*(_msgids(path, need_translation=True) for path in CATALOGUES_WITH_JA))
    history = _msgids(SIMPLE_HISTORY_PO, need_translation=False)
    return frozenset(m for m in ours | theirs | history if _checked(m))


@cache
def _long_messages() -> re.Pattern[str]:
    long = sorted((m for m in english_messages() if len(m.split()) >= 3), key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(map(re.escape, long)) + r")(?![A-Za-z])")


def english_on(html: str) -> set[str]:
    """Catalogue messages shown in English: a text equal to one, or containing one of three words or more."""
    messages = english_messages()
    found = set()
    for text in visible_text(html):
        if text in UNTRANSLATABLE or not re.search("[A-Za-z]{2}", text):
            continue
        words = text.strip(" :：.")
        if words in messages or words.capitalize() in messages or (words[:1].lower() + words[1:]) in messages:
            found.add(text)
        elif LABEL.fullmatch(words):  # a label made from a field or method name ("Full name")
            found.add(text)
        elif _long_messages().search(text):
            found.add(text)
    return found


def test_the_check_finds_english():
    assert english_on('<p title="Change reason">変更</p><button>保存</button>') == {"Change reason"}
    assert english_on("<p>Changed by</p>") == {"Changed by"}
    assert english_on('<th scope="col"><a href="?o=1">Full name</a></th>') == {"Full name"}
    assert english_on("<td>佐藤 志穂</td><script>var a = 'Changed by';</script>") == set()


def _manage_urls(request) -> list[str]:
    urls = []
    for name, cases in MATRIX.items():
        for case in cases:
            if case.expected[SECRETARIAT] != 200 or case.private_body:
                continue
            kwargs = dict(case.kwargs)
            if case.needs_meeting:
                pk = str(request.getfixturevalue("meeting").pk)
                kwargs = {k: pk if v == MEETING else v for k, v in kwargs.items()}
            if STATEMENT in kwargs.values():
                pk = str(request.getfixturevalue("member_statement").pk)
                kwargs = {k: pk if v == STATEMENT else v for k, v in kwargs.items()}
            try:
                url = reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            if url.startswith("/manage/") and url not in urls:
                urls.append(url)
    return urls


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in OUR_APPS:
            continue
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        urls.append(reverse(f"{prefix}_add"))
        first = model_admin.model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{prefix}_change", args=[first.pk]))
            urls.append(reverse(f"{prefix}_history", args=[first.pk]))
    return urls


@pytest.fixture
def roster_with_history(request, body, guideline, secretariat, chair, vice_chair, member, superuser):
    """Rows for every admin page, and a change with a reason so the history pages list more than the creation."""
    from committee.models import Person
    from core.audit import AuditAction, audit_record
    from meetings.models import Milestone, Minutes, MinutesEntry

    held = request.getfixturevalue("meeting")
    person = Person.objects.get(user=member)
    person.note = "連絡は事務局経由"
    person._change_reason = "連絡方法の追記"  # noqa: SLF001  # simple-history's way to record a reason
    person.save()
    minutes = Minutes.objects.create(meeting=held)
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
    Milestone.objects.create(body=body, name="パブリックコメント", fiscal_year=2023, start_on=dt.date(2023, 7, 1))
    audit_record(actor=secretariat, action=AuditAction.MEETING_CHANGED, target=held)


def _problems(client: Client, urls: list[str]) -> dict[str, set[str]]:
    problems = {}
    for url in urls:
        response = client.get(url, **JA)
        if response.status_code != 200:
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        found = english_on(response.content.decode())
        if found:
            problems[url] = found
    return problems


def test_the_secretariats_pages_have_no_english(request, roster_with_history, secretariat):
    urls = _manage_urls(request) + ["/manage/audit/"]
    assert len(urls) >= 10
    assert _problems(client_for(secretariat), urls) == {}


def test_the_admin_has_no_english(roster_with_history, secretariat, superuser):
    urls = _admin_urls()
    assert len(urls) >= 60
    problems = _problems(client_for(superuser), urls)
    problems |= {f"(secretariat) {url}": found for url, found in _problems(client_for(secretariat), urls).items()}
    assert problems == {}, "\n".join(f"{url}: {sorted(found)}" for url, found in problems.items())
