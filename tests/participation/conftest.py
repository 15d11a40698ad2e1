import datetime as dt

import pytest
from django.core.cache import cache

from participation import services
from tests.conftest import TOKYO

START = dt.datetime(2023, 7, 10, 14, 0, tzinfo=TOKYO)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The rate limits count in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _outbox_sends_at_once(monkeypatch):
    """Outbox mails are queued on commit, which a test never reaches: queue them when written (the mail
    lands in mail.outbox while the test runs). The commit itself: tests/participation/test_concurrency.py."""
    import types

    from django.db import transaction

    from notices import services as notice_services

    shim = types.SimpleNamespace(atomic=transaction.atomic, on_commit=lambda func, *args, **kwargs: func())
    monkeypatch.setattr(notice_services, "transaction", shim)


@pytest.fixture
def planned(body, secretariat, in_term):
    """第1回 of the fixture body on 2023-07-10, planned and public."""
    from meetings import services as meeting_services

    return meeting_services.meeting_create(
        actor=secretariat, body=body, start_at=START, end_at=START + dt.timedelta(hours=2), venue_name="県庁"
    )


@pytest.fixture
def guide(body, secretariat):
    return services.guide_save(actor=secretariat, body=body, text="録音・録画は委員長の許可なくできません。")


@pytest.fixture
def observation(planned, secretariat, guide):
    """Open from 2023-05-31 to 2023-07-03: 3 seats for the public, 1 for the press, parties up to 2."""
    return services.observation_settings_save(
        actor=secretariat,
        meeting=planned,
        public_seats=3,
        press_seats=1,
        max_party=2,
        opens_at=dt.datetime(2023, 5, 31, 9, 0, tzinfo=TOKYO),
        closes_at=dt.datetime(2023, 7, 3, 17, 0, tzinfo=TOKYO),
        method="first_come",
    )


def register(observation, email, party=1, kind="public", confirm=True, name="傍聴 太郎"):
    registration = services.registration_create(
        observation=observation,
        kind=kind,
        name=name,
        email=email,
        party_size=party,
        organisation="東奥日報" if kind == "press" else "",
        accepted_guide=True,
    )
    if confirm:
        registration = services.registration_confirm(registration=registration)
    return registration
