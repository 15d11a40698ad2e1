"""Every change of a meeting's state: numbering, the 次第 and its approval, attendance, seating, the
election of officers and the minutes. Each service is tried by the right and the wrong people, from
the right and the wrong state, and twice."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from committee import selectors as committee_selectors
from committee import services as committee_services
from committee.models import Appointment, Guideline, OfficerTerm
from core.models import AuditEntry
from meetings import selectors, services
from meetings.models import (
    Agenda,
    AgendaItem,
    AgendaVersion,
    Attendance,
    Attendee,
    Meeting,
    Minutes,
    MinutesConfirmation,
    MinutesEntry,
    OfficerElection,
    Seat,
)
from meetings.services import MeetingError
from tests import factories
from tests.conftest import TOKYO, appoint

from .conftest import AFTER, MEETING_DAY, agenda_of, appoint_others, at, plan, refresh, row_of

STALE = "was changed after you opened it"
NOT_PRESIDING = "Only the presiding officer"


def audit(meeting: Meeting, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, target_id=str(meeting.pk)).order_by("id"))


# --- numbering ---------------------------------------------------------------------------------


def test_meetings_are_numbered_in_turn(body, secretariat, in_term):
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))
    second = plan(body, secretariat, day=dt.date(2023, 6, 7))

    assert (first.number, first.label) == (1, "第1回")
    assert (second.number, second.label) == (2, "第2回")
    assert first.title == body.name
    assert agenda_of(first).status == Agenda.Status.DRAFT  # every meeting has its 次第 from the start


def test_a_cancelled_meeting_keeps_its_number_and_it_is_never_reused(body, secretariat, in_term):
    plan(body, secretariat, day=dt.date(2023, 5, 10))
    second = plan(body, secretariat, day=dt.date(2023, 6, 7))

    services.meeting_cancel(actor=secretariat, meeting=second, reason="台風接近のため")
    third = plan(body, secretariat, day=dt.date(2023, 7, 26))

    second.refresh_from_db()
    assert (second.number, second.status, second.cancel_reason) == (2, Meeting.Status.CANCELLED, "台風接近のため")
    assert third.number == 3
    assert [e.actor for e in audit(second, "meeting_cancelled")] == [secretariat]


def test_cancelling_needs_a_reason_and_twice_is_harmless(body, secretariat, in_term):
    meeting = plan(body, secretariat)
    with pytest.raises(MeetingError, match="reason"):
        services.meeting_cancel(actor=secretariat, meeting=meeting, reason="  ")
    services.meeting_cancel(actor=secretariat, meeting=meeting, reason="中止")
    services.meeting_cancel(actor=secretariat, meeting=meeting, reason="中止")
    assert len(audit(meeting, "meeting_cancelled")) == 1


def test_an_explicit_number_that_exists_is_refused(body, secretariat, in_term):
    plan(body, secretariat, number=1)
    with pytest.raises(MeetingError, match="第1回 exists already"):
        plan(body, secretariat, day=dt.date(2023, 7, 26), number=1)
    assert Meeting.objects.filter(body=body).count() == 1


def test_a_cancelled_meetings_number_cannot_be_given_again(body, secretariat, in_term):
    first = plan(body, secretariat)
    services.meeting_cancel(actor=secretariat, meeting=first, reason="中止")
    with pytest.raises(MeetingError, match="never reused"):
        plan(body, secretariat, day=dt.date(2023, 7, 26), number=1)


def test_an_unnumbered_meeting_has_a_name_and_takes_no_number(body, secretariat, in_term):
    prep = plan(body, secretariat, day=dt.date(2023, 5, 22), name="準備会")
    first = plan(body, secretariat)

    assert (prep.number, prep.label) == (None, "準備会")
    assert first.label == "第1回"


def test_other_bodies_count_their_own_numbers(body, other_body, secretariat, in_term):
    plan(body, secretariat)
    assert plan(other_body, None).label == "第1回"


def test_a_meeting_with_only_the_month_fixed(body, secretariat, in_term):
    meeting = services.meeting_create(
        actor=secretariat, body=body, planned_month=dt.date(2023, 10, 17), theme="原案検討"
    )

    assert meeting.start_at is None and meeting.day_undecided
    assert meeting.planned_month == dt.date(2023, 10, 1)
    assert meeting.fiscal_year == 2023
    assert meeting.reference_date == dt.date(2023, 10, 1)
    assert meeting.when_ja == "令和5年10月(日程未定)"


@pytest.mark.parametrize(
    ("month", "fiscal_year"), [(dt.date(2024, 1, 1), 2023), (dt.date(2024, 3, 1), 2023), (dt.date(2024, 4, 1), 2024)]
)
def test_a_month_only_meetings_fiscal_year_comes_from_the_month(body, secretariat, in_term, month, fiscal_year):
    assert services.meeting_create(actor=secretariat, body=body, planned_month=month).fiscal_year == fiscal_year


def test_a_meeting_needs_a_day_or_a_month(body, secretariat, in_term):
    with pytest.raises(MeetingError, match="at least the month"):
        services.meeting_create(actor=secretariat, body=body)
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("start", "fiscal_year"),
    [
        (dt.datetime(2024, 3, 31, 14, 0, tzinfo=TOKYO), 2023),
        # 2024-04-01 00:30 in Tokyo is still 31 March in UTC: the fiscal year follows Tokyo.
        (dt.datetime(2024, 4, 1, 0, 30, tzinfo=TOKYO), 2024),
        (dt.datetime(2023, 4, 1, 9, 0, tzinfo=TOKYO), 2023),
    ],
)
def test_fiscal_year_of_a_meeting_at_the_year_boundary(body, secretariat, in_term, start, fiscal_year):
    meeting = services.meeting_create(actor=secretariat, body=body, start_at=start)
    assert meeting.fiscal_year == fiscal_year


def test_moving_a_meeting_into_the_next_fiscal_year_changes_its_year(body, secretariat, in_term):
    meeting = plan(body, secretariat, day=dt.date(2024, 3, 27))
    meeting = services.meeting_update(
        actor=secretariat, meeting=meeting, start_at=at(dt.date(2024, 4, 3)), end_at=at(dt.date(2024, 4, 3), 16)
    )
    assert meeting.fiscal_year == 2024
    assert meeting.sequence == 1  # a change of date after planning raises the revision


def test_postponed_meeting_keeps_its_number_and_records_the_old_date(body, secretariat, in_term):
    meeting = plan(body, secretariat)
    old_start = meeting.start_at
    new_start = at(dt.date(2023, 6, 21))

    services.meeting_postpone(actor=secretariat, meeting=meeting, reason="会場都合", new_start_at=new_start)

    meeting.refresh_from_db()
    assert (meeting.number, meeting.status) == (1, Meeting.Status.POSTPONED)
    assert (meeting.postponed_from, meeting.start_at) == (old_start, new_start)
    assert [e.actor for e in audit(meeting, "meeting_postponed")] == [secretariat]


# --- the 次第: submission and approval -----------------------------------------------------------


def test_the_presiding_officer_approves_the_version_read(meeting, secretariat, chair):
    version = services.agenda_submit(actor=secretariat, meeting=meeting)

    agenda = agenda_of(meeting)
    assert (agenda.status, agenda.current_version, version.number) == (Agenda.Status.SUBMITTED, version, 1)
    assert version.submitted_by == secretariat
    assert version.sha256 == services.snapshot_hash(version.snapshot)
    assert [i["title"] for i in version.snapshot["items"]] == ["開会", "議事", "骨子案について", "意見交換", "閉会"]

    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)

    agenda = agenda_of(meeting)
    version.refresh_from_db()
    assert (agenda.status, agenda.approved_version) == (Agenda.Status.APPROVED, version)
    assert (version.decision, version.decided_by, version.decided_as) == ("approved", chair, "委員長")
    assert version.decided_at is not None
    assert [e.actor for e in audit(meeting, "agenda_submitted")] == [secretariat]
    assert [(e.actor, e.data["sha256"]) for e in audit(meeting, "agenda_approved")] == [(chair, version.sha256)]


def test_the_snapshot_numbers_items_like_the_seed(submitted):
    assert [(i["number"], i["depth"]) for i in submitted.snapshot["items"]] == [
        ("1", 0),
        ("2", 0),
        ("(1)", 1),
        ("(2)", 1),
        ("3", 0),
    ]


def test_items_nest_three_levels_with_circled_numbers(meeting, secretariat):
    business = AgendaItem.objects.get(agenda__meeting=meeting, title="骨子案について")
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="第1章", parent=business)
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="第2章", parent=business)

    numbers = [(n.number, n.item.title) for n in selectors.agenda_tree(agenda_of(meeting))]
    assert numbers[2:5] == [("(1)", "骨子案について"), ("①", "第1章"), ("②", "第2章")]


def test_an_empty_agenda_cannot_be_submitted(body, secretariat, chair, in_term):
    meeting = plan(body, secretariat)
    with pytest.raises(MeetingError, match="no items"):
        services.agenda_submit(actor=secretariat, meeting=meeting)
    assert not AgendaVersion.objects.exists()


def test_submitting_an_unchanged_agenda_twice_makes_one_version(meeting, secretariat, submitted):
    assert services.agenda_submit(actor=secretariat, meeting=meeting) == submitted
    assert AgendaVersion.objects.count() == 1
    assert len(audit(meeting, "agenda_submitted")) == 1


@pytest.mark.parametrize(
    "who", ["secretariat", "vice_chair", "member", "outsider", "other_member", "other_secretariat", "superuser"]
)
def test_only_the_presiding_officer_approves(request, meeting, submitted, who):
    user = request.getfixturevalue(who)

    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_approve(actor=user, meeting=meeting, sha256=submitted.sha256)

    agenda = agenda_of(meeting)
    submitted.refresh_from_db()
    assert (agenda.status, agenda.approved_version) == (Agenda.Status.SUBMITTED, None)
    assert (submitted.decision, submitted.decided_by) == ("", None)
    assert not audit(meeting, "agenda_approved")


@pytest.mark.parametrize("who", ["secretariat", "member", "outsider", "other_member"])
def test_only_the_presiding_officer_returns(request, meeting, submitted, who):
    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_return(
            actor=request.getfixturevalue(who), meeting=meeting, sha256=submitted.sha256, comment="やり直し"
        )
    assert agenda_of(meeting).status == Agenda.Status.SUBMITTED
    assert not audit(meeting, "agenda_returned")


def test_the_submitter_cannot_approve_its_own_draft(meeting, chair):
    # Whoever submits (here the chair, who drafted it themself) cannot also approve it.
    version = services.agenda_submit(actor=chair, meeting=meeting)
    with pytest.raises(MeetingError, match="submitted the 次第 cannot approve"):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    assert agenda_of(meeting).status == Agenda.Status.SUBMITTED


def test_approving_a_version_the_chair_did_not_see_is_refused(meeting, secretariat, chair, submitted):
    # The chair opened version 1; meanwhile the secretariat changed the 次第 and submitted version 2.
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="その他")
    second = services.agenda_submit(actor=secretariat, meeting=meeting)

    with pytest.raises(MeetingError, match=STALE):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)

    agenda = agenda_of(meeting)
    submitted.refresh_from_db()
    second.refresh_from_db()
    assert (agenda.status, agenda.current_version, agenda.approved_version) == (Agenda.Status.SUBMITTED, second, None)
    assert submitted.decision == "superseded"
    assert second.decision == ""
    assert not audit(meeting, "agenda_approved")

    services.agenda_approve(actor=chair, meeting=meeting, sha256=second.sha256)
    assert agenda_of(meeting).approved_version == second


def test_resubmitting_a_changed_agenda_supersedes_the_version_waiting(meeting, secretariat, chair, submitted):
    AgendaItem.objects.filter(agenda__meeting=meeting, title="閉会").update(title="閉会(予定)")  # no service told

    second = services.agenda_submit(actor=secretariat, meeting=meeting)

    submitted.refresh_from_db()
    assert (second.number, submitted.decision) == (2, "superseded")
    assert agenda_of(meeting).current_version == second
    assert list(AgendaVersion.objects.filter(decision="")) == [second]  # one version waits, not two


def test_approval_is_refused_when_the_items_changed_behind_the_services_back(meeting, chair, submitted):
    # A direct edit (a data fix, an admin inline saved before agenda_edited runs) changes the content.
    AgendaItem.objects.filter(agenda__meeting=meeting, title="閉会").update(title="閉会(予定)")

    with pytest.raises(MeetingError, match=STALE):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)
    assert agenda_of(meeting).status == Agenda.Status.SUBMITTED


def test_a_made_up_hash_is_refused(meeting, chair, submitted):
    with pytest.raises(MeetingError, match=STALE):
        services.agenda_approve(actor=chair, meeting=meeting, sha256="0" * 64)
    assert agenda_of(meeting).status == Agenda.Status.SUBMITTED


def test_approving_twice_is_harmless(meeting, chair, submitted):
    first = services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)
    again = services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)

    assert first == again == submitted
    assert len(audit(meeting, "agenda_approved")) == 1


def test_after_approval_nobody_else_can_approve_the_same_version(meeting, secretariat, member, approved):
    for user in (secretariat, member):
        with pytest.raises(MeetingError, match="not waiting for approval"):
            services.agenda_approve(actor=user, meeting=meeting, sha256=approved.sha256)
    assert len(audit(meeting, "agenda_approved")) == 1


def test_approving_a_draft_is_refused(meeting, chair):
    snapshot_hash = services.snapshot_hash(services.agenda_snapshot(agenda_of(meeting)))
    with pytest.raises(MeetingError, match="not waiting for approval"):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=snapshot_hash)
    assert agenda_of(meeting).status == Agenda.Status.DRAFT


def _edit_add(meeting, actor):
    services.agenda_item_add(actor=actor, meeting=meeting, title="その他")


def _edit_update(meeting, actor):
    item = AgendaItem.objects.get(agenda__meeting=meeting, title="意見交換")
    services.agenda_item_update(actor=actor, item=item, title="意見交換(本県のめざす姿)")


def _edit_delete(meeting, actor):
    services.agenda_item_delete(actor=actor, item=AgendaItem.objects.get(agenda__meeting=meeting, title="閉会"))


def _edit_directly(meeting, actor):
    # The admin's inline forms save the items, then tell the service.
    AgendaItem.objects.filter(agenda__meeting=meeting, title="開会").update(presenter="事務局")
    services.agenda_edited(actor=actor, meeting=meeting)


def _edit_meeting(meeting, actor):
    # The meeting's particulars are part of the 次第 the chair approved.
    services.meeting_update(actor=actor, meeting=meeting, venue_name="アピオあおもり")


EDITS = pytest.mark.parametrize(
    "edit",
    [_edit_add, _edit_update, _edit_delete, _edit_directly, _edit_meeting],
    ids=["item_add", "item_update", "item_delete", "agenda_edited", "meeting_update"],
)


@EDITS
def test_an_edit_after_approval_needs_a_new_approval(meeting, secretariat, chair, approved, edit):
    edit(meeting, secretariat)

    agenda = agenda_of(meeting)
    approved.refresh_from_db()
    assert agenda.status == Agenda.Status.DRAFT
    assert approved.decision == "approved"  # the history keeps who approved what
    assert [e.actor for e in audit(meeting, "agenda_reopened")] == [secretariat]
    with pytest.raises(MeetingError, match="not waiting for approval"):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=approved.sha256)

    second = services.agenda_submit(actor=secretariat, meeting=meeting)
    assert second.number == 2 and second.sha256 != approved.sha256
    services.agenda_approve(actor=chair, meeting=meeting, sha256=second.sha256)

    agenda = agenda_of(meeting)
    assert (agenda.status, agenda.approved_version) == (Agenda.Status.APPROVED, second)
    assert [v.decision for v in agenda.versions.order_by("number")] == ["approved", "approved"]


@EDITS
def test_an_edit_while_waiting_supersedes_the_pending_version(meeting, secretariat, chair, submitted, edit):
    edit(meeting, secretariat)

    agenda = agenda_of(meeting)
    submitted.refresh_from_db()
    assert agenda.status == Agenda.Status.DRAFT
    assert (submitted.decision, submitted.decided_by) == ("superseded", None)
    with pytest.raises(MeetingError):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)

    second = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.agenda_approve(actor=chair, meeting=meeting, sha256=second.sha256)
    assert agenda_of(meeting).approved_version == second


def test_agenda_edited_without_a_change_keeps_the_approval(meeting, secretariat, approved):
    services.agenda_edited(actor=secretariat, meeting=meeting)
    services.meeting_update(actor=secretariat, meeting=meeting, online_note="Zoom")  # not on the 次第
    assert agenda_of(meeting).status == Agenda.Status.APPROVED
    assert not audit(meeting, "agenda_reopened")


def test_recording_an_outcome_keeps_the_approval(meeting, secretariat, approved):
    item = AgendaItem.objects.get(agenda__meeting=meeting, title="骨子案について")
    services.agenda_item_update(actor=secretariat, item=item, outcome="原案のとおり了承")
    assert agenda_of(meeting).status == Agenda.Status.APPROVED


def test_approval_then_edit_leaves_one_consistent_state(meeting, secretariat, chair, submitted):
    # The chair approves what was read; an edit arriving after it reopens the 次第. Whatever order the
    # two come in, exactly one version is approved, the agenda is a draft and no version is left pending.
    services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)
    _edit_add(meeting, secretariat)
    with pytest.raises(MeetingError):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)  # a late double click

    agenda = agenda_of(meeting)
    versions = list(agenda.versions.all())
    assert agenda.status == Agenda.Status.DRAFT
    assert agenda.approved_version == agenda.current_version == submitted
    assert [(v.number, v.decision) for v in versions] == [(1, "approved")]
    assert services.snapshot_hash(services.agenda_snapshot(agenda)) != submitted.sha256
    assert len(audit(meeting, "agenda_approved")) == 1


def test_after_a_return_nobody_else_can_return_the_same_version(meeting, chair, member, submitted):
    services.agenda_return(actor=chair, meeting=meeting, sha256=submitted.sha256, comment="修正を")
    with pytest.raises(MeetingError, match="not waiting for approval"):
        services.agenda_return(actor=member, meeting=meeting, sha256=submitted.sha256, comment="勝手に")
    submitted.refresh_from_db()
    assert (submitted.comment, submitted.decided_by) == ("修正を", chair)


def test_the_agenda_of_a_meeting_cancelled_meanwhile_cannot_be_edited(meeting, secretariat):
    stale = Meeting.objects.get(pk=meeting.pk)
    services.meeting_cancel(actor=secretariat, meeting=meeting, reason="中止")
    with pytest.raises(MeetingError, match="cancelled"):
        services.agenda_item_add(actor=secretariat, meeting=stale, title="追加")
    assert not AgendaItem.objects.filter(title="追加").exists()


def test_return_needs_a_comment_and_the_comment_stays_on_the_version(meeting, secretariat, chair, submitted):
    with pytest.raises(MeetingError, match="Say what should change"):
        services.agenda_return(actor=chair, meeting=meeting, sha256=submitted.sha256, comment="  ")
    assert agenda_of(meeting).status == Agenda.Status.SUBMITTED

    services.agenda_return(
        actor=chair, meeting=meeting, sha256=submitted.sha256, comment="議事の順序を入れ替えてください"
    )
    services.agenda_return(
        actor=chair, meeting=meeting, sha256=submitted.sha256, comment="議事の順序を入れ替えてください"
    )

    agenda = agenda_of(meeting)
    submitted.refresh_from_db()
    assert agenda.status == Agenda.Status.RETURNED
    assert (submitted.decision, submitted.comment, submitted.decided_by) == (
        "returned",
        "議事の順序を入れ替えてください",
        chair,
    )
    assert [e.actor for e in audit(meeting, "agenda_returned")] == [chair]

    # The secretariat revises and resubmits; the chair approves the new version.
    _edit_update(meeting, secretariat)
    second = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.agenda_approve(actor=chair, meeting=meeting, sha256=second.sha256)
    assert agenda_of(meeting).approved_version == second


def test_the_vice_chair_approves_when_the_chair_answered_absent(meeting, secretariat, chair, vice_chair, invited):
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.attendance_reply(actor=chair, attendance=row_of(meeting, chair), reply=Attendance.Reply.ABSENT)

    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    services.agenda_approve(actor=vice_chair, meeting=meeting, sha256=version.sha256)

    version.refresh_from_db()
    assert (version.decided_by, version.decided_as) == (vice_chair, "副委員長")
    assert selectors.approver_for(meeting).reason == "chair_absent"


def test_the_vice_chair_approves_when_the_chairs_post_is_vacant(
    meeting, secretariat, chair, chair_appointment, vice_chair
):
    committee_services.appointment_end(
        actor=secretariat,
        appointment=chair_appointment,
        ended_on=dt.date(2023, 5, 31),
        reason=Appointment.EndReason.RESIGNED,
    )
    version = services.agenda_submit(actor=secretariat, meeting=meeting)

    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    services.agenda_approve(actor=vice_chair, meeting=meeting, sha256=version.sha256)

    assert selectors.approver_for(meeting).reason == "chair_vacant"
    assert agenda_of(meeting).approved_version.decided_as == "副委員長"


def test_nobody_approves_when_the_vice_chair_may_not_act(
    meeting, secretariat, chair, chair_appointment, vice_chair, guideline
):
    Guideline.objects.filter(pk=guideline.pk).update(vice_chair_acts_for_chair=False)
    committee_services.appointment_end(
        actor=secretariat,
        appointment=chair_appointment,
        ended_on=dt.date(2023, 5, 31),
        reason=Appointment.EndReason.RESIGNED,
    )
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_approve(actor=vice_chair, meeting=meeting, sha256=version.sha256)


def test_before_any_chair_the_convener_approves_and_the_chair_elected_there_does_not(
    body, secretariat, member, member_appointment, convener, in_term
):
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))
    services.agenda_item_add(actor=secretariat, meeting=first, title="委員長及び副委員長選任")
    version = services.agenda_submit(actor=secretariat, meeting=first)
    assert selectors.approver_for(first).kind == "convener"

    # The chair is elected at this very meeting: the agenda approval stays with the convener.
    services.meeting_record_election(
        actor=secretariat, meeting=first, role=OfficerTerm.Role.CHAIR, appointment=member_appointment
    )
    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_approve(actor=member, meeting=first, sha256=version.sha256)
    services.agenda_approve(actor=convener, meeting=first, sha256=version.sha256)

    version.refresh_from_db()
    assert (version.decided_by, version.decided_as) == (convener, "青森県企画政策部長")
    # The next meeting's 次第 is the new chair's to approve.
    second = plan(body, secretariat, day=dt.date(2023, 6, 7))
    assert selectors.approver_for(second).user == member


def test_without_a_chair_or_a_convener_nobody_can_approve(body, secretariat, member, in_term):
    meeting = plan(body, secretariat)
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    assert selectors.approver_for(meeting).user is None
    with pytest.raises(MeetingError, match=NOT_PRESIDING):
        services.agenda_approve(actor=member, meeting=meeting, sha256=version.sha256)


def test_notices_only_for_an_approved_agenda(meeting, secretariat, chair):
    with pytest.raises(MeetingError, match="approved"):
        services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    with pytest.raises(MeetingError, match="approved"):
        services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    assert refresh(meeting).status == Meeting.Status.PLANNED

    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    services.meeting_mark_notified(actor=secretariat, meeting=meeting)

    assert refresh(meeting).status == Meeting.Status.NOTIFIED
    assert [e.actor for e in audit(meeting, "meeting_notified")] == [secretariat]


def test_notices_for_a_meeting_without_an_agenda_row_are_refused_cleanly(meeting, secretariat):
    Agenda.objects.filter(meeting=meeting).delete()
    with pytest.raises(MeetingError, match="approved"):
        services.meeting_mark_notified(actor=secretariat, meeting=meeting)


def test_notices_need_a_fixed_day(body, secretariat, in_term):
    meeting = services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2023, 10, 1))
    with pytest.raises(MeetingError, match="Fix the date"):
        services.meeting_mark_notified(actor=secretariat, meeting=meeting)


def test_a_meeting_is_held_only_once_it_has_started(notified, meeting, secretariat):
    with pytest.raises(MeetingError, match="only after it has started"):
        services.meeting_mark_held(actor=secretariat, meeting=meeting)
    with time_machine.travel(AFTER, tick=False):
        services.meeting_mark_held(actor=secretariat, meeting=meeting)
        services.meeting_mark_held(actor=secretariat, meeting=meeting)
    assert refresh(meeting).status == Meeting.Status.HELD
    assert len(audit(meeting, "meeting_held")) == 1


def test_every_transition_is_audited_with_its_actor(held, secretariat, chair, member):
    meeting = held
    minutes = Minutes.objects.create(meeting=meeting)
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
    services.minutes_send_for_confirmation(actor=secretariat, meeting=meeting, confirm_by=dt.date(2023, 6, 20))
    services.minutes_confirm(actor=member, meeting=meeting)
    services.minutes_finalise(actor=chair, meeting=meeting)
    services.minutes_publish(actor=secretariat, meeting=meeting)

    expected = {
        "meeting_created": secretariat,
        "agenda_submitted": secretariat,
        "agenda_approved": chair,
        "meeting_notified": secretariat,
        "attendance_prepared": secretariat,
        "meeting_held": secretariat,
        "attendance_recorded": secretariat,
        "minutes_sent_for_confirmation": secretariat,
        "minutes_confirmed": member,
        "minutes_finalised": chair,
        "minutes_published": secretariat,
    }
    entries = AuditEntry.objects.filter(target_id=str(meeting.pk), target_type__model="meeting")
    recorded = {e.action: e.actor for e in entries}
    assert {action: recorded.get(action) for action in expected} == expected
    assert all(e.actor_label == e.actor.email for e in entries if e.actor)


# --- attendance --------------------------------------------------------------------------------


def test_invitees_are_the_members_in_office_on_the_day_and_other_attendees(
    meeting, body, secretariat, chair, member, member_appointment
):
    gone = appoint(body, "辞任", "じにん")
    committee_services.appointment_end(
        actor=None, appointment=gone, ended_on=dt.date(2023, 5, 31), reason=Appointment.EndReason.RESIGNED
    )
    later = factories.PersonFactory(family_name="後任", family_name_kana="こうにん")
    committee_services.appointment_create(actor=None, body=body, person=later, appointed_on=dt.date(2023, 7, 1))
    observer = factories.PersonFactory(family_name="観察", family_name_kana="かんさつ")
    committee_services.appointment_create(
        actor=None,
        body=body,
        person=observer,
        appointed_on=dt.date(2023, 5, 10),
        category=Appointment.Category.OBSERVER,
    )
    guest = Attendee.objects.create(
        meeting=meeting, role=Attendee.Role.EXPLAINER, title="商工労働部", invited_by_chair=True
    )

    assert services.attendance_prepare(actor=secretariat, meeting=meeting) == 3
    assert services.attendance_prepare(actor=secretariat, meeting=meeting) == 0

    rows = selectors.attendance_rows(meeting)
    assert [r.holder_name for r in rows] == ["佐藤 志穂", "森 樹男", "商工労働部"]  # 五十音順, then guests
    assert rows[-1].attendee == guest
    assert len(audit(meeting, "attendance_prepared")) == 1


def test_a_member_answers_for_themself(invited, member, chair):
    row = services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="online", note=" 遅れます ")
    assert (row.reply, row.reply_note, row.replied_by) == ("online", "遅れます", member)

    services.attendance_reply(actor=member, attendance=row, reply="online", note=" 遅れます ")  # twice: harmless
    assert [e.actor for e in audit(invited, "attendance_answered")] == [member]

    for reply in ("venue", "absent"):
        assert services.attendance_reply(actor=member, attendance=row, reply=reply).reply == reply


def test_a_member_cannot_answer_for_another(invited, member, chair):
    with pytest.raises(MeetingError, match="only for yourself"):
        services.attendance_reply(actor=member, attendance=row_of(invited, chair), reply="absent")
    assert row_of(invited, chair).reply == ""


def test_an_unknown_answer_is_refused(invited, member):
    with pytest.raises(MeetingError, match="Choose"):
        services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="maybe")


def test_no_answer_once_the_meeting_started(invited, member, secretariat):
    with time_machine.travel(at(MEETING_DAY, 14, 5), tick=False):
        with pytest.raises(MeetingError, match="has started"):
            services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="venue")
        # The secretariat may still note what the member said on the phone.
        services.attendance_reply(actor=secretariat, attendance=row_of(invited, member), reply="venue", on_behalf=True)
    assert row_of(invited, member).reply == "venue"


def test_the_secretariat_records_an_answer_given_by_phone(invited, member, secretariat):
    row = services.attendance_reply(
        actor=secretariat, attendance=row_of(invited, member), reply="absent", note="電話にて", on_behalf=True
    )
    assert (row.reply, row.replied_by) == ("absent", secretariat)
    assert audit(invited, "attendance_answered")[0].data["on_behalf"] is True


def test_no_online_answer_where_the_meeting_offers_none(body, secretariat, member, in_term):
    meeting = plan(body, secretariat)  # no link, no note
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    with pytest.raises(MeetingError, match="no online attendance"):
        services.attendance_reply(actor=member, attendance=row_of(meeting, member), reply="online")
    assert row_of(meeting, member).reply == ""


def test_no_answers_for_a_cancelled_meeting(invited, member, secretariat):
    services.meeting_cancel(actor=secretariat, meeting=invited, reason="中止")
    with pytest.raises(MeetingError, match="no longer"):
        services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="venue")


def test_attendance_is_recorded_after_the_meeting_only(invited, secretariat, member):
    records = {row_of(invited, member).pk: ("present", "venue")}
    with pytest.raises(MeetingError, match="once the meeting has started"):
        services.attendance_record(actor=secretariat, meeting=invited, records=records)
    assert row_of(invited, member).actual == ""

    with time_machine.travel(AFTER, tick=False):
        assert services.attendance_record(actor=secretariat, meeting=invited, records=records) == 1
        assert services.attendance_record(actor=secretariat, meeting=invited, records=records) == 0
    row = row_of(invited, member)
    assert (row.actual, row.actual_mode, row.attended) == ("present", "venue", True)
    assert len(audit(invited, "attendance_recorded")) == 1


def test_recorded_attendance_needs_the_mode_and_rows_of_this_meeting(invited, secretariat, member, body, after_meeting):
    with pytest.raises(MeetingError, match="venue or online"):
        services.attendance_record(
            actor=secretariat, meeting=invited, records={row_of(invited, member).pk: ("late", "")}
        )
    other = plan(body, secretariat, day=dt.date(2023, 5, 31))
    services.attendance_prepare(actor=secretariat, meeting=other)
    with pytest.raises(MeetingError, match="another meeting"):
        services.attendance_record(
            actor=secretariat, meeting=invited, records={row_of(other, member).pk: ("present", "venue")}
        )
    # 欠席 drops the mode.
    services.attendance_record(
        actor=secretariat, meeting=invited, records={row_of(invited, member).pk: ("absent", "venue")}
    )
    assert (row_of(invited, member).actual, row_of(invited, member).actual_mode) == ("absent", "")


@pytest.fixture
def twelve(body, secretariat, chair, meeting):
    """The chair and eleven more: 12 members invited; 5 answer 会場, 2 オンライン, the rest 欠席."""
    appoint_others(body)
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    rows = [r for r in selectors.attendance_rows(meeting) if r.appointment_id]
    assert len(rows) == 12
    for i, row in enumerate(rows):
        reply = "venue" if i < 5 else "online" if i < 7 else "absent"
        services.attendance_reply(actor=secretariat, attendance=row, reply=reply, on_behalf=True)
    return meeting


@pytest.mark.parametrize(
    ("rule", "online_counts", "counted", "needed", "met"),
    [
        (Guideline.Quorum.HALF_OR_MORE, True, 7, 6, True),
        (Guideline.Quorum.HALF_OR_MORE, False, 5, 6, False),
        (Guideline.Quorum.MAJORITY, True, 7, 7, True),
        (Guideline.Quorum.MAJORITY, False, 5, 7, False),
    ],
)
@pytest.mark.parametrize("stage", ["answers", "recorded"])
def test_quorum(twelve, guideline, secretariat, rule, online_counts, counted, needed, met, stage):
    Guideline.objects.filter(pk=guideline.pk).update(quorum_rule=rule, online_counts_for_quorum=online_counts)
    if stage == "recorded":
        # After the meeting the recorded attendance counts, not the answers.
        with time_machine.travel(AFTER, tick=False):
            services.attendance_record(
                actor=secretariat,
                meeting=twelve,
                records={
                    r.pk: ("present" if r.reply != "absent" else "absent", r.reply if r.reply != "absent" else "")
                    for r in twelve.attendances.all()
                },
            )

    quorum = selectors.quorum(refresh(twelve))
    assert (quorum.members, quorum.counted, quorum.needed, quorum.met) == (12, counted, needed, met)


def test_no_quorum_rule_means_no_quorum(twelve, guideline):
    quorum = selectors.quorum(refresh(twelve))
    assert (quorum.applies, quorum.met) == (False, None)


def test_seating_from_attendance(twelve, secretariat, chair):
    Attendee.objects.create(meeting=twelve, role=Attendee.Role.SECRETARIAT, title="企画政策部DX推進課")
    Attendee.objects.create(meeting=twelve, role=Attendee.Role.OBSERVER, title="行政経営課")
    services.attendance_prepare(actor=secretariat, meeting=twelve)
    # The chair sits at the head whatever their place in the 五十音順.
    chair_row = row_of(twelve, chair)
    services.attendance_reply(actor=secretariat, attendance=chair_row, reply="venue", on_behalf=True)

    assert services.seating_generate(actor=secretariat, meeting=twelve) == 10

    seats = list(
        Seat.objects.filter(meeting=twelve).select_related("attendance__appointment__person", "attendance__attendee")
    )
    by_zone: dict[str, list[str]] = {}
    for seat in sorted(seats, key=lambda s: s.position):
        by_zone.setdefault(seat.zone, []).append(seat.attendance.holder_name)
    venue = [
        r.holder_name
        for r in selectors.attendance_rows(twelve)
        if r.appointment_id and r.reply == "venue" and r.pk != chair_row.pk
    ]
    online = [r.holder_name for r in selectors.attendance_rows(twelve) if r.appointment_id and r.reply == "online"]
    assert by_zone["head"] == ["森 樹男"]
    assert by_zone["left"] == venue[0::2]
    assert by_zone["right"] == venue[1::2]
    assert by_zone["online"] == online
    assert by_zone["foot"] == ["企画政策部DX推進課"]
    assert by_zone["gallery"] == ["行政経営課"]
    assert "absent" not in {s.attendance.reply for s in seats}

    # Generating again replaces the plan.
    services.seating_generate(actor=secretariat, meeting=twelve)
    assert Seat.objects.filter(meeting=twelve).count() == 10


# --- officers chosen at a meeting --------------------------------------------------------------


def test_the_election_of_the_chair_is_recorded_on_the_meeting(body, secretariat, member_appointment, in_term):
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))

    term = services.meeting_record_election(
        actor=secretariat, meeting=first, role=OfficerTerm.Role.CHAIR, appointment=member_appointment
    )

    assert (term.role, term.appointment, term.selected_on, term.start_on) == (
        "chair",
        member_appointment,
        dt.date(2023, 5, 10),
        dt.date(2023, 5, 10),
    )
    assert term.meeting_label == "第1回"
    assert OfficerElection.objects.get().meeting == first
    assert committee_selectors.officers_on(body=body, day=dt.date(2023, 5, 10)).chair == term
    assert [e.actor for e in audit(first, "officer_election_recorded")] == [secretariat]

    # Recording it twice changes nothing.
    services.meeting_record_election(
        actor=secretariat, meeting=first, role=OfficerTerm.Role.CHAIR, appointment=member_appointment
    )
    assert OfficerTerm.objects.count() == OfficerElection.objects.count() == 1


def test_the_vice_chair_nomination_needs_a_chair(body, secretariat, member_appointment, in_term):
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))
    with pytest.raises(ValidationError, match="choose the chair first"):
        services.meeting_record_election(
            actor=secretariat, meeting=first, role=OfficerTerm.Role.VICE_CHAIR, appointment=member_appointment
        )
    assert not OfficerTerm.objects.exists() and not OfficerElection.objects.exists()


def test_the_chair_nominates_the_vice_chair_at_the_meeting(body, secretariat, member_appointment, in_term):
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))
    chair = appoint(body, "森", "もり", given="樹男")
    services.meeting_record_election(actor=secretariat, meeting=first, role="chair", appointment=chair)
    term = services.meeting_record_election(
        actor=secretariat, meeting=first, role="vice_chair", appointment=member_appointment
    )
    assert term.selected_by == Guideline.Selection.NOMINATED_BY_CHAIR
    assert OfficerElection.objects.filter(meeting=first).count() == 2


def test_an_election_needs_a_post_and_a_day(body, secretariat, member_appointment, in_term):
    undecided = services.meeting_create(actor=secretariat, body=body, planned_month=dt.date(2023, 10, 1))
    with pytest.raises(MeetingError, match="takes place"):
        services.meeting_record_election(
            actor=secretariat, meeting=undecided, role="chair", appointment=member_appointment
        )
    first = plan(body, secretariat, day=dt.date(2023, 5, 10))
    with pytest.raises(MeetingError, match="Choose the post"):
        services.meeting_record_election(
            actor=secretariat, meeting=first, role="president", appointment=member_appointment
        )
    assert not OfficerTerm.objects.exists()


# --- minutes -----------------------------------------------------------------------------------


def _draft_minutes(meeting: Meeting) -> Minutes:
    minutes = Minutes.objects.create(meeting=meeting)
    items = {i.title: i for i in AgendaItem.objects.filter(agenda__meeting=meeting)}
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="ただいまから開会します。")
    MinutesEntry.objects.create(minutes=minutes, position=2, speaker="事務局", text="人事案件の説明", is_closed=True)
    MinutesEntry.objects.create(
        minutes=minutes, position=3, speaker="佐藤委員", text="骨子案に賛成です。", agenda_item=items["骨子案について"]
    )
    return minutes


def test_minutes_go_to_the_members_who_attended(held, secretariat, chair, member, vice_chair):
    _draft_minutes(held)

    asked = services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))

    minutes = Minutes.objects.get(meeting=held)
    assert asked == 2
    assert (minutes.status, minutes.confirm_by) == (Minutes.Status.CONFIRMING, dt.date(2023, 6, 20))
    assert {c.appointment.person.user for c in minutes.confirmations.all()} == {
        chair,
        member,
    }  # not the absent vice chair

    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    assert minutes.confirmations.count() == 2


def test_minutes_are_sent_only_after_the_meeting_is_held(notified, invited, secretariat):
    _draft_minutes(invited)
    with pytest.raises(MeetingError, match="after the meeting has been held"):
        services.minutes_send_for_confirmation(actor=secretariat, meeting=invited, confirm_by=dt.date(2023, 6, 20))
    assert Minutes.objects.get(meeting=invited).status == Minutes.Status.DRAFT


def test_minutes_without_text_are_not_sent(held, secretariat):
    with pytest.raises(MeetingError, match="no text"):
        services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    assert not MinutesConfirmation.objects.exists()


def test_the_deadline_for_confirmation_is_not_in_the_past(held, secretariat):
    _draft_minutes(held)
    with pytest.raises(MeetingError, match="not be in the past"):
        services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 1))


@pytest.fixture
def confirming(held, secretariat) -> Meeting:
    _draft_minutes(held)
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    return held


def test_an_attending_member_confirms(confirming, member):
    confirmation = services.minutes_confirm(actor=member, meeting=confirming)
    services.minutes_confirm(actor=member, meeting=confirming)

    assert (confirmation.state, confirmation.comment) == (MinutesConfirmation.State.CONFIRMED, "")
    assert confirmation.answered_at is not None
    assert [e.actor for e in audit(confirming, "minutes_confirmed")] == [member]


def test_an_attending_member_comments(confirming, member):
    confirmation = services.minutes_confirm(actor=member, meeting=confirming, comment=" 「賛成」を「概ね賛成」に ")
    assert (confirmation.state, confirmation.comment) == (
        MinutesConfirmation.State.COMMENTED,
        "「賛成」を「概ね賛成」に",
    )


@pytest.mark.parametrize("who", ["vice_chair", "secretariat", "outsider", "other_member"])
def test_only_members_who_attended_confirm(request, confirming, who):
    with pytest.raises(MeetingError, match="Only members who attended"):
        services.minutes_confirm(actor=request.getfixturevalue(who), meeting=confirming)
    assert not MinutesConfirmation.objects.exclude(state=MinutesConfirmation.State.PENDING).exists()


def test_confirmation_only_while_the_minutes_wait_for_it(held, member):
    _draft_minutes(held)
    with pytest.raises(MeetingError, match="not waiting for confirmation"):
        services.minutes_confirm(actor=member, meeting=held)


@pytest.mark.parametrize("who", ["secretariat", "member", "vice_chair", "superuser"])
def test_only_the_presiding_officer_finalises(request, confirming, who):
    with pytest.raises(MeetingError, match="Only the presiding officer"):
        services.minutes_finalise(actor=request.getfixturevalue(who), meeting=confirming)
    assert Minutes.objects.get(meeting=confirming).status == Minutes.Status.CONFIRMING


def test_the_presiding_officer_finalises_once(confirming, chair, secretariat):
    services.minutes_finalise(actor=chair, meeting=confirming)
    services.minutes_finalise(actor=chair, meeting=confirming)
    with pytest.raises(MeetingError):
        services.minutes_finalise(actor=secretariat, meeting=confirming)  # even after finalisation

    minutes = Minutes.objects.get(meeting=confirming)
    assert (minutes.status, minutes.finalised_by) == (Minutes.Status.FINALISED, chair)
    assert len(audit(confirming, "minutes_finalised")) == 1


def test_minutes_are_finalised_only_after_confirmation_was_asked(held, chair):
    _draft_minutes(held)
    with pytest.raises(MeetingError, match="for confirmation first"):
        services.minutes_finalise(actor=chair, meeting=held)


def test_publishing_leaves_closed_parts_out(confirming, chair, secretariat):
    with pytest.raises(MeetingError, match="Only finalised"):
        services.minutes_publish(actor=secretariat, meeting=confirming)
    services.minutes_finalise(actor=chair, meeting=confirming)
    AgendaItem.objects.filter(agenda__meeting=confirming, title="骨子案について").update(
        is_public=False, closure_basis="委員の承諾 (第4-4)"
    )

    services.minutes_publish(actor=secretariat, meeting=confirming)
    services.minutes_publish(actor=secretariat, meeting=confirming)

    minutes = Minutes.objects.get(meeting=confirming)
    assert minutes.status == Minutes.Status.PUBLISHED and minutes.published_at is not None
    assert refresh(confirming).status == Meeting.Status.MINUTES_PUBLISHED
    assert [e.text for e in selectors.published_minutes_entries(minutes)] == ["ただいまから開会します。"]
    assert len(audit(confirming, "minutes_published")) == 1


def test_passages_under_a_closed_item_are_left_out(confirming):
    business = AgendaItem.objects.get(agenda__meeting=confirming, title="議事")
    business.is_public, business.closure_basis = False, "委員の承諾"
    business.save()
    minutes = Minutes.objects.get(meeting=confirming)
    assert [e.speaker for e in selectors.published_minutes_entries(minutes)] == ["委員長"]


# --- who presides ------------------------------------------------------------------------------


def test_presiding_officer_on_the_meeting_day(meeting, chair, vice_chair, invited):
    assert selectors.presiding_for(meeting).user == chair
    services.attendance_reply(actor=chair, attendance=row_of(invited, chair), reply="absent")
    presiding = selectors.presiding_for(meeting)
    assert (presiding.user, presiding.title, presiding.reason) == (vice_chair, "副委員長", "chair_absent")


def test_an_update_without_a_change_records_nothing(meeting, secretariat):
    services.meeting_update(actor=secretariat, meeting=meeting, venue_name=meeting.venue_name)
    assert not audit(meeting, "meeting_changed")
    with pytest.raises(MeetingError, match="cannot be changed here"):
        services.meeting_update(actor=secretariat, meeting=meeting, status="held")
    assert refresh(meeting).status == Meeting.Status.PLANNED


def test_nothing_changes_on_a_meeting_whose_minutes_are_published(confirming, chair, secretariat):
    services.minutes_finalise(actor=chair, meeting=confirming)
    services.minutes_publish(actor=secretariat, meeting=confirming)
    with pytest.raises(MeetingError):
        services.meeting_update(actor=secretariat, meeting=confirming, theme="変更")
    with pytest.raises(MeetingError):
        services.agenda_item_add(actor=secretariat, meeting=refresh(confirming), title="追加")
    assert not AgendaItem.objects.filter(title="追加").exists()


# --- real concurrency (PostgreSQL row locks) ------------------------------------------------------

needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (SELECT … FOR UPDATE); CI runs it"
)


def _in_thread(target, *args) -> threading.Thread:
    errors: list[BaseException] = []

    def run():
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.errors = errors
    thread.start()
    return thread


def _hold_agenda_lock_then(meeting, locked: threading.Event, action) -> None:
    """Take the 次第's lock, let the other thread run into it, then act and commit."""
    with transaction.atomic():
        Agenda.objects.select_for_update().get(meeting=meeting)
        locked.set()
        time.sleep(0.5)
        action()


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_an_approval_ends_in_one_consistent_state(body, secretariat, chair):
    meeting = plan(body, secretariat)
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    locked, outcome = threading.Event(), {}

    def approve():
        locked.wait(5)
        try:
            services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
            outcome["approved"] = True
        except MeetingError:
            outcome["approved"] = False

    edit = _in_thread(
        _hold_agenda_lock_then,
        meeting,
        locked,
        lambda: services.agenda_item_add(actor=secretariat, meeting=meeting, title="その他"),
    )
    approval = _in_thread(approve)
    edit.join(10)
    approval.join(10)

    assert not edit.errors and not approval.errors
    # The approval waited for the edit's lock, then found the version superseded.
    agenda = agenda_of(meeting)
    version.refresh_from_db()
    assert outcome == {"approved": False}
    assert (agenda.status, agenda.approved_version, version.decision) == (Agenda.Status.DRAFT, None, "superseded")
    assert not audit(meeting, "agenda_approved")


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_an_approval_racing_an_edit_is_kept_in_the_history_and_the_edit_reopens(body, secretariat, chair):
    meeting = plan(body, secretariat)
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    locked = threading.Event()

    def edit():
        locked.wait(5)
        services.agenda_item_add(actor=secretariat, meeting=meeting, title="その他")

    approval = _in_thread(
        _hold_agenda_lock_then,
        meeting,
        locked,
        lambda: services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256),
    )
    editing = _in_thread(edit)
    approval.join(10)
    editing.join(10)

    assert not approval.errors and not editing.errors
    agenda = agenda_of(meeting)
    version.refresh_from_db()
    assert (agenda.status, agenda.approved_version, version.decision) == (Agenda.Status.DRAFT, version, "approved")
    assert len(audit(meeting, "agenda_approved")) == 1
    assert len(audit(meeting, "agenda_reopened")) == 1


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_record_one(body, secretariat, chair):
    meeting = plan(body, secretariat)
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    start = threading.Barrier(2)

    def approve():
        start.wait(5)
        services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)

    threads = [_in_thread(approve), _in_thread(approve)]
    for thread in threads:
        thread.join(10)

    assert not any(thread.errors for thread in threads)
    assert agenda_of(meeting).approved_version == version
    assert len(audit(meeting, "agenda_approved")) == 1


