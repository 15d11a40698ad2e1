"""Every open-data list runs a fixed number of queries: the same count for a small committee and for one
with ten times the demo committee's meetings, materials and members (60 meetings with approved agendas
and attendance, 120 public materials, 120 members)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents import services as documents
from meetings import services as meetings
from meetings.models import Attendance, Meeting, Minutes, MinutesEntry
from tests.conftest import TOKYO, appoint
from tests.documents.conftest import pdf_bytes

LISTS = [
    *(f"/oparl/body/020001/{kind}/" for kind in (
        "organization", "person", "membership", "meeting", "agendaItem", "paper", "file", "location",
        "consultation", "legislativeTerm",
    )),
    "/opendata/meetings.csv",
    "/opendata/bodies/dx-plan/meetings.csv",
    "/opendata/bodies/dx-plan/roster.csv?on=2023-06-01",
    "/opendata/bodies/dx-plan/popolo.json",
    "/opendata/feed.atom",
    "/opendata/bodies/dx-plan/feed.atom",
    "/opendata/",
]


def grow(body, secretariat, chair, *, meetings_count: int, members: int) -> None:
    for i in range(members):
        appoint(body, f"委員{i}", "いいん", given=f"{i}", affiliation=f"所属{i}")
    start = dt.datetime(2023, 6, 7, 14, 0, tzinfo=TOKYO)
    pdf = pdf_bytes()
    for i in range(meetings_count):
        meeting = meetings.meeting_create(
            actor=secretariat, body=body, start_at=start + dt.timedelta(days=i), venue_name=f"会場{i}"
        )
        for title in ("開会", "議事", "閉会"):
            meetings.agenda_item_add(actor=secretariat, meeting=meeting, title=title)
        version = meetings.agenda_submit(actor=secretariat, meeting=meeting)
        meetings.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
        meetings.meeting_mark_notified(actor=secretariat, meeting=meeting)
        for n in range(2):
            documents.material_create(
                actor=secretariat, meeting=meeting, title=f"資料{n}",
                upload=SimpleUploadedFile(f"{n}.pdf", pdf, content_type="application/pdf"), visibility="public",
            )
        meetings.attendance_prepare(actor=secretariat, meeting=meeting)
        Attendance.objects.filter(meeting=meeting).update(actual=Attendance.Actual.PRESENT)
        minutes = Minutes.objects.create(meeting=meeting, status=Minutes.Status.PUBLISHED, published_at=start)
        MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="開会します。")
    Meeting.objects.filter(body=body).update(status=Meeting.Status.MINUTES_PUBLISHED)


def counts(client) -> dict[str, int]:
    found = {}
    for path in LISTS:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        found[path] = len(queries)
    return found


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_lists_run_a_fixed_number_of_queries(db, body, secretariat, chair, in_term, media, client):
    grow(body, secretariat, chair, meetings_count=1, members=2)
    small = counts(client)
    grow(body, secretariat, chair, meetings_count=59, members=118)
    large = counts(client)
    assert Meeting.objects.filter(body=body).count() == 60
    grown = {path: (small[path], large[path]) for path in LISTS if large[path] != small[path]}
    assert not grown, f"queries grew with the data (small, 10x): {grown}"
    assert max(large.values()) <= 15, large
