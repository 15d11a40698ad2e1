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

What signed-in pages read on every request and that only a write changes (`remembered`: a user's
secretariat posts and appointments, a unit's name in the footer, a member's invitations and the minutes and
次第 waiting for them, a member's calendar feed) is kept under the generation of every write (below), so a
signed-in page does not ask the database for them again: a term ended, a post left or a unit renamed drops
them, however it was written. Access is still decided on every request, from these facts and today's date.

**Signed-in pages** (SignedInPageCacheMiddleware, the views of DXPLAN_SIGNED_IN_PAGE_CACHE_VIEWS) are kept for
the one session that asked for them, under a second generation that *every* write to the database replaces:
each INSERT, UPDATE, DELETE, TRUNCATE, MERGE or COPY statement, whatever made it (a service, a bulk update of
the outbox, a download recorded, the admin, a data migration), seen where the database executes it
(`_note_write`), but for the tables of the sessions, the login throttle and beat's bookkeeping. So a signed-in
page is never older than the last committed write. A kept copy is answered only to the same session (its key,
its CSRF cookie, whether it gave its second factor), the same user, language, day, method and path, and after
every middleware but this one has run again: the session is still valid, the account still active, the second
factor still given. Not kept: a page rendered while messages were waiting or shown, one that changed the
session, set a cookie or said `no-store` itself, htmx fragments; and never longer than
DXPLAN_SIGNED_IN_PAGE_CACHE_SECONDS, or past a moment the page named with `valid_until`.
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
from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from .cache import get_many_and_count
from .exports import answer_conditionally, throttle_of

GENERATION_KEY = "dxplan:pages:generation"
WRITES_GENERATION_KEY = "dxplan:pages:writes-generation"
# Audit entries that change nothing a public page shows.
# (A reset request must not drop the cache either: the known address would then cost the next visitor a
# fresh page, which an unknown one does not.)
QUIET_ACTIONS = frozenset({"login", "login_failed", "logout", "password_reset_requested"})
FACT_PREFIX = "dxplan:fact:"
logger = logging.getLogger(__name__)

T = TypeVar("T")


def generation(key: str = GENERATION_KEY) -> str:
    current = cache.get(key)
    if current is None:
        cache.add(key, uuid.uuid4().hex, None)
        current = cache.get(key) or ""
    return str(current)


def invalidate() -> None:
    """Every cached page, public or signed-in, is dropped (new generations)."""
    cache.set_many({GENERATION_KEY: uuid.uuid4().hex, WRITES_GENERATION_KEY: uuid.uuid4().hex}, None)


def invalidate_signed_in() -> None:
    """Every kept signed-in page is dropped (a new generation of them)."""
    cache.set(WRITES_GENERATION_KEY, uuid.uuid4().hex, None)


def changed() -> None:
    """Something public pages may show changed: drop them once the transaction commits (at once outside one)."""
    transaction.on_commit(invalidate)


def remembered(name: str, compute: Callable[[], T]) -> T:
    """`compute()`, kept in the shared cache until the next write to the database (one round trip to the
    cache for the generation of every write and the value together): a fact an access decision rests on is
    never older than the last committed write, however it was written (a bulk update, a data migration).
    Without the page cache (tests, a cache private to each process) `compute()` runs every time."""
    if not settings.DXPLAN_PAGE_CACHE:
        return compute()
    current, kept, _counted = _kept(FACT_PREFIX + name, WRITES_GENERATION_KEY)
    if kept is not MISSING:
        return cast(T, kept)
    current = current or generation(WRITES_GENERATION_KEY)
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
    connection_created.connect(_watch_writes, dispatch_uid="dxplan-pagecache-writes")
    for connection in connections.all(initialized_only=True):
        _watch_writes(connection=connection)


# Tables whose writes change no page: the sessions (a signed-in request may save its own), the login
# throttle's records and beat's bookkeeping of when it last queued a periodic task.
_QUIET_TABLES = ('"django_session"', '"axes_', '"django_celery_beat_')
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCA", "MERGE ", "COPY ")


def _watch_writes(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    if connection is not None and _note_write not in connection.execute_wrappers:
        connection.execute_wrappers.append(_note_write)


def _note_write(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Every statement the database runs passes here: one that writes drops the signed-in pages once its
    transaction commits (at once outside one). Each write queues a drop, numbered per connection; when the
    transaction commits, the first of them drops the pages and the others, written before that, do nothing."""
    result = execute(sql, params, many, context)
    if settings.DXPLAN_PAGE_CACHE and isinstance(sql, str):
        head = sql.lstrip()[:6].upper()
        if head in _WRITES and not any(table in sql[:80] for table in _QUIET_TABLES):
            connection = context["connection"]
            number = getattr(connection, "_dxplan_writes", 0) + 1
            connection._dxplan_writes = number
            # Robust: the write has committed whatever the cache says (Redis down: logged; what is kept
            # expires within DXPLAN_SIGNED_IN_PAGE_CACHE_SECONDS, and nothing is read from it meanwhile).
            def drop() -> None:
                _drop_signed_in(connection, number)

            transaction.on_commit(drop, using=connection.alias, robust=True)
    return result


def _drop_signed_in(connection: Any, number: int) -> None:
    if getattr(connection, "_dxplan_dropped", 0) >= number:
        return  # dropped since this write committed
    latest = connection._dxplan_writes
    try:
        invalidate_signed_in()
    except Exception:  # the cache is down: the write stands; reported, and tried again by the next write
        logger.exception("The kept signed-in pages could not be dropped after a write")
        return
    connection._dxplan_dropped = latest


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


def _eligible(request: HttpRequest) -> tuple[Callable[..., Any], str] | None:
    """The view function a request that may be answered from the cache goes to, with the generation its
    copies are kept under; None for every other request."""
    if not settings.DXPLAN_PAGE_CACHE or request.method not in ("GET", "HEAD"):
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "messages" in request.COOKIES:
        return None
    view = _view_of(getattr(request, "urlconf", None) or settings.ROOT_URLCONF, request.path_info)
    if view is None:
        return None
    if view[0] in settings.DXPLAN_PAGE_CACHE_VIEWS:
        return view[1], GENERATION_KEY
    if view[0] in settings.DXPLAN_ADDRESS_PAGE_CACHE_VIEWS:
        return view[1], WRITES_GENERATION_KEY
    return None


def _cacheable(response: HttpResponse, generation_key: str) -> bool:
    """A public page kept for everyone must say nothing private; a private feed (kept per address, under the
    generation of every write) says `private, no-store` to the HTTP caches between, not to this one."""
    control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and (generation_key == WRITES_GENERATION_KEY or ("private" not in control and "no-store" not in control))
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


# What the middleware outside the signed-in pages' cache reads of a response besides its headers.
_KEPT_ATTRIBUTES = ("same_for_everyone", "xframe_options_exempt")


def _kept_copy(response: HttpResponse) -> HttpResponse:
    """What is kept of a rendered response: its status, headers and bytes. A REST framework response also
    holds the data it was rendered from, and pickling that too made a kept OParl page of 100 meetings twice
    as large and ten times as slow to read back."""
    copy = HttpResponse(response.content, status=response.status_code, reason=response.reason_phrase)
    for header, value in response.items():
        copy[header] = value
    for name in _KEPT_ATTRIBUTES:
        if hasattr(response, name):
            setattr(copy, name, getattr(response, name))
    return copy


MISSING = object()  # nothing kept in the current generation (a kept fact may itself be None)


def _kept(
    key: str, generation_key: str = GENERATION_KEY, counter: tuple[str, int] | None = None
) -> tuple[str | None, Any, int | None]:
    """The current generation and what is kept under `key` if it was stored in that generation (else MISSING):
    one round trip to the cache, which also counts the request against a rate limit when `counter` (the key
    of its count and its expiry) is given (the count, else None). For the pages and for the facts kept with
    them (`remembered`)."""
    counted = None
    try:
        if counter is None:
            found = cache.get_many([generation_key, key])
        else:
            found, counted = get_many_and_count(cache, [generation_key, key], *counter)
    except (pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, EOFError):
        # A value pickled by an older release (a class since changed or moved): computed or rendered again
        # and overwritten, never an error page.
        logger.info("Cached %s could not be read; making it again", key)
        return cache.get(generation_key), MISSING, None
    current = found.get(generation_key)
    kept = found.get(key)
    if current is not None and isinstance(kept, tuple) and len(kept) == 2 and kept[0] == current:
        return current, kept[1], counted
    return current, MISSING, counted


class PublicPageCacheMiddleware:
    """Outside the session and locale middleware (it works out the language itself), so a kept page is
    answered without them, with the headers they had added when it was rendered; inside the client address,
    security and static-file middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        eligible = _eligible(request)
        if eligible is None:
            return self.get_response(request)
        view, generation_key = eligible
        language = _language(request)
        key = _key(request, language)
        throttle = throttle_of(view)
        counter = throttle.counter(request) if throttle is not None else None
        current, cached, counted = _kept(key, generation_key, counter)
        if throttle is not None and counted is not None:
            throttle.counted(request, counted)  # the view, if it runs, does not count the request again
        if cached is not MISSING:
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
        current = current or generation(generation_key)
        response = self.get_response(request)
        if _cacheable(response, generation_key) and (timeout := _timeout(request)) > 0:
            cache.set(key, (current, _kept_copy(response)), timeout)
        return response


class SignedInPageCacheMiddleware:
    """The last middleware: a signed-in user's page kept for their session (see the module's docstring).
    Every other middleware runs on each request, kept page or not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        pending = getattr(request, "_signed_in_page", None)
        if pending is not None and _storable(request, response):
            key, current = pending
            timeout = min(_timeout(request), settings.DXPLAN_SIGNED_IN_PAGE_CACHE_SECONDS)
            if timeout > 0:
                cache.set(key, (current, _kept_copy(response)), timeout)
        return response

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> Any:
        key = _signed_in_key(request)
        if key is None:
            return None
        current, cached, _counted = _kept(key, WRITES_GENERATION_KEY)
        if cached is not MISSING:
            return cached
        # Read before the page is rendered: a write committed meanwhile makes the copy stored unreachable.
        request._signed_in_page = (key, current or generation(WRITES_GENERATION_KEY))  # type: ignore[attr-defined]
        return None


def _signed_in_key(request: HttpRequest) -> str | None:
    """Where the page this request asks for is kept for its session; None when it may not be kept."""
    match = request.resolver_match
    if (
        not settings.DXPLAN_PAGE_CACHE
        or request.method not in ("GET", "HEAD")
        or match is None
        or match.view_name not in settings.DXPLAN_SIGNED_IN_PAGE_CACHE_VIEWS
        or request.headers.get("HX-Request")
    ):
        return None
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    csrf = request.META.get("CSRF_COOKIE")  # the valid CSRF cookie the request carried, if any
    if user is None or not user.is_authenticated or session is None or not session.session_key or not csrf:
        return None
    if len(getattr(request, "_messages", ())):  # messages waiting: the page shows them once, fresh
        return None
    verified = "1" if getattr(user, "is_verified", lambda: False)() else "0"
    who = "\n".join((str(user.pk), session.session_key, csrf, verified, request.get_full_path()))
    digest = hashlib.sha256(who.encode()).hexdigest()
    day = timezone.localdate().isoformat()
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    return f"dxplan:signed-in-page:{day}:{language}:{request.method}:{digest}"


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    messages = getattr(request, "_messages", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "no-store" not in response.get("Cache-Control", "")
        and not request.session.modified
        and not (messages is not None and (messages.used or len(messages)))
    )
