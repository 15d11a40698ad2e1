"""Browser tests: Playwright (Python) driving Debian's Chromium against a live test server.

The machine cannot download Playwright's own browsers, so the tests launch `/usr/bin/chromium`
(`DXPLAN_CHROMIUM` overrides the path). Where Chromium or Playwright is missing, every test in this
folder skips and says why; CI installs Chromium and sets DXPLAN_CI_STRICT=1, which fails a skip.

The data is the 策定委員会 of the other tests, but appointed in the current fiscal year: the browser
keeps real time, so the server must too (a session cookie issued in 2023 would be expired at once).

Every page the browser opens is watched: a request for anything outside the live server is blocked
and fails the test (the site loads nothing from elsewhere).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from committee import services as committee_services
from committee.models import Guideline
from tests import factories
from tests.meetings.conftest import OTHERS

CHROMIUM = os.environ.get("DXPLAN_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = Path(django_settings.VAR_DIR) / "browser"
PASSWORD = "Aomori-DX-2023-plan"  # noqa: S105 (a test account's password)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# The 策定委員会's twelve members (五十音順 in the roster): 委員長, 副委員長, the member and nine others
# (OTHERS of the meetings tests, the first nine).


def _why_no_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _why_no_browser()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=f"browser test skipped: {reason}")
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(marker)


# --- the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would then refuse the ORM
    # calls the tests make between browser steps. Only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=LAUNCH_ARGS, env={**os.environ, "FONTCONFIG_FILE": str(_fontconfig())}
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _fontconfig() -> Path:
    """The test browser sees no system font that covers Japanese (issue 19): every font file that
    fontconfig lists for `:lang=ja` is rejected, so Japanese text can only be drawn in the Noto Sans JP that
    the site itself serves (static/vendor/noto-sans-jp). A page that failed to load it would show boxes."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    japanese: list[str] = []
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False)  # noqa: S603,S607
        japanese = sorted({line.split(":")[0].strip() for line in listed.stdout.splitlines() if line.strip()})
    rejected = "".join(f"      <glob>{escape(path)}</glob>\n" for path in japanese)
    select = f"  <selectfont>\n    <rejectfont>\n{rejected}    </rejectfont>\n  </selectfont>\n" if japanese else ""
    path = SHOTS / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"{select}"
        f"  <cachedir>{SHOTS / 'fontcache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return path


class Site:
    """The live server as the browser sees it, and what the browser asked of other hosts."""

    def __init__(self, live_server, browser):
        self.url = live_server.url
        self.netloc = urlsplit(live_server.url).netloc
        self.browser = browser
        self.external: list[str] = []
        self.refused_by_csp: list[str] = []
        self.contexts = []

    def context(
        self, *, width: int = 1280, height: int = 900, language: str = "ja", bypass_csp: bool = False, axe: bool = False
    ):
        """A browser context; `axe` loads axe-core into every page it opens (see `axe_violations`)."""
        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            locale="ja-JP" if language == "ja" else "en-US",
            extra_http_headers={"Accept-Language": "ja" if language == "ja" else "en-US,en;q=0.9"},
            accept_downloads=True,
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(15_000)
        if axe:
            # Once per context rather than a 0.5 MB script tag sent to every page.
            context.add_init_script(path=str(AXE))
        context.route("**/*", self._guard)
        context.on("console", self._console)
        self.contexts.append(context)
        return context

    def _console(self, message):
        # A script or style the Content-Security-Policy blocked means the page is broken somewhere.
        if "Content Security Policy" in message.text:
            self.refused_by_csp.append(message.text)

    def _guard(self, route):
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == self.netloc:
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def sign_in_as(self, context, user) -> None:
        """Give the browser a session for `user` without the login form (the journeys use the form)."""
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.url}])

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="session")
def _media_never_served():
    # MEDIA_URL is None in dxplan (files go out only through the download views), but Django's live
    # server wraps the site in a media handler built from it; a URL on another host makes that
    # handler step aside.
    previous = django_settings.MEDIA_URL
    django_settings.MEDIA_URL = "http://media.invalid/"
    yield
    django_settings.MEDIA_URL = previous


@pytest.fixture
def site(_media_never_served, live_server, browser, settings):
    settings.SITE_URL = live_server.url
    site = Site(live_server, browser)
    yield site
    site.close()
    assert not site.external, f"pages loaded from outside the site: {site.external}"
    assert not site.refused_by_csp, f"the Content-Security-Policy refused: {site.refused_by_csp}"


