"""Signed-in pages are kept for the session that asked for them, and every write drops them
(core.pagecache.SignedInPageCacheMiddleware; issue 13: signed-in pages ≤ 3× the trivial view).

Whether a page was kept or rendered is told by the queries it cost: a kept page costs only what every
signed-in request costs (the session and the user), a rendered one its own queries on top."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.http import HttpRequest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from documents import services
from documents.models import Material
from meetings import services as meeting_services
from meetings.models import Meeting
from notices import services as notice_services
from notices.models import Delivery, Notice
from tests.documents.conftest import MEMBERS, client_for

# What a signed-in request costs before its view runs, kept page or not: the session and the user.
SIGNED_IN_REQUEST = 2


@pytest.fixture(autouse=True)
def page_cache(page_cache_on):
    """Every test here runs with the page cache on (tests/conftest.py)."""


def _browser(user, **defaults) -> Client:
    """A client signed in as `user` with the CSRF cookie a browser holds after signing in."""
    client = client_for(user, **defaults)
    client.cookies[settings.CSRF_COOKIE_NAME] = _get_new_csrf_string()
    return client


def _get(client: Client, url: str, **headers) -> tuple[bytes, int]:
    """The page's bytes and the queries it cost."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content, len(queries)


def _kept(client: Client, url: str) -> bytes:
    content, queries = _get(client, url)
    assert queries <= SIGNED_IN_REQUEST, f"{url} was rendered again ({queries} queries)"
    return content


def _rendered(client: Client, url: str) -> bytes:
    content, queries = _get(client, url)
    assert queries > SIGNED_IN_REQUEST, f"{url} was answered from the cache"
    return content


def _without_tokens(page: bytes) -> str:
    """The page with its CSRF tokens blanked (each render masks the token anew)."""
    return re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page.decode())


def _notice(meeting: Meeting, person) -> Delivery:
    notice = Notice.objects.create(meeting=meeting, kind=Notice.Kind.CONVOCATION, subject="第1回の開催について")
    return Delivery.objects.create(notice=notice, person=person, email=person.user.email if person.user else "a@b.jp")


@pytest.fixture
def pages(meeting, secretariat, chair, member, add_material) -> dict[str, tuple[object, str]]:
    """Each view kept for signed-in users: who reads it, and its address."""
    material = add_material(MEMBERS, title="推進体制について")
    _notice(meeting, member.person)
    return {
        "meetings:detail": (member, reverse("meetings:detail", args=[meeting.pk])),
        "meetings:my_meetings": (member, reverse("meetings:my_meetings")),
        "meetings:approvals": (chair, reverse("meetings:approvals")),
        "meetings:dashboard": (secretariat, reverse("meetings:dashboard")),
        "meetings:manage": (secretariat, reverse("meetings:manage", args=[meeting.pk])),
        "documents:manage": (secretariat, reverse("documents:manage", args=[meeting.pk])),
        "documents:not_downloaded": (secretariat, reverse("documents:not_downloaded", args=[material.pk])),
        "committee:roster_manage": (secretariat, reverse("committee:roster_manage", args=[meeting.body.slug])),
        "committee:composition": (secretariat, reverse("committee:composition")),
        "committee:audit_log": (secretariat, reverse("committee:audit_log")),
        "notices:status": (secretariat, reverse("notices:status", args=[meeting.pk])),
    }


def test_every_kept_view_is_tested():
    assert set(settings.DXPLAN_SIGNED_IN_PAGE_CACHE_VIEWS) == {
        "meetings:detail", "meetings:my_meetings", "meetings:approvals", "meetings:dashboard", "meetings:manage",
        "documents:manage", "documents:not_downloaded", "committee:roster_manage", "committee:composition",
        "committee:audit_log", "notices:status",
    }


@pytest.mark.parametrize("view", sorted(settings.DXPLAN_SIGNED_IN_PAGE_CACHE_VIEWS))
def test_each_page_is_kept_for_its_session_and_dropped_by_a_change(
    view, pages, secretariat, meeting, django_capture_on_commit_callbacks
):
    user, url = pages[view]
    client = _browser(user)
    first = _rendered(client, url)
    assert _kept(client, url) == first  # the same bytes, its form's token too
    with django_capture_on_commit_callbacks(execute=True):  # the service's transaction commits
        meeting_services.meeting_update(
            actor=secretariat, meeting=Meeting.objects.get(pk=meeting.pk), venue_name="青森県観光物産館アスパム"
        )
    after = _rendered(client, url)
    fresh = _get(_browser(user), url)[0]
    assert _without_tokens(after) == _without_tokens(fresh)


