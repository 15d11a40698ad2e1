"""Meeting pages: who may reach each URL, what each page shows to whom, the forms that change state, and
query counts that stay the same with ten times the demo's data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from committee.models import Body
from documents.models import Material, MaterialVersion
from meetings import selectors, services
from meetings.models import Agenda, AgendaItem, Attendee, Meeting, Minutes, MinutesEntry
from tests.test_url_matrix import client_with, session_of

from .conftest import (
    add_attendance,
    add_meetings,
    add_members,
    add_milestones,
    agenda_of,
    plan,
    refresh,
    row_of,
    sign_in,
)

ANONYMOUS, OUTSIDER, OTHER_MEMBER, MEMBER, CHAIR = "anonymous", "outsider", "other_member", "member", "chair"
SECRETARIAT, OTHER_SECRETARIAT, SUPERUSER = "secretariat", "other_secretariat", "superuser"
ROLES = (ANONYMOUS, OUTSIDER, OTHER_MEMBER, MEMBER, CHAIR, SECRETARIAT, OTHER_SECRETARIAT, SUPERUSER)
LOGIN = "login"
SECRET_LINK = "https://meet.example/secret-room-4711"


def only(roles, status, otherwise=404, *, anonymous=None) -> dict[str, object]:
    expected = {role: status if role in roles else otherwise for role in ROLES}
    if anonymous is not None:
        expected[ANONYMOUS] = anonymous
    return expected


EVERYONE = only(ROLES, 200)
PRIVATE_VIEW = (MEMBER, CHAIR, SECRETARIAT, SUPERUSER)
MANAGERS = (SECRETARIAT, SUPERUSER)
ATTENDED = (MEMBER, CHAIR)

# url name: (method, expected on a public body's held meeting, expected when the body is not public)
MATRIX: dict[str, tuple[str, dict, dict]] = {
    "body_meetings": ("get", EVERYONE, only(PRIVATE_VIEW, 200)),
    "detail": ("get", EVERYONE, only(PRIVATE_VIEW, 200)),
    "agenda_print": ("get", EVERYONE, only(PRIVATE_VIEW, 200)),
    "attendance_list": ("get", EVERYONE, only(PRIVATE_VIEW, 200)),
    "seating": ("get", only(PRIVATE_VIEW, 200), only(PRIVATE_VIEW, 200)),
    "answer": ("post", only(ATTENDED, 302, anonymous=LOGIN), only(ATTENDED, 302, anonymous=LOGIN)),
    "minutes_review": ("get", only(PRIVATE_VIEW, 200, anonymous=LOGIN), only(PRIVATE_VIEW, 200, anonymous=LOGIN)),
    "minutes_confirm": ("post", only(ATTENDED, 302, anonymous=LOGIN), only(ATTENDED, 302, anonymous=LOGIN)),
    "minutes_finalise": ("post", only(PRIVATE_VIEW, 302, anonymous=LOGIN), only(PRIVATE_VIEW, 302, anonymous=LOGIN)),
    "agenda_review": (
        "get",
        only((CHAIR, *MANAGERS), 200, anonymous=LOGIN),
        only((CHAIR, *MANAGERS), 200, anonymous=LOGIN),
    ),
    "schedule": ("get", only(ROLES, 302), only(ROLES, 302)),
    "schedule_year": ("get", EVERYONE, EVERYONE),
    "my_meetings": ("get", only(ROLES, 200, anonymous=LOGIN), only(ROLES, 200, anonymous=LOGIN)),
    "approvals": ("get", only(ROLES, 200, anonymous=LOGIN), only(ROLES, 200, anonymous=LOGIN)),
    "landing": ("get", only(ROLES, 302, anonymous=LOGIN), only(ROLES, 302, anonymous=LOGIN)),  # where: below
    "dashboard": (
        "get",
        only((*MANAGERS, OTHER_SECRETARIAT), 200, anonymous=LOGIN),
        only((*MANAGERS, OTHER_SECRETARIAT), 200, anonymous=LOGIN),
    ),
    "manage": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "manage_action": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    # Planning and the 次第 editor: what the forms do is tests/meetings/test_editing.py.
    "create": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "edit": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "agenda_edit": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "agenda_item_edit": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "agenda_item_delete": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    "agenda_item_move": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    # The minutes editor: what it does is tests/meetings/test_minutes_editor.py.
    "minutes_edit": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "minutes_settings": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    "minutes_passage_add": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    "minutes_passage_edit": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "minutes_passage_show": ("get", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    "minutes_passage_delete": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    "minutes_passage_move": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    "minutes_versions": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    # Other attendees: what the pages do is tests/meetings/test_attendees.py.
    "attendees": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "attendee_edit": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    "attendee_remove": ("post", only(MANAGERS, 302, anonymous=LOGIN), only(MANAGERS, 302, anonymous=LOGIN)),
    # Adjusting the 席図: what the page does is tests/meetings/test_seating_adjust.py.
    "seating_adjust": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
    # Recording the 結果 of the items: what the page does is tests/meetings/test_agenda_results.py.
    "agenda_results": ("get", only(MANAGERS, 200, anonymous=LOGIN), only(MANAGERS, 200, anonymous=LOGIN)),
}


def _meetings_url_names() -> set[str]:
    names = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "meetings":
            names |= {p.name for p in entry.url_patterns if isinstance(p, URLPattern)}
    return names


def test_every_meetings_url_is_in_the_matrix():
    assert _meetings_url_names() == set(MATRIX)


def _kwargs(name: str, meeting: Meeting) -> dict:
    if name == "body_meetings":
        return {"slug": meeting.body.slug}
    if name == "schedule":
        return {}
    if name == "schedule_year":
        return {"fiscal_year": meeting.fiscal_year}
    if name in ("my_meetings", "approvals", "dashboard", "landing"):
        return {}
    if name == "manage_action":
        return {"pk": meeting.pk, "action": "prepare"}
    if name == "create":
        return {"slug": meeting.body.slug}
    if name.startswith("minutes_passage_") and name != "minutes_passage_add":
        return {"pk": meeting.pk, "entry_pk": MinutesEntry.objects.filter(minutes__meeting=meeting).first().pk}
    if name in ("attendee_edit", "attendee_remove"):
        guest = Attendee.objects.create(meeting=meeting, role=Attendee.Role.OBSERVER, name="観察 一郎")
        return {"pk": meeting.pk, "attendee_pk": guest.pk}
    if name in ("agenda_item_edit", "agenda_item_delete", "agenda_item_move"):
        return {"pk": meeting.pk, "item_pk": AgendaItem.objects.filter(agenda__meeting=meeting).first().pk}
    return {"pk": meeting.pk}


POST_DATA = {
    "answer": {"reply": "venue"},
    "minutes_confirm": {"comment": ""},
    "agenda_item_move": {"direction": "down"},
    "minutes_passage_add": {"speaker": "事務局", "text": "補足します。"},
    "minutes_passage_move": {"direction": "down"},
    "minutes_settings": {"kind": "verbatim"},
}


def _draft_minutes(meeting: Meeting) -> Minutes:
    minutes = Minutes.objects.create(meeting=meeting)
    MinutesEntry.objects.create(minutes=minutes, position=1, speaker="委員長", text="ただいまから開会します。")
    MinutesEntry.objects.create(minutes=minutes, position=2, speaker="事務局", text="非公開の人事案件", is_closed=True)
    return minutes


@pytest.fixture
def scene(held, secretariat, chair, member):
    """A held meeting whose draft minutes wait for the members' confirmation; the agenda was approved."""
    _draft_minutes(held)
    services.minutes_send_for_confirmation(actor=secretariat, meeting=held, confirm_by=dt.date(2023, 6, 20))
    return refresh(held)


