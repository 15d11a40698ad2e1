"""The journeys of issue 6, in Chromium against the live server, each ending with a screenshot
under var/browser/. Steps are taken through the pages as a person would: links, forms, buttons."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core import mail

from documents.models import Material
from meetings.models import Agenda, Attendance
from tests.browser.conftest import follow, log_in, pdf_upload, screenshot, swap

PDF = pdf_upload("blank.pdf").read()
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
    follow(chair, chair.locator(f"a[href='/meetings/{meeting.pk}/agenda/review/']").first)  # click 1
    assert "開会" in chair.locator("main").inner_text()  # the agenda as it will be sent
    follow(chair, chair.locator("button[name=decision][value=approve]"))  # click 2
    chair.wait_for_load_state()
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.APPROVED

    secretariat = site.context().new_page()
    log_in(secretariat, site, c.secretariat.email, otp_device=otp_device)
    secretariat.goto(f"{site.url}/manage/meetings/{meeting.pk}/notices/")
    secretariat.select_option("select[name=kind]", "convocation")
    follow(secretariat, secretariat.locator("form[action$='/notices/send/'] button[type=submit]"))
    secretariat.wait_for_load_state()  # the confirmation page: who will get it
    follow(secretariat, secretariat.locator("form.confirm-send button[name=confirm]"))
    secretariat.wait_for_load_state()
    return secretariat


def test_journey_2_approve_send_answer_by_link(site, scene, otp_device, secure):
    c, meeting = scene.committee, scene.second
    secretariat = _approve_and_send(site, scene, otp_device)
    link = _answer_link_for(c.member_appointment.person.email)
    assert link.startswith(site.url)

    member = site.context().new_page()  # not logged in: the link is enough
    member.goto(link)
    follow(member, member.locator("button[name=reply][value=online]"))
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
    visibility = f"form[action$='/materials/{material.pk}/visibility/'] button[type=submit]"
    follow(secretariat, secretariat.locator(visibility))
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
    follow(member, member.locator("button[name=reply][value=online]"))
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


def _option_value(page, select: str, text: str) -> str:
    return page.locator(f"{select} option", has_text=text).first.get_attribute("value")


def test_journey_1_secretariat_plans_the_second_meeting(site, first_held, otp_device, secure):
    from documents.models import Material
    from meetings.models import Meeting

    c = first_held.committee
    day = first_held.first.start_at.date() + dt.timedelta(days=45)
    page = site.context().new_page()
    log_in(page, site, c.secretariat.email, otp_device=otp_device)

    # The dashboard → a new meeting of the 策定委員会; 第2回 is proposed.
    page.goto(f"{site.url}/manage/")
    follow(page, page.locator(f"a[href='/manage/bodies/{c.body.slug}/meetings/new/']"))
    assert page.locator("input[name=number]").input_value() == "2"
    page.fill("input[name=date]", day.isoformat())
    page.fill("input[name=start_time]", "14:00")
    page.fill("input[name=end_time]", "16:00")
    page.fill("input[name=venue_name]", "青森県庁")
    page.fill("input[name=venue_room]", "北棟8階 会議室")
    follow(page, page.locator("main form button[type=submit]").last)
    page.wait_for_load_state()
    meeting = Meeting.objects.get(body=c.body, number=2)
    assert meeting.start_at.date() == day and meeting.venue_name == "青森県庁"

    # The 次第: 1 開会, 2 議事 (1) 素案について, 3 閉会.
    follow(page, page.locator(f"a[href='/manage/meetings/{meeting.pk}/agenda/']").first)
    for title, parent in (("開会", None), ("議事", None), ("素案について", "議事"), ("閉会", None)):
        if parent:
            page.select_option("select[name=parent]", _option_value(page, "select[name=parent]", parent))
        page.fill("input[name=title]", title)
        # The 次第 editor saves with htmx: the item appears without a new page.
        swap(page, page.locator("form button[type=submit]", has_text=re.compile("追加|Add")).first, "#agenda-editor")
    agenda_text = page.locator("main").inner_text()
    assert "素案について" in agenda_text
    titles = [(i.title, i.parent.title if i.parent else None) for i in meeting.agenda.items.order_by("position")]
    assert ("素案について", "議事") in titles and len(titles) == 4

    # Two materials.
    page.goto(f"{site.url}/manage/meetings/{meeting.pk}/")
    follow(page, page.locator(f"a[href='/manage/meetings/{meeting.pk}/materials/']").first)
    add = f"form[action='/manage/meetings/{meeting.pk}/materials/']"
    for title in ("素案", "参考資料"):
        page.fill(f"{add} input[name=title]", title)
        page.set_input_files(
            f"{add} input[name=file]", files=[{"name": f"{title}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        follow(page, page.locator(f"{add} button[type=submit]"))
        page.wait_for_load_state()
    materials = list(Material.objects.filter(meeting=meeting).order_by("position"))
    assert [m.title for m in materials] == ["素案", "参考資料"]
    assert all(m.current_version_id for m in materials)

    # Submit the 次第 for the chair's approval.
    page.goto(f"{site.url}/manage/meetings/{meeting.pk}/agenda/")
    follow(page, page.locator(f"form[action='/manage/meetings/{meeting.pk}/submit/'] button[type=submit]"))
    page.wait_for_load_state()
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.SUBMITTED
    screenshot(page, "journey-1-agenda-submitted")


INVITATION_LINK = re.compile(r"https?://[^\s\"'<>]+/accounts/invitation/[^\s\"'<>]+/")


def test_a_new_member_is_invited_and_sets_a_password(site, scene, otp_device, secure):
    c = scene.committee
    newcomer = c.others[0].person  # 青木 一郎: a contact address, no login account yet
    secretariat = site.context().new_page()
    log_in(secretariat, site, c.secretariat.email, otp_device=otp_device)
    secretariat.goto(f"{site.url}/bodies/{c.body.slug}/")
    follow(secretariat, secretariat.locator(f"form[action='/manage/people/{newcomer.pk}/invite/'] button[type=submit]"))
    secretariat.wait_for_load_state()

    messages = [m for m in mail.outbox if newcomer.email in m.to]
    assert len(messages) == 1
    link = INVITATION_LINK.search(messages[0].body).group(0)
    page = site.context(width=375, height=740).new_page()
    page.goto(link)
    page.fill("input[name=new_password1]", "Hakkoda-2026-snow")
    page.fill("input[name=new_password2]", "Hakkoda-2026-snow")
    follow(page, page.locator("main form button[type=submit]"))
    page.wait_for_url("**/my/")
    assert f"/meetings/{scene.second.pk}/" in page.content()  # the meetings they are invited to
    newcomer.refresh_from_db()
    assert newcomer.user.check_password("Hakkoda-2026-snow")
    assert page.goto(link).status == 400  # the link has been used
    screenshot(page, "journey-invitation-first-login")