def screenshot(page, name: str) -> Path:
    """Keep the journey's last screen as a CI artifact under var/browser/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page) -> list[dict]:
    """axe-core (vendored) on the page: violations at WCAG 2.0 A and AA (JIS X 8341-3:2016 AA). Pages of a
    context opened with `axe=True` have it already; others get it here."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    return result


def follow(page, locator) -> None:
    """Click what leads to another page (a link, a form's button) and wait until that page has loaded:
    Playwright's click does not wait for the navigation it starts."""
    with page.expect_navigation():
        locator.click()


def swap(page, locator, target: str) -> None:
    """Click a button of a form that htmx sends (hx-post): the page stays, and `target` is redrawn in
    place. Waits for htmx's own word that `target` has settled (htmx:afterSettle), which comes after every
    part of the answer is in, out-of-band parts included. Waiting for the answer and then for `target`'s
    classes was a race: htmx may not have begun the swap when the answer reaches Playwright, and the next
    step then filled in a form that the out-of-band swap replaced a moment later."""
    page.evaluate(
        """selector => {
            window.dxplanSettled = false;
            document.addEventListener('htmx:afterSettle', function settled(event) {
                if (event.target instanceof Element && event.target.matches(selector)) {
                    window.dxplanSettled = true;
                    document.removeEventListener('htmx:afterSettle', settled);
                }
            });
        }""",
        target,
    )
    with page.expect_response(lambda r: r.request.method == "POST" and r.request.headers.get("hx-request") == "true"):
        locator.click()
    page.wait_for_function("() => window.dxplanSettled === true")


def log_in(page, site: Site, email: str, *, otp_device=None) -> None:
    """Log in through the login form (and the one-time code page for the secretariat)."""
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    follow(page, page.locator("main form button[type=submit]"))
    if otp_device is not None:
        from django_otp.oath import totp

        page.wait_for_url("**/accounts/verify/**")
        device = otp_device
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        page.fill("input[name=otp_token]", code)
        follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_load_state()
    assert "/accounts/" not in page.url, page.locator("main").inner_text()


# --- the committee, in office now --------------------------------------------------------------------


def fiscal_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


class Committee:
    """The 策定委員会 in office today with its named people; passwords are PASSWORD."""

    def __init__(self):
        today = timezone.localdate()
        self.appointed = fiscal_year_start(today) + dt.timedelta(days=39)  # 5月10日 of this fiscal year
        if self.appointed > today:
            self.appointed = fiscal_year_start(today) - dt.timedelta(days=326)
        unit = factories.OrgUnitFactory(code="dx-suishin", name__name="DX推進課")
        self.body = factories.BodyFactory(
            name="「(仮称)青森県DX推進プラン」策定委員会",
            short_name="策定委員会",
            slug="dx-plan",
            secretariat=unit,
            seats=12,
        )
        fy_end = dt.date(fiscal_year_start(today).year + 2, 3, 31)
        factories.GuidelineFactory(
            body=self.body,
            effective_on=self.appointed - dt.timedelta(days=27),
            term_fixed_end=fy_end,
            vice_chair_selection=Guideline.Selection.NOMINATED_BY_CHAIR,
        )
        self.secretariat = factories.StaffAssignmentFactory(unit=unit, user__email="secretariat@test.example").user
        self.chair_appointment = self._appoint("森", "もり", "樹男", "chair@test.example")
        committee_services.officer_elect_chair(
            actor=None, body=self.body, appointment=self.chair_appointment, selected_on=self.appointed
        )
        self.vice_appointment = self._appoint("石井", "いしい", "重成", "vice@test.example")
        committee_services.officer_nominate_vice_chair(
            actor=None, body=self.body, appointment=self.vice_appointment, selected_on=self.appointed
        )
        self.member_appointment = self._appoint("佐藤", "さとう", "志穂", "member@test.example")
        self.others = [
            self._appoint(family, reading, "一郎", None, contact=f"member{n}@members.example")
            for n, (family, reading) in enumerate(OTHERS[:9])
        ]
        self.chair = self.chair_appointment.person.user
        self.vice_chair = self.vice_appointment.person.user
        self.member = self.member_appointment.person.user
        for user in (self.secretariat, self.chair, self.vice_chair, self.member):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])

    def _appoint(self, family, reading, given, email, *, contact=""):
        user = factories.UserFactory(email=email) if email else None
        person = factories.PersonFactory(
            family_name=family,
            given_name=given,
            family_name_kana=reading,
            given_name_kana="",
            user=user,
            email=email or contact,
        )
        return committee_services.appointment_create(
            actor=None, body=self.body, person=person, appointed_on=self.appointed, affiliation=f"{family}の所属"
        )