@pytest.fixture
def people(secretariat, chair, vice_chair, member, outsider, other_member, other_secretariat, superuser):
    return {
        ANONYMOUS: None,
        OUTSIDER: outsider,
        OTHER_MEMBER: other_member,
        MEMBER: member,
        CHAIR: chair,
        SECRETARIAT: secretariat,
        OTHER_SECRETARIAT: other_secretariat,
        SUPERUSER: superuser,
    }


def _client(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def _outcome(response) -> object:
    if response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next="):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("public", [True, False], ids=["public body", "private body"])
def test_permission_matrix(scene, people, public):
    """Every URL as every role meets it. Each role signs in once; each URL (with what its arguments make) and
    each role's request on it run in savepoints rolled back after them, so a POST that one role may make (an
    answer, a passage moved) changes nothing the next role or URL meets."""
    if not public:
        Body.objects.filter(pk=scene.body_id).update(is_public=False)
    sessions = {role: None if people[role] is None else session_of(people[role]) for role in ROLES}
    wrong = {}
    for name in sorted(MATRIX):
        method, on_public, on_private = MATRIX[name]
        expected = on_public if public else on_private
        got = {}
        with transaction.atomic():
            url = reverse(f"meetings:{name}", kwargs=_kwargs(name, scene))
            for role in ROLES:
                with transaction.atomic():
                    client = client_with(sessions[role])
                    response = client.post(url, POST_DATA.get(name, {})) if method == "post" else client.get(url)
                    got[role] = _outcome(response)
                    transaction.set_rollback(True)
            transaction.set_rollback(True)
        if got != expected:
            wrong[name] = {
                role: f"expected {expected[role]}, got {got[role]}" for role in ROLES if got[role] != expected[role]
            }
    assert not wrong


@pytest.mark.parametrize(
    "name", ["detail", "agenda_print", "attendance_list", "seating", "minutes_review", "agenda_review", "manage"]
)
def test_an_unknown_meeting_is_not_found(scene, people, name):
    url = reverse(f"meetings:{name}", kwargs={"pk": scene.pk + 1000})
    got = {role: _outcome(_client(people[role]).get(url)) for role in ROLES}
    assert got[ANONYMOUS] in (404, LOGIN), got
    assert {role: got[role] for role in ROLES if role != ANONYMOUS} == dict.fromkeys(ROLES[1:], 404)


@pytest.mark.parametrize("role", ROLES)
def test_posts_that_change_nothing_for_the_wrong_people(scene, people, role, secretariat, chair):
    """A forged POST that publishes, finalises or approves from the wrong role changes nothing."""
    client = _client(people[role])
    client.post(reverse("meetings:minutes_finalise", args=[scene.pk]))
    client.post(reverse("meetings:manage_action", args=[scene.pk, "minutes-publish"]))
    minutes = Minutes.objects.get(meeting=scene)
    if role == CHAIR:
        assert minutes.status == Minutes.Status.FINALISED
    else:
        assert minutes.status == Minutes.Status.CONFIRMING
    assert refresh(scene).status == Meeting.Status.HELD


def test_a_member_cannot_publish_through_the_secretariats_form(scene, chair, member):
    services.minutes_finalise(actor=chair, meeting=scene)
    client = _client(member)

    response = client.post(reverse("meetings:manage_action", args=[scene.pk, "minutes-publish"]))

    assert response.status_code == 404
    assert Minutes.objects.get(meeting=scene).status == Minutes.Status.FINALISED
    assert refresh(scene).status == Meeting.Status.HELD


def test_the_secretariat_publishes_and_the_page_leaves_closed_parts_out(scene, chair, secretariat, client):
    services.minutes_finalise(actor=chair, meeting=scene)
    response = _client(secretariat).post(reverse("meetings:manage_action", args=[scene.pk, "minutes-publish"]))
    assert response.status_code == 302
    assert refresh(scene).status == Meeting.Status.MINUTES_PUBLISHED

    html = client.get(reverse("meetings:detail", args=[scene.pk])).content.decode()
    assert "ただいまから開会します。" in html
    assert "非公開の人事案件" not in html


def test_a_closed_meetings_published_minutes_stay_off_the_public_page(scene, chair, secretariat, member, client):
    Meeting.objects.filter(pk=scene.pk).update(openness="closed", openness_basis="委員の承諾 (第4-4)")
    services.minutes_finalise(actor=chair, meeting=scene)
    services.minutes_publish(actor=secretariat, meeting=scene)

    assert "ただいまから開会します。" not in client.get(reverse("meetings:detail", args=[scene.pk])).content.decode()
    assert "ただいまから開会します。" in _page(_client(member), scene)


def test_unknown_manage_actions_and_malformed_ids_are_not_found(scene, secretariat):
    client = _client(secretariat)
    assert client.post(reverse("meetings:manage_action", args=[scene.pk, "approve"])).status_code == 404
    url = reverse("meetings:manage_action", args=[scene.pk, "reply"])
    assert client.post(url, {"attendance": "x", "reply": "venue"}).status_code == 404
    url = reverse("meetings:manage_action", args=[scene.pk, "elect"])
    assert client.post(url, {"appointment": "1 OR 1=1", "role": "chair"}).status_code == 404


# --- what the pages show ------------------------------------------------------------------------


def _page(client: Client, meeting: Meeting, name: str = "detail") -> str:
    response = client.get(reverse(f"meetings:{name}", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", [ANONYMOUS, OUTSIDER, OTHER_MEMBER, OTHER_SECRETARIAT])
def test_the_public_page_never_shows_the_online_link(notified, people, role):
    html = _page(_client(people[role]), notified)
    assert SECRET_LINK not in html
    assert "Teams 会議" not in html


@pytest.mark.parametrize("role", [MEMBER, CHAIR, SECRETARIAT])
def test_members_and_the_secretariat_see_the_online_link(notified, people, role):
    assert SECRET_LINK in _page(_client(people[role]), notified)


def test_members_see_the_online_note_without_a_link(body, secretariat, member, in_term):
    meeting = plan(body, secretariat, online_note="Teams: 招待メールをご覧ください")
    assert "Teams: 招待メールをご覧ください" in _page(_client(member), meeting)
    assert "Teams: 招待メールをご覧ください" not in _page(Client(), meeting)


def test_a_draft_agenda_is_never_shown_outside_the_secretariat(meeting, secretariat, chair, member, submitted):
    for user in (None, member):
        html = _page(_client(user), meeting)
        assert "骨子案について" not in html
        assert _client(user).get(reverse("meetings:agenda_print", args=[meeting.pk]) + "?draft=1").status_code == 404
    secretariat_client = _client(secretariat)
    assert "骨子案について" in _page(secretariat_client, meeting, "manage")
    response = secretariat_client.get(reverse("meetings:agenda_print", args=[meeting.pk]) + "?draft=1")
    assert "骨子案について" in response.content.decode()


def test_the_approved_agenda_reaches_the_public_once_notices_are_out(meeting, secretariat, chair, member, approved):
    assert "骨子案について" in _page(_client(member), meeting)
    assert "骨子案について" not in _page(Client(), meeting)
    assert Client().get(reverse("meetings:agenda_print", args=[meeting.pk])).status_code == 404

    services.meeting_mark_notified(actor=secretariat, meeting=meeting)

    assert "骨子案について" in _page(Client(), meeting)
    assert "骨子案について" in _page(Client(), meeting, "agenda_print")


def test_closed_items_stay_off_the_public_pages(meeting, secretariat, chair, member):
    item = AgendaItem.objects.get(agenda__meeting=meeting, title="骨子案について")
    services.agenda_item_update(actor=secretariat, item=item, is_public=False, closure_basis="委員の承諾 (第4-4)")
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="候補者の検討", parent=item)
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    services.meeting_mark_notified(actor=secretariat, meeting=meeting)

    for name in ("detail", "agenda_print"):
        public = _page(Client(), meeting, name)
        assert "骨子案について" not in public and "候補者の検討" not in public
        assert "意見交換" in public
        assert "候補者の検討" in _page(_client(member), meeting, name)


def with_file(material: Material) -> Material:
    """Give a material a (stand-in) current file: lists show only materials whose file is up."""
    version = MaterialVersion.objects.create(
        material=material,
        number=1,
        file=f"materials/{material.pk}.pdf",
        original_name="a.pdf",
        extension="pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
    )
    Material.objects.filter(pk=material.pk).update(current_version=version)
    return material


@pytest.fixture
def materials(notified):
    for i, visibility in enumerate(("public", "members", "secretariat"), start=1):
        with_file(
            Material.objects.create(
                meeting=notified, label=f"資料{i}", title=f"{visibility}の資料", position=i, visibility=visibility
            )
        )
    return notified


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        (ANONYMOUS, {"public"}),
        (OUTSIDER, {"public"}),
        (OTHER_MEMBER, {"public"}),
        (OTHER_SECRETARIAT, {"public"}),
        (MEMBER, {"public", "members"}),
        (CHAIR, {"public", "members"}),
        (SECRETARIAT, {"public", "members", "secretariat"}),
    ],
)
@pytest.mark.parametrize("page", ["detail", "agenda_print"])
def test_materials_by_visibility(materials, people, role, seen, page):
    html = _page(_client(people[role]), materials, page)
    shown = {v for v in ("public", "members", "secretariat") if f"{v}の資料" in html}
    assert shown == seen


