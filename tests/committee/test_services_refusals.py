"""Roster services refuse what the 設置要綱 does not allow, and leave nothing behind when they do.

The paths here are the refusals test_services.py does not reach: a successor on another body, renewing an
open-ended appointment, posts the guidelines do not provide for, a post changing hands twice on one day,
and an amendment on a day that has a version already.
"""

import datetime as dt

import pytest

from committee import services
from committee.models import Appointment, Guideline, OfficerTerm
from committee.selectors import officers_on
from committee.services import RosterError
from core.models import AuditEntry
from tests.committee.test_services import create, make_body, make_person
from tests.conftest import APPOINTED, appoint


def test_a_successor_must_sit_on_the_predecessors_body(body, other_body):
    predecessor = appoint(body, "原", "はら")
    services.appointment_end(
        actor=None, appointment=predecessor, ended_on=dt.date(2023, 9, 30), reason=Appointment.EndReason.RESIGNED
    )

    with pytest.raises(RosterError, match="same body as the predecessor"):
        create(other_body, make_person("馬場", "ばば"), appointed_on=dt.date(2023, 10, 1), predecessor=predecessor)

    assert not Appointment.objects.filter(body=other_body, predecessor=predecessor).exists()


def test_an_appointment_without_an_end_cannot_be_renewed(db):
    body = make_body(term_rule=Guideline.TermRule.NONE)
    open_ended = create(body, make_person("原", "はら"))
    assert open_ended.effective_end is None

    with pytest.raises(RosterError, match="no end"):
        services.appointment_reappoint(actor=None, appointment=open_ended)

    assert Appointment.objects.filter(body=body).count() == 1


def test_no_chair_where_the_guidelines_provide_for_none(db):
    body = make_body(chair_selection=Guideline.Selection.NONE)
    member = create(body, make_person("原", "はら"))

    with pytest.raises(RosterError, match="no chair"):
        services.officer_elect_chair(actor=None, body=body, appointment=member, selected_on=APPOINTED)

    assert not OfficerTerm.objects.filter(body=body).exists()


def test_no_vice_chair_where_the_guidelines_provide_for_none(db):
    body = make_body(vice_chair_selection=Guideline.Selection.NONE)
    chair = create(body, make_person("森", "もり"))
    services.officer_elect_chair(actor=None, body=body, appointment=chair, selected_on=APPOINTED)
    member = create(body, make_person("原", "はら"))

    with pytest.raises(RosterError, match="no vice chair"):
        services.officer_nominate_vice_chair(actor=None, body=body, appointment=member, selected_on=APPOINTED)

    assert officers_on(body=body, day=APPOINTED).vice_chair is None


def test_the_chair_changing_hands_twice_on_one_day_is_refused(body, chair_appointment):
    day = dt.date(2023, 10, 1)
    first = appoint(body, "原", "はら")
    second = appoint(body, "馬場", "ばば")
    term = services.officer_elect_chair(actor=None, body=body, appointment=first, selected_on=day)

    with pytest.raises(RosterError, match="same day"):
        services.officer_elect_chair(actor=None, body=body, appointment=second, selected_on=day)

    assert officers_on(body=body, day=day).chair == term
    assert not OfficerTerm.objects.filter(appointment=second).exists()


def test_an_amendment_on_a_day_with_a_version_already_is_refused(guideline, secretariat):
    later = dt.date(2024, 4, 1)
    services.guideline_amend(actor=secretariat, guideline=guideline, effective_on=later, amendment_note="第2次改正")
    entries = AuditEntry.objects.count()

    # Amending the first version again, to the same day as the second.
    with pytest.raises(RosterError, match="on that day exists already"):
        services.guideline_amend(actor=secretariat, guideline=guideline, effective_on=later, amendment_note="重複")

    assert list(Guideline.objects.filter(body=guideline.body).values_list("effective_on", flat=True).order_by(
        "effective_on"
    )) == [guideline.effective_on, later]
    assert AuditEntry.objects.count() == entries
