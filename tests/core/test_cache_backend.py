"""The Redis cache backend (core/cache.py): Django's, with one redis-py client per connection pool kept
instead of one made for every operation; the production settings choose it for a redis:// CACHE_URL."""

from __future__ import annotations

import os
import uuid

import pytest

from core.cache import RedisCache
from tests.servers import redis_calls, require_local_redis

REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture
def backend():
    require_local_redis()
    # Keys of this test only (a prefix of its own), removed afterwards: nothing else in the database is touched.
    cache = RedisCache(REDIS, {"KEY_PREFIX": f"dxplan-test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["page", "generation", "counter"])


def test_every_operation_uses_the_same_client(backend):
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client
    made = []
    original = backend._cache._client
    backend._cache._client = lambda **kwargs: made.append(kwargs) or original(**kwargs)
    backend.set("page", b"<html>", 30)
    backend.set("generation", "g1", 30)
    assert backend.get_many(["generation", "page", "missing"]) == {"generation": "g1", "page": b"<html>"}
    assert backend.add("counter", 1, 30)
    assert backend.incr("counter") == 2
    assert made == []  # no redis.Redis made after the first


def test_a_forked_process_gets_connections_of_its_own(backend):
    """redis-py's pool notices the fork and opens new connections: the kept client works in the child."""
    backend.set("page", "before the fork", 30)
    pid = os.fork()
    if pid == 0:  # the child
        try:
            ok = backend.get("page") == "before the fork" and backend.set("page", "from the child", 30) is None
        except Exception:  # noqa: BLE001 - any failure is the child's exit status
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert backend.get("page") == "from the child"


def test_incr_is_one_round_trip_and_keeps_djangos_rules(backend):
    with pytest.raises(ValueError, match="not found"):
        backend.incr("counter")
    assert backend.get("counter") is None  # a missing key is not made by trying
    backend.set("counter", 5, 30)
    assert backend.incr("counter") == 6
    client = backend._cache.get_client(write=True)
    commands = []
    original = client.execute_command
    client.execute_command = lambda *args, **kwargs: commands.append(args[0]) or original(*args, **kwargs)
    try:
        assert backend.incr("counter", 10) == 16
    finally:
        del client.execute_command
    assert commands == ["EVALSHA"]
    assert backend.get("counter") == 16
    backend.set("page", "not a number", 30)
    with pytest.raises(Exception, match="not an integer"):
        backend.incr("page")


def test_count_is_one_round_trip_and_sets_the_expiry_once(backend):
    """The exports' rate limit (core.exports.limited) counts every request with it."""
    backend.count("page", 30)  # Redis learns the script (SCRIPT LOAD the first time it does not know it)
    client = backend._cache.get_client(write=True)
    with redis_calls(client) as (commands, _pipelines):
        assert [backend.count("counter", 30) for _ in range(3)] == [1, 2, 3]
    assert commands == ["EVALSHA"] * 3
    assert backend.get("counter") == 3  # a plain integer, as Django's cache reads it
    key = backend.make_and_validate_key("counter")
    assert 28 <= client.ttl(key) <= 30
    client.expire(key, 100)
    backend.count("counter", 30)
    assert client.ttl(key) > 30  # the expiry is the first request's: the window does not slide


def test_count_without_redis_adds_then_increments():
    from django.core.cache.backends.locmem import LocMemCache

    from core.cache import count

    local = LocMemCache(f"dxplan-test-{uuid.uuid4().hex}", {})
    assert [count(local, "counter", 30) for _ in range(3)] == [1, 2, 3]


def test_get_many_and_count_is_one_round_trip(backend):
    """A kept export is read and counted against the rate limit together (core.pagecache._kept)."""
    backend.set("page", {"html": "<p>"}, 30)
    client = backend._cache.get_client(write=True)
    with redis_calls(client) as (commands, executed):
        found, number = backend.get_many_and_count(["generation", "page"], "counter", 30)
        again = backend.get_many_and_count(["page"], "counter", 30)
    assert commands == [] and executed == [2, 2]  # one pipeline of two commands each time, nothing else
    assert found == {"page": {"html": "<p>"}} and number == 1
    assert again == ({"page": {"html": "<p>"}}, 2)
    assert 28 <= client.ttl(backend.make_and_validate_key("counter")) <= 30
