"""htmx (issue 10, 6): the 次第 editor and attendance entry save in place when JavaScript is on (an htmx
request gets the part of the page that changed, no <html>) and still work as POST and redirect without it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from meetings.models import AgendaItem, Attendance

from .conftest import sign_in

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(secretariat) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, secretariat)
    return client


def _items(meeting) -> list[str]:
    return list(
        AgendaItem.objects.filter(agenda__meeting=meeting, parent__isnull=True)
        .order_by("position")
        .values_list("title", flat=True)
    )


def _is_partial(response) -> bool:
    html = response.content.decode()
    return response.status_code == 200 and "<html" not in html and "<body" not in html


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no javascript"])
def test_adding_an_item(meeting, client, with_htmx):
    response = client.post(
        reverse("meetings:agenda_edit", args=[meeting.pk]),
        {"title": "報告事項", "is_public": "on"},
        **(HTMX if with_htmx else {}),
    )
    assert AgendaItem.objects.filter(agenda__meeting=meeting, title="報告事項").exists()
    if with_htmx:
        assert _is_partial(response)
        html = response.content.decode()
        assert "報告事項" in html and 'id="items"' in html
        assert "was added" in html  # the message comes with the part
    else:
        assert response.status_code == 302
        assert response["Location"].endswith(reverse("meetings:agenda_edit", args=[meeting.pk]) + "#items")


def test_an_invalid_item_shows_its_errors_in_place(meeting, client):
    response = client.post(reverse("meetings:agenda_edit", args=[meeting.pk]), {"title": ""}, **HTMX)
    assert _is_partial(response)
    assert 'id="form-errors"' in response.content.decode()


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no javascript"])
def test_moving_an_item(meeting, client, with_htmx):
    first = AgendaItem.objects.get(agenda__meeting=meeting, title="開会")
    before = _items(meeting)
    response = client.post(
        reverse("meetings:agenda_item_move", args=[meeting.pk, first.pk]),
        {"direction": "down"},
        **(HTMX if with_htmx else {}),
    )
    assert _items(meeting) == [before[1], before[0], *before[2:]]
    if with_htmx:
        assert _is_partial(response)
        html = response.content.decode()
        assert html.index("開会") > html.index(before[1])
    else:
        assert response.status_code == 302


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no javascript"])
def test_deleting_an_item(meeting, client, with_htmx):
    item = AgendaItem.objects.get(agenda__meeting=meeting, title="開会")
    response = client.post(
        reverse("meetings:agenda_item_delete", args=[meeting.pk, item.pk]), **(HTMX if with_htmx else {})
    )
    assert not AgendaItem.objects.filter(pk=item.pk).exists()
    if with_htmx:
        assert _is_partial(response)
        assert "was deleted" in response.content.decode()
    else:
        assert response.status_code == 302


def test_the_editor_page_carries_htmx_and_plain_forms(meeting, client):
    html = client.get(reverse("meetings:agenda_edit", args=[meeting.pk])).content.decode()
    assert "django_htmx/htmx-2.min.js" in html
    # every form that saves in place also has its ordinary action
    assert html.count("hx-post=") >= 3
    assert html.count('hx-post="') == html.count('hx-target="#agenda-editor"')


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no javascript"])
def test_recording_attendance(held, client, member, with_htmx):
    row = Attendance.objects.get(meeting=held, appointment__person__user=member)
    response = client.post(
        reverse("meetings:manage_action", args=[held.pk, "record"]),
        {f"actual-{row.pk}": "late", f"mode-{row.pk}": "online"},
        **(HTMX if with_htmx else {}),
    )
    row.refresh_from_db()
    assert (row.actual, row.actual_mode) == ("late", "online")
    if with_htmx:
        assert _is_partial(response)
        html = response.content.decode()
        assert 'id="attendance-section"' in html
        assert '<option value="late" selected>' in html
        assert "Attendance recorded" in html
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("meetings:manage", args=[held.pk])


def test_an_attendance_error_shows_in_place_and_changes_nothing(held, client, member):
    row = Attendance.objects.get(meeting=held, appointment__person__user=member)
    before = (row.actual, row.actual_mode)
    response = client.post(
        reverse("meetings:manage_action", args=[held.pk, "record"]), {f"actual-{row.pk}": "present"}, **HTMX
    )
    assert _is_partial(response)
    assert "alert-danger" in response.content.decode()
    row.refresh_from_db()
    assert (row.actual, row.actual_mode) == before


def test_other_manage_steps_still_redirect_under_htmx(meeting, client):
    response = client.post(reverse("meetings:manage_action", args=[meeting.pk, "prepare"]), **HTMX)
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_htmx_posts_from_others_change_nothing(meeting, who, member, outsider):
    client = Client()
    sign_in(client, {"member": member, "outsider": outsider}[who])
    item = AgendaItem.objects.get(agenda__meeting=meeting, title="開会")
    response = client.post(reverse("meetings:agenda_item_delete", args=[meeting.pk, item.pk]), **HTMX)
    assert response.status_code == 404
    assert AgendaItem.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize("with_htmx", [True, False], ids=["htmx", "no javascript"])
def test_recording_a_phone_answer(invited, client, member, with_htmx):
    row = Attendance.objects.get(meeting=invited, appointment__person__user=member)
    response = client.post(
        reverse("meetings:manage_action", args=[invited.pk, "reply"]),
        {"attendance": row.pk, "reply": "absent", "note": "電話"},
        **(HTMX if with_htmx else {}),
    )
    row.refresh_from_db()
    assert (row.reply, row.reply_note) == ("absent", "電話")
    if with_htmx:
        assert _is_partial(response)
        assert 'id="attendance-section"' in response.content.decode()
    else:
        assert response.status_code == 302
