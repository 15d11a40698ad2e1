"""Computing, correcting, approving and reopening statements (issue 18's acceptance points)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from core.models import AuditEntry
from fees import services
from fees.models import FeeSheet, RuleSet, Statement
from fees.services import FeeError, Inputs, rule_for
from tests.fees.conftest import (
    ABSENT,
    PRESENT_ONLINE,
    PRESENT_VENUE,
    hold,
    honorarium,
    later_meeting,
    remuneration,
)


def statement_of(meeting, user) -> Statement:
    return Statement.objects.get(sheet__meeting=meeting, person__user=user)


def compute(meeting, actor) -> dict:
    services.statements_compute(actor=actor, meeting=meeting)
    return {s.person.user: s for s in Statement.objects.filter(sheet__meeting=meeting).select_related("person__user")}


# --- the rules -------------------------------------------------------------------------------------


def test_the_meeting_date_chooses_the_rule_when_it_changes_mid_year(body, held, secretariat, chair, member):
    honorarium(body, effective_on=dt.date(2023, 4, 1), member=(10000, 7500))
    honorarium(body, effective_on=dt.date(2023, 10, 1), member=(11000, 8000), chair=(13000, 10000))
    june = compute(held, secretariat)
    november = later_meeting(body, secretariat, dt.date(2023, 11, 8))
    hold(november, secretariat, {chair: PRESENT_VENUE, member: PRESENT_VENUE})
    with time_machine.travel(dt.datetime(2023, 11, 9, 10, tzinfo=dt.UTC)):
        later = compute(november, secretariat)
    assert (june[member].base_amount, june[chair].base_amount) == (10000, 12000)
    assert (later[member].base_amount, later[chair].base_amount) == (11000, 13000)
    assert june[member].rule_set.effective_on == dt.date(2023, 4, 1)
    assert later[member].rule_set.effective_on == dt.date(2023, 10, 1)


def test_a_rule_taking_effect_on_the_meeting_day_applies(body, held, secretariat, member):
    honorarium(body, effective_on=dt.date(2023, 4, 1), member=(10000, 7500))
    honorarium(body, effective_on=dt.date(2023, 6, 7), member=(10500, 7500))
    assert compute(held, secretariat)[member].base_amount == 10500


def test_no_rule_in_force_pays_nothing_and_says_why(body, held, secretariat, member):
    honorarium(body, effective_on=dt.date(2023, 7, 1))
    statement = compute(held, secretariat)[member]
    assert (statement.base_amount, statement.net_amount, statement.notes) == (0, 0, "no_rule")


def test_two_versions_on_one_day_are_refused(body):
    honorarium(body)
    with pytest.raises(FeeError, match="exists already"):
        honorarium(body)


def test_a_rate_needs_a_rate(body):
    with pytest.raises(Exception, match="rate"):
        services.rule_set_create(
            actor=None, body=body, effective_on=dt.date(2023, 4, 1), kind="honorarium",
            rates={"member": (1, 1)}, withholding=RuleSet.Withholding.RATE,
        )  # fmt: skip


# --- who is paid what --------------------------------------------------------------------------------


def test_the_chair_gets_the_chairs_amount_and_an_absent_member_nothing(
    body, held, secretariat, chair, member, vice_chair
):
    honorarium(body)
    got = compute(held, secretariat)
    assert got[chair].post == "chair" and got[chair].base_amount == 12000
    assert got[member].post == "member" and got[member].base_amount == 10000
    # The vice chair has no rate of their own: absent, they get nothing anyway.
    assert (got[vice_chair].mode, got[vice_chair].net_amount) == ("", 0)


def test_an_official_is_excluded_with_the_reason(body, held, secretariat, member, chair):
    honorarium(body)
    services.payee_setting_save(
        actor=secretariat, body=body, person=member.person, excluded=True, reason="県職員のため", distance_km=10
    )
    got = compute(held, secretariat)
    assert (got[member].base_amount, got[member].travel_amount, got[member].tax_amount) == (0, 0, 0)
    assert got[member].excluded_reason == "県職員のため"
    assert got[chair].base_amount == 12000


def test_excluding_needs_a_reason(body, member):
    with pytest.raises(FeeError, match="not paid"):
        services.payee_setting_save(actor=None, body=body, person=member.person, excluded=True, reason="  ")


def test_online_is_paid_its_own_amount_and_no_travel(body, held, secretariat, chair, member):
    honorarium(body)
    for user in (chair, member):
        services.payee_setting_save(actor=secretariat, body=body, person=user.person, excluded=False, distance_km=30)
    hold(held, secretariat, {member: PRESENT_ONLINE})
    got = compute(held, secretariat)
    assert (got[member].mode, got[member].base_amount, got[member].travel_amount) == ("online", 7500, 0)
    assert (got[chair].mode, got[chair].base_amount, got[chair].travel_amount) == ("venue", 12000, 1200)


def test_travel_for_online_when_the_rules_say_so(body, held, secretariat, member):
    honorarium(body, travel_for_online=True)
    services.payee_setting_save(actor=secretariat, body=body, person=member.person, excluded=False, distance_km=30)
    hold(held, secretariat, {member: PRESENT_ONLINE})
    assert compute(held, secretariat)[member].travel_amount == 1200


@pytest.mark.parametrize(
    ("km", "travel", "notes"),
    [(0, 600, ""), (25, 600, ""), (26, 1200, ""), (50, 1200, ""), (51, 4800, ""), (900, 4800, ""),
     (None, 0, "distance_missing")],
)  # fmt: skip
def test_travel_by_distance_band(body, held, secretariat, member, km, travel, notes):
    honorarium(body)
    services.payee_setting_save(actor=secretariat, body=body, person=member.person, excluded=False, distance_km=km)
    statement = compute(held, secretariat)[member]
    assert (statement.travel_amount, statement.notes) == (travel, notes)


def test_travel_by_actual_fare_entered_per_trip(body, held, secretariat, member):
    remuneration(body)
    statement = compute(held, secretariat)[member]
    assert (statement.travel_amount, statement.notes.split()) == (0, ["fare_missing", "tax_table_missing"])
    statement = services.statement_correct(
        actor=secretariat, statement=statement, fare=2340, table_tax=0, reason="JR 弘前–青森 往復"
    )
    assert (statement.base_amount, statement.travel_amount, statement.tax_amount) == (9800, 2340, 0)
    assert statement.net_amount == 12140
    assert statement.notes == ""


def test_a_fare_is_per_meeting(body, held, secretariat, member, chair):
    remuneration(body)
    first = compute(held, secretariat)[member]
    services.statement_correct(actor=secretariat, statement=first, fare=2340, table_tax=0, reason="領収書")
    november = later_meeting(body, secretariat, dt.date(2023, 11, 8))
    hold(november, secretariat, {member: PRESENT_VENUE, chair: ABSENT})
    with time_machine.travel(dt.datetime(2023, 11, 9, 10, tzinfo=dt.UTC)):
        assert compute(november, secretariat)[member].travel_amount == 0


# --- withholding and rounding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "base", "tax"),
    [
        ("floor", 10000, 1021),  # 1021.00
        ("floor", 7500, 765),  # 765.75
        ("half_up", 7500, 766),
        ("ceiling", 7500, 766),
        ("floor", 12345, 1260),  # 1260.4245
        ("half_up", 12345, 1260),
        ("ceiling", 12345, 1261),
        ("half_up", 5000, 511),  # 510.50: half up
        ("floor", 5000, 510),
    ],
)
def test_withholding_at_a_rate_with_the_rounding_rule(rounding, base, tax):
    rule = RuleSet(withholding="rate", withholding_rate=Decimal("10.21"), rounding=rounding, travel="none")
    rates = [type("R", (), {"post": "member", "venue_amount": base, "online_amount": base})()]
    result = rule_for(rule, rates, [], Inputs(post="member", mode="venue"))
    assert (result.base, result.tax, result.net) == (base, tax, base - tax)


def test_travel_is_not_taxed(body, held, secretariat, member):
    honorarium(body)
    services.payee_setting_save(actor=secretariat, body=body, person=member.person, excluded=False, distance_km=80)
    statement = compute(held, secretariat)[member]
    assert (statement.base_amount, statement.travel_amount, statement.tax_amount) == (10000, 4800, 1021)
    assert statement.net_amount == 10000 + 4800 - 1021


def test_withholding_by_table_takes_the_amount_entered(body, held, secretariat, approver, member, chair):
    remuneration(body)
    compute(held, secretariat)
    with pytest.raises(FeeError, match="tax by the table"):
        services.sheet_approve(actor=approver, meeting=held)
    for user, tax in ((member, 0), (chair, 352)):
        services.statement_correct(
            actor=secretariat, statement=statement_of(held, user), fare=0, table_tax=tax, reason="源泉徴収税額表 甲欄"
        )
    assert statement_of(held, chair).tax_amount == 352
    assert services.sheet_approve(actor=approver, meeting=held).status == FeeSheet.Status.APPROVED


# --- corrections, approval, reopening ------------------------------------------------------------------


def test_a_correction_needs_a_reason_and_is_kept_in_history(body, held, secretariat, member):
    honorarium(body)
    statement = compute(held, secretariat)[member]
    with pytest.raises(FeeError, match="why"):
        services.statement_correct(actor=secretariat, statement=statement, base_override=5000, reason=" ")
    services.statement_correct(actor=secretariat, statement=statement, base_override=5000, reason="途中退席のため半額")
    statement.refresh_from_db()
    assert (statement.base_amount, statement.tax_amount, statement.net_amount) == (5000, 510, 4490)
    reasons = list(statement.history.values_list("history_change_reason", flat=True))
    assert "途中退席のため半額" in reasons
    assert AuditEntry.objects.filter(action="fee_statement_corrected").count() == 1
    # Computing again keeps the correction.
    assert compute(held, secretariat)[member].base_amount == 5000


def test_the_tax_cannot_exceed_the_amount(body, held, secretariat, member):
    honorarium(body)
    statement = compute(held, secretariat)[member]
    with pytest.raises(FeeError, match="exceed"):
        services.statement_correct(actor=secretariat, statement=statement, tax_override=20000, reason="誤り")
    statement.refresh_from_db()
    assert (statement.tax_override, statement.tax_amount) == (None, 1021)


def test_approval_by_the_approver_and_a_second_approval_is_refused(body, held, secretariat, approver):
    honorarium(body)
    compute(held, secretariat)
    sheet = services.sheet_approve(actor=approver, meeting=held)
    assert (sheet.status, sheet.approved_by) == (FeeSheet.Status.APPROVED, approver)
    with pytest.raises(FeeError, match="approved already"):
        services.sheet_approve(actor=approver, meeting=held)
    assert AuditEntry.objects.filter(action="fees_approved").count() == 1
    with pytest.raises(FeeError, match="approved"):
        services.statements_compute(actor=secretariat, meeting=held)
    with pytest.raises(FeeError, match="approved"):
        services.statement_correct(
            actor=secretariat, statement=Statement.objects.filter(sheet=sheet).first(), base_override=1, reason="x"
        )


def test_only_the_approver_approves(body, held, secretariat, clerk):
    honorarium(body)
    compute(held, secretariat)
    for user in (secretariat, clerk):
        with pytest.raises(FeeError, match="approver"):
            services.sheet_approve(actor=user, meeting=held)
    assert FeeSheet.objects.get(meeting=held).status == FeeSheet.Status.OPEN


def test_an_approver_of_another_secretariat_cannot_approve(body, held, secretariat, other_secretariat):
    from django.contrib.auth.models import Permission

    honorarium(body)
    compute(held, secretariat)
    other_secretariat.user_permissions.add(Permission.objects.get(codename="approve_feesheet"))
    other = type(other_secretariat).objects.get(pk=other_secretariat.pk)
    with pytest.raises(FeeError, match="approver"):
        services.sheet_approve(actor=other, meeting=held)
    assert FeeSheet.objects.get(meeting=held).status == FeeSheet.Status.OPEN


def test_nothing_to_approve_before_computing(body, held, approver):
    with pytest.raises(FeeError, match="compute them first"):
        services.sheet_approve(actor=approver, meeting=held)


def test_an_attendance_change_after_approval_reopens_the_statements(body, held, secretariat, approver, member):
    honorarium(body)
    compute(held, secretariat)
    services.sheet_approve(actor=approver, meeting=held)
    hold(held, secretariat, {member: PRESENT_ONLINE})
    sheet = FeeSheet.objects.get(meeting=held)
    assert sheet.status == FeeSheet.Status.OPEN and sheet.reopened_at is not None
    statement = statement_of(held, member)
    assert (statement.mode, statement.base_amount, statement.tax_amount) == ("online", 7500, 765)
    assert AuditEntry.objects.filter(action="fees_reopened").count() == 1
    # Approved again, once.
    assert services.sheet_approve(actor=approver, meeting=held).status == FeeSheet.Status.APPROVED


def test_the_same_attendance_recorded_again_does_not_reopen(body, held, secretariat, approver, member):
    honorarium(body)
    compute(held, secretariat)
    services.sheet_approve(actor=approver, meeting=held)
    hold(held, secretariat, {member: PRESENT_VENUE})  # as it was
    assert FeeSheet.objects.get(meeting=held).status == FeeSheet.Status.APPROVED


def test_computing_twice_changes_nothing(body, held, secretariat, member):
    honorarium(body)
    compute(held, secretariat)
    versions = Statement.history.count()
    compute(held, secretariat)
    assert Statement.history.count() == versions


def test_statements_wait_for_the_meeting(body, meeting, secretariat, in_term):
    honorarium(body)
    with pytest.raises(FeeError, match="after the meeting"):
        services.statements_compute(actor=secretariat, meeting=meeting)
