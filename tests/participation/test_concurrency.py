"""Capacity holds under concurrent confirmations: every one locks the meeting's settings row first."""

import threading

import pytest
from django.db import connection

from participation import services
from participation.models import Registration

from .conftest import register

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_never_give_more_seats_than_exist(observation):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite locks the whole database; row locks (SELECT … FOR UPDATE) need PostgreSQL")
    pending = [register(observation, f"p{i}@example.com", confirm=False) for i in range(10)]
    barrier = threading.Barrier(len(pending))
    errors: list[BaseException] = []

    def confirm(registration):
        try:
            barrier.wait(timeout=30)
            services.registration_confirm(registration=registration)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(r,)) for r in pending]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    states = list(Registration.objects.values_list("state", flat=True))
    assert states.count("seated") == observation.public_seats == 3
    assert states.count("waiting") == 7
    positions = sorted(Registration.objects.values_list("position", flat=True))
    assert positions == list(range(1, 11))  # each confirmation got its own place in the queue
