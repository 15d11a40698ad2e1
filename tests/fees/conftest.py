"""Fixtures for the fees tests: the fixture committee's meeting of 2023-06-07 (tests/meetings/conftest.py)
held with the chair and the member present and the vice chair absent, rules for 謝金 and 報酬, and the
secretariat's approver.

"Now" is the morning after the meeting (2023-06-08 10:00) unless a test travels on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client

from fees import services
from fees.models import RuleSet
from meetings import services as meeting_services
from meetings.models import Attendance, Meeting
from tests import factories
from tests.meetings.conftest import (  # noqa: F401 (fixtures used by the fees tests)
    TOKYO,
    after_meeting,
    approved,
    english,
    fast_hashing,
    held,
    invited,
    meeting,
    notified,
    plan,
    sign_in,
    submitted,
)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def honorarium(body, *, effective_on: dt.date = dt.date(2023, 4, 1), member=(10000, 7500), chair=(12000, 9000), **kw):
    """謝金 with 10.21% withholding rounded down; travel by distance band unless told otherwise."""
    kw.setdefault("travel", RuleSet.Travel.BAND)
    kw.setdefault("bands", [(25, 600), (50, 1200), (None, 4800)])
    return services.rule_set_create(
        actor=None,
        body=body,
        effective_on=effective_on,
        kind="honorarium",
        rates={"member": member, "chair": chair},
        withholding=RuleSet.Withholding.RATE,
        withholding_rate=Decimal("10.21"),
        **kw,
    )


def remuneration(body, *, effective_on: dt.date = dt.date(2023, 4, 1), **kw):
    """報酬 by the withholding table (the amount is entered), travel at the actual fare."""
    return services.rule_set_create(
        actor=None,
        body=body,
        effective_on=effective_on,
        kind="remuneration",
        rates={"member": (9800, 9800), "chair": (11500, 11500)},
        travel=RuleSet.Travel.ACTUAL,
        withholding=RuleSet.Withholding.TABLE,
        **kw,
    )


def hold(held_meeting: Meeting, actor, records: dict) -> Meeting:
    """Record attendance the day after the meeting: `records` maps users to (actual, mode)."""
    rows = {
        r.appointment.person.user: r
        for r in held_meeting.attendances.filter(appointment__isnull=False).select_related("appointment__person")
    }
    with time_machine.travel(held_meeting.start_at + dt.timedelta(hours=20), tick=False):
        meeting_services.attendance_record(
            actor=actor, meeting=held_meeting, records={rows[user].pk: value for user, value in records.items()}
        )
    return held_meeting


def later_meeting(body, secretariat, day: dt.date) -> Meeting:
    """Another meeting of the body on `day`, everyone in office invited."""
    with time_machine.travel(dt.datetime(day.year, day.month, day.day, 9, tzinfo=TOKYO) - dt.timedelta(days=10)):
        later = plan(body, secretariat, day=day, online_url="https://meet.example/later")
        meeting_services.attendance_prepare(actor=secretariat, meeting=later)
    return later


PRESENT_VENUE = (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)
PRESENT_ONLINE = (Attendance.Actual.PRESENT, Attendance.Mode.ONLINE)
ABSENT = (Attendance.Actual.ABSENT, "")


@pytest.fixture
def approver(secretariat):
    """The secretariat's approver (決裁者): the secretariat account with the approval right."""
    secretariat.user_permissions.add(Permission.objects.get(codename="approve_feesheet"))
    return type(secretariat).objects.get(pk=secretariat.pk)  # a fresh object: permissions are cached


@pytest.fixture
def clerk(unit):
    """Another secretariat account of the same unit, without the approval right."""
    return factories.StaffAssignmentFactory(unit=unit, user__email="clerk@test.example").user


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client
