"""Issue 10's acceptance: the secretariat's year in the site, in Chromium, on the demo of the day.

`make run`'s demo is loaded into the live server's database as it is on the day the test runs. The
secretariat account is the demo's, which is not a superuser. Every step is taken through the pages, and
each test fails if any page of the admin (/admin/) is requested.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from committee.demo import COMMITTEE
from committee.models import Appointment, Body, OfficerTerm
from core.models import User
from meetings import selectors
from meetings.models import Agenda, Attendance, Meeting, Minutes, MinutesEntry
from tests.browser.conftest import follow, screenshot, swap
from tests.opendata.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path, monkeypatch, transactional_db):
    """The demo of the day (`load_demo`), with the demo's PDFs replaced by a minimal one for speed."""
    monkeypatch.setattr("documents.demo.render_pdf", lambda *args, **kwargs: MINIMAL_PDF)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path
    settings.DXPLAN_REQUIRE_2FA = False
    call_command("load_demo", "--allow-production", stdout=StringIO())  # tests run with DEBUG off
    secretariat = User.objects.get(email="secretariat@demo.dxplan.example")
    assert not secretariat.is_superuser
    return Body.objects.get(slug=COMMITTEE)


class AdminWatch:
    """Every request the browser makes for an /admin/ page is kept (there must be none)."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, request):
        if urlsplit(request.url).path.startswith("/admin/"):
            self.seen.append(request.url)


def _page(site, watch: AdminWatch, user=None, **options):
    context = site.context(**options)
    context.on("request", watch)
    if user is not None:
        site.sign_in_as(context, user)
    return context.new_page()


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _option_value(page, select: str, text: str) -> str:
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    assert value, f"no option with {text!r} in {select}"
    return value


def _in_office_member(body: Body, today: dt.date) -> Appointment:
    """A member in office today who holds no post and has no demo account (the one who resigns)."""
    officers = OfficerTerm.objects.filter(body=body).values_list("appointment_id", flat=True)
    rows = (
        Appointment.objects.filter(body=body, term_start__lte=today, term_end__gte=today, ended_on__isnull=True)
        .members()
        .exclude(pk__in=officers)
        .filter(person__user__isnull=True)
        .select_related("person")
        .order_by("display_order", "pk")
    )
    appointment = rows.first()
    assert appointment is not None, "the demo has nobody in office today"
    return appointment


def test_a_year_of_the_secretariat_on_the_demo_of_the_day(site, demo):  # noqa: PLR0915 - one journey
    watch = AdminWatch()
    body = demo
    today = timezone.localdate()
    secretariat = _user("secretariat@demo.dxplan.example")

    # 1. A resignation (辞任) recorded, and the successor appointed for the remaining term.
    leaving = _in_office_member(body, today)
    page = _page(site, watch, secretariat)
    page.goto(f"{site.url}/manage/bodies/{body.slug}/roster/")
    row = page.locator(f"#appointment-{leaving.pk}")
    row.locator("summary", has_text="辞任").click()
    row.locator("input[name=ended_on]").fill((today - dt.timedelta(days=1)).isoformat())
    row.locator("select[name=reason]").select_option("resigned")
    follow(page, row.locator(f"form[action$='/{leaving.pk}/end/'] button[type=submit]"))
    leaving.refresh_from_db()
    assert leaving.end_reason == "resigned" and leaving.ended_on == today - dt.timedelta(days=1)
    row = page.locator(f"#appointment-{leaving.pk}")
    successor_form = row.locator(f"form[action$='/{leaving.pk}/successor/']")
    successor_form.locator("input[name=family_name]").fill("青森")
    successor_form.locator("input[name=given_name]").fill("花子")
    successor_form.locator("input[name=family_name_kana]").fill("あおもり")
    successor_form.locator("input[name=given_name_kana]").fill("はなこ")
    successor_form.locator("input[name=affiliation]").fill("青森県立大学 教授")
    follow(page, successor_form.locator("button[type=submit]"))
    successor = Appointment.objects.get(body=body, person__family_name="青森", person__given_name="花子")
    assert successor.term_end == leaving.term_end  # the remaining term (第5-2)
    assert "青森 花子" in page.locator("main").inner_text()

    # 2. Next month's meeting is held (the day comes) and attendance is recorded.
    meeting = (
        Meeting.objects.filter(body=body, start_at__gt=timezone.now(), status=Meeting.Status.NOTIFIED)
        .order_by("start_at")
        .first()
    )
    assert meeting is not None, "the demo has no notified meeting ahead"
    with time_machine.travel(meeting.start_at + dt.timedelta(hours=3), tick=True):
        page = _page(site, watch, secretariat)
        page.goto(f"{site.url}/manage/meetings/{meeting.pk}/")
        gone = Attendance.objects.filter(meeting=meeting, appointment=leaving).values_list("pk", flat=True).first()
        for select in page.locator("#attendance-section select[name^=actual-]").all():
            if select.get_attribute("name") != f"actual-{gone}":  # the member who resigned stays unrecorded
                select.select_option("present")
        for select in page.locator("#attendance-section select[name^=mode-]").all():
            if select.get_attribute("name") != f"mode-{gone}":
                select.select_option("venue")
        swap(page, page.locator("#attendance-section form[action$='/record/'] button[type=submit]"),
             "#attendance-section")
        recorded = Attendance.objects.filter(meeting=meeting, actual=Attendance.Actual.PRESENT).count()
        assert recorded >= 10
        follow(page, page.locator("form[action$='/held/'] button[type=submit]"))
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.HELD

        # 3. The minutes: three speakers and one 非公開 passage, in the site's editor.
        page.goto(f"{site.url}/manage/meetings/{meeting.pk}/minutes/")
        follow(page, page.locator("form[action$='/minutes/settings/'] button[type=submit]").first)
        add = page.locator("#add-form form")
        passages = [
            ("森", "ただいまから会議を開きます。本日は報告事項について御意見を伺います。", ""),
            ("石井", "人材育成の指標は、市町村ごとに示していただきたい。", ""),
            ("事務局", "資料1に沿って、今年度の取組状況を御説明します。", ""),
            ("事務局", "個別事業者の経営情報を含む支援事例について説明した。", "委員の承諾により非公開(設置要綱第4-4)"),
        ]
        for speaker, text, basis in passages:
            add = page.locator("#add-form form")
            add.locator("select[name=speaker_choice]").select_option(
                _option_value(page, "#add-form select[name=speaker_choice]", speaker)
            )
            add.locator("textarea[name=text]").fill(text)
            if basis:
                add.locator("input[name=is_closed]").check()
                add.locator("[name=closed_basis]").fill(basis)
            swap(page, add.locator("button[type=submit]"), "#passages")
        entries = list(MinutesEntry.objects.filter(minutes__meeting=meeting).order_by("position", "id"))
        assert len(entries) == 4
        assert len({e.speaker for e in entries}) == 3
        assert [e.is_closed for e in entries] == [False, False, False, True]

        # 4. Sent for confirmation; a member confirms; the presiding officer finalises.
        page.goto(f"{site.url}/manage/meetings/{meeting.pk}/minutes/")
        page.fill("input[name=confirm_by]", (timezone.localdate() + dt.timedelta(days=7)).isoformat())
        follow(page, page.locator("form[action$='/minutes-send/'] button[type=submit]"))
        assert Minutes.objects.get(meeting=meeting).status == Minutes.Status.CONFIRMING

        member = _page(site, watch, _user("member@demo.dxplan.example"), width=375, height=812)
        member.goto(f"{site.url}/meetings/{meeting.pk}/minutes/")
        assert "人材育成の指標" in member.locator("main").inner_text()
        follow(member, member.locator("form[action$='/minutes/confirm/'] button[type=submit]").first)

        presiding = selectors.approver_for(meeting, allow_convener=False)
        assert presiding is not None and presiding.user is not None
        chair = _page(site, watch, presiding.user)
        chair.goto(f"{site.url}/meetings/{meeting.pk}/minutes/")
        follow(chair, chair.locator("form[action$='/minutes/finalise/'] button[type=submit]"))
        assert Minutes.objects.get(meeting=meeting).status == Minutes.Status.FINALISED

        # 5. Published by the secretariat.
        page.goto(f"{site.url}/manage/meetings/{meeting.pk}/minutes/")
        follow(page, page.locator("form[action$='/minutes-publish/'] button[type=submit]"))
        assert Minutes.objects.get(meeting=meeting).status == Minutes.Status.PUBLISHED

        # The public page shows the minutes without the closed passage.
        visitor = _page(site, watch)
        visitor.goto(f"{site.url}/meetings/{meeting.pk}/")
        public = visitor.locator("main").inner_text()
        assert "ただいまから会議を開きます" in public and "人材育成の指標" in public
        assert "個別事業者の経営情報" not in public
        screenshot(visitor, "issue-10-published-minutes")
    assert watch.seen == [], f"admin pages were requested: {watch.seen}"


def test_the_committee_is_renewed_on_one_page_and_its_first_meeting_approved(site, demo):
    watch = AdminWatch()
    body = demo
    today = timezone.localdate()
    secretariat = _user("secretariat@demo.dxplan.example")
    current_end = (
        Appointment.objects.filter(body=body, term_start__lte=today, term_end__gte=today)
        .members()
        .order_by("-term_end")
        .values_list("term_end", flat=True)
        .first()
    )
    assert current_end is not None
    next_start = current_end + dt.timedelta(days=1)

    # Renewal for the next 年度 on one page: preview, then confirm.
    page = _page(site, watch, secretariat)
    page.goto(f"{site.url}/manage/bodies/{body.slug}/roster/")
    follow(page, page.locator(f"a[href='/manage/bodies/{body.slug}/renew/']").first)
    assert page.locator("input[name=term_start]").input_value() == next_start.isoformat()
    ticked = page.locator("input[name=continue]:checked").count()
    assert ticked >= 5, "most members continue by default"
    follow(page, page.locator("button[name=preview]"))
    follow(page, page.locator("button[name=confirm]"))
    renewed = Appointment.objects.filter(body=body, term_start=next_start).members()
    assert renewed.count() == ticked
    assert all(a.term_end and a.term_end > next_start for a in renewed)

    # The new 年度's first meeting, planned in the site; its 次第 approved by whoever presides then
    # (before the new term elects its chair, the convening official, as the guidelines say).
    day = next_start + dt.timedelta(days=30)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    page.goto(f"{site.url}/manage/bodies/{body.slug}/meetings/new/")
    # Numbers run on per body and are never reused (第N回): the form proposes the next one.
    last = max(n for n in Meeting.objects.filter(body=body).values_list("number", flat=True) if n)
    assert page.locator("input[name=number]").input_value() == str(last + 1)
    page.fill("input[name=date]", day.isoformat())
    page.fill("input[name=start_time]", "14:00")
    page.fill("input[name=end_time]", "16:00")
    page.fill("input[name=venue_name]", "青森県庁")
    follow(page, page.locator("main form button[type=submit]").last)
    meeting = Meeting.objects.filter(body=body, start_at__date=day).get()
    assert meeting.fiscal_year == next_start.year
    page.goto(f"{site.url}/manage/meetings/{meeting.pk}/agenda/")
    add = f"#agenda-editor form[action='/manage/meetings/{meeting.pk}/agenda/']"
    for title in ("開会", "委員長の互選", "閉会"):
        page.fill(f"{add} input[name=title]", title)
        swap(page, page.locator(f"{add} button[type=submit]"), "#agenda-editor")
    assert meeting.agenda.items.count() == 3
    follow(page, page.locator(f"form[action='/manage/meetings/{meeting.pk}/submit/'] button[type=submit]"))
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.SUBMITTED

    approver = selectors.approver_for(meeting)
    assert approver is not None and approver.user is not None, "nobody may approve the new term's first 次第"
    reviewer = _page(site, watch, approver.user)
    reviewer.goto(f"{site.url}/approvals/")
    follow(reviewer, reviewer.locator(f"a[href='/meetings/{meeting.pk}/agenda/review/']").first)
    follow(reviewer, reviewer.locator("button[name=decision][value=approve]"))
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.APPROVED
    screenshot(reviewer, "issue-10-new-term-first-agenda-approved")
    assert watch.seen == [], f"admin pages were requested: {watch.seen}"
