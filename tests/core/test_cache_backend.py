"""The Redis cache backend (core/cache.py): Django's, with one redis-py client per connection pool kept
instead of one made for every operation; the production settings choose it for a redis:// CACHE_URL."""

from __future__ import annotations

import os
import uuid

import pytest

from core.cache import RedisCache
from tests.servers import require_local_redis

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