def test_held_without_a_quorum_only_when_the_secretariat_says_so(notified, invited, secretariat, chair, member,
                                                                  vice_chair, guideline, after_meeting):
    """Two of three members absent: 過半数 is not met. Marking held is refused until confirmed, and the
    audit keeps that it was held without a quorum (issue 10)."""
    guideline.quorum_rule = Guideline.Quorum.MAJORITY
    guideline.save(update_fields=["quorum_rule"])
    rows = {r.appointment.person.user: r for r in invited.attendances.select_related("appointment__person")
            if r.appointment_id}
    records = {rows[chair].pk: (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)}
    records |= {rows[u].pk: (Attendance.Actual.ABSENT, "") for u in (member, vice_chair)}
    services.attendance_record(actor=secretariat, meeting=invited, records=records)
    with pytest.raises(ValidationError, match="quorum was not met"):
        services.meeting_mark_held(actor=secretariat, meeting=invited)
    assert Meeting.objects.get(pk=invited.pk).status == Meeting.Status.NOTIFIED
    services.meeting_mark_held(actor=secretariat, meeting=invited, without_quorum=True)
    assert Meeting.objects.get(pk=invited.pk).status == Meeting.Status.HELD
    entry = AuditEntry.objects.filter(action="meeting_held").latest("pk")
    assert entry.data["quorum_not_met"] is True and entry.data["counted"] == 1


