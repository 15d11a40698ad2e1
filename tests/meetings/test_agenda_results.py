"""結果: after a meeting is held the secretariat records what became of each item of the approved 次第
(services.agenda_results_record and its page /manage/meetings/<pk>/results/); the meeting page shows the
results of public items to everyone and keeps a closed item's result with those who see the item.

The fixture meeting (tests/meetings/conftest.py) has the items 1 開会, 2 議事 ((1) 骨子案について,
(2) 意見交換), 3 閉会; `held` is the morning after, with the 次第 approved and the notice sent."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from meetings import services
from meetings.models import Agenda, AgendaItem, AgendaVersion, Meeting
from meetings.services import MeetingError

from .conftest import agenda_of, sign_in

APPROVED, CONTINUED, NOTED = AgendaItem.Result.APPROVED, AgendaItem.Result.CONTINUED, AgendaItem.Result.NOTED


def _item(meeting: Meeting, title: str) -> AgendaItem:
    return AgendaItem.objects.get(agenda__meeting=meeting, title=title)


def _entries(meeting: Meeting) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="agenda_results_recorded", meeting_id=meeting.pk))


def _client(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


@pytest.fixture
def draft_item(held, secretariat):
    """議事 (1) 骨子案について."""
    return _item(held, "骨子案について")


# --- the service ---------------------------------------------------------------------------------


def test_results_are_recorded_after_the_meeting(held, secretariat, draft_item):
    talk = _item(held, "意見交換")
    changed = services.agenda_results_record(
        actor=secretariat,
        meeting=held,
        results={draft_item.pk: (APPROVED, " 字句の修正は委員長に一任 "), talk.pk: ("", "次回も継続して議論")},
    )
    assert changed == 2
    draft_item.refresh_from_db()
    talk.refresh_from_db()
    assert (draft_item.result, draft_item.outcome) == (APPROVED, "字句の修正は委員長に一任")
    assert (talk.result, talk.outcome) == ("", "次回も継続して議論")
    [entry] = _entries(held)
    assert entry.actor == secretariat and sorted(entry.data["items"]) == sorted([draft_item.pk, talk.pk])
    version = agenda_of(held).approved_version
    assert version.results_recorded_at is not None
    # Results are not what the chair approved: the approval stands and no new version is needed.
    assert agenda_of(held).status == Agenda.Status.APPROVED and AgendaVersion.objects.filter(
        agenda__meeting=held
    ).count() == 1


def test_recording_the_same_results_twice_changes_nothing(held, secretariat, draft_item):
    results = {draft_item.pk: (NOTED, "")}
    assert services.agenda_results_record(actor=secretariat, meeting=held, results=results) == 1
    stamp = agenda_of(held).approved_version.results_recorded_at
    assert services.agenda_results_record(actor=secretariat, meeting=held, results=results) == 0
    assert len(_entries(held)) == 1
    assert agenda_of(held).approved_version.results_recorded_at == stamp


def test_a_result_can_be_changed_and_cleared(held, secretariat, draft_item):
    services.agenda_results_record(actor=secretariat, meeting=held, results={draft_item.pk: (APPROVED, "")})
    services.agenda_results_record(actor=secretariat, meeting=held, results={draft_item.pk: (CONTINUED, "")})
    draft_item.refresh_from_db()
    assert draft_item.result == CONTINUED
    services.agenda_results_record(actor=secretariat, meeting=held, results={draft_item.pk: ("", "  ")})
    draft_item.refresh_from_db()
    assert (draft_item.result, draft_item.outcome) == ("", "")
    assert len(_entries(held)) == 3


@pytest.mark.parametrize("status", ["planned", "notified", "postponed", "cancelled"])
def test_results_wait_until_the_meeting_is_held(notified, secretariat, status):
    Meeting.objects.filter(pk=notified.pk).update(status=status)
    item = _item(notified, "骨子案について")
    with pytest.raises(MeetingError, match="once the meeting is recorded as held"):
        services.agenda_results_record(actor=secretariat, meeting=notified, results={item.pk: (APPROVED, "")})
    item.refresh_from_db()
    assert item.result == "" and not _entries(notified)


def test_results_may_be_corrected_after_the_minutes_are_published(held, secretariat, draft_item):
    Meeting.objects.filter(pk=held.pk).update(status=Meeting.Status.MINUTES_PUBLISHED)
    services.agenda_results_record(actor=secretariat, meeting=held, results={draft_item.pk: (APPROVED, "")})
    draft_item.refresh_from_db()
    assert draft_item.result == APPROVED


def test_refused_input_changes_nothing(held, secretariat, draft_item):
    talk = _item(held, "意見交換")
    with pytest.raises(MeetingError, match="Choose a result from the list"):
        services.agenda_results_record(
            actor=secretariat, meeting=held, results={talk.pk: (APPROVED, ""), draft_item.pk: ("adopted!", "")}
        )
    with pytest.raises(MeetingError, match="at most 1000 characters"):
        services.agenda_results_record(
            actor=secretariat, meeting=held, results={talk.pk: (APPROVED, ""), draft_item.pk: ("", "あ" * 1001)}
        )
    talk.refresh_from_db()
    assert talk.result == "" and not _entries(held)


def test_only_items_of_the_approved_agenda_take_results(held, secretariat, other_secretariat, other_body):
    from .conftest import add_items, plan

    other = plan(other_body, other_secretariat)
    add_items(other, other_secretariat)
    foreign = _item(other, "開会")
    with pytest.raises(MeetingError, match="only for items of the approved 次第"):
        services.agenda_results_record(actor=secretariat, meeting=held, results={foreign.pk: (APPROVED, "")})
    # An item added after the approval was not on the 次第 the meeting followed.
    late = AgendaItem.objects.create(agenda=held.agenda, title="追加", position=9)
    with pytest.raises(MeetingError, match="only for items of the approved 次第"):
        services.agenda_results_record(actor=secretariat, meeting=held, results={late.pk: (APPROVED, "")})


def test_a_meeting_without_an_approved_agenda_takes_no_results(meeting, secretariat, after_meeting):
    services.meeting_mark_held(actor=secretariat, meeting=meeting)
    item = _item(meeting, "開会")
    with pytest.raises(MeetingError, match="no approved 次第"):
        services.agenda_results_record(actor=secretariat, meeting=meeting, results={item.pk: (APPROVED, "")})


def test_an_older_version_learns_its_items_while_the_agenda_reads_as_approved(held, secretariat, draft_item):
    # A version approved before the item ids were kept (the migration leaves them empty).
    AgendaVersion.objects.filter(agenda__meeting=held).update(item_ids=[])
    services.agenda_results_record(actor=secretariat, meeting=held, results={draft_item.pk: (APPROVED, "")})
    version = agenda_of(held).approved_version
    assert version.item_ids == [i.pk for i in (
        _item(held, "開会"), _item(held, "議事"), draft_item, _item(held, "意見交換"), _item(held, "閉会")
    )]


def test_an_older_version_of_an_agenda_changed_since_is_refused(held, secretariat, draft_item):
    AgendaVersion.objects.filter(agenda__meeting=held).update(item_ids=[])
    services.agenda_item_update(actor=secretariat, item=_item(held, "閉会"), title="閉会のあいさつ")  # reopens
    with pytest.raises(MeetingError, match="changed after its approval"):
        services.agenda_results_record(actor=secretariat, meeting=held, results={draft_item.pk: (APPROVED, "")})


# --- the page ------------------------------------------------------------------------------------


def _url(meeting: Meeting) -> str:
    return reverse("meetings:agenda_results", args=[meeting.pk])


def test_the_secretariat_records_results_on_its_page(held, secretariat, draft_item):
    client = _client(secretariat)
    manage = client.get(reverse("meetings:manage", args=[held.pk])).content.decode()
    assert _url(held) in manage  # the manage page of a held meeting links here
    page = client.get(_url(held)).content.decode()
    assert "骨子案について" in page and f'name="result-{draft_item.pk}"' in page

    response = client.post(_url(held), {f"result-{draft_item.pk}": APPROVED, f"note-{draft_item.pk}": "異議なし"})

    assert response.status_code == 302 and response["Location"] == _url(held)
    draft_item.refresh_from_db()
    assert (draft_item.result, draft_item.outcome) == (APPROVED, "異議なし")
    assert f'<option value="{APPROVED}" selected>' in client.get(_url(held)).content.decode()


def test_refused_input_is_shown_with_what_was_typed(held, secretariat, draft_item):
    note = "長い説明" * 300  # 1200 characters
    response = _client(secretariat).post(
        _url(held), {f"result-{draft_item.pk}": "adopted!", f"note-{draft_item.pk}": note}
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Both fields are marked, each with Django's message (the page is in Japanese: the site's language).
    assert html.count("is-invalid") == 2 and html.count('class="invalid-feedback d-block"') == 2
    assert "1000" in html
    assert note in html  # nothing typed is lost
    draft_item.refresh_from_db()
    assert draft_item.outcome == ""


def test_before_the_meeting_the_page_says_results_wait(notified, secretariat):
    html = _client(secretariat).get(_url(notified)).content.decode()
    assert "結果は、会議を開催済として記録した後に記録できます。" in html  # the site speaks Japanese
    assert 'name="result-' not in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", "login"), ("outsider", 404), ("member", 404), ("chair", 404), ("vice_chair", 404),
     ("other_secretariat", 404), ("secretariat", 302)],
)
def test_only_the_secretariat_of_the_body_may_record(held, request, draft_item, who, expected):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = _client(user).post(_url(held), {f"result-{draft_item.pk}": APPROVED})
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected
    draft_item.refresh_from_db()
    assert draft_item.result == (APPROVED if who == "secretariat" else "")


# --- what the meeting page shows ------------------------------------------------------------------


@pytest.fixture
def with_closed_item(held, secretariat):
    """議事 (2) 意見交換 is closed (非公開) in the approved 次第, and both items of 議事 have results."""
    talk = _item(held, "意見交換")
    talk.is_public, talk.closure_basis = False, "委員の承諾 (第4-4)"
    talk.save(update_fields=["is_public", "closure_basis"])
    version = agenda_of(held).approved_version
    snapshot = version.snapshot
    snapshot["items"][3]["public"] = False
    AgendaVersion.objects.filter(pk=version.pk).update(snapshot=snapshot)
    services.agenda_results_record(
        actor=secretariat,
        meeting=held,
        results={
            _item(held, "骨子案について").pk: (APPROVED, "字句の修正は委員長に一任"),
            talk.pk: (CONTINUED, "人事の件は次回に継続"),
        },
    )
    return held


def test_the_public_sees_results_of_public_items_only(with_closed_item, client):
    html = client.get(reverse("meetings:detail", args=[with_closed_item.pk])).content.decode()
    assert "結果:</span> 承認 — 字句の修正は委員長に一任" in html  # the label in the site's Japanese
    assert "意見交換" not in html and "人事の件は次回に継続" not in html
    assert "継続審議" not in html


def test_members_see_the_result_of_a_closed_item(with_closed_item, member):
    html = _client(member).get(reverse("meetings:detail", args=[with_closed_item.pk])).content.decode()
    assert "字句の修正は委員長に一任" in html and "人事の件は次回に継続" in html


def test_the_printed_agenda_carries_no_results(with_closed_item, client):
    html = client.get(reverse("meetings:agenda_print", args=[with_closed_item.pk])).content.decode()
    assert "骨子案について" in html and "字句の修正は委員長に一任" not in html