def test_withdrawn_materials_and_those_of_closed_items_stay_off_the_public_pages(materials, secretariat, member):
    item = AgendaItem.objects.get(agenda__meeting=materials, title="骨子案について")
    AgendaItem.objects.filter(pk=item.pk).update(is_public=False, closure_basis="委員の承諾")
    with_file(
        Material.objects.create(meeting=materials, agenda_item=item, title="人事案", visibility="public", position=9)
    )
    Material.objects.filter(title="membersの資料").update(withdrawn_at=timezone.now(), withdrawn_reason="差替え")

    for page in ("detail", "agenda_print"):
        public, members = _page(Client(), materials, page), _page(_client(member), materials, page)
        assert "人事案" not in public and "人事案" in members
        assert "membersの資料" not in members
        assert "membersの資料" in _page(_client(secretariat), materials, page)


@pytest.mark.parametrize("role", [ANONYMOUS, OUTSIDER, SECRETARIAT])
def test_your_attendance_only_for_invitees(invited, people, role, member):
    html = _page(_client(people[role]), invited)
    assert 'id="answer"' not in html
    assert 'id="answer"' in _page(_client(member), invited)


def test_a_member_answers_through_the_form(invited, member):
    client = _client(member)

    response = client.post(reverse("meetings:answer", args=[invited.pk]), {"reply": "online", "note": "途中から"})

    assert response.status_code == 302
    assert response["Location"].endswith("#answer")
    row = row_of(invited, member)
    assert (row.reply, row.reply_note, row.replied_by) == ("online", "途中から", member)
    assert 'value="online" checked' in _page(client, invited)


