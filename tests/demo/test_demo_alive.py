"""The demo is alive on the day it is loaded: loaded under time-machine on 令和5年5月10日 (the seed's year,
after its 第1回 at 14:00), on the real day the tests run and on 2031-01-15, the committee is in office,
next month's meeting has invitees and a 次第 waiting for the current chair, a member can answer, the public
reads the past meeting's minutes without the closed passage, and the FY2023 history is still there.

The demo is loaded once per day (module-scoped, in a transaction rolled back at the end): loading takes
several seconds."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from committee import selectors as committee_selectors
from committee.models import Appointment, Body, OfficerTerm, Person
from core.models import User
from meetings import selectors
from meetings.models import Agenda, Attendance, Meeting, Minutes
from notices.models import Delivery, Notice

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
COMMITTEE = "dx-plan-committee"
CLOSED_MARK = "【非公開】"
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SEED_MEMBERS = 12
DAYS = {
    "seed-year": dt.datetime(2023, 5, 10, 18, 0, tzinfo=TOKYO),  # 第1回 was held at 14:00 that day
    "today": None,  # the real moment the tests run
    "2031": dt.datetime(2031, 1, 15, 10, 0, tzinfo=TOKYO),
    # A month before falls in the previous 年度: two terms, the new one's officers chosen in writing.
    "april": dt.datetime(2027, 4, 12, 10, 0, tzinfo=TOKYO),
}


@pytest.fixture(scope="module", params=list(DAYS))
def moment(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo loaded on one day; every test of the day runs at that moment again."""
    when = DAYS[request.param] or timezone.now()
    tmp = tmp_path_factory.mktemp(f"demo-{request.param}")
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, MEDIA_ROOT=tmp / "media", VAR_DIR=tmp),
        pytest.MonkeyPatch.context() as patch,
    ):
        # The demo PDFs are checked in tests/documents; rendering them here would only take time.
        patch.setattr("documents.demo.render_pdf", lambda *args, **kwargs: MINIMAL_PDF)
        with transaction.atomic():
            with time_machine.travel(when, tick=False):
                call_command("load_demo", stdout=StringIO())
            yield when
            transaction.set_rollback(True)


@pytest.fixture
def at_moment(moment, db):
    cache.clear()
    with time_machine.travel(moment, tick=False):
        yield timezone.localdate()


@pytest.mark.parametrize(
    ("today", "past", "upcoming", "renewed"),
    [
        (dt.date(2023, 5, 1), None, None, None),  # before the seed's members took office: nothing live
        (dt.date(2023, 5, 10), dt.date(2023, 5, 10), dt.date(2023, 6, 9), []),
        (dt.date(2026, 12, 1), dt.date(2026, 10, 30), dt.date(2027, 1, 4), [2026]),  # weekend, 年末年始
        (dt.date(2027, 4, 12), dt.date(2027, 3, 12), dt.date(2027, 5, 12), [2026, 2027]),
        (dt.date(2027, 3, 20), dt.date(2027, 2, 18), dt.date(2027, 4, 19), [2026, 2027]),
    ],
)
def test_live_days_are_weekdays_around_today_and_say_which_years_are_renewed(today, past, upcoming, renewed):
    from committee.demo import live_days

    days = live_days(today)
    if past is None:
        assert days is None
        return
    assert (days.past, days.next, days.renewed_years) == (past, upcoming, renewed)


def committee() -> Body:
    return Body.objects.get(slug=COMMITTEE)


def account(name: str) -> User:
    return User.objects.get(email=f"{name}@demo.dxplan.example")


def next_meeting() -> Meeting:
    """The committee's next meeting to come (next month's)."""
    return (
        Meeting.objects.filter(body__slug=COMMITTEE, start_at__gt=timezone.now())
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("start_at")
        .first()
    )


def past_meeting() -> Meeting:
    return Meeting.objects.get(body__slug=COMMITTEE, minutes__status=Minutes.Status.PUBLISHED)


def test_the_committee_is_in_office_today_with_the_demo_accounts_in_it(at_moment):
    today = at_moment
    roster = committee_selectors.roster_on(body=committee(), day=today, members_only=True)
    people = {a.person.user_id for a in roster if a.person is not None}
    assert len(roster) == SEED_MEMBERS
    assert account("chair").pk in people
    assert account("member").pk in people
    officers = committee_selectors.officers_on(body=committee(), day=today)
    assert officers.chair is not None
    assert officers.chair.appointment.person.user == account("chair")
    assert officers.chair.appointment.is_active_on(today)
    secretariat = account("secretariat")
    assert not secretariat.is_superuser


def test_next_month_has_a_meeting_with_invitees_and_its_notice(at_moment):
    today = at_moment
    meeting = next_meeting()
    assert meeting is not None
    assert 20 <= (meeting.date - today).days <= 45, meeting.date
    invited = selectors.invited_members(meeting)
    assert len(invited) == SEED_MEMBERS
    assert meeting.attendances.filter(appointment__isnull=False).count() == SEED_MEMBERS
    notice = Notice.objects.get(meeting=meeting, kind=Notice.Kind.CONVOCATION)
    recipients = set(Delivery.objects.filter(notice=notice).values_list("person__user__email", flat=True))
    assert {"chair@demo.dxplan.example", "member@demo.dxplan.example"} <= recipients


