"""Fixtures for the notices tests: the meetings fixtures (a meeting on 2023-06-07 14:00, "now" 2023-06-01),
eager Celery and Django's in-memory mail outbox. Real workers and SMTP servers: tests/integration/."""

from __future__ import annotations

import pytest

from tests.meetings.conftest import (  # noqa: F401  (fixtures)
    after_meeting,
    approved,
    english,
    fast_hashing,
    held,
    invited,
    meeting,
    notified,
    submitted,
)


@pytest.fixture(autouse=True)
def mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://dxplan.example.jp"
    settings.DEFAULT_FROM_EMAIL = "青森県 審議会事務局 <noreply@dxplan.example.jp>"
    settings.DXPLAN_REPLY_TO = ""


@pytest.fixture(autouse=True)
def _tasks_in_process(eager_celery):
    yield


@pytest.fixture
def unit_email(unit):
    unit.email = "dx@pref.example.jp"
    unit.save(update_fields=["email"])
    return unit.email