def test_a_member_whose_session_ended_while_answering_is_brought_back_to_the_form(invited, member):
    """The session ran out while the member filled in the answer on a phone: the POST goes to the login page,
    which sends them, once logged in, to the answer's address. That address brings them back to the meeting's
    answer form saying nothing was sent, instead of a bare 405 (HTTP ERROR 405 in the browser)."""
    member.set_password("Aomori-DX-2023-plan")
    member.save(update_fields=["password"])
    client = Client()
    answer = reverse("meetings:answer", args=[invited.pk])

    response = client.post(answer, {"reply": "online"})
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={answer}"
    response = client.post(
        reverse("login"), {"username": member.email, "password": "Aomori-DX-2023-plan", "next": answer}
    )
    assert response.status_code == 302 and response["Location"] == answer
    response = client.get(answer)
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:detail", args=[invited.pk]) + "#answer"
    page = client.get(response["Location"]).content.decode()
    assert "送信された内容はありません" in page and 'id="answer"' in page
    assert row_of(invited, member).reply == ""  # nothing was recorded on the way
    client.post(answer, {"reply": "online"})
    assert row_of(invited, member).reply == "online"


def test_an_invalid_answer_changes_nothing(invited, member):
    _client(member).post(reverse("meetings:answer", args=[invited.pk]), {"reply": "perhaps"})
    assert row_of(invited, member).reply == ""


