"""Who a notice goes to, at which address, with which copy; the failed deliveries the secretariat resends;
and a resend that follows a corrected address."""

import pytest
from django.core import mail

from meetings.models import Attendee
from notices import selectors, services
from notices.models import Delivery, Notice, NotificationPreference
from tests import factories

pytestmark = pytest.mark.django_db

CONVOCATION = Notice.Kind.CONVOCATION


def test_the_roster_address_wins_over_the_account_and_is_trimmed(member):
    person = member.person
    assert selectors.person_email(person) == "member@test.example"  # the account's, none on the roster

    person.email = "  satou@pref.example.jp "
    assert selectors.person_email(person) == "satou@pref.example.jp"

    person.email, person.user = "", None
    assert selectors.person_email(person) == ""
    assert selectors.person_email(None) == ""


def test_an_invited_witness_gets_the_convocation_once(approved, meeting, chair, member):
    witness = factories.PersonFactory(
        family_name="参考", given_name="人子", family_name_kana="さんこう", email="witness@univ.example"
    )
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.WITNESS, person=witness, position=1)
    # The member is also listed as an attendee (say, to explain an item): still one mail for them.
    Attendee.objects.create(meeting=meeting, role=Attendee.Role.EXPLAINER, person=member.person, position=2)

    found = selectors.recipients(meeting)

    assert sorted(r.email for r in found) == ["chair@test.example", "member@test.example", "witness@univ.example"]
    assert [r.name for r in found if r.person == witness] == [Attendee.objects.get(person=witness).display_name]


def test_a_copy_to_the_recipients_own_address_is_dropped(approved, meeting, chair, member):
    NotificationPreference.objects.create(person=member.person, copy_to="MEMBER@test.example")
    NotificationPreference.objects.create(person=chair.person, copy_to="hisho@pref.example.jp")

    copies = {r.email: r.copy_to for r in selectors.recipients(meeting)}

    assert copies == {"chair@test.example": "hisho@pref.example.jp", "member@test.example": ""}


def test_failed_deliveries_are_listed_for_resending(approved, meeting, secretariat, chair, member, settings,
                                                   django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.notices.test_services.Refusing"
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
    Delivery.objects.filter(notice=notice, email="chair@test.example").update(state=Delivery.State.SENT)

    assert [d.email for d in selectors.failed_deliveries(notice)] == ["member@test.example"]


def test_a_resend_goes_to_the_corrected_address(approved, meeting, secretariat, chair, settings,
                                                django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.notices.test_services.Refusing"
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.notice_send(actor=secretariat, meeting=meeting, kind=CONVOCATION)
    delivery = notice.deliveries.get()
    assert (delivery.state, delivery.email) == (Delivery.State.FAILED, "chair@test.example")
    person = chair.person
    person.email = "mori@univ.example"  # the secretariat corrected the roster
    person.save(update_fields=["email"])

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(actor=secretariat, delivery=delivery)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.email) == (Delivery.State.SENT, "mori@univ.example")
    assert [m.to for m in mail.outbox] == [["mori@univ.example"]]
