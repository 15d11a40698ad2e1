"""The site as a whole in the browser: languages, the keyboard, print and the phone width."""

import pytest

from meetings.models import Attendance
from tests.browser.conftest import follow


def test_accept_language_english_and_the_switch_keeps_the_page(site, scene):
    meeting = scene.first
    page = site.context(language="en").new_page()
    page.goto(f"{site.url}/meetings/{meeting.pk}/")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Minutes" in page.locator("main").inner_text()
    when = page.locator("main dd").first.inner_text()
    assert meeting.start_at.date().isoformat() in when  # ISO dates in English

    # One click: each other language is a button named in that language.
    follow(page, page.locator("form[action='/i18n/setlang/'] button[value=ja]"))
    page.wait_for_load_state()
    assert page.url == f"{site.url}/meetings/{meeting.pk}/"  # the same page
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert "令和" in page.locator("main dd").first.inner_text()  # 和暦 in Japanese


def test_a_member_answers_by_keyboard_alone(site, scene):
    c, meeting = scene.committee, scene.second
    context = site.context()
    site.sign_in_as(context, c.member)
    page = context.new_page()
    page.goto(f"{site.url}/meetings/{meeting.pk}/")
    # From the top of the page: Tab until the "absent" choice has the focus, choose it, submit with Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "reply":
            break
    else:
        pytest.fail("the attendance answer cannot be reached with Tab")
    page.keyboard.press("ArrowRight")  # radios: arrows move the choice
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "absent"
    with page.expect_navigation():
        page.keyboard.press("Enter")  # a form is submitted with Enter from any of its fields
    assert Attendance.objects.get(meeting=meeting, appointment=c.member_appointment).reply == Attendance.Reply.ABSENT


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(site, scene):
    page = site.context().new_page()
    page.goto(f"{site.url}/meetings/{scene.first.pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    assert page.evaluate("document.activeElement.getBoundingClientRect().height") > 0  # visible when focused
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


@pytest.mark.parametrize("path", ["/meetings/{first}/", "/meetings/{first}/agenda/", "/meetings/{first}/attendance/"])
def test_printing_leaves_out_the_site_around_the_document(site, scene, path):
    page = site.context().new_page()
    page.goto(site.url + path.format(first=scene.first.pk))
    page.emulate_media(media="print")
    assert not page.locator("header").first.is_visible()
    assert not page.locator("footer").first.is_visible()
    assert page.locator("main h1").first.is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/", None),
        ("/bodies/dx-plan/", None),
        ("/meetings/{first}/", None),
        ("/schedule/", None),
        ("/meetings/{second}/", "member"),
        ("/my/", "member"),
        ("/approvals/", "chair"),
        ("/meetings/{second}/agenda/review/", "chair"),
    ],
)
def test_no_sideways_scrolling_on_a_375px_phone(site, scene, path, who):
    context = site.context(width=375, height=740)
    if who:
        site.sign_in_as(context, getattr(scene.committee, who))
    page = context.new_page()
    page.goto(site.url + path.format(first=scene.first.pk, second=scene.second.pk))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, path


def test_the_admin_works_in_japanese_under_the_content_security_policy(site, scene, settings):
    from tests import factories

    settings.DXPLAN_REQUIRE_2FA = False
    admin = factories.UserFactory(email="admin@test.example", is_staff=True, is_superuser=True)
    context = site.context()
    site.sign_in_as(context, admin)
    page = context.new_page()
    person = scene.committee.member_appointment.person
    for path in (
        "/admin/",
        "/admin/committee/person/",
        f"/admin/committee/person/{person.pk}/change/",
        f"/admin/meetings/meeting/{scene.second.pk}/change/",
    ):
        assert page.goto(site.url + path).status == 200
        assert page.evaluate("document.documentElement.lang") == "ja"
    assert "人物" in page.title() or "会議" in page.title()
    # Inline scripts and styles would be refused and reported by the `site` fixture's CSP watch.


