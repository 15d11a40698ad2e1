"""Public pages served from the cache to visitors who are not signed in, and dropped on every change.

A page is kept with the *generation* it was rendered in: one value in the cache that every change
replaces, after its transaction commits, and read in the same round trip as the page; a page of another
generation is rendered again. So no page outlives a change that may affect it (a publication, a
withdrawal, a 差替, a roster change, a 非公開 decision, an approval, a cancellation …):
- every service writes an audit entry (core.audit.audit_record) in its transaction: saving that entry
  marks the transaction as a change;
- so does any save or delete of a model of the apps whose data the public pages show
  (DXPLAN_PAGE_CACHE_APPS), for what is written outside a service (the admin, a data migration).
The generation is replaced in `on_commit`, so a page rendered from the old data before the commit is
stored with the old generation and never served again. Keys also carry the day (pages say 予定 or 終了
by the date) and expire after DXPLAN_PAGE_CACHE_SECONDS whatever happens, or sooner when the page says
something that changes at a set time without any write (傍聴 registration opening or closing, a meeting
starting): whatever renders it calls `valid_until(request, moment)`.

Only what every visitor would see is cached: GET or HEAD of a view named in DXPLAN_PAGE_CACHE_VIEWS, from
a request without a session or messages cookie, answered 200 without setting a cookie and without
`private`/`no-store`. Signed-in users and anyone with a session always get a fresh page.

A stored copy is answered as the view would answer: 304 when the request's If-None-Match or
If-Modified-Since match the ETag or Last-Modified it carries, and a view with a rate limit per client
address (core.exports.rate_limited) still counts the request, and refuses it over the limit.

The cache must be shared by every process that serves or writes (Redis in production): settings turn the
page cache on only then, or in development where one process does everything.

The same generation keeps what signed-in pages read on every request and that only such a write changes
(`remembered`: a user's secretariat posts and appointments, a unit's name in the footer, a member's
invitations and the minutes and 次第 waiting for them, a member's calendar feed), so a signed-in
page does not ask the database for them again: a term ended, a post left or a unit renamed drops them
with the public pages. Access is still decided on every request, from these facts and today's date.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle  # noqa: S403 - only to name the error Django's cache raises on an old value
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from .exports import answer_conditionally, throttle_of

GENERATION_KEY = "dxplan:pages:generation"
# Audit entries that change nothing a public page shows.
# (A reset request must not drop the cache either: the known address would then cost the next visitor a
# fresh page, which an unknown one does not.)
QUIET_ACTIONS = frozenset({"login", "login_failed", "logout", "password_reset_requested"})
FACT_PREFIX = "dxplan:fact:"
logger = logging.getLogger(__name__)

T = TypeVar("T")


def generation() -> str:
    current = cache.get(GENERATION_KEY)
    if current is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        current = cache.get(GENERATION_KEY) or ""
    return str(current)


def invalidate() -> None:
    """Every cached public page is dropped (a new generation)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def changed() -> None:
    """Something public pages may show changed: drop them once the transaction commits (at once outside one)."""
    transaction.on_commit(invalidate)


def remembered(name: str, compute: Callable[[], T]) -> T:
    """`compute()`, kept in the shared cache until the next change that drops the public pages (one round
    trip to the cache for the generation and the value together). Only for facts that every change of them
    reaches through a model save or delete or an audit entry (see the module's docstring); without the page
    cache (tests, a cache private to each process) `compute()` runs every time."""
    if not settings.DXPLAN_PAGE_CACHE:
        return compute()
    current, kept = _kept(FACT_PREFIX + name)
    if kept is not MISSING:
        return cast(T, kept)
    current = current or generation()
    value = compute()
    cache.set(FACT_PREFIX + name, (current, value), settings.DXPLAN_PAGE_CACHE_SECONDS)
    return value


def _on_write(sender: type[Model], instance: Any = None, **kwargs: Any) -> None:
    meta = sender._meta
    label = f"{meta.app_label}.{meta.model_name}"
    if label == "core.auditentry":
        if getattr(instance, "action", "") not in QUIET_ACTIONS:
            changed()
    elif meta.app_label in settings.DXPLAN_PAGE_CACHE_APPS and label not in settings.DXPLAN_PAGE_CACHE_IGNORE:
        changed()


