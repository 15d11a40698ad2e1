"""Issue 18's browser journey on the demo of the day: the secretariat (not a superuser, with the approval
right the demo gives it) opens the fees of the 策定委員会's past meeting from the dashboard, approves
the statements and downloads the CSV for the accounting system."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import User
from fees.models import FeeSheet, Statement
from meetings.models import Meeting
from tests.browser.conftest import PASSWORD, axe_violations, follow, log_in, screenshot
from tests.meetings.test_demo import MINIMAL_PDF

DEMO_SECRETARIAT = "secretariat@demo.dxplan.example"


@pytest.fixture
def demo(transactional_db, settings, tmp_path, monkeypatch):
    """The demo as `make run` loads it; the demo PDFs are not rendered (tests/documents checks them)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    monkeypatch.setattr("documents.demo.render_pdf", lambda *args, **kwargs: MINIMAL_PDF)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False
    settings.DXPLAN_REQUIRE_2FA = True  # the production rule: the secretariat gives a one-time code
    user = User.objects.get(email=DEMO_SECRETARIAT)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def test_the_secretariat_approves_the_past_meeting_and_downloads_the_csv(site, demo):
    secretariat = User.objects.get(email=DEMO_SECRETARIAT)
    assert not secretariat.is_superuser
    meeting = Meeting.objects.get(body__slug="dx-plan-committee", number=1)

    page = site.context().new_page()
    log_in(page, site, DEMO_SECRETARIAT, otp_device=demo)
    page.goto(f"{site.url}/manage/")
    follow(page, page.locator("a[href='/manage/fees/bodies/dx-plan-committee/']"))
    follow(page, page.locator(f"a[href='/manage/fees/meetings/{meeting.pk}/']"))
    main = page.locator("main")
    assert "例" in main.inner_text()  # the demo's rules are an example
    assert main.locator("#statements tbody tr").count() == 12

    follow(page, page.locator("button[name=approve]"))
    assert FeeSheet.objects.get(meeting=meeting).status == FeeSheet.Status.APPROVED
    assert "承認しました" in page.locator("main").inner_text()

    with page.expect_download() as info:
        page.locator(f"a[href='/manage/fees/meetings/{meeting.pk}/fees.csv']").click()
    download = info.value
    assert download.suggested_filename.endswith("報酬謝金.csv")
    text = open(download.path(), "rb").read().decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith("年度,会議体,会議,開催日,氏名")
    rows = [line for line in lines[1:] if line]
    assert len(rows) == 12
    today = timezone.localdate().isoformat()
    assert all(f",承認済,{today}," in row for row in rows)
    assert "森 樹男,もり,謝金,委員長,会場,12000,0,12000,1225,10775" in text
    screenshot(page, "fees-secretariat-approved")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_fee_pages_pass_axe(site, demo, language):
    """WCAG 2.0 A/AA on the secretariat's fee pages and the member's own (axe-core injected: CSP bypassed)."""
    meeting = Meeting.objects.get(body__slug="dx-plan-committee", number=1)
    secretariat = site.context(language=language, bypass_csp=True)
    site.sign_in_as(secretariat, User.objects.get(email=DEMO_SECRETARIAT))
    member = site.context(language=language, bypass_csp=True)
    site.sign_in_as(member, User.objects.get(email="member@demo.dxplan.example"))
    pages = [
        (secretariat, f"/manage/fees/meetings/{meeting.pk}/"),
        (secretariat, "/manage/fees/bodies/dx-plan-committee/"),
        (secretariat, "/manage/fees/bodies/dx-plan-committee/2023/"),
        (secretariat, "/manage/fees/bodies/dx-plan-committee/payees/"),
        (secretariat, "/manage/fees/bodies/dx-plan-committee/rules/new/"),
        (member, "/my/fees/"),
        (member, f"/my/fees/{Statement.objects.get(person__user__email='member@demo.dxplan.example').pk}/"),
    ]
    found = {}
    for context, path in pages:
        page = context.new_page()
        response = page.goto(f"{site.url}{path}")
        assert response.status == 200, path
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert not found, found