def test_next_months_agenda_waits_for_the_current_chair(at_moment, client):
    meeting = next_meeting()
    assert meeting.agenda.status == Agenda.Status.SUBMITTED
    approver = selectors.approver_for(meeting)
    assert approver.kind == OfficerTerm.Role.CHAIR
    assert approver.user == account("chair")
    client.force_login(account("chair"))
    assert meeting in selectors.agendas_waiting_for(account("chair"))
    response = client.get(reverse("meetings:agenda_review", args=[meeting.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "この版を承認する" in page
    assert "報告事項" in page  # the revision added after the notice went out
    response = client.post(
        reverse("meetings:agenda_review", args=[meeting.pk]),
        {"decision": "approve", "sha256": meeting.agenda.current_version.sha256},
    )
    assert response.status_code == 302
    assert Agenda.objects.get(meeting=meeting).status == Agenda.Status.APPROVED


def test_a_member_sees_next_months_meeting_and_answers(at_moment, client):
    meeting = next_meeting()
    client.force_login(account("member"))
    page = client.get(reverse("meetings:my_meetings")).content.decode()
    assert reverse("meetings:detail", args=[meeting.pk]) in page
    assert "未回答" in page
    response = client.post(reverse("meetings:answer", args=[meeting.pk]), {"reply": "venue", "note": ""})
    assert response.status_code == 302
    row = Attendance.objects.get(meeting=meeting, appointment__person__user=account("member"))
    assert row.reply == Attendance.Reply.VENUE


def test_the_public_reads_the_past_meetings_minutes_without_the_closed_passage(at_moment, client):
    today = at_moment
    meeting = past_meeting()
    assert meeting.date < today or meeting.date == today == dt.date(2023, 5, 10)
    assert (today - meeting.date).days <= 35
    entries = list(meeting.minutes.entries.all())
    assert {e.speaker for e in entries} >= {"委員長", "石井委員", "舘田委員", "事務局"}
    assert [e for e in entries if e.is_closed]
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "市町村への横展開" in page
    assert CLOSED_MARK not in page
    attended = meeting.attendances.filter(actual="present", appointment__isnull=False).count()
    assert 0 < attended < SEED_MEMBERS + 1


def test_the_fy2023_history_is_the_seeds(at_moment, client):
    seed = Meeting.objects.filter(body__slug=COMMITTEE, fiscal_year=2023).order_by("number")
    assert [m.number for m in seed] == [1, 2, 3, 4]
    first = seed[0]
    assert first.date == dt.date(2023, 5, 10)
    assert first.attendances.count() == 14
    roster = committee_selectors.roster_on(body=committee(), day=dt.date(2023, 6, 1), members_only=True)
    assert len(roster) == SEED_MEMBERS
    assert {a.term_end for a in roster} == {dt.date(2024, 3, 31)}
    assert (
        Appointment.objects.filter(body__slug=COMMITTEE, term_start=dt.date(2023, 5, 10)).count() == SEED_MEMBERS
    )
    page = client.get(reverse("meetings:schedule_year", args=[2023])).content.decode()
    for label in ("第1回", "第2回", "第3回", "第4回"):
        assert label in page
    page = client.get(reverse("meetings:body_meetings", args=[COMMITTEE])).content.decode()
    assert "第1回" in page


def test_a_renewed_term_keeps_most_members_and_follows_the_guidelines(at_moment):
    today = at_moment
    roster = committee_selectors.roster_on(body=committee(), day=today, members_only=True)
    if today.year == 2023:
        assert {a.term_start for a in roster} == {dt.date(2023, 5, 10)}  # the seed's term, not a second one
        assert not Person.objects.filter(family_name="三浦").exists()
        return
    names = {(a.person.family_name, a.person.given_name) for a in roster}
    assert ("加藤", "夢人") not in names and ("山内", "和彦") not in names
    assert ("三浦", "栞") in names and ("工藤", "航") in names
    start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    current = [a for a in roster if a.term_start <= today]
    assert {a.term_end for a in current} <= {dt.date(start.year + 1, 3, 31), dt.date(start.year + 2, 3, 31)}
    assert all(a.guideline.term_rule == "years_fy_end" for a in current)


def test_loading_twice_changes_nothing(at_moment, moment):
    counts = (Meeting.objects.count(), Appointment.objects.count(), Delivery.objects.count(), Minutes.objects.count())
    with time_machine.travel(moment, tick=False):
        call_command("load_demo", stdout=StringIO())
    assert (
        Meeting.objects.count(),
        Appointment.objects.count(),
        Delivery.objects.count(),
        Minutes.objects.count(),
    ) == counts
