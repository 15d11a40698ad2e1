"""The journeys of issue 6, in Chromium against the live server, each ending with a screenshot
under var/browser/. Steps are taken through the pages as a person would: links, forms, buttons."""

import io
import re
import zipfile

import pytest
from django.core import mail

from documents.models import Material
from meetings.models import Agenda, Attendance
from tests.browser.conftest import log_in, screenshot

ANSWER_LINK = re.compile(r"https?://[^\s\"'<>]+/answer/[^\s\"'<>]+/")


@pytest.fixture
def secure(settings):
    # The production rule: secretariat accounts give a one-time code after the password.
    settings.DXPLAN_REQUIRE_2FA = True


def _answer_link_for(address: str) -> str:
    messages = [m for m in mail.outbox if address in m.to]
    assert len(messages) == 1, [m.to for m in mail.outbox]
    links = set(ANSWER_LINK.findall(messages[0].body))
    assert len(links) == 1, messages[0].body
    return links.pop()


def _approve_and_send(site, scene, otp_device):
    """Journey 2's first half: the chair approves in two clicks, the secretariat sends the 開催通知."""
    c, meeting = scene.committee, scene.second
    chair = site.context().new_page()
    log_in(chair, site, c.chair.email)
    chair.goto(f"{site.url}/approvals/")
    chair.locator(f"a[href='/meetings/{meeting.pk}/agenda/review/']").first.click()  # click 1
    assert "開会" in chair.locator("main").inner_text()  # the agenda as it will be sent
    chair.locator("button[name=decision][value=approve]").click()  # click 2
    chair.wait_for_load_state()
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.APPROVED

    secretariat = site.context().new_page()
    log_in(secretariat, site, c.secretariat.email, otp_device=otp_device)
    secretariat.goto(f"{site.url}/manage/meetings/{meeting.pk}/notices/")
    secretariat.select_option("select[name=kind]", "convocation")
    secretariat.locator("form[action$='/notices/send/'] button[type=submit]").click()
    secretariat.wait_for_load_state()
    return secretariat


def test_journey_2_approve_send_answer_by_link(site, scene, otp_device, secure):
    c, meeting = scene.committee, scene.second
    secretariat = _approve_and_send(site, scene, otp_device)
    link = _answer_link_for(c.member_appointment.person.email)
    assert link.startswith(site.url)

    member = site.context().new_page()  # not logged in: the link is enough
    member.goto(link)
    member.locator("button[name=reply][value=online]").click()
    member.wait_for_load_state()
    row = Attendance.objects.get(meeting=meeting, appointment=c.member_appointment)
    assert row.reply == Attendance.Reply.ONLINE

    secretariat.goto(f"{site.url}/manage/meetings/{meeting.pk}/")
    member_row = secretariat.locator("tr", has_text="佐藤 志穂").first
    assert "オンライン" in member_row.inner_text()
    screenshot(secretariat, "journey-2-secretariat-sees-answer")


def _download(page, locator):
    with page.expect_download() as info:
        locator.click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_journey_3_member_downloads_visitor_sees_published(site, scene, otp_device, secure):
    c, meeting = scene.committee, scene.second
    material = Material.objects.get(meeting=meeting)
    assert material.visibility == Material.Visibility.MEMBERS

    member = site.context().new_page()
    log_in(member, site, c.member.email)
    member.goto(f"{site.url}/meetings/{meeting.pk}/")
    name, data = _download(member, member.locator(f"a[href='/materials/{material.pk}/download/']"))
    assert data.startswith(b"%PDF-")
    name, data = _download(member, member.locator(f"a[href='/meetings/{meeting.pk}/materials.zip']"))
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert len(names) == 1 and "素案" in names[0], names
        assert archive.read(names[0]).startswith(b"%PDF-")

    visitor = site.context().new_page()
    visitor.goto(f"{site.url}/meetings/{meeting.pk}/")
    assert "素案" not in visitor.locator("main").inner_text()
    assert visitor.goto(f"{site.url}/materials/{material.pk}/download/").status == 404

    secretariat = site.context().new_page()
    log_in(secretariat, site, c.secretariat.email, otp_device=otp_device)
    secretariat.goto(f"{site.url}/manage/meetings/{meeting.pk}/materials/")
    secretariat.select_option(f"#vis-{material.pk}", "public")
    secretariat.locator(f"form[action$='/materials/{material.pk}/visibility/'] button[type=submit]").click()
    secretariat.wait_for_load_state()
    material.refresh_from_db()
    assert material.visibility == Material.Visibility.PUBLIC

    visitor.goto(f"{site.url}/meetings/{meeting.pk}/")
    assert "素案" in visitor.locator("main").inner_text()
    name, data = _download(visitor, visitor.locator(f"a[href='/materials/{material.pk}/download/']"))
    assert data.startswith(b"%PDF-")
    screenshot(visitor, "journey-3-visitor-sees-published")


def test_journey_4_member_on_a_phone(site, scene, otp_device, secure):
    c, meeting = scene.committee, scene.second
    _approve_and_send(site, scene, otp_device)
    link = _answer_link_for(c.member_appointment.person.email)

    phone = site.context(width=375, height=740)
    member = phone.new_page()
    member.goto(link)
    assert member.evaluate("document.documentElement.scrollWidth") <= 375
    member.locator("button[name=reply][value=online]").click()
    member.wait_for_load_state()
    assert Attendance.objects.get(meeting=meeting, appointment=c.member_appointment).reply == Attendance.Reply.ONLINE

    log_in(member, site, c.member.email)
    member.goto(f"{site.url}/meetings/{meeting.pk}/")
    assert member.evaluate("document.documentElement.scrollWidth") <= 375, "the meeting page scrolls sideways"
    material = Material.objects.get(meeting=meeting)
    name, data = _download(member, member.locator(f"a[href='/materials/{material.pk}/download/']"))
    assert data.startswith(b"%PDF-")
    name, data = _download(member, member.locator(f"a[href='/meetings/{meeting.pk}/materials.zip']"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.namelist()) == 1
    screenshot(member, "journey-4-phone")