def test_the_secretariat_records_a_phone_answer(invited, secretariat, member):
    row = row_of(invited, member)
    response = _client(secretariat).post(
        reverse("meetings:manage_action", args=[invited.pk, "reply"]),
        {"attendance": row.pk, "reply": "absent", "note": "電話"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.reply, row.replied_by) == ("absent", secretariat)


def test_the_chair_approves_on_the_review_page(meeting, submitted, chair):
    client = _client(chair)
    html = _page(client, meeting, "agenda_review")
    assert f'name="sha256" value="{submitted.sha256}"' in html
    assert "骨子案について" in html

    response = client.post(
        reverse("meetings:agenda_review", args=[meeting.pk]), {"decision": "approve", "sha256": submitted.sha256}
    )

    assert response.status_code == 302
    agenda = agenda_of(meeting)
    assert (agenda.status, agenda.approved_version) == (Agenda.Status.APPROVED, submitted)


def test_a_stale_hash_on_the_review_page_shows_the_error_and_changes_nothing(meeting, submitted, secretariat, chair):
    client = _client(chair)
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="その他")
    second = services.agenda_submit(actor=secretariat, meeting=meeting)

    response = client.post(
        reverse("meetings:agenda_review", args=[meeting.pk]),
        {"decision": "approve", "sha256": submitted.sha256},
        follow=True,
        headers={"accept-language": "en"},
    )

    assert "The 次第 was changed after you opened it. Read the current version and decide again." in (
        response.content.decode()
    )
    agenda = agenda_of(meeting)
    assert (agenda.status, agenda.current_version, agenda.approved_version) == (Agenda.Status.SUBMITTED, second, None)


