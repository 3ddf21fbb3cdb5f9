"""The shared rate limiter in Redis, for several machines behind one balancer.

Same contract as `SharedRateLimiter` (the SQLite file of one machine): at most ``limit``
events per ``window_seconds`` per key. Each key is a sorted set of event times; one Lua
script trims, counts and adds atomically, so two instances never both take the last slot.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import redis

_PREFIX = "eseal:rl"
# KEYS[1] the set; ARGV: now, window, limit. Returns -1 when counted, else the oldest time.
_ALLOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return oldest[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
return '-1'
"""


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisRateLimiter:
    """A sliding window per key in Redis (`url`: redis://host:port/db)."""

    def __init__(
        self,
        client: redis.Redis | str,
        *,
        bucket: str,
        limit: int,
        window_seconds: float = 60.0,
    ) -> None:
        self.client = redis.Redis.from_url(client) if isinstance(client, str) else client
        self.bucket = bucket
        self.limit = limit
        self.window = window_seconds
        self._allow: Any = self.client.register_script(_ALLOW)

    def sibling(self, *, bucket: str, limit: int, window_seconds: float) -> RedisRateLimiter:
        """Another bucket on the same server."""
        return RedisRateLimiter(
            self.client, bucket=bucket, limit=limit, window_seconds=window_seconds
        )

    def _key(self, key: str) -> str:
        return f"{_PREFIX}:{self.bucket}:{key}"

    def allow(self, key: str) -> float | None:
        """None if allowed now (and counted); else the seconds until the next is allowed."""
        if self.limit <= 0:
            return None
        now = time.time()
        answer = self._allow(
            keys=[self._key(key)], args=[now, self.window, self.limit, self._member(now)]
        )
        oldest = float(answer)
        return None if oldest < 0 else max(0.0, self.window - (now - oldest))

    def count(self, key: str) -> int:
        since = time.time() - self.window
        return int(self.client.zcount(self._key(key), f"({since}", "+inf"))

    def hit(self, key: str) -> None:
        now = time.time()
        pipe = self.client.pipeline()
        pipe.zadd(self._key(key), {self._member(now): now})
        pipe.pexpire(self._key(key), int(self.window * 1000) + 1)
        pipe.execute()

    def reset(self, key: str) -> None:
        self.client.delete(self._key(key))

    def reset_prefix(self, prefix: str) -> None:
        pattern = _glob_escape(self._key(prefix)) + "*"
        for name in self.client.scan_iter(match=pattern, count=500):
            self.client.delete(name)

    @staticmethod
    def _member(now: float) -> str:
        return f"{now:.6f}:{secrets.token_hex(4)}"
