"""Reads of meetings: numbering of the 次第, what each user may see, the year's schedule, dashboards."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from committee import selectors as committee_selectors
from committee import services as committee_services
from committee.models import Appointment
from meetings import selectors, services
from meetings.models import AgendaItem, Attendance, Meeting, Milestone
from tests import factories
from tests.conftest import TOKYO

from .conftest import AFTER, agenda_of, plan, refresh, row_of

# --- the 次第 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "index", "number"),
    [(0, 1, "1"), (0, 12, "12"), (1, 1, "(1)"), (1, 2, "(2)"), (2, 1, "①"), (2, 20, "⑳"), (2, 21, "(21)")],
)
def test_item_numbers_follow_the_seed(depth, index, number):
    assert selectors.item_number(depth, index) == number


def test_agenda_tree_orders_by_position_whatever_the_insertion_order(meeting, secretariat, django_assert_num_queries):
    business = AgendaItem.objects.get(agenda__meeting=meeting, title="議事")
    AgendaItem.objects.create(agenda=business.agenda, parent=business, title="報告", position=0)

    agenda = agenda_of(meeting)
    with django_assert_num_queries(1):
        tree = selectors.agenda_tree(agenda)
    assert [(n.number, n.item.title) for n in tree] == [
        ("1", "開会"),
        ("2", "議事"),
        ("(1)", "報告"),
        ("(2)", "骨子案について"),
        ("(3)", "意見交換"),
        ("3", "閉会"),
    ]


def _snapshot_items(*spec):
    return [{"title": t, "depth": d, "public": p} for t, d, p in spec]


def test_public_items_leave_out_closed_items_and_what_is_under_them():
    items = _snapshot_items(
        ("開会", 0, True),
        ("議事", 0, True),
        ("人事", 1, False),
        ("候補者", 2, True),
        ("報告", 1, True),
        ("非公開の部", 0, False),
        ("説明", 1, True),
        ("閉会", 0, True),
    )
    assert [i["title"] for i in selectors.public_items(items)] == ["開会", "議事", "報告", "閉会"]


# --- who sees what ------------------------------------------------------------------------------


@pytest.fixture
def with_closed_item(meeting, secretariat):
    item = AgendaItem.objects.get(agenda__meeting=meeting, title="骨子案について")
    services.agenda_item_update(actor=secretariat, item=item, is_public=False, closure_basis="委員の承諾 (第4-4)")
    return meeting


def test_members_read_the_approved_version_the_public_only_once_notices_are_out(
    with_closed_item, secretariat, chair, member, outsider
):
    meeting = with_closed_item
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    anonymous_access, member_access = selectors.Access(), selectors.access_to(member, refresh(meeting))
    assert member_access.member and not member_access.manage
    assert selectors.access_to(outsider, refresh(meeting)).sees_private is False

    # Submitted, not approved: nobody outside the secretariat reads it.
    assert selectors.visible_agenda(refresh(meeting), member_access) is None
    assert selectors.visible_agenda(refresh(meeting), anonymous_access) is None

    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    assert len(selectors.visible_agenda(refresh(meeting), member_access)["items"]) == 5
    assert selectors.visible_agenda(refresh(meeting), anonymous_access) is None  # notices not yet out

    services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    public = selectors.visible_agenda(refresh(meeting), anonymous_access)
    assert [i["title"] for i in public["items"]] == ["開会", "議事", "意見交換", "閉会"]


def test_an_agenda_edited_after_approval_shows_the_approved_version_not_the_draft(
    meeting, secretariat, member, notified
):
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="下書きの議題")
    for access in (selectors.Access(), selectors.access_to(member, refresh(meeting))):
        titles = [i["title"] for i in selectors.visible_agenda(refresh(meeting), access)["items"]]
        assert "下書きの議題" not in titles and "開会" in titles


@pytest.mark.parametrize("end", ["cancelled", "postponed"])
def test_the_public_never_reads_the_agenda_of_a_meeting_stopped_before_notice(meeting, secretariat, approved, end):
    if end == "cancelled":
        services.meeting_cancel(actor=secretariat, meeting=meeting, reason="中止")
    else:
        services.meeting_postpone(actor=secretariat, meeting=meeting, reason="延期")
    assert selectors.visible_agenda(refresh(meeting), selectors.Access()) is None


def test_access_is_judged_on_the_meeting_day(
    meeting, body, secretariat, member, member_appointment, other_secretariat, superuser, outsider
):
    assert selectors.access_to(secretariat, meeting).manage
    assert selectors.access_to(superuser, meeting).manage
    assert not selectors.access_to(other_secretariat, meeting).sees_private
    assert selectors.access_to(member, meeting).member

    committee_services.appointment_end(
        actor=secretariat,
        appointment=member_appointment,
        ended_on=dt.date(2023, 6, 6),
        reason=Appointment.EndReason.RESIGNED,
    )
    assert not selectors.access_to(member, meeting).member  # resigned the day before


def test_an_invited_guest_sees_the_members_view(meeting, outsider):
    person = factories.PersonFactory(user=outsider, family_name="参考", family_name_kana="さんこう")
    meeting.attendees.create(role="witness", person=person)
    assert selectors.access_to(outsider, meeting).member


def test_invited_members_are_members_in_office_not_observers(meeting, body, chair, member):
    observer = factories.PersonFactory(family_name="観察", family_name_kana="かんさつ")
    committee_services.appointment_create(
        actor=None,
        body=body,
        person=observer,
        appointed_on=dt.date(2023, 5, 10),
        category=Appointment.Category.OBSERVER,
    )
    assert [a.holder_name for a in selectors.invited_members(meeting)] == ["佐藤 志穂", "森 樹男"]


# --- the year's schedule ----------------------------------------------------------------------


def _cells(rows, body):
    row = next(r for r in rows if r.body == body)
    return [(c.months, [(kind, getattr(e, "label", None) or e.name) for kind, e in c.entries]) for c in row.cells]


def test_year_schedule_has_a_cell_per_month_and_spans_for_periods(body, secretariat, in_term):
    plan(body, secretariat, day=dt.date(2023, 5, 10))
    services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2023, 10, 1), theme="原案検討")
    plan(body, secretariat, day=dt.date(2024, 3, 31))  # the last day of FY2023
    plan(body, secretariat, day=dt.date(2024, 4, 1))  # FY2024
    Milestone.objects.create(
        body=body,
        name="パブコメ",
        fiscal_year=2023,
        start_on=dt.date(2023, 9, 1),
        start_precision="month",
        end_on=dt.date(2023, 9, 30),
    )
    Milestone.objects.create(
        body=body,
        name="適宜開催",
        fiscal_year=2023,
        start_on=dt.date(2023, 11, 1),
        start_precision="month",
        end_on=dt.date(2024, 1, 31),
    )

    rows = selectors.year_schedule(fiscal_year=2023, bodies=committee_selectors.public_bodies())

    assert _cells(rows, body) == [
        ([4], []),
        ([5], [("meeting", "第1回")]),
        ([6], []),
        ([7], []),
        ([8], []),
        ([9], [("milestone", "パブコメ")]),
        ([10], [("meeting", "第2回")]),
        ([11, 12, 1], [("milestone", "適宜開催")]),
        ([2], []),
        ([3], [("meeting", "第3回")]),
    ]


def test_a_period_with_a_meeting_inside_is_shown_month_by_month(body, secretariat, in_term):
    Milestone.objects.create(
        body=body,
        name="適宜開催",
        fiscal_year=2023,
        start_on=dt.date(2023, 9, 1),
        start_precision="month",
        end_on=dt.date(2023, 11, 30),
    )
    plan(body, secretariat, day=dt.date(2023, 10, 4))

    cells = _cells(selectors.year_schedule(fiscal_year=2023, bodies=committee_selectors.public_bodies()), body)

    assert cells[5:8] == [
        ([9], [("milestone", "適宜開催")]),
        ([10], [("meeting", "第1回"), ("milestone", "適宜開催")]),
        ([11], [("milestone", "適宜開催")]),
    ]
    assert sum(len(months) for months, _entries in cells) == 12


def test_year_schedule_leaves_out_bodies_with_nothing_and_private_bodies(body, other_body, unit, secretariat, in_term):
    private = factories.BodyFactory(is_public=False, secretariat=unit)
    plan(private, secretariat)
    plan(body, secretariat)
    rows = selectors.year_schedule(fiscal_year=2023, bodies=committee_selectors.public_bodies())
    assert [r.body for r in rows] == [body]


# --- lists and dashboards ----------------------------------------------------------------------


def test_agendas_waiting_for_the_presiding_officer_only(meeting, secretariat, chair, vice_chair, member, submitted):
    plan(meeting.body, secretariat, day=dt.date(2023, 7, 26))  # a draft: not waiting
    assert selectors.agendas_waiting_for(chair) == [meeting]
    for user in (vice_chair, member, secretariat):
        assert selectors.agendas_waiting_for(user) == []


def test_agendas_waiting_for_the_convener_before_any_chair(body, secretariat, convener, member, in_term):
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))
    services.agenda_item_add(actor=secretariat, meeting=first, title="開会")
    services.agenda_submit(actor=secretariat, meeting=first)
    assert selectors.agendas_waiting_for(convener) == [first]
    assert selectors.agendas_waiting_for(member) == []


def test_meetings_of_member_splits_upcoming_and_past(invited, body, secretariat, member):
    earlier = plan(body, secretariat, day=dt.date(2023, 5, 20))
    services.attendance_prepare(actor=secretariat, meeting=earlier)
    upcoming, past = selectors.meetings_of_member(member)
    assert [r.meeting for r in upcoming] == [invited]
    assert [r.meeting for r in past] == [earlier]


def test_secretariat_sees_open_meetings_of_its_bodies_with_what_is_missing(
    invited, body, other_body, secretariat, other_secretariat, member
):
    services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="venue")
    cancelled = plan(body, secretariat, day=dt.date(2023, 7, 26))
    services.meeting_cancel(actor=secretariat, meeting=cancelled, reason="中止")
    plan(other_body, other_secretariat)

    meetings = selectors.upcoming_for_secretariat(secretariat)

    assert meetings == [invited]
    assert (meetings[0].invited, meetings[0].unanswered, meetings[0].item_count) == (3, 2, 5)
    assert [m.body for m in selectors.upcoming_for_secretariat(other_secretariat)] == [other_body]


def test_minutes_are_overdue_a_month_after_the_meeting(held):
    meeting = refresh(held)
    assert not selectors.minutes_overdue(meeting, dt.date(2023, 7, 7))
    assert selectors.minutes_overdue(meeting, dt.date(2023, 7, 8))
    meeting.status = Meeting.Status.MINUTES_PUBLISHED
    assert not selectors.minutes_overdue(meeting, dt.date(2023, 9, 1))


def test_attendance_rows_put_members_in_gojuon_order_then_guests_by_role(
    meeting, secretariat, chair, member, vice_chair
):
    meeting.attendees.create(role="secretariat", title="DX推進課")
    meeting.attendees.create(role="official", title="企画政策部次長")
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    names = [r.holder_name for r in selectors.attendance_rows(meeting)]
    assert names == ["石井 重成", "佐藤 志穂", "森 樹男", "企画政策部次長", "DX推進課"]


def test_quorum_before_the_meeting_counts_answers_and_after_it_recorded_attendance(
    invited, secretariat, member, guideline
):
    guideline.quorum_rule = "majority"
    guideline.save()
    services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="venue")
    assert selectors.quorum(refresh(invited)).counted == 1
    with time_machine.travel(AFTER, tick=False):
        services.attendance_record(
            actor=secretariat, meeting=invited, records={row_of(invited, member).pk: (Attendance.Actual.ABSENT, "")}
        )
    assert selectors.quorum(refresh(invited)).counted == 0


def test_month_only_meetings_take_their_place_in_the_year(body, secretariat, in_term):
    import datetime as dt

    from meetings import services as meeting_services
    from tests.meetings.conftest import plan

    august = meeting_services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2023, 8, 1))
    june = plan(body, secretariat, day=dt.date(2023, 6, 7))
    march = meeting_services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2024, 3, 1))
    july = plan(body, secretariat, day=dt.date(2023, 7, 26))
    assert selectors.body_meetings_by_year(body)[2023] == [june, july, august, march]
    assert list(selectors.upcoming_for_secretariat(secretariat, today=dt.date(2023, 6, 1))) == [
        june,
        july,
        august,
        march,
    ]


def test_a_meeting_left_planned_after_its_day_is_stale_not_open(body, secretariat, in_term):
    """A meeting whose day passed while still 予定 leaves the open list for the stale one; one to come
    stays open, and so does a held one whose minutes are still to write."""
    from tests.meetings.conftest import plan

    left = plan(body, secretariat, day=dt.date(2023, 6, 20))
    later = plan(body, secretariat, day=dt.date(2023, 9, 1))
    held = plan(body, secretariat, day=dt.date(2023, 6, 10))
    notified = plan(body, secretariat, day=dt.date(2023, 6, 25))
    today_ = plan(body, secretariat, day=dt.date(2023, 7, 1))
    Meeting.objects.filter(pk=held.pk).update(status=Meeting.Status.HELD)
    Meeting.objects.filter(pk__in=[notified.pk, today_.pk]).update(status=Meeting.Status.NOTIFIED)
    with time_machine.travel(dt.datetime(2023, 7, 1, 10, tzinfo=TOKYO), tick=False):
        open_, stale = selectors.secretariat_meetings(secretariat)
    # The day's own meeting is still to hold; a notified one whose day passed unrecorded is past, not 進行中.
    assert [m.pk for m in open_] == [held.pk, today_.pk, later.pk]
    assert [m.pk for m in stale] == [left.pk, notified.pk]