@pytest.fixture
def committee(transactional_db):
    return Committee()


# --- a year in progress: 第1回 held with published materials and minutes, 第2回 awaiting approval ----


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_default_timezone())


def pdf_upload(name: str):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/pdf")


class Scene:
    """第1回 held a month ago (materials and minutes published); 第2回 in two weeks, its 次第 waiting for the chair."""

    def __init__(self, committee: Committee, *, second: bool = True):
        from documents import services as documents
        from meetings import services as meetings
        from meetings.models import Attendance, Minutes, MinutesEntry

        self.committee = c = committee
        sec = c.secretariat
        today = timezone.localdate()
        first_day = max(c.appointed + dt.timedelta(days=1), today - dt.timedelta(days=30))
        first = meetings.meeting_create(
            actor=sec,
            body=c.body,
            start_at=_at(first_day, 14),
            end_at=_at(first_day, 16),
            venue_name="青森県庁",
            venue_room="北棟8階 会議室",
        )
        for title in ("開会", "議事", "閉会"):
            item = meetings.agenda_item_add(actor=sec, meeting=first, title=title)
            if title == "議事":
                meetings.agenda_item_add(actor=sec, meeting=first, title="計画の骨子案について", parent=item)
        version = meetings.agenda_submit(actor=sec, meeting=first)
        meetings.agenda_approve(actor=c.chair, meeting=first, sha256=version.sha256)
        meetings.meeting_mark_notified(actor=sec, meeting=first)
        meetings.attendance_prepare(actor=sec, meeting=first)
        meetings.meeting_mark_held(actor=sec, meeting=first)
        records = {
            row.pk: (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)
            for row in first.attendances.filter(appointment__isnull=False)
        }
        meetings.attendance_record(actor=sec, meeting=first, records=records)
        public = documents.material_create(
            actor=sec, meeting=first, title="計画の骨子案", upload=pdf_upload("kosshi.pdf")
        )
        documents.material_publish(actor=sec, material=public)
        minutes = Minutes.objects.create(meeting=first)
        MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="ただいまから開会します。")
        meetings.minutes_send_for_confirmation(actor=sec, meeting=first, confirm_by=today)
        meetings.minutes_finalise(actor=c.chair, meeting=first)
        meetings.minutes_publish(actor=sec, meeting=first)
        # The scene's own mails (the 議事録確認のお願い of 第1回) are not the journeys' business: each journey
        # reads the mails its own steps send.
        mail.outbox.clear()

        self.first, self.second = first, None
        if not second:
            return
        second_day = today + dt.timedelta(days=14)
        second = meetings.meeting_create(
            actor=sec,
            body=c.body,
            start_at=_at(second_day, 10),
            end_at=_at(second_day, 12),
            venue_name="青森県庁",
            venue_room="北棟8階 会議室",
            online_url="https://meet.example/dx-plan-2",
        )
        for title in ("開会", "議事", "閉会"):
            meetings.agenda_item_add(actor=sec, meeting=second, title=title)
        documents.material_set_visibility(
            actor=sec,
            material=documents.material_create(actor=sec, meeting=second, title="素案", upload=pdf_upload("soan.pdf")),
            visibility="members",
        )
        meetings.attendance_prepare(actor=sec, meeting=second)
        meetings.agenda_submit(actor=sec, meeting=second)
        self.second = second


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DXPLAN_X_ACCEL_REDIRECT_PREFIX = ""
    return settings.MEDIA_ROOT


@pytest.fixture
def scene(committee, media_root):
    return Scene(committee)


@pytest.fixture
def first_held(committee, media_root):
    """Only 第1回, held; the secretariat is about to plan 第2回."""
    return Scene(committee, second=False)


@pytest.fixture(autouse=True)
def _tasks_in_process(eager_celery):
    """Tasks run in the live server's thread, so the mail lands in Django's test outbox."""
    yield


@pytest.fixture
def otp_device(committee):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=committee.secretariat, name="app", confirmed=True)
