"""A member's notification settings: the optional mails (reminders, 資料掲載のお知らせ) can be turned off,
the statutory notices always go out, and a copy address gets a copy of every notice the member gets."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEntry
from notices import selectors, services
from notices.models import Delivery, Notice, NotificationPreference
from tests.conftest import TOKYO
from tests.meetings.conftest import appoint_others, sign_in

pytestmark = pytest.mark.django_db

URL = "notices:settings"


def save(client, **data):
    return client.post(reverse(URL), data)


def prefer(user, **values) -> NotificationPreference:
    return NotificationPreference.objects.create(person=user.person, **values)


# --- the page -------------------------------------------------------------------------------------


def test_member_sees_and_changes_their_settings(meeting, member):
    client = Client()
    sign_in(client, member)
    page = client.get(reverse(URL)).content.decode()
    assert 'name="reminders"' in page and 'name="materials"' in page and 'name="copy_to"' in page
    assert "/calendar/" in page and ".ics" in page  # the private feed's address
    response = save(client, materials="on", copy_to="hisho@example.jp")
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(person=member.person)
    assert (preference.reminders, preference.materials, preference.copy_to) == (False, True, "hisho@example.jp")
    assert AuditEntry.objects.filter(action="notification_settings_changed").count() == 1
    page = client.get(reverse(URL)).content.decode()
    assert 'value="hisho@example.jp"' in page


def test_invalid_copy_address_is_shown_with_the_field(meeting, member):
    client = Client()
    sign_in(client, member)
    response = save(client, reminders="on", materials="on", copy_to="not an address")
    assert response.status_code == 200
    page = response.content.decode()
    assert "aria-describedby" in page and "is-invalid" in page
    assert not NotificationPreference.objects.exists()


def test_anonymous_is_sent_to_login_and_changes_nothing(meeting, member):
    prefer(member, reminders=True, materials=True)
    client = Client()
    response = save(client, copy_to="attacker@evil.example")
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.get(reverse(URL)).status_code == 302
    assert NotificationPreference.objects.get().copy_to == ""


def test_outsider_can_neither_see_nor_change_someone_elses(meeting, member, outsider):
    prefer(member, reminders=True, materials=True, copy_to="hisho@example.jp")
    client = Client()
    sign_in(client, outsider)
    page = client.get(reverse(URL)).content.decode()
    assert "hisho@example.jp" not in page and 'name="copy_to"' not in page  # no person: no form
    # the page takes no person: whatever is posted, nobody's settings change
    assert save(client, person=member.person.pk, copy_to="attacker@evil.example").status_code == 404
    assert NotificationPreference.objects.get().copy_to == "hisho@example.jp"


def test_other_member_changes_only_their_own(meeting, member, other_member):
    prefer(member, reminders=True, materials=True, copy_to="hisho@example.jp")
    client = Client()
    sign_in(client, other_member)
    assert "hisho@example.jp" not in client.get(reverse(URL)).content.decode()
    save(client, person=member.person.pk, copy_to="attacker@evil.example")
    assert NotificationPreference.objects.get(person=member.person).copy_to == "hisho@example.jp"
    assert NotificationPreference.objects.get(person=other_member.person).copy_to == "attacker@evil.example"


def test_service_refuses_anyone_but_the_member(meeting, member, secretariat):
    with pytest.raises(services.NoticeError):
        services.preference_update(actor=secretariat, person=member.person, reminders=False, materials=False)
    with pytest.raises(services.NoticeError):
        services.preference_update(actor=None, person=member.person, reminders=False, materials=False)


# --- the recipients -------------------------------------------------------------------------------


def addresses(meeting, kind):
    return sorted(r.email for r in selectors.recipients(meeting, kind=kind))


def test_optional_kinds_honour_the_settings_statutory_ones_do_not(approved, meeting, chair, member):
    prefer(member, reminders=False, materials=False)
    both = ["chair@test.example", "member@test.example"]
    for kind in (Notice.Kind.CONVOCATION, Notice.Kind.CHANGE, Notice.Kind.CANCELLATION):
        assert addresses(meeting, kind) == both, kind
    # The 議事録確認のお願い goes to the members asked to confirm, whatever they chose for the optional kinds.
    from committee.models import Appointment
    from meetings.models import Minutes, MinutesConfirmation

    minutes = Minutes.objects.create(meeting=meeting, status=Minutes.Status.CONFIRMING)
    for user in (chair, member):
        MinutesConfirmation.objects.create(minutes=minutes, appointment=Appointment.objects.get(person__user=user))
    assert addresses(meeting, Notice.Kind.MINUTES) == both
    assert addresses(meeting, Notice.Kind.REMINDER) == ["chair@test.example"]
    assert addresses(meeting, Notice.Kind.MATERIALS) == ["chair@test.example"]
    NotificationPreference.objects.filter(person=member.person).update(materials=True)
    assert addresses(meeting, Notice.Kind.MATERIALS) == both


def test_recipients_take_a_fixed_number_of_queries(approved, meeting, chair, member):
    def count():
        with CaptureQueriesContext(connection) as queries:
            selectors.recipients(meeting, kind=Notice.Kind.REMINDER)
        return len(queries)

    prefer(member, reminders=False)
    count()  # loads meeting.body once
    small = count()
    others = appoint_others(meeting.body, 10)
    for i, appointment in enumerate(others):
        person = appointment.person
        person.email = f"other{i}@test.example"
        person.save(update_fields=["email"])
        NotificationPreference.objects.create(person=person, reminders=i % 2 == 0, copy_to=f"copy{i}@test.example")
    assert count() == small
    assert len(selectors.recipients(meeting, kind=Notice.Kind.REMINDER)) == 1 + 5


def test_copy_address_gets_every_notice_the_member_gets(
    approved, meeting, secretariat, chair, member, unit_email, django_capture_on_commit_callbacks
):
    prefer(member, reminders=False, copy_to="hisho@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_send(actor=secretariat, meeting=meeting, kind=Notice.Kind.CONVOCATION)
    to_member = next(m for m in mail.outbox if m.to == ["member@test.example"])
    to_chair = next(m for m in mail.outbox if m.to == ["chair@test.example"])
    [to_copy] = [m for m in mail.outbox if m.to == ["hisho@example.jp"]]
    [to_unit] = [m for m in mail.outbox if m.to == [unit_email]]
    assert to_member.cc == to_chair.cc == to_copy.cc == to_unit.cc == []  # every copy is a row of its own
    assert "/answer/" in to_member.body and "/answer/" not in to_copy.body and "/answer/" not in to_unit.body
    assert "【写し】" in to_copy.body and member.person.full_name in to_copy.body
    assert Delivery.objects.get(email="member@test.example").copy_to == "hisho@example.jp"

    # the member turned reminders off: no reminder for them, so none for the copy address either
    mail.outbox.clear()
    with time_machine.travel(dt.datetime(2023, 6, 6, 9, 1, tzinfo=TOKYO)):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.relay()["reminders"] == 1
    assert [m.to for m in mail.outbox] == [["chair@test.example"], [unit_email]]
    assert all("hisho@example.jp" not in m.recipients() for m in mail.outbox)
