"""Fixtures for the meetings tests: a meeting of the fixture committee on 2023-06-07 14:00, its 次第
through the workflow, the convening official, and helpers that build rosters and larger data sets.

"Now" is 2023-06-01 (`in_term`) unless a test travels on; `after_meeting` is the next morning.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from committee.models import Affiliation, Appointment, Person
from core import kana
from core.models import User
from meetings import services
from meetings.models import Agenda, Attendance, Attendee, Meeting, Milestone
from tests import factories
from tests.conftest import APPOINTED, TOKYO, appoint

MEETING_DAY = dt.date(2023, 6, 7)
AFTER = dt.datetime(2023, 6, 8, 10, 0, tzinfo=TOKYO)
TERM_END = dt.date(2024, 3, 31)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Eleven members besides the chair: the 策定委員会 has 12 seats.
OTHERS = [
    ("青木", "あおき"),
    ("井上", "いのうえ"),
    ("上田", "うえだ"),
    ("遠藤", "えんどう"),
    ("大野", "おおの"),
    ("木村", "きむら"),
    ("工藤", "くどう"),
    ("小林", "こばやし"),
    ("鈴木", "すずき"),
    ("田中", "たなか"),
    ("千葉", "ちば"),
]


def at(day: dt.date, hour: int = 14, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)


def plan(body, actor, *, day: dt.date = MEETING_DAY, hour: int = 14, **kwargs) -> Meeting:
    """A meeting of `body` from 14:00 to 16:00 at the prefectural office."""
    start = at(day, hour)
    kwargs.setdefault("end_at", start + dt.timedelta(hours=2))
    kwargs.setdefault("venue_name", "青森県庁")
    kwargs.setdefault("venue_room", "北棟8階 会議室")
    return services.meeting_create(actor=actor, body=body, start_at=start, **kwargs)


def add_items(meeting: Meeting, actor) -> None:
    """1 開会, 2 議事 ((1) 骨子案について, (2) 意見交換), 3 閉会."""
    services.agenda_item_add(actor=actor, meeting=meeting, title="開会")
    business = services.agenda_item_add(actor=actor, meeting=meeting, title="議事")
    services.agenda_item_add(actor=actor, meeting=meeting, title="骨子案について", parent=business)
    services.agenda_item_add(actor=actor, meeting=meeting, title="意見交換", parent=business)
    services.agenda_item_add(actor=actor, meeting=meeting, title="閉会")


def refresh(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_related("agenda").get(pk=meeting.pk)


def agenda_of(meeting: Meeting) -> Agenda:
    return Agenda.objects.select_related("current_version", "approved_version").get(meeting=meeting)


def row_of(meeting: Meeting, user) -> Attendance:
    return Attendance.objects.get(meeting=meeting, appointment__person__user=user)


def sign_in(client: Client, user) -> None:
    # UserFactory hashes the password in memory only (skip_postgeneration_save); store it, or the
    # session's password-hash check logs the user straight out again.
    user.save(update_fields=["password"])
    client.force_login(user, backend=MODEL_BACKEND)


def appoint_others(body, count: int = len(OTHERS)) -> list[Appointment]:
    return [appoint(body, family, reading, given="一郎") for family, reading in OTHERS[:count]]


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # Argon2 at production strength costs ~0.4 s per account; these tests make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english():
    # Error messages are asserted by their English msgids, whatever translations exist.
    with translation.override("en"):
        yield


@pytest.fixture
def after_meeting(in_term):
    """The morning after the meeting (2023-06-08 10:00)."""
    with time_machine.travel(AFTER, tick=False):
        yield AFTER


@pytest.fixture
def convener(body):
    """The convening official (企画政策部長, 第4-1), who approves the 次第 while no chair can."""
    user = factories.UserFactory(email="director@test.example")
    body.convener_account = user
    body.save(update_fields=["convener_account"])
    return user


@pytest.fixture
def meeting(body, secretariat, in_term) -> Meeting:
    """第1回 of the fixture committee on 2023-06-07 14:00, with an online link and a 次第 of five items."""
    meeting = plan(body, secretariat, online_url="https://meet.example/secret-room-4711", online_note="Teams 会議")
    add_items(meeting, secretariat)
    return refresh(meeting)


@pytest.fixture
def submitted(meeting, secretariat, chair):
    """The 次第 submitted to the chair; returns the version."""
    return services.agenda_submit(actor=secretariat, meeting=meeting)


@pytest.fixture
def approved(submitted, meeting, chair):
    return services.agenda_approve(actor=chair, meeting=meeting, sha256=submitted.sha256)


@pytest.fixture
def notified(approved, meeting, secretariat) -> Meeting:
    return services.meeting_mark_notified(actor=secretariat, meeting=meeting)


@pytest.fixture
def invited(meeting, secretariat, chair, vice_chair, member) -> Meeting:
    """Attendance rows for the chair, the vice chair and the member, and the secretariat as attendee."""
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.SECRETARIAT, title="企画政策部DX推進課", position=1)
    services.attendance_prepare(actor=secretariat, meeting=meeting)
    return meeting


@pytest.fixture
def held(notified, invited, secretariat, chair, member, after_meeting) -> Meeting:
    """Held the day before: the chair and the member came, the vice chair did not."""
    meeting = services.meeting_mark_held(actor=secretariat, meeting=invited)
    rows = {
        r.appointment.person.user: r
        for r in meeting.attendances.select_related("appointment__person")
        if r.appointment_id
    }
    records = {
        row.pk: (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)
        for user, row in rows.items()
        if user in (chair, member)
    }
    records |= {row.pk: (Attendance.Actual.ABSENT, "") for user, row in rows.items() if user not in (chair, member)}
    services.attendance_record(actor=secretariat, meeting=meeting, records=records)
    return meeting


# --- data far larger than the demo, made with bulk_create -----------------------------------------


KANA = "あいうえおかきくけこ"


def _reading(n: int) -> str:
    return "".join(KANA[int(digit)] for digit in f"{n:04d}")


def add_members(body, guideline, start: int, count: int) -> list[Appointment]:
    """`count` members in office through FY2023, each with an account and an affiliation (no signals, no history)."""
    users = User.objects.bulk_create(User(email=f"member{n:04d}@bulk.example") for n in range(start, start + count))
    people = Person.objects.bulk_create(
        Person(
            family_name=f"委員{n:04d}",
            given_name="花子",
            family_name_kana=_reading(n),
            sort_key=kana.sort_key(_reading(n)),
            user=user,
        )
        for n, user in zip(range(start, start + count), users, strict=True)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(
            body=body,
            person=person,
            guideline=guideline,
            appointed_on=APPOINTED,
            term_start=APPOINTED,
            term_end=TERM_END,
        )
        for person in people
    )
    Affiliation.objects.bulk_create(
        Affiliation(appointment=a, text=f"所属{a.person.family_name}", valid_from=APPOINTED) for a in appointments
    )
    return appointments


def add_attendance(meeting: Meeting, appointments: list[Appointment], *, held: bool = False, replied_by=None) -> None:
    """Invite `appointments` to `meeting`: every third online, the rest at the venue; recorded if `held`.
    Answers are recorded by `replied_by` (the secretariat taking them by phone) when given."""
    rows = []
    for i, appointment in enumerate(appointments):
        mode = Attendance.Reply.ONLINE if i % 3 == 0 else Attendance.Reply.VENUE
        rows.append(
            Attendance(
                meeting=meeting,
                appointment=appointment,
                reply=mode,
                replied_by=replied_by,
                actual=Attendance.Actual.PRESENT if held else "",
                actual_mode=mode if held else "",
            )
        )
    Attendance.objects.bulk_create(rows)


def add_meetings(body, start_number: int, count: int, *, agenda_status: str = Agenda.Status.DRAFT) -> list[Meeting]:
    """`count` planned meetings of `body` in FY2023, each with its (empty) 次第 in `agenda_status`."""
    meetings = Meeting.objects.bulk_create(
        Meeting(
            body=body,
            number=n,
            title=body.name,
            fiscal_year=2023,
            start_at=at(dt.date(2023, 4 + (n % 12), 1) if n % 12 < 9 else dt.date(2024, (n % 12) - 8, 1)),
        )
        for n in range(start_number, start_number + count)
    )
    Agenda.objects.bulk_create(Agenda(meeting=m, status=agenda_status) for m in meetings)
    return meetings


def add_milestones(body, count: int) -> None:
    Milestone.objects.bulk_create(
        Milestone(body=body, name=f"節目{n}", fiscal_year=2023, start_on=dt.date(2023, 4 + n % 9, 1 + n % 28))
        for n in range(count)
    )
