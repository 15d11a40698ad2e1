"""What every signed-in page reads about its user (secretariat posts, appointments) and the footer's unit
is kept in the shared cache until the next change (core.pagecache.remembered; issue 13: signed-in pages
near the framework's own cost). Access is still decided on every request: a term ended, a post left or a
unit renamed shows on the next page, and nothing is read again until then."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from committee import services as committee_services
from committee.models import Appointment, OrgUnitName, StaffAssignment

from .conftest import sign_in

FACT_TABLES = ('"committee_staffassignment"', '"committee_appointment"', '"committee_orgunitname"')


@pytest.fixture(autouse=True)
def facts_kept(page_cache_on):
    """What production has with Redis (tests/conftest.py: the tests' default is off)."""


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, user)
    return client


def _fact_queries(client: Client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and any(
            f"FROM {table}" in q["sql"] for table in FACT_TABLES
        )
    ]


def test_a_members_second_page_reads_no_posts_appointments_or_unit_names(meeting, member):
    client = _client(member)
    url = reverse("meetings:detail", args=[meeting.pk])
    html, first = _fact_queries(client, url)
    assert first, "the first page reads them"
    assert "secret-room-4711" in html  # the member's side: the online link
    html, again = _fact_queries(client, url)
    assert again == []
    assert "secret-room-4711" in html
    assert "DX推進課" in html  # the footer's unit, from the cache


def test_a_term_ended_closes_the_members_side_on_the_next_page(
    meeting, member, member_appointment, django_capture_on_commit_callbacks
):
    client = _client(member)
    url = reverse("meetings:detail", args=[meeting.pk])
    assert "secret-room-4711" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        committee_services.appointment_end(
            actor=None, appointment=member_appointment, ended_on=timezone.localdate() - dt.timedelta(days=1),
            reason=Appointment.EndReason.RESIGNED,
        )
    assert "secret-room-4711" not in client.get(url).content.decode()
    assert client.get(reverse("meetings:manage", args=[meeting.pk])).status_code == 404


def test_a_post_left_closes_the_secretariats_pages_on_the_next_request(
    meeting, secretariat, django_capture_on_commit_callbacks
):
    client = _client(secretariat)
    url = reverse("meetings:manage", args=[meeting.pk])
    assert client.get(url).status_code == 200
    post = StaffAssignment.objects.get(user=secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        post.end_on = timezone.localdate() - dt.timedelta(days=1)
        post.save()  # the admin's way: a save, no service
    assert client.get(url).status_code == 404


def test_a_term_that_ends_by_the_calendar_closes_without_any_write(meeting, member, member_appointment):
    """The cached appointment is compared with today's date on every request."""
    client = _client(member)
    url = reverse("meetings:detail", args=[meeting.pk])
    assert "secret-room-4711" in client.get(url).content.decode()
    with time_machine.travel(dt.datetime.combine(member_appointment.term_end, dt.time(12)) + dt.timedelta(days=1)):
        assert "secret-room-4711" not in client.get(url).content.decode()


def test_a_renamed_unit_shows_in_the_footer_on_the_next_page(
    meeting, member, unit, django_capture_on_commit_callbacks
):
    client = _client(member)
    url = reverse("meetings:detail", args=[meeting.pk])
    assert "DX推進課" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        OrgUnitName.objects.filter(unit=unit).update(name="デジタル戦略課")  # no signal: the next line is one
        OrgUnitName.objects.filter(unit=unit).first().save()
    html = client.get(url).content.decode()
    assert "デジタル戦略課" in html and "DX推進課" not in html


def test_a_fact_pickled_by_an_older_release_is_computed_again_not_an_error(meeting, member):
    """After a deploy a kept value may no longer unpickle (a class changed): the page still answers, the
    value is computed again and stored anew."""
    from core import pagecache

    client = _client(member)
    url = reverse("meetings:detail", args=[meeting.pk])
    _fact_queries(client, url)
    fact_keys = [k for k in cache._cache if pagecache.FACT_PREFIX in k]  # locmem: the pickled bytes
    assert fact_keys
    for key in fact_keys:
        cache._cache[key] = b"\x80\x04\x95not a pickle of this release"
    html, again = _fact_queries(client, url)
    assert "secret-room-4711" in html
    assert again, "read again from the database"
    _html, third = _fact_queries(client, url)
    assert third == []  # stored anew


# --- "My meetings" and the approvals: the user's invitations and the 次第 waiting for them ----------------

LISTS = ('"meetings_attendance"', '"meetings_meeting"', '"meetings_minutesconfirmation"')


def _list_queries(client: Client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in LISTS)]


def test_my_meetings_is_kept_and_an_answer_shows_on_the_next_page(
    invited, member, django_capture_on_commit_callbacks
):
    from meetings import services

    from .conftest import row_of

    client = _client(member)
    url = reverse("meetings:my_meetings")
    html, first = _list_queries(client, url)
    assert first and "Not answered" in html
    html, again = _list_queries(client, url)
    assert again == [] and "Not answered" in html  # the invitations from the cache

    with django_capture_on_commit_callbacks(execute=True):
        services.attendance_reply(actor=member, attendance=row_of(invited, member), reply="online", note="")
    html, _ = _list_queries(client, url)
    assert "Not answered" not in html and "Online" in html


def test_my_meetings_moves_a_meeting_to_the_past_when_it_starts_without_any_write(invited, member):
    url = reverse("meetings:my_meetings")
    with time_machine.travel(invited.start_at - dt.timedelta(minutes=2), tick=False):  # just before it starts
        client = _client(member)
        assert "No past meetings." in client.get(url).content.decode()
    with time_machine.travel(invited.start_at + dt.timedelta(minutes=1), tick=False):  # the same day
        html, queries = _list_queries(client, url)
    assert queries == []  # still the kept rows: only the moment they are read against moved
    assert "No upcoming meetings." in html and "No past meetings." not in html


def test_an_agenda_waiting_for_the_chair_comes_and_goes_with_the_writes(
    meeting, secretariat, chair, django_capture_on_commit_callbacks
):
    from meetings import services

    client = _client(chair)
    url = reverse("meetings:approvals")
    review = reverse("meetings:agenda_review", args=[meeting.pk])
    assert review not in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        version = services.agenda_submit(actor=secretariat, meeting=meeting)
    html, _ = _list_queries(client, url)
    assert review in html
    html, again = _list_queries(client, url)
    assert review in html and again == []  # kept
    with django_capture_on_commit_callbacks(execute=True):
        services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    assert review not in client.get(url).content.decode()


def test_a_post_ended_by_a_bulk_update_closes_the_pages_on_the_next_request(
    meeting, secretariat, django_capture_on_commit_callbacks
):
    """A data fix without a save or an audit entry (a QuerySet.update, a data migration): the facts are kept
    under the generation of every write, so the next request decides from the database again."""
    client = _client(secretariat)
    url = reverse("meetings:manage", args=[meeting.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # the facts, and the page, kept
    with django_capture_on_commit_callbacks(execute=True):
        StaffAssignment.objects.filter(user=secretariat).update(end_on=timezone.localdate() - dt.timedelta(days=1))
    assert client.get(url).status_code == 404
