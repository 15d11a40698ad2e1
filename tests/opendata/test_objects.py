"""OParl objects, property by property, where issue 16 names what they carry: Organization with its parent
(subOrganizationOf, only when the parent is public), Membership with its 所属 (onBehalfOf) and dates, and
Meeting with its participants from the attendance recorded once it was held (members who attended only)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from meetings import services as meetings
from meetings.models import Attendance
from tests import factories
from tests.conftest import TOKYO
from tests.opendata.conftest import validate_oparl

START = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)


def _get(client, url: str) -> dict:
    response = client.get(url[len(settings.SITE_URL):] if url.startswith("http") else url)
    assert response.status_code == 200, url
    data = response.json()
    validate_oparl(data)
    return data


def test_an_organization_names_its_public_parent_only(db, body, client):
    child = factories.BodyFactory(name="幹事会", slug="kanjikai", parent=body)
    hidden = factories.BodyFactory(name="非公開の本部", slug="hidden-parent", is_public=False)
    orphan = factories.BodyFactory(name="非公開の本部の部会", slug="hidden-child", parent=hidden)
    parent_id = _get(client, f"/oparl/organization/{body.pk}/")["id"]
    assert _get(client, f"/oparl/organization/{child.pk}/")["subOrganizationOf"] == parent_id
    assert "subOrganizationOf" not in _get(client, f"/oparl/organization/{orphan.pk}/")
    assert client.get(f"/oparl/organization/{hidden.pk}/").status_code == 404


def test_a_membership_carries_its_role_dates_and_affiliation(db, body, member_appointment, client):
    membership = _get(client, f"/oparl/membership/{member_appointment.pk}/")
    assert (membership["startDate"], membership["endDate"]) == ("2023-05-10", "2024-03-31")
    assert membership["role"] and membership["votingRight"] is True
    affiliation = _get(client, membership["onBehalfOf"])
    assert affiliation["name"] == "佐藤の所属" and affiliation["classification"] == "所属・役職"


@pytest.fixture
def held(db, body, secretariat, chair, vice_chair, member, in_term):
    """Held on 2023-06-07: the chair and the member attended, the vice chair sent apologies."""
    meeting = meetings.meeting_create(actor=secretariat, body=body, start_at=START, venue_name="青森県庁")
    meetings.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = meetings.agenda_submit(actor=secretariat, meeting=meeting)
    meetings.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    meetings.meeting_mark_notified(actor=secretariat, meeting=meeting)
    meetings.attendance_prepare(actor=secretariat, meeting=meeting)
    return meeting


def _record(meeting, secretariat, absent_user) -> None:
    rows = meeting.attendances.select_related("appointment__person")
    records = {
        r.pk: (Attendance.Actual.ABSENT, "") if r.appointment.person.user == absent_user
        else (Attendance.Actual.PRESENT, Attendance.Mode.VENUE)
        for r in rows if r.appointment_id
    }
    with time_machine.travel(START + dt.timedelta(hours=20), tick=False):
        meetings.meeting_mark_held(actor=secretariat, meeting=meeting)
        meetings.attendance_record(actor=secretariat, meeting=meeting, records=records)


def test_participants_are_those_who_attended_once_the_meeting_was_held(
    held, secretariat, chair_appointment, member_appointment, vice_chair, vice_chair_appointment, client
):
    assert "participant" not in _get(client, f"/oparl/meeting/{held.pk}/")  # not before it was held
    _record(held, secretariat, absent_user=vice_chair)
    meeting = _get(client, f"/oparl/meeting/{held.pk}/")
    expected = {f"{settings.SITE_URL}/oparl/person/{a.person_id}/" for a in (chair_appointment, member_appointment)}
    assert set(meeting["participant"]) == expected
    for person in meeting["participant"]:
        _get(client, person)  # each one is a published Person