def connect() -> None:
    post_save.connect(_on_write, dispatch_uid="dxplan-pagecache-save")
    post_delete.connect(_on_write, dispatch_uid="dxplan-pagecache-delete")


@functools.lru_cache(maxsize=4096)
def _view_of(urlconf: str, path: str) -> tuple[str, Callable[..., Any]] | None:
    """The name and function of the view `path` goes to (None for no view), remembered per process: the
    URLs never change while it runs, and resolving a path of the open data walks most of the URL list (about
    0.25 ms, as long as the rest of answering a kept page). Bounded, so that a crawler's paths cannot grow it."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return match.view_name, match.func


@receiver(setting_changed)
def _urls_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":  # tests only
        _view_of.cache_clear()


def _eligible(request: HttpRequest) -> tuple[str, Callable[..., Any]] | None:
    """The view (name, function) a request that may be answered from the cache goes to; None for every
    other request."""
    if not settings.DXPLAN_PAGE_CACHE or request.method not in ("GET", "HEAD"):
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
        return None
    view = _view_of(getattr(request, "urlconf", None) or settings.ROOT_URLCONF, request.path_info)
    return view if view is not None and view[0] in settings.DXPLAN_PAGE_CACHE_VIEWS else None


def _cacheable(response: HttpResponse) -> bool:
    control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in control
        and "no-store" not in control
    )


def _language(request: HttpRequest) -> str:
    """The language LocaleMiddleware, further in, will choose for the request (the site has no language
    prefix in its paths): the language cookie, else Accept-Language, else the default."""
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def _key(request: HttpRequest, language: str) -> str:
    """The page's place in the cache; what is kept there carries the generation it was rendered in."""
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    day = timezone.localdate().isoformat()
    return f"dxplan:page:{day}:{language}:{request.method}:{path}"


def valid_until(request: HttpRequest, moment: Any) -> None:
    """The page being rendered changes by itself at `moment` (an aware datetime): it is not kept past it."""
    current = getattr(request, "_page_cache_until", None)
    if current is None or moment < current:
        request._page_cache_until = moment  # type: ignore[attr-defined]


def _timeout(request: HttpRequest) -> int:
    until = getattr(request, "_page_cache_until", None)
    seconds = settings.DXPLAN_PAGE_CACHE_SECONDS
    if until is not None:
        seconds = min(seconds, int((until - timezone.now()).total_seconds()))
    return seconds


MISSING = object()  # nothing kept in the current generation (a kept fact may itself be None)


def _kept(key: str) -> tuple[str | None, Any]:
    """The current generation and what is kept under `key` if it was stored in that generation (else MISSING):
    one round trip to the cache. For the pages and for the facts kept with them (`remembered`)."""
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except (pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, EOFError):
        # A value pickled by an older release (a class since changed or moved): computed or rendered again
        # and overwritten, never an error page.
        logger.info("Cached %s could not be read; making it again", key)
        return cache.get(GENERATION_KEY), MISSING
    current = found.get(GENERATION_KEY)
    kept = found.get(key)
    if current is not None and isinstance(kept, tuple) and len(kept) == 2 and kept[0] == current:
        return current, kept[1]
    return current, MISSING


class PublicPageCacheMiddleware:
    """Outside the session and locale middleware (it works out the language itself), so a kept page is
    answered without them, with the headers they had added when it was rendered; inside the client address,
    security and static-file middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = _eligible(request)
        if view is None:
            return self.get_response(request)
        language = _language(request)
        key = _key(request, language)
        current, cached = _kept(key)
        if cached is not MISSING:
            throttle = throttle_of(view[1])
            if throttle is not None:
                # The locale middleware has not run: a refusal is written in the visitor's language here.
                with translation.override(language):
                    refusal = throttle(request)
                if refusal is not None:
                    patch_vary_headers(refusal, ("Accept-Language",))
                    refusal.headers.setdefault("Content-Language", language)
                    return refusal
            return answer_conditionally(request, cached)
        # The generation is read before the page is rendered: a change committed meanwhile makes the copy
        # stored below one that is never served.
        current = current or generation()
        response = self.get_response(request)
        if _cacheable(response) and (timeout := _timeout(request)) > 0:
            cache.set(key, (current, response), timeout)
        return response