def _download(member, material, secretariat):
    services.downloads_record(user=member, materials=[material])  # bulk rows, no model signal


def _worker_marks_sent(member, material, secretariat):
    delivery = Delivery.objects.get()
    claimed_at, _rows = notice_services.mail_claim(Delivery, [delivery.pk])  # UPDATEs, as the worker does
    notice_services.mail_mark_sent(Delivery, [delivery.pk], claimed_at)


def _bulk_update(member, material, secretariat):
    Material.objects.filter(pk=material.pk).update(title="推進体制(修正版)")  # no service, no signal


def _withdraw(member, material, secretariat):
    services.material_withdraw(actor=secretariat, material=material, reason="誤りがあったため")


WRITES: dict[str, tuple[Callable, str]] = {
    "a download recorded": (_download, "documents:not_downloaded"),
    "a delivery marked sent by the worker": (_worker_marks_sent, "notices:status"),
    "an UPDATE outside any service": (_bulk_update, "documents:manage"),
    "a withdrawal through its service": (_withdraw, "meetings:detail"),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_no_kind_of_write_leaves_a_signed_in_page_stale(
    write, pages, member, secretariat, django_capture_on_commit_callbacks
):
    change, view = WRITES[write]
    user, url = pages[view]
    client = _browser(user)
    before = _rendered(client, url)
    _kept(client, url)
    material = Material.objects.get(title="推進体制について")
    with django_capture_on_commit_callbacks(execute=True):
        change(member, material, secretariat)
    after = _rendered(client, url)
    assert _without_tokens(after) != _without_tokens(before), f"{view} still shows the page before {write}"
    assert _without_tokens(after) == _without_tokens(_get(_browser(user), url)[0])


def _uncommitted(django_capture_on_commit_callbacks) -> None:
    Material.objects.update(title="まだ確定していない題名")  # inside the test's transaction, never committed


def _rolled_back(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), contextlib.suppress(RuntimeError):
        with transaction.atomic():
            Material.objects.update(title="取り消される題名")
            raise RuntimeError("rolled back")


def _session_saved(django_capture_on_commit_callbacks) -> None:
    """Signed-in requests may save their own session: that changes no page."""
    with django_capture_on_commit_callbacks(execute=True):
        store = SessionStore()
        store["seen"] = True
        store.save()


@pytest.mark.parametrize("write", [_uncommitted, _rolled_back, _session_saved], ids=lambda f: f.__name__[1:])
def test_what_changes_no_page_drops_nothing(write, pages, django_capture_on_commit_callbacks):
    user, url = pages["documents:manage"]
    client = _browser(user)
    before = _rendered(client, url)
    write(django_capture_on_commit_callbacks)
    assert _kept(client, url) == before


def test_no_one_else_gets_the_kept_page(pages, other_secretariat, secretariat):
    user, url = pages["documents:manage"]
    _rendered(_browser(user), url)
    _kept_client = _browser(user)
    _rendered(_kept_client, url)  # the same user in another session: rendered for that session
    response = _browser(other_secretariat).get(url)
    assert response.status_code == 404  # another body's secretariat: the page's own answer, not a copy
    assert Client().get(url).status_code == 302  # a visitor is sent to sign in


def test_a_signed_out_session_gets_no_kept_page(pages):
    user, url = pages["documents:manage"]
    client = _browser(user)
    _rendered(client, url)
    _kept(client, url)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_cookie = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(reverse("logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    replay.cookies[settings.CSRF_COOKIE_NAME] = csrf_cookie
    assert replay.get(url).status_code == 302


def test_a_deactivated_account_gets_no_kept_page(pages, django_capture_on_commit_callbacks):
    user, url = pages["meetings:detail"]
    client = _browser(user)
    _rendered(client, url)
    _kept(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save(update_fields=["is_active"])
    response = client.get(url)
    assert response.status_code == 200
    assert user.email not in response.content.decode()  # the public page, as for any visitor


def test_waiting_messages_are_shown_once_on_a_fresh_page(pages):
    user, url = pages["documents:manage"]
    client = _browser(user)
    _rendered(client, url)
    _kept(client, url)
    client.cookies["messages"] = CookieStorage(HttpRequest())._encode([Message(25, "資料を登録しました。")])
    shown = _rendered(client, url).decode()
    assert "資料を登録しました。" in shown
    again = client.get(url).content.decode()
    assert "資料を登録しました。" not in again


def test_the_token_in_a_kept_form_is_accepted(pages):
    user, url = pages["documents:manage"]
    client = _browser(user, enforce_csrf_checks=True)
    _rendered(client, url)
    kept = _kept(client, url).decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', kept)
    assert token is not None
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302  # 403 if the token did not match the session's CSRF cookie


def test_without_a_csrf_cookie_nothing_is_kept(pages):
    """A page rendered for a request without the cookie carries a new token and sets the cookie with it:
    a kept copy could not set it, so such a page is never kept."""
    user, url = pages["documents:manage"]
    client = client_for(user)
    for _ in range(2):
        client.cookies.pop(settings.CSRF_COOKIE_NAME, None)
        _rendered(client, url)
        assert settings.CSRF_COOKIE_NAME in client.cookies


def test_htmx_fragments_are_never_kept(pages):
    user, url = pages["documents:manage"]
    client = _browser(user)
    for _ in range(2):
        _get(client, url, HTTP_HX_REQUEST="true")
        with CaptureQueriesContext(connection) as queries:
            client.get(url, HTTP_HX_REQUEST="true")
        assert len(queries) > SIGNED_IN_REQUEST


def test_each_language_is_kept_apart(pages):
    user, url = pages["documents:manage"]
    client = _browser(user)
    japanese = _rendered(client, url)
    english, queries = _get(client, url, HTTP_ACCEPT_LANGUAGE="en")
    assert queries > SIGNED_IN_REQUEST
    assert _without_tokens(english) != _without_tokens(japanese)
    assert _kept(client, url) == japanese


@pytest.fixture
def kept_for(monkeypatch) -> list[int]:
    """The lifetimes (seconds) signed-in pages are stored with."""
    from core import pagecache

    lifetimes: list[int] = []
    real_set = pagecache.cache.set

    def recording_set(key, value, timeout=None, **kwargs):
        if key.startswith("dxplan:signed-in-page:"):
            lifetimes.append(timeout)
        return real_set(key, value, timeout, **kwargs)

    monkeypatch.setattr(pagecache.cache, "set", recording_set)
    return lifetimes


def test_a_kept_page_lasts_at_most_the_set_time(pages, kept_for, settings):
    settings.DXPLAN_SIGNED_IN_PAGE_CACHE_SECONDS = 45
    user, url = pages["documents:manage"]
    _rendered(_browser(user), url)
    assert kept_for == [45]


def test_a_page_is_kept_per_day(pages, monkeypatch):
    """Pages say 予定 or 終了 and count days by the date: the next day renders them again."""
    user, url = pages["meetings:my_meetings"]
    client = _browser(user)
    _rendered(client, url)
    _kept(client, url)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    _rendered(client, url)


def test_a_kept_page_is_still_sent_private_and_no_store(pages):
    """SECURITY.md: pages for signed-in users say `private, no-store`; the middleware outside the cache adds it
    to a kept page as to a fresh one."""
    user, url = pages["documents:manage"]
    client = _browser(user)
    fresh = client.get(url)
    _kept(client, url)
    kept = client.get(url)
    for response in (fresh, kept):
        control = response["Cache-Control"]
        assert "private" in control and "no-store" in control
        assert response["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response


def test_a_cache_outage_never_fails_a_committed_write(pages, monkeypatch, django_capture_on_commit_callbacks, caplog):
    """The drop runs after the commit: with Redis down the write stands and the failure is logged."""
    from core import pagecache

    def down():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(pagecache, "invalidate_signed_in", down)
    with django_capture_on_commit_callbacks(execute=True):
        Material.objects.update(title="書き込みは成功する")
    assert Material.objects.filter(title="書き込みは成功する").exists()
    assert "could not be dropped" in caplog.text


def test_my_meetings_is_not_kept_past_the_start_of_the_next_meeting(pages, meeting, secretariat, kept_for):
    """The next meeting moves from upcoming to past when it starts (valid_until)."""
    import time_machine

    meeting_services.attendance_prepare(actor=secretariat, meeting=meeting)  # the member's invitation
    user, url = pages["meetings:my_meetings"]
    with time_machine.travel(meeting.start_at - dt.timedelta(seconds=20), tick=False):
        page = _rendered(_browser(user), url).decode()
    assert reverse("meetings:detail", args=[meeting.pk]) in page  # listed as upcoming
    assert kept_for and 0 < kept_for[0] <= 20