def test_the_chair_returns_with_a_comment_and_the_secretariat_reads_it(meeting, submitted, secretariat, chair):
    _client(chair).post(
        reverse("meetings:agenda_review", args=[meeting.pk]),
        {"decision": "return", "sha256": submitted.sha256, "comment": "資料名を明記してください"},
    )
    assert agenda_of(meeting).status == Agenda.Status.RETURNED
    assert "資料名を明記してください" in _page(_client(secretariat), meeting, "manage")
    assert "資料名を明記してください" in _page(_client(secretariat), meeting, "agenda_review")


@pytest.mark.parametrize("role", [SECRETARIAT, MEMBER, SUPERUSER])
def test_only_the_approver_may_post_a_decision(meeting, submitted, people, role):
    response = _client(people[role]).post(
        reverse("meetings:agenda_review", args=[meeting.pk]), {"decision": "approve", "sha256": submitted.sha256}
    )
    assert response.status_code == 404
    assert agenda_of(meeting).status == Agenda.Status.SUBMITTED


def test_the_convener_of_a_private_body_reaches_the_review_page(body, secretariat, convener, in_term):
    Body.objects.filter(pk=body.pk).update(is_public=False)
    meeting = plan(body, secretariat, day=dt.date(2023, 5, 10))
    services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    client = _client(convener)

    assert [m.pk for m in selectors.agendas_waiting_for(convener)] == [meeting.pk]
    assert f'value="{version.sha256}"' in _page(client, meeting, "agenda_review")
    client.post(reverse("meetings:agenda_review", args=[meeting.pk]), {"decision": "approve", "sha256": version.sha256})
    assert agenda_of(meeting).status == Agenda.Status.APPROVED
    # Approving does not open the rest of the private body to the convener.
    assert client.get(reverse("meetings:detail", args=[meeting.pk])).status_code == 404


def test_a_member_confirms_the_minutes_through_the_form(scene, member):
    client = _client(member)
    assert "ただいまから開会します。" in _page(client, scene, "minutes_review")
    client.post(reverse("meetings:minutes_confirm", args=[scene.pk]), {"comment": "誤字があります"})
    confirmation = Minutes.objects.get(meeting=scene).confirmations.get(appointment__person__user=member)
    assert (confirmation.state, confirmation.comment) == ("commented", "誤字があります")


def test_the_public_attendance_list_and_seating(held, client):
    assert client.get(reverse("meetings:seating", args=[held.pk])).status_code == 404
    html = _page(client, held, "attendance_list")
    assert "森 樹男" in html and "佐藤 志穂" in html


def test_a_planned_meetings_attendance_is_not_public(invited, client, member):
    assert client.get(reverse("meetings:attendance_list", args=[invited.pk])).status_code == 404
    assert _client(member).get(reverse("meetings:attendance_list", args=[invited.pk])).status_code == 200


def test_schedule_does_not_list_private_bodies(scene, client):
    Body.objects.filter(pk=scene.body_id).update(is_public=False)
    html = _page_url(client, reverse("meetings:schedule_year", args=[2023]))
    assert scene.body.short_name not in html


def test_a_year_outside_the_range_is_not_found(client, db):
    assert client.get(reverse("meetings:schedule_year", args=[1989])).status_code == 404


