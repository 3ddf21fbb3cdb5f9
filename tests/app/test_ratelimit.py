"""The per-address limiter behind the public verification endpoint."""

from __future__ import annotations

from app.ratelimit import RateLimiter


def test_limit_per_key_and_window() -> None:
    limiter = RateLimiter(limit=2, window_seconds=60)
    assert limiter.allow("a") is None and limiter.allow("a") is None
    wait = limiter.allow("a")
    assert wait is not None and 0 < wait <= 60
    assert limiter.allow("b") is None


def test_zero_switches_limiting_off() -> None:
    limiter = RateLimiter(limit=0)
    assert all(limiter.allow("a") is None for _ in range(100))


def test_memory_stays_bounded() -> None:
    limiter = RateLimiter(limit=1, window_seconds=60, max_keys=100)
    for i in range(1000):
        limiter.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._hits) <= 100
