"""Issue 17's acceptance in Chromium, on the demo of the day: a visitor on a 375 px phone, not logged in,
registers to observe (傍聴) the demo's next meeting, confirms by the mailed link, sees the seats left change
and cancels; the waiting list moves up; the demo's secretariat (not a superuser) sees the list change and
checks observers in on the day; the 傍聴者数 is on the meeting's pages afterwards. And a visitor subscribes
to the body's news (double opt-in) and leaves with the mail client's one click (RFC 8058).

Every step the visitor and the secretariat take is through the pages; each test fails if any page of the
admin (/admin/) is requested."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from meetings import services as meeting_services
from participation import services
from participation.models import ObservationSettings, Registration, Subscription
from tests.browser.conftest import follow, screenshot
from tests.browser.test_secretariat_year import AdminWatch, _page, _user, demo  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 740}
SECRETARIAT = "secretariat@demo.dxplan.example"


def _link(address: str, pattern: str) -> str:
    """The one link matching `pattern` in the last mail to `address` that has one."""
    for message in reversed(mail.outbox):
        if address in message.to:
            found = re.findall(pattern, message.body)
            if found:
                return found[0]
    raise AssertionError(f"no mail to {address} with {pattern}: {[(m.to, m.subject) for m in mail.outbox]}")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{page.url} scrolls sideways"


def _observe_box(page) -> str:
    return page.locator("#observe").inner_text()


def _register(page, site, meeting, *, name: str, email: str) -> None:
    """From the public meeting page, through the form, to the mailed link and the confirmation."""
    page.goto(f"{site.url}/meetings/{meeting.pk}/")
    follow(page, page.locator(f"#observe a[href='/meetings/{meeting.pk}/observe/']"))
    _no_sideways_scroll(page)
    assert "傍聴要領" in page.locator("main").inner_text()  # the rules, to read before accepting
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=party_size]", "1")
    page.check("input[name=accept]")
    follow(page, page.locator("main form button[type=submit]"))
    assert page.locator("h1").inner_text() == "メールをご確認ください"
    assert Registration.objects.get(email=email).state == Registration.State.UNCONFIRMED

    link = _link(email, rf"{re.escape(site.url)}/meetings/{meeting.pk}/observe/confirm/[^\s/]+/")
    page.goto(link)
    _no_sideways_scroll(page)
    follow(page, page.locator("main form button[type=submit]"))


def test_a_visitor_on_a_phone_registers_confirms_and_cancels_and_the_secretariat_checks_in(site, demo):  # noqa: F811
    watch = AdminWatch()
    observation = (
        ObservationSettings.objects.filter(meeting__body=demo, closed_at=None, closes_at__gt=timezone.now())
        .select_related("meeting")
        .order_by("meeting__start_at")
        .first()
    )
    assert observation is not None, "the demo opens no registration to observe its next meeting"
    meeting = observation.meeting
    assert observation.public_seats == 10
    # Others registered before: one seat of the ten is left.
    for n in range(9):
        services.registration_confirm(
            registration=services.registration_create(
                observation=observation, kind="public", name=f"先着 {n}", email=f"early{n}@example.com",
                party_size=1, accepted_guide=True,
            )
        )

    # The visitor finds 傍聴 on the public meeting page: possible, how many seats are left, until when, how.
    visitor = _page(site, watch, **PHONE)
    visitor.goto(f"{site.url}/meetings/{meeting.pk}/")
    _no_sideways_scroll(visitor)
    box = _observe_box(visitor)
    assert "傍聴できます。一般傍聴席の残りは1席です。" in box
    closes = timezone.localtime(observation.closes_at)
    assert f"{closes.month}月{closes.day}日" in box and "までに" in box, box  # until when, and how

    _register(visitor, site, meeting, name="青森 花子", email="hanako@example.com")
    assert "傍聴席を確保しました(1名)。" in visitor.locator("main").inner_text()
    hanako = Registration.objects.get(email="hanako@example.com")
    assert hanako.state == Registration.State.SEATED

    # The seat count changed: no seat left now.
    visitor.goto(f"{site.url}/meetings/{meeting.pk}/")
    assert "一般傍聴席は満席です。" in _observe_box(visitor)
    screenshot(visitor, "issue-17-phone-full")

    # A second visitor is told the seats are taken and goes on the waiting list.
    second = _page(site, watch, **PHONE)
    second.goto(f"{site.url}/meetings/{meeting.pk}/observe/")
    assert "満席" in second.locator("main .alert").first.inner_text()
    _register(second, site, meeting, name="弘前 太郎", email="taro@example.com")
    assert "キャンセル待ち" in second.locator("main").inner_text()
    taro = Registration.objects.get(email="taro@example.com")
    assert taro.state == Registration.State.WAITING

    # The secretariat sees both on the list.
    secretariat = _page(site, watch, _user(SECRETARIAT))
    secretariat.goto(f"{site.url}/manage/meetings/{meeting.pk}/")
    follow(secretariat, secretariat.locator(f"a[href='/manage/meetings/{meeting.pk}/observers/']").first)
    listing = secretariat.locator("main table").inner_text()
    assert "青森 花子" in listing and "弘前 太郎" in listing

    # The first visitor cancels by the link in the mail: the one waiting moves up and is told.
    cancel = _link("hanako@example.com", rf"{re.escape(site.url)}/meetings/{meeting.pk}/observe/cancel/[^\s/]+/")
    visitor.goto(cancel)
    _no_sideways_scroll(visitor)
    follow(visitor, visitor.locator("main form button[type=submit]"))
    assert "傍聴の申込みを取り消しました。" in visitor.locator("main").inner_text()
    hanako.refresh_from_db()
    taro.refresh_from_db()
    assert (hanako.state, taro.state) == (Registration.State.CANCELLED, Registration.State.SEATED)
    moved_up = "キャンセルが出たため、傍聴席を確保しました。"
    assert any("taro@example.com" in m.to and moved_up in m.body for m in mail.outbox), [
        (m.to, m.subject) for m in mail.outbox
    ]

    # The secretariat's list changed with it.
    secretariat.reload()
    rows = {
        name: secretariat.locator("main table tbody tr", has_text=name).inner_text()
        for name in ("青森 花子", "弘前 太郎")
    }
    assert "取消し" in rows["青森 花子"] and "席確保" in rows["弘前 太郎"], rows

    # On the day, the secretariat checks in who came.
    start = timezone.localtime(meeting.start_at)
    with time_machine.travel(start - dt.timedelta(minutes=30), tick=True):
        desk = _page(site, watch, _user(SECRETARIAT))
        desk.goto(f"{site.url}/manage/meetings/{meeting.pk}/observers/")
        for registration in (taro, *Registration.objects.filter(email__in=["early0@example.com",
                                                                            "early1@example.com"])):
            form = desk.locator(
                f"form[action$='/observers/check-in/']:has(input[name=registration][value='{registration.pk}'])"
            )
            form.locator("input[name=attended]").fill("1")
            follow(desk, form.locator("button[type=submit]"))
        observation.refresh_from_db()
        assert observation.observer_count == 3
        assert desk.locator("#observers-of-record").inner_text() == "3"

    # After the meeting, the 傍聴者数 is in the meeting's record: the secretariat's page and the public one.
    with time_machine.travel(start + dt.timedelta(hours=3), tick=True):
        desk = _page(site, watch, _user(SECRETARIAT))
        desk.goto(f"{site.url}/manage/meetings/{meeting.pk}/")
        assert "傍聴者数: 3" in desk.locator("#observers-line").inner_text()
        public = _page(site, watch, **PHONE)
        public.goto(f"{site.url}/meetings/{meeting.pk}/")
        assert "傍聴者数: 3人" in _observe_box(public)
        screenshot(public, "issue-17-observers-after-the-meeting")
    assert watch.seen == [], f"admin pages were requested: {watch.seen}"


def test_a_visitor_subscribes_by_double_opt_in_and_leaves_with_one_click(site, demo):  # noqa: F811
    watch = AdminWatch()
    meeting = (
        ObservationSettings.objects.filter(meeting__body=demo).select_related("meeting").order_by("meeting__start_at")
    ).first().meeting
    address = "news-reader@example.com"

    visitor = _page(site, watch, **PHONE)
    visitor.goto(f"{site.url}/meetings/{meeting.pk}/")
    follow(visitor, visitor.locator(f"#observe a[href='/bodies/{demo.slug}/subscribe/']"))
    _no_sideways_scroll(visitor)
    visitor.fill("input[name=email]", address)
    follow(visitor, visitor.locator("main form button[type=submit]"))
    subscription = Subscription.objects.get(email=address)
    assert subscription.state == Subscription.State.UNCONFIRMED  # nothing is sent before the address is confirmed

    visitor.goto(_link(address, rf"{re.escape(site.url)}/subscriptions/confirm/[^\s/]+/"))
    follow(visitor, visitor.locator("main form button[type=submit]"))
    subscription.refresh_from_db()
    assert subscription.state == Subscription.State.ACTIVE
    assert "登録しました。" in visitor.locator("main .alert").inner_text()

    # News of the body comes with RFC 8058's headers …
    mail.outbox.clear()
    meeting_services.meeting_update(actor=_user(SECRETARIAT), meeting=meeting, venue_room="第2会議室")
    news = [m for m in mail.outbox if address in m.to]
    assert len(news) == 1, [(m.to, m.subject) for m in mail.outbox]
    headers = news[0].message()
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{site.url}/subscriptions/unsubscribe/")

    # … and the mail client's one click (a POST without session, cookie or CSRF token) ends it.
    client = site.browser.new_context()
    site.contexts.append(client)
    client.on("request", watch)
    answer = client.request.post(url, form={"List-Unsubscribe": "One-Click"})
    assert answer.status == 200
    assert not Subscription.objects.filter(email=address).exists()  # the address is gone with it

    # The link in the mail says so too.
    visitor.goto(url)
    assert "この会議体からのお知らせメールは今後届きません。" in visitor.locator("main").inner_text()
    screenshot(visitor, "issue-17-unsubscribed")
    assert watch.seen == [], f"admin pages were requested: {watch.seen}"