def _page_url(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_my_meetings_shows_answers_and_minutes_to_confirm(scene, member, body, secretariat):
    later = plan(body, secretariat, day=dt.date(2023, 7, 26))
    services.attendance_prepare(actor=secretariat, meeting=later)
    html = _page_url(_client(member), reverse("meetings:my_meetings"))
    assert reverse("meetings:detail", args=[later.pk]) in html
    assert reverse("meetings:minutes_review", args=[scene.pk]) in html


def test_pages_for_signed_in_users_are_not_cached(scene, member):
    response = _client(member).get(reverse("meetings:detail", args=[scene.pk]))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control


# --- query counts with ten times the data ----------------------------------------------------------


def _grow(body, guideline, meeting, *, members: int, meetings: int, milestones: int, start: int, secretariat) -> None:
    appointments = add_members(body, guideline, start, members)
    add_attendance(meeting, appointments, held=True, replied_by=secretariat)
    add_meetings(body, 100 + start, meetings, agenda_status=Agenda.Status.SUBMITTED)  # waiting for the chair
    add_milestones(body, milestones)


@pytest.fixture
def small(held, body, guideline, secretariat, chair, member, vice_chair):
    """The demo's size: 12 members invited (3 named + 9), a few more meetings and milestones, materials."""
    _grow(body, guideline, held, members=9, meetings=3, milestones=4, start=0, secretariat=secretariat)
    for i in range(3):
        Material.objects.create(meeting=held, label=f"資料{i}", title="資料", visibility="public", position=i)
    _draft_minutes(held)
    return held


PAGES = [
    ("detail", ANONYMOUS),
    ("detail", MEMBER),
    ("detail", SECRETARIAT),
    ("attendance_list", ANONYMOUS),
    ("attendance_list", SECRETARIAT),
    ("schedule_year", ANONYMOUS),
    ("dashboard", SECRETARIAT),
    ("manage", SECRETARIAT),
    ("seating", SECRETARIAT),
    ("seating_adjust", SECRETARIAT),
    ("agenda_results", SECRETARIAT),
    ("body_meetings", ANONYMOUS),
    ("my_meetings", MEMBER),
    ("approvals", MEMBER),
    ("approvals", SECRETARIAT),
    ("approvals", CHAIR),  # every added meeting's agenda waits for the chair
    ("my_meetings", CHAIR),
    ("minutes_review", SECRETARIAT),
    ("agenda_review", SECRETARIAT),
    ("agenda_print", ANONYMOUS),
    ("agenda_print", SECRETARIAT),
]


def test_page_queries_do_not_grow_with_the_data(small, body, guideline, people, secretariat):
    """Each page of PAGES, as its role sees it: the same queries with ten times the members and meetings (the
    data grown once for all of them); the queries that differ are listed by page."""
    services.seating_generate(actor=secretariat, meeting=small)
    clients = {role: _client(people[role]) for role in {role for _, role in PAGES}}
    urls = {(name, role): reverse(f"meetings:{name}", kwargs=_kwargs(name, small)) for name, role in PAGES}
    demo_size = {}
    for (name, role), url in urls.items():
        clients[role].get(url)  # the first request fills the caches (content types, templates)
        with CaptureQueriesContext(connection) as queries:
            assert clients[role].get(url).status_code == 200, (name, role)
        demo_size[name, role] = len(queries)

    _grow(
        body, guideline, small, members=108, meetings=36, milestones=36, start=1000, secretariat=secretariat
    )  # 120 members, 40 meetings
    services.seating_generate(actor=secretariat, meeting=small)
    assert small.attendances.filter(appointment__isnull=False).count() == 120

    grew = {}
    for (name, role), url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            response = clients[role].get(url)
        assert response.status_code == 200, (name, role)
        if len(queries) != demo_size[name, role]:
            grew[name, role] = (demo_size[name, role], [q["sql"] for q in queries.captured_queries])
        if name == "attendance_list":
            assert response.content.decode().count("○") == 120 - 1  # the vice chair was absent
        if (name, role) == ("approvals", CHAIR):
            # Every submitted 次第 of a meeting in the chair's term waits for the chair and is listed.
            waiting = Meeting.objects.filter(
                agenda__status=Agenda.Status.SUBMITTED, start_at__date__gte=dt.date(2023, 5, 10)
            ).count()
            assert waiting > 30
            assert response.content.decode().count("/agenda/review/") == waiting
    assert grew == {}


def test_dashboard_shows_whether_materials_are_uploaded(notified, secretariat):
    client = _client(secretariat)
    manage_url = reverse("documents:manage", args=[notified.pk])
    html = _page_url(client, reverse("meetings:dashboard"))
    assert f'<a class="badge text-bg-warning" href="{manage_url}">' in html  # nothing uploaded yet

    with_file(Material.objects.create(meeting=notified, label="資料1", title="資料", position=1))
    Material.objects.create(meeting=notified, label="資料2", title="まだ", position=2)  # planned, no file yet
    html = _page_url(client, reverse("meetings:dashboard"))
    assert f'<a href="{manage_url}">1</a>' in html


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [
        ("secretariat", "meetings:dashboard"),
        ("chair", "meetings:approvals"),  # a 次第 waits for the chair's approval
        ("member", "meetings:my_meetings"),
        ("outsider", "committee:home"),
    ],
)
def test_a_sign_in_lands_where_the_role_works(request, submitted, who, lands_on):
    """After login: the secretariat on its dashboard, the presiding officer on the approvals waiting, a
    member on their meetings (issue 10, landing by role)."""
    user = request.getfixturevalue(who)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, user)
    response = client.get(reverse("meetings:landing"))
    assert response.status_code == 302 and response["Location"] == reverse(lands_on)


