"""Django's Redis cache, with one redis-py client per connection pool instead of one per operation.

Django's RedisCacheClient.get_client() makes a new `redis.Redis` for every cache operation, and redis-py
builds its table of response callbacks in each one's constructor: about 0.1 ms, nearly as long as the round
trip to Redis itself (measured with redis-py 8.1: a GET 0.16 ms with a kept client, 0.27 ms with a new
one). A page kept in the public page cache costs one or two operations, a signed-in page several (the
session, the facts kept with the page cache, rate limits), so that constructor was a large part of what
such a request cost. The client holds no state of its own but its pool, which is thread-safe and starts
anew in a forked process (redis-py checks the process id), so one per pool serves every operation.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# INCRBY of a key that exists, else nil: Django's `incr` in one round trip (it asks EXISTS, then INCRBY: two,
# and another client could delete the key between them). django-ratelimit's limits (password resets, the
# public forms) count with it.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


# A counter of a fixed window in one round trip: INCR, and the expiry set by the request that made the key.
COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return n
"""


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._scripts: dict[tuple[int, str], Any] = {}

    def _script(self, client: Any, source: str) -> Any:
        """The script, run by EVALSHA (redis-py loads it into Redis when Redis does not know it: a restart)."""
        script = self._scripts.get((id(client), source))
        if script is None:
            script = self._scripts.setdefault((id(client), source), client.register_script(source))
        return script

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own attributes, which django-stubs does not declare.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client

    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        value = self._script(client, INCR_EXISTING)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)

    def count(self, key: Any, timeout: int) -> int:
        client = self.get_client(key, write=True)
        return int(self._script(client, COUNT)(keys=[key], args=[timeout]))

    def get_many_and_count(self, keys: list[Any], counter: Any, timeout: int) -> tuple[dict[Any, Any], int]:
        # One pipeline: MGET and the counting script by EVAL (redis-py would ask SCRIPT EXISTS before an
        # EVALSHA in a pipeline, a round trip of its own; Redis keeps the compiled script either way).
        pipeline = self.get_client(counter, write=True).pipeline(transaction=False)
        pipeline.mget(keys)
        pipeline.eval(COUNT, 1, counter, timeout)
        found, number = pipeline.execute()
        loads = self._serializer.loads  # type: ignore[attr-defined]  # Django's, not declared by django-stubs
        return {k: loads(v) for k, v in zip(keys, found, strict=True) if v is not None}, int(number)


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` whose client keeps its redis-py clients."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    def count(self, key: str, timeout: int, version: int | None = None) -> int:
        """Add one to the counter `key` (made with expiry `timeout` seconds if new) and return it: one round
        trip."""
        return int(self._cache.count(self.make_and_validate_key(key, version=version), timeout))  # type: ignore[attr-defined]


    def get_many_and_count(
        self, keys: list[str], counter: str, timeout: int, version: int | None = None
    ) -> tuple[dict[str, Any], int]:
        """`get_many(keys)` and `count(counter, timeout)` in one round trip."""
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        found, number = self._cache.get_many_and_count(  # type: ignore[attr-defined]
            list(key_map), self.make_and_validate_key(counter, version=version), timeout
        )
        return {key_map[k]: v for k, v in found.items()}, number


def get_many_and_count(cache: Any, keys: list[str], counter: str, timeout: int) -> tuple[dict[str, Any], int]:
    """`cache.get_many(keys)` and `count(cache, counter, timeout)`: in one round trip on Redis."""
    both = getattr(cache, "get_many_and_count", None)
    if both is not None:
        return cast(tuple[dict[str, Any], int], both(keys, counter, timeout))
    return cache.get_many(keys), count(cache, counter, timeout)


def count(cache: Any, key: str, timeout: int) -> int:
    """Add one to the counter `key` of `cache` (made with expiry `timeout` seconds if it is new) and return
    it: in one round trip on Redis (RedisCache.count), else `add` and `incr` (the local-memory cache of a
    development machine or the tests)."""
    counter = getattr(cache, "count", None)
    if counter is not None:
        return int(counter(key, timeout))
    if cache.add(key, 1, timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two
        cache.add(key, 1, timeout)
        return 1