def test_a_member_whose_term_ended_still_confirms_what_they_said(held, secretariat, chair, member, body):
    """発言者確認 reaches those who attended and they can still open and answer it after their term ends
    (issue 10): here the member resigned the day after the meeting, on a non-public body."""
    from django.test import Client
    from django.urls import reverse

    from .conftest import sign_in

    _draft_minutes(held)
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    body.is_public = False
    body.save(update_fields=["is_public"])
    appointment = Appointment.objects.get(body=body, person__user=member)
    committee_services.appointment_end(actor=secretariat, appointment=appointment, ended_on=dt.date(2023, 6, 8),
                                       reason=Appointment.EndReason.RESIGNED)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    with time_machine.travel(dt.datetime(2023, 6, 15, 10, tzinfo=TOKYO), tick=False):
        sign_in(client, member)
        assert client.get(reverse("meetings:detail", args=[held.pk])).status_code == 404  # the meeting's page: no
        assert client.get(reverse("meetings:minutes_review", args=[held.pk])).status_code == 200
        response = client.post(reverse("meetings:minutes_confirm", args=[held.pk]), {"comment": ""})
    assert response.status_code == 302
    confirmation = MinutesConfirmation.objects.get(minutes__meeting=held, appointment=appointment)
    assert confirmation.state == MinutesConfirmation.State.CONFIRMED