def test_japanese_renders_in_the_sites_own_font_without_a_system_cjk_font(site, scene):
    """Noto Sans JP is served by the site (static/vendor/noto-sans-jp): the page's Japanese is drawn in it,
    whatever fonts the machine has (CI's has no CJK font: the check below says so when it has one)."""
    import shutil
    import subprocess

    page = site.context().new_page()
    page.goto(f"{site.url}/meetings/{scene.first.pk}/")
    page.evaluate("document.fonts.ready")
    loaded = page.evaluate(
        "[...document.fonts].filter(f => f.family.replace(/\"/g, '') === 'Noto Sans JP' && f.status === 'loaded')"
        ".map(f => f.weight)"
    )
    assert "400" in loaded, loaded  # the parts holding the page's characters were fetched and loaded
    family = page.evaluate("getComputedStyle(document.querySelector('main h1')).fontFamily")
    assert family.replace('"', "").startswith("Noto Sans JP"), family
    # Every character of the heading has its glyphs loaded from the site's font (false if any were missing).
    heading = page.locator("main h1").inner_text()
    assert any("\u3040" <= ch <= "\u9fff" for ch in heading), heading
    assert page.evaluate("t => document.fonts.check('16px Noto Sans JP', t)", heading)
    if shutil.which("fc-list"):
        system = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True).stdout  # noqa: S603,S607
        print("system fonts with Japanese:", system.strip() or "none")


def test_the_header_and_narrow_columns_at_375px(site, scene):
    """Issue 19's findings at 375 px: the menu button keeps a gutter, the signed-in address is never broken
    inside a word, Japanese headings break between phrases, and the schedule's body column is readable."""
    context = site.context(width=375, height=740)
    site.sign_in_as(context, scene.committee.member)
    page = context.new_page()
    page.goto(f"{site.url}/schedule/{scene.first.start_at.year}/")
    toggler = page.locator(".navbar-toggler").bounding_box()
    assert toggler["x"] >= 8 and 375 - (toggler["x"] + toggler["width"]) >= 8, toggler
    user = page.locator(".site-user")
    assert user.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert user.bounding_box()["height"] < 30  # one line, not an address broken over several
    assert page.locator("main h1").evaluate("e => getComputedStyle(e).wordBreak") == "auto-phrase"
    first_column = page.locator(".schedule-table tbody th[scope=row]").first.bounding_box()
    assert first_column["width"] >= 100, first_column  # it was two characters wide


def test_on_a_phone_the_answer_is_easy_to_tap_and_the_history_keeps_its_dates_whole(site, scene):
    """At 375 px: each attendance choice on the meeting page is a target at least 44 px high and wide
    (the radios were 20 px with 28 px labels), and the 次第's history shows its dates and decisions on
    whole lines (they broke into one or two characters a line: 差戻/し/令和/8年…)."""
    c = scene.committee
    context = site.context(width=375, height=740)
    site.sign_in_as(context, c.member)
    page = context.new_page()
    page.goto(f"{site.url}/meetings/{scene.second.pk}/")
    boxes = [page.locator(f"label[for=reply-{value}]").bounding_box() for value in ("venue", "online", "absent")]
    assert all(box and box["height"] >= 44 and box["width"] >= 44 for box in boxes), boxes
    page.locator("label[for=reply-online]").click()
    assert page.locator("#reply-online").is_checked()

    chair = site.context(width=375, height=740)
    site.sign_in_as(chair, c.chair)
    review = chair.new_page()
    review.goto(f"{site.url}/meetings/{scene.second.pk}/agenda/review/")
    # Lines each submitted date takes (a Range's client rects: one per line box).
    lines = review.eval_on_selector_all(
        "#history-h + .table-responsive tbody td:nth-child(2)",
        """cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c);
                                     return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; })""",
    )
    assert lines and set(lines) == {1}, lines


def test_on_a_phone_the_schedule_keeps_the_bodies_in_view(site, scene):
    """The 年間スケジュール scrolls sideways inside its frame at 375 px; the column of the bodies stays put, so the
    months read against a body's name (the first screen was a row of empty months)."""
    context = site.context(width=375, height=740)
    page = context.new_page()
    page.goto(f"{site.url}/schedule/")
    frame = page.locator(".table-responsive").first
    name = page.locator(".schedule-table tbody th[scope=row]").first
    before = name.bounding_box()
    frame.evaluate("f => { f.scrollLeft = 400; }")
    after = name.bounding_box()
    assert frame.evaluate("f => f.scrollLeft") > 0
    assert before and after and abs(after["x"] - before["x"]) < 2, (before, after)