def test_the_chair_without_anything_to_approve_lands_on_their_meetings(meeting, chair):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, chair)
    assert client.get(reverse("meetings:landing"))["Location"] == reverse("meetings:my_meetings")


def test_election_form_names_the_posts_as_the_guidelines_do(meeting, secretariat, guideline):
    """A body whose guidelines say 会長/副会長 never shows 委員長 in the election form (issue 10)."""
    guideline.chair_title, guideline.vice_chair_title = "会長", "副会長"
    guideline.save(update_fields=["chair_title", "vice_chair_title"])
    client = Client()
    sign_in(client, secretariat)
    text = client.get(reverse("meetings:manage", args=[meeting.pk])).content.decode()
    select = text[text.index('id="elect-role"') : text.index("</select>", text.index('id="elect-role"'))]
    assert '<option value="chair">会長</option>' in select
    assert '<option value="vice_chair">副会長</option>' in select
    assert "委員長" not in select


def test_the_approved_agenda_names_who_approved_it_not_who_would_approve_now(
    meeting, secretariat, chair, vice_chair, invited
):
    """The chair answered 欠席, the vice chair approved, then the chair answered 会場 again: the review page and
    the manage page name the vice chair as the one who approved (the history's decision), not the chair; a 次第
    not yet approved says who is to approve it, never "approved by"."""
    from meetings.models import Attendance

    draft = _client(secretariat).get(reverse("meetings:agenda_review", args=[meeting.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Approved by" not in draft.content.decode() and "To be approved by" in draft.content.decode()
    version = services.agenda_submit(actor=secretariat, meeting=meeting)
    services.attendance_reply(actor=chair, attendance=row_of(meeting, chair), reply=Attendance.Reply.ABSENT)
    services.agenda_approve(actor=vice_chair, meeting=meeting, sha256=version.sha256)
    services.attendance_reply(actor=chair, attendance=row_of(meeting, chair), reply=Attendance.Reply.VENUE)

    review = _client(chair).get(reverse("meetings:agenda_review", args=[meeting.pk])).content.decode()
    assert "承認者: 副委員長" in review and "承認者: 委員長" not in review
    manage = _client(secretariat).get(reverse("meetings:manage", args=[meeting.pk])).content.decode()
    assert "承認者: 副委員長 (vice@test.example)" in manage and "承認者: 委員長" not in manage


def test_the_attendance_list_heading_and_the_breadcrumb_in_each_language(held):
    """出席者名簿 follows the meeting's name as the seed prints it (第1回…出席者名簿); in English the two are set
    apart. The breadcrumb's label is read out in the page's language, not in English on a Japanese page."""
    url = reverse("meetings:attendance_list", args=[held.pk])
    japanese = Client().get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    english = Client().get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{held.label}{held.title}出席者名簿</h1>" in japanese
    assert f"{held.label}{held.title}: list of attendees</h1>" in english
    detail = Client().get(reverse("meetings:detail", args=[held.pk]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'aria-label="パンくずリスト"' in detail and 'aria-label="breadcrumb"' not in detail
    assert '<div class="table-responsive"><table class="table table-sm table-bordered attendance-table">' in english