def test_preparing_again_removes_a_member_no_longer_in_office_on_the_day(invited, secretariat, chair, member):
    """The member resigned (辞任) before the meeting day after the list was made and after answering: preparing
    the list again (出席依頼者の一覧を更新, or the next notice) takes their row off, so the 未回答 count, the
    quorum and the 出席者名簿 count only who can come; the others' rows and answers stay."""
    from committee import services as committee_services
    from committee.models import Appointment

    services.attendance_reply(actor=chair, attendance=row_of(invited, chair), reply="venue")
    services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="online")
    committee_services.appointment_end(
        actor=secretariat, appointment=Appointment.objects.get(person__user=member),
        ended_on=dt.date(2023, 6, 2), reason=Appointment.EndReason.RESIGNED,
    )

    assert services.attendance_prepare(actor=secretariat, meeting=invited) == 0
    members = invited.attendances.filter(appointment__isnull=False)
    assert not members.filter(appointment__person__user=member).exists()
    assert row_of(invited, chair).reply == "venue" and members.count() == 2
    assert audit(invited, "attendance_prepared")[-1].data == {"added": 0, "removed": 1}


def test_the_attendance_of_finalised_minutes_cannot_change(held, secretariat, chair, member):
    """Finalised (and then published) minutes list who attended; changing the attendance afterwards would
    change that record silently, so it is refused, as a change of their text is; recording the same again is
    harmless."""
    from meetings.models import Minutes, MinutesEntry

    minutes = Minutes.objects.create(meeting=held)
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 15))
    services.minutes_finalise(actor=chair, meeting=held)
    row = row_of(held, member)
    same = {row.pk: (row.actual, row.actual_mode)}
    assert services.attendance_record(actor=secretariat, meeting=held, records=same) == 0
    with pytest.raises(MeetingError, match="finalised|確定"):
        services.attendance_record(actor=secretariat, meeting=held, records={row.pk: (Attendance.Actual.ABSENT, "")})
    row.refresh_from_db()
    assert row.actual == Attendance.Actual.PRESENT
