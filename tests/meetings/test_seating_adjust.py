"""The secretariat adjusts a meeting's 席図 in the site: the service and the page that calls it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditAction, AuditEntry
from meetings import services
from meetings.models import Attendee, Meeting, Seat

from .conftest import add_attendance, add_members, plan, row_of, sign_in


def _client(user=None, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        sign_in(client, user)
    return client


@pytest.fixture
def seated(held, secretariat) -> Meeting:
    """The held meeting's generated plan: the chair at the head, the member on the left, the secretariat at
    the foot."""
    services.seating_generate(actor=secretariat, meeting=held)
    return held


def _seat_of(meeting: Meeting, user) -> Seat:
    return Seat.objects.get(attendance=row_of(meeting, user))


def _sides(html: str) -> tuple[str, str]:
    """The left and the right side of the printed plan."""
    sides = html.split('class="seating-sides"', 1)[1].split('class="seating-foot', 1)[0]
    left, right = sides.split('class="seating-table"', 1)
    return left, right


def test_the_secretariat_moves_a_member_to_the_right_side(seated, secretariat, member):
    seat = _seat_of(seated, member)
    name = seat.attendance.holder_name
    assert seat.zone == Seat.Zone.LEFT
    client = _client(secretariat)
    url = reverse("meetings:seating_adjust", args=[seated.pk])
    page = client.get(url).content.decode()
    assert f'name="zone-{seat.pk}"' in page and f'name="position-{seat.pk}"' in page
    assert name in page
    before = _sides(client.get(reverse("meetings:seating", args=[seated.pk])).content.decode())
    assert name in before[0] and name not in before[1]

    response = client.post(url, {f"zone-{seat.pk}": "right", f"position-{seat.pk}": "2"}, follow=True)

    assert response.redirect_chain[-1][0] == url
    assert "Seats moved: 1." in response.content.decode()
    seat.refresh_from_db()
    assert (seat.zone, seat.position) == ("right", 2)
    after = _sides(client.get(reverse("meetings:seating", args=[seated.pk])).content.decode())
    assert name not in after[0] and name in after[1]
    entry = AuditEntry.objects.get(action=AuditAction.SEATING_ADJUSTED)
    assert (entry.actor, entry.meeting_id, entry.data) == (secretariat, seated.pk, {"seats": 1})


def test_saving_the_same_plan_changes_nothing_and_records_nothing(seated, secretariat):
    placements = {s.pk: (s.zone, s.position) for s in seated.seats.all()}
    assert services.seating_update(actor=secretariat, meeting=seated, placements=placements) == 0
    assert not AuditEntry.objects.filter(action=AuditAction.SEATING_ADJUSTED).exists()


def _other_meetings_seat(body, secretariat) -> Seat:
    other = plan(body, secretariat, day=dt.date(2023, 7, 5))
    Attendee.objects.create(meeting=other, role=Attendee.Role.SECRETARIAT, title="企画政策部DX推進課")
    services.attendance_prepare(actor=secretariat, meeting=other)
    services.seating_generate(actor=secretariat, meeting=other)
    return Seat.objects.get(meeting=other)


@pytest.mark.parametrize(
    ("which", "language", "said"),
    [
        ("unknown", "en", "Some seats belong to another meeting or no longer exist; nothing was saved."),
        ("other meeting", "ja", "他の会議の席または存在しない席が含まれています。何も保存していません。"),
    ],
)
def test_a_foreign_or_unknown_seat_changes_nothing_and_says_so(
    seated, body, secretariat, member, which, language, said
):
    mine = _seat_of(seated, member)
    foreign = 999999 if which == "unknown" else _other_meetings_seat(body, secretariat).pk
    before = sorted(Seat.objects.values_list("pk", "zone", "position"))

    response = _client(secretariat, language).post(
        reverse("meetings:seating_adjust", args=[seated.pk]),
        {f"zone-{mine.pk}": "right", f"position-{mine.pk}": "1", f"zone-{foreign}": "left", f"position-{foreign}": "1"},
        follow=True,
    )

    assert said in response.content.decode()
    assert sorted(Seat.objects.values_list("pk", "zone", "position")) == before
    assert not AuditEntry.objects.filter(action=AuditAction.SEATING_ADJUSTED).exists()


@pytest.mark.parametrize(
    ("zone", "position"), [("nowhere", "1"), ("right", "0"), ("right", "1000"), ("right", "two")]
)
def test_a_bad_place_or_order_changes_nothing(seated, secretariat, member, zone, position):
    seat = _seat_of(seated, member)
    response = _client(secretariat).post(
        reverse("meetings:seating_adjust", args=[seated.pk]),
        {f"zone-{seat.pk}": zone, f"position-{seat.pk}": position},
        follow=True,
    )
    assert "alert-danger" in response.content.decode()
    seat.refresh_from_db()
    assert seat.zone == Seat.Zone.LEFT


@pytest.mark.parametrize("status", [Meeting.Status.CANCELLED, Meeting.Status.MINUTES_PUBLISHED])
def test_a_cancelled_or_published_meetings_plan_stays(seated, secretariat, member, status):
    Meeting.objects.filter(pk=seated.pk).update(status=status)
    seat = _seat_of(seated, member)
    with pytest.raises(services.MeetingError):
        services.seating_update(actor=secretariat, meeting=seated, placements={seat.pk: ("right", 1)})
    seat.refresh_from_db()
    assert seat.zone == Seat.Zone.LEFT


@pytest.mark.parametrize("role", ["outsider", "member", "chair", "vice_chair", "other_secretariat"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_secretariat_reaches_the_page(seated, request, member, role, method):
    seat = _seat_of(seated, member)
    url = reverse("meetings:seating_adjust", args=[seated.pk])
    client = _client(request.getfixturevalue(role))
    data = {f"zone-{seat.pk}": "right", f"position-{seat.pk}": "1"}
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == 404
    seat.refresh_from_db()
    assert seat.zone == Seat.Zone.LEFT


def test_anonymous_is_sent_to_the_login(seated):
    url = reverse("meetings:seating_adjust", args=[seated.pk])
    response = _client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_the_plan_and_the_manage_page_link_here_not_to_the_admin(seated, secretariat, member):
    client = _client(secretariat)
    url = reverse("meetings:seating_adjust", args=[seated.pk])
    for page in ("seating", "manage"):
        html = client.get(reverse(f"meetings:{page}", args=[seated.pk])).content.decode()
        assert url in html
        assert "/admin/meetings/seat/" not in html
    assert url not in _client(member).get(reverse("meetings:seating", args=[seated.pk])).content.decode()


def test_the_page_queries_stay_the_same_with_a_hundred_seats(
    seated, body, guideline, secretariat, django_assert_max_num_queries
):
    client = _client(secretariat)
    url = reverse("meetings:seating_adjust", args=[seated.pk])
    client.get(url)  # fills the caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    add_attendance(seated, add_members(body, guideline, 1000, 100), held=True, replied_by=secretariat)
    services.seating_generate(actor=secretariat, meeting=seated)
    assert seated.seats.count() > 100

    with django_assert_max_num_queries(len(small)):
        response = client.get(url)
    assert response.content.decode().count('name="position-') == seated.seats.count()
