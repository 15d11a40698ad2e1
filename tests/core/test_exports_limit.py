"""The exports' rate limit (core.exports.limited): a fixed window of the rate's period per client address
and group, counted in one round trip (core.cache.count)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.cache import cache
from django.test import RequestFactory

from core.exports import limited, retry_after

START = dt.datetime(2026, 12, 1, 9, 0, 0, tzinfo=dt.UTC)


def _request(address: str = "192.0.2.1"):
    return RequestFactory(REMOTE_ADDR=address).get("/oparl/")


def test_the_limit_counts_per_address_and_group_and_starts_again_with_the_next_window():
    cache.clear()
    with time_machine.travel(START, tick=False):
        assert [limited(_request(), group="oparl", rate="2/m") for _ in range(3)] == [False, False, True]
        assert not limited(_request("192.0.2.2"), group="oparl", rate="2/m")  # another address
        assert not limited(_request(), group="calendar", rate="2/m")  # another export
    with time_machine.travel(START + dt.timedelta(seconds=61), tick=False):
        assert not limited(_request(), group="oparl", rate="2/m")


def test_a_period_of_several_units_counts_for_all_of_them():
    cache.clear()
    with time_machine.travel(START, tick=False):
        assert [limited(_request(), group="oparl", rate="1/10m") for _ in range(2)] == [False, True]
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert limited(_request(), group="oparl", rate="1/10m")
    assert retry_after("1/10m") == 600 and retry_after("120/m") == 60
