"""A list and a detail never disagree (issue 12): for every role and every object of a generated world,
"the list selector includes it" holds exactly when "its page or download answers 200".

The lists are the access modules' own (committee.access, meetings.access, documents.access); the details
are the real views, fetched as each person. The world mixes what the rules tell apart: a public and a
closed (非公開) body of the same secretariat, another secretariat's body, a member whose term ended,
an invited 参考人, materials at every level (withdrawn, closed, members', public), and minutes in
every state.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from committee import services as committee_services
from committee.access import bodies_visible_to
from committee.models import Appointment, Body
from documents import services as document_services
from documents.access import all_materials_visible_to
from documents.models import Material
from meetings import services as meeting_services
from meetings.access import meetings_visible_to, minutes_reviewable_by
from meetings.models import Attendee, Meeting, Minutes, MinutesConfirmation
from tests import factories
from tests.conftest import TOKYO, appoint
from tests.documents.conftest import pdf_bytes, upload

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
TODAY = dt.datetime(2023, 9, 1, 10, 0, tzinfo=TOKYO)
ROLES = (
    "anonymous",
    "outsider",
    "member",
    "chair",
    "closed_member",
    "former_member",
    "guest",
    "other_member",
    "secretariat",
    "other_secretariat",
    "superuser",
)


def _meeting(body: Body, actor, day: dt.date, *, closed_item: bool = True) -> Meeting:
    start = dt.datetime(day.year, day.month, day.day, 14, 0, tzinfo=TOKYO)
    meeting = meeting_services.meeting_create(actor=actor, body=body, start_at=start, venue_name="県庁")
    meeting_services.agenda_item_add(actor=actor, meeting=meeting, title="開会")
    if closed_item:
        meeting_services.agenda_item_add(
            actor=actor, meeting=meeting, title="人事案件", is_public=False, closure_basis="委員の承諾"
        )
    return meeting


def _materials(meeting: Meeting, actor) -> None:
    """One material at each level, each with a file: 事務局のみ, 委員, 公開, closed, withdrawn, and one under
    the closed agenda item (closed by the item)."""
    closed_item = meeting.agenda.items.filter(is_public=False).first()

    def add(title: str, visibility: str, **kwargs) -> Material:
        return document_services.material_create(
            actor=actor, meeting=meeting, title=title, upload=upload(f"{title}.pdf", pdf_bytes()),
            visibility=visibility, **kwargs,
        )

    add("事務局のみ", Material.Visibility.SECRETARIAT)
    add("委員", Material.Visibility.MEMBERS)
    add("公開", Material.Visibility.PUBLIC)
    add("非公開", Material.Visibility.MEMBERS, is_closed=True)
    withdrawn = add("取下げ", Material.Visibility.PUBLIC)
    document_services.material_withdraw(actor=actor, material=withdrawn, reason="差替のため")
    if closed_item is not None:
        add("非公開議題", Material.Visibility.MEMBERS, agenda_item=closed_item)


@pytest.fixture
def world(db, body, unit, secretariat, chair, member, member_appointment, outsider, other_body, other_member,
          other_secretariat, superuser):
    with time_machine.travel(dt.datetime(2023, 5, 20, 10, 0, tzinfo=TOKYO), tick=False):
        closed = factories.BodyFactory(name="非公開の部会", short_name="部会", slug="closed-wg", secretariat=unit,
                                       is_public=False)
        factories.GuidelineFactory(body=closed)
        closed_member = appoint(closed, "田中", "たなか", user=factories.UserFactory(email="closed@test.example"))
        former = appoint(closed, "鈴木", "すずき", user=factories.UserFactory(email="former@test.example"))
        people = {
            "anonymous": None, "outsider": outsider, "member": member, "chair": chair,
            "closed_member": closed_member.person.user, "former_member": former.person.user,
            "guest": factories.UserFactory(email="guest@test.example"), "other_member": other_member,
            "secretariat": secretariat, "other_secretariat": other_secretariat, "superuser": superuser,
        }
        early = _meeting(closed, secretariat, dt.date(2023, 6, 1))
        _materials(early, secretariat)
        public_meeting = _meeting(body, secretariat, dt.date(2023, 6, 7))
        _materials(public_meeting, secretariat)
        late = _meeting(closed, secretariat, dt.date(2023, 10, 2))
        _materials(late, secretariat)
        other = _meeting(other_body, other_secretariat, dt.date(2023, 6, 9), closed_item=False)
        _materials(other, other_secretariat)
        guest_person = factories.PersonFactory(family_name="参考", given_name="人子", family_name_kana="さんこう",
                                               user=people["guest"])
        Attendee.objects.create(meeting=late, role=Attendee.Role.WITNESS, person=guest_person, position=1)
        # Minutes in each state: a draft, one under confirmation (the member is asked), one published.
        early_minutes = Minutes.objects.create(meeting=early, status=Minutes.Status.CONFIRMING)
        # The former member attended the first closed meeting and is asked to confirm what they said.
        MinutesConfirmation.objects.create(minutes=early_minutes, appointment=former)
        confirming = Minutes.objects.create(meeting=public_meeting, status=Minutes.Status.CONFIRMING)
        MinutesConfirmation.objects.create(minutes=confirming, appointment=member_appointment)
        Minutes.objects.create(meeting=late, status=Minutes.Status.DRAFT)
        Minutes.objects.create(meeting=other, status=Minutes.Status.PUBLISHED)
    # The former member resigned after the first closed meeting: its members' side stays theirs to read
    # no longer (rights end with the term), and the later one never was.
    committee_services.appointment_end(
        actor=None, appointment=Appointment.objects.get(pk=former.pk), ended_on=dt.date(2023, 8, 1),
        reason=Appointment.EndReason.RESIGNED,
    )
    return people


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        user.save(update_fields=["password"])
        client.force_login(user, backend=MODEL_BACKEND)
    return client


def _status(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code in (200, 302, 404), (url, response.status_code)
    return response.status_code


def _anonymous_user():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def _disagreements(world, role: str) -> list[tuple]:
    user = world[role] or _anonymous_user()
    client = _client(world[role])
    listed_bodies = set(bodies_visible_to(user).values_list("pk", flat=True))
    listed_meetings = set(meetings_visible_to(user).values_list("pk", flat=True))
    listed_materials = set(all_materials_visible_to(user).values_list("pk", flat=True))
    listed_minutes = {m.pk for m in minutes_reviewable_by(user)}
    found = []
    for body in Body.objects.all():
        ok = _status(client, reverse("committee:body_detail", args=[body.slug])) == 200
        if ok != (body.pk in listed_bodies):
            found.append((role, "body", body.slug, ok))
    for meeting in Meeting.objects.all():
        ok = _status(client, reverse("meetings:detail", args=[meeting.pk])) == 200
        if ok != (meeting.pk in listed_meetings):
            found.append((role, "meeting", meeting.pk, ok))
    for material in Material.objects.all():
        ok = _status(client, reverse("documents:download", args=[material.pk])) == 200
        if ok != (material.pk in listed_materials):
            found.append((role, "material", material.title, material.meeting_id, ok))
    for minutes in Minutes.objects.all():
        ok = _status(client, reverse("meetings:minutes_review", args=[minutes.meeting_id])) == 200
        if ok != (minutes.pk in listed_minutes):
            found.append((role, "minutes", minutes.meeting_id, minutes.status, ok))
    # The world tells the roles apart: only a superuser sees every material.
    if (len(listed_materials) == Material.objects.count()) != (role == "superuser"):
        found.append((role, "sees every material", len(listed_materials)))
    return found


def test_every_list_agrees_with_every_detail(world):
    """One world, every role: the list selectors and the views answer alike for every object."""
    with time_machine.travel(TODAY, tick=False):
        disagreements = [d for role in ROLES for d in _disagreements(world, role)]
    assert disagreements == []


def test_the_world_tells_the_rules_apart(world):
    """What the property test stands on: each rule has a case on both sides."""
    with time_machine.travel(TODAY, tick=False):
        closed = Body.objects.get(slug="closed-wg")
        early, late = closed.meetings.order_by("start_at")
        former, closed_member, guest = world["former_member"], world["closed_member"], world["guest"]
        # A member whose term ended no longer knows the closed body, nor its meetings.
        assert closed not in bodies_visible_to(former)
        assert not meetings_visible_to(former).filter(pk=early.pk).exists()
        # A member in office knows both meetings; the guest only the one they were invited to.
        assert set(meetings_visible_to(closed_member).filter(body=closed)) == {early, late}
        assert list(meetings_visible_to(guest).filter(body=closed)) == [late]
        # Members read members' materials but not the secretariat's, the closed, the withdrawn one.
        titles = set(all_materials_visible_to(closed_member).filter(meeting=early).values_list("title", flat=True))
        assert titles == {"委員", "公開", "非公開", "非公開議題"}
        public = set(all_materials_visible_to(_anonymous_user()).values_list("title", "meeting__body__slug"))
        assert public == {("公開", "dx-plan"), ("公開", "other-body")}
        # 発言者確認 outlives the term: the former member still reviews what they were asked to confirm.
        assert [m.meeting_id for m in minutes_reviewable_by(former)] == [early.pk]
        # Minutes: the member asked to confirm reviews them; a draft is the secretariat's alone.
        assert [m.meeting.body.slug for m in minutes_reviewable_by(world["member"])] == ["dx-plan"]
        assert {m.meeting_id for m in minutes_reviewable_by(world["secretariat"])} == {
            early.pk, late.pk, Meeting.objects.get(body__slug="dx-plan").pk
        }
