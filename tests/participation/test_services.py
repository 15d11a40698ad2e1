"""傍聴: seats, waiting list, lottery, closing with the meeting, check-in and expiry of personal data."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from core.models import AuditAction, AuditEntry
from meetings import services as meeting_services
from notices.models import OutboxMail
from participation import services
from participation.models import ObservationSettings, Registration
from tests.conftest import TOKYO

from .conftest import register

pytestmark = pytest.mark.usefixtures("eager_celery")


def test_seat_counts_only_after_the_address_is_confirmed(observation):
    registration = register(observation, "a@example.com", party=2, confirm=False)
    assert registration.state == Registration.State.UNCONFIRMED
    assert "/observe/confirm/" in mail.outbox[-1].body
    registration = services.registration_confirm(registration=registration)
    assert registration.state == Registration.State.SEATED
    assert services.registration_confirm(registration=registration).state == Registration.State.SEATED  # twice


def test_full_goes_to_waiting_list_which_moves_up_on_cancel(observation):
    first = register(observation, "a@example.com", party=2)
    second = register(observation, "b@example.com", party=1)
    waiting_big = register(observation, "c@example.com", party=2)
    waiting_small = register(observation, "d@example.com", party=1)
    assert (first.state, second.state) == ("seated", "seated")
    assert (waiting_big.state, waiting_small.state) == ("waiting", "waiting")

    services.registration_cancel(registration=second)

    waiting_big.refresh_from_db()
    waiting_small.refresh_from_db()
    # One seat came back: the party of two still waits, the next one that fits moves up.
    assert waiting_big.state == "waiting"
    assert waiting_small.state == "seated"
    assert any("d@example.com" in m.to for m in mail.outbox if "given back" in m.body or "キャンセルが出た" in m.body)
    services.registration_cancel(registration=first)
    waiting_big.refresh_from_db()
    assert waiting_big.state == "seated"
    entry = AuditEntry.objects.filter(action=AuditAction.OBSERVER_CANCELLED).first()
    assert entry.data["moved_up"] == [waiting_big.pk]


def test_party_limit_guide_and_closed_period(observation):
    with pytest.raises(services.ParticipationError):
        register(observation, "a@example.com", party=3)
    with pytest.raises(services.ParticipationError):
        services.registration_create(
            observation=observation, kind="public", name="x", email="x@example.com", party_size=1, accepted_guide=False
        )
    with time_machine.travel(dt.datetime(2023, 7, 4, tzinfo=TOKYO)), pytest.raises(services.ParticipationError) as exc:
        register(observation, "late@example.com")
    assert exc.value.code == "closed"


def test_same_address_twice_gets_the_mail_again_not_a_second_row(observation):
    first = register(observation, "a@example.com", confirm=False)
    again = register(observation, "A@example.com ", confirm=False)
    assert first.pk == again.pk
    assert Registration.objects.count() == 1


def test_lottery_is_reproducible_from_its_seed(observation, secretariat):
    services.observation_settings_save(
        actor=secretariat, meeting=observation.meeting, public_seats=3, press_seats=1, max_party=2,
        opens_at=observation.opens_at, closes_at=observation.closes_at, method="lottery",
    )
    applied = [register(observation, f"p{i}@example.com") for i in range(8)]
    assert {r.state for r in applied} == {"applied"}
    with pytest.raises(services.ParticipationError):
        services.lottery_draw(actor=secretariat, observation=observation)  # still open
    with time_machine.travel(dt.datetime(2023, 7, 4, tzinfo=TOKYO)):
        drawn = services.lottery_draw(actor=secretariat, observation=observation)
        with pytest.raises(services.ParticipationError):
            services.lottery_draw(actor=secretariat, observation=observation)
    assert drawn.lottery_seed
    order = services.lottery_order(drawn.lottery_seed, "public", [r.pk for r in applied])
    assert order == services.lottery_order(drawn.lottery_seed, "public", list(reversed([r.pk for r in applied])))
    assert order != services.lottery_order("another seed", "public", [r.pk for r in applied])
    rows = {r.pk: r for r in Registration.objects.all()}
    assert [rows[pk].state for pk in order] == ["seated"] * 3 + ["waiting"] * 5
    assert [rows[pk].position for pk in order] == sorted(rows[pk].position for pk in order)
    entry = AuditEntry.objects.get(action=AuditAction.OBSERVATION_LOTTERY_DRAWN)
    assert entry.data["seed"] == drawn.lottery_seed and entry.data["order"]["public"] == order


@pytest.mark.parametrize("change", ["closed", "postponed", "cancelled"])
def test_registration_closes_when_the_meeting_is_closed_postponed_or_cancelled(observation, secretariat, change):
    seated = register(observation, "a@example.com")
    meeting = observation.meeting
    mail.outbox.clear()
    if change == "closed":
        meeting_services.meeting_update(actor=secretariat, meeting=meeting, openness="closed",
                                        openness_basis="委員の承諾")
    elif change == "postponed":
        meeting_services.meeting_postpone(actor=secretariat, meeting=meeting, reason="台風")
    else:
        meeting_services.meeting_cancel(actor=secretariat, meeting=meeting, reason="台風")
    observation.refresh_from_db()
    assert observation.closed_at is not None
    assert [m.to for m in mail.outbox] == [[seated.email]]
    seated.refresh_from_db()
    assert seated.state == Registration.State.CANCELLED
    with pytest.raises(services.ParticipationError):
        register(observation, "b@example.com")
    assert AuditEntry.objects.filter(action=AuditAction.OBSERVATION_CLOSED).count() == 1


def test_other_changes_leave_registration_open(observation, secretariat):
    meeting_services.meeting_update(actor=secretariat, meeting=observation.meeting, venue_room="大会議室")
    observation.refresh_from_db()
    assert observation.closed_at is None


def test_check_in_records_the_number_of_observers(observation, secretariat):
    a = register(observation, "a@example.com", party=2)
    b = register(observation, "b@example.com")
    services.registration_check_in(actor=secretariat, registration=a, attended=2)
    services.registration_check_in(actor=secretariat, registration=b, attended=1)
    observation.refresh_from_db()
    assert observation.observer_count == 3
    services.registration_check_in(actor=secretariat, registration=b, attended=0)
    observation.refresh_from_db()
    assert observation.observer_count == 2
    with pytest.raises(services.ParticipationError):
        services.registration_check_in(actor=secretariat, registration=a, attended=3)


def test_personal_data_expires_after_the_configured_days(observation, settings):
    settings.DXPLAN_OBSERVER_DATA_DAYS = 30
    register(observation, "a@example.com", party=2)
    observation.observer_count = 2
    observation.save(update_fields=["observer_count"])
    assert OutboxMail.objects.filter(to="a@example.com").exists()
    # The registration came from a client address, which the audit recorded; another entry has one too.
    registered = AuditEntry.objects.filter(action__in=[AuditAction.OBSERVER_REGISTERED, AuditAction.OBSERVER_CONFIRMED])
    assert registered.count() == 2
    registered.update(ip_address="203.0.113.7")
    other = AuditEntry.objects.exclude(pk__in=registered.values("pk")).first()
    other.ip_address = "198.51.100.1"
    other.save(update_fields=["ip_address"])
    start = observation.meeting.start_at
    assert services.personal_data_purge(now=start + dt.timedelta(days=29)) == 0
    assert Registration.objects.exists()
    assert services.personal_data_purge(now=start + dt.timedelta(days=31)) == 1
    assert not Registration.objects.exists()
    assert not OutboxMail.objects.filter(to="a@example.com").exists()
    observation.refresh_from_db()
    assert observation.purged_at is not None and observation.observer_count == 2
    assert services.personal_data_purge(now=start + dt.timedelta(days=40)) == 0  # twice
    entry = AuditEntry.objects.get(action=AuditAction.OBSERVER_DATA_DELETED)
    assert entry.data == {"registrations": 1, "days": 30, "addresses_cleared": 2}
    # What happened stays in the audit; where the observer wrote from does not.
    registered_from = AuditEntry.objects.filter(action=AuditAction.OBSERVER_REGISTERED).values_list("ip_address")
    assert set(registered_from) == {(None,)}
    assert not AuditEntry.objects.filter(ip_address="203.0.113.7").exists()
    other.refresh_from_db()
    assert other.ip_address == "198.51.100.1"


def test_purge_task_runs_the_service(observation, settings):
    from participation.tasks import purge_personal_data

    register(observation, "a@example.com")
    with time_machine.travel(observation.meeting.start_at + dt.timedelta(days=91)):
        assert purge_personal_data.delay().get() == 1


def test_seats_cannot_drop_below_those_given(observation, secretariat):
    register(observation, "a@example.com", party=2)
    with pytest.raises(services.ParticipationError):
        services.observation_settings_save(
            actor=secretariat, meeting=observation.meeting, public_seats=1, press_seats=1, max_party=2,
            opens_at=observation.opens_at, closes_at=observation.closes_at, method="first_come",
        )
    assert ObservationSettings.objects.get().public_seats == 3


def test_a_postponed_meeting_notified_again_can_open_registration_again(observation, secretariat, chair):
    meeting = observation.meeting
    meeting_services.meeting_postpone(
        actor=secretariat, meeting=meeting, reason="台風",
        new_start_at=meeting.start_at + dt.timedelta(days=7), new_end_at=meeting.end_at + dt.timedelta(days=7),
    )
    with pytest.raises(services.ParticipationError):  # postponed: no observers until notified again
        services.observation_settings_save(
            actor=secretariat, meeting=meeting, public_seats=3, press_seats=1, max_party=2,
            opens_at=observation.opens_at, closes_at=observation.closes_at, method="first_come",
        )
    meeting_services.agenda_item_add(actor=secretariat, meeting=meeting, title="開会")
    version = meeting_services.agenda_submit(actor=secretariat, meeting=meeting)
    meeting_services.agenda_approve(actor=chair, meeting=meeting, sha256=version.sha256)
    meeting_services.meeting_mark_notified(actor=secretariat, meeting=meeting)
    reopened = services.observation_settings_save(
        actor=secretariat, meeting=meeting, public_seats=3, press_seats=1, max_party=2,
        opens_at=observation.opens_at, closes_at=observation.closes_at, method="first_come",
    )
    assert reopened.closed_at is None
    assert register(observation, "again@example.com").state == Registration.State.SEATED


def test_demo_opens_registration_for_the_next_public_meeting(planned, secretariat):
    from participation import demo

    assert demo.load(secretariat=secretariat) == {"observations": 1}
    assert demo.load(secretariat=secretariat) == {"observations": 0}  # twice
    observation = ObservationSettings.objects.get(meeting=planned)
    assert observation.is_open()
    assert register(observation, "demo@example.com").state == Registration.State.SEATED
