"""Rate limits shared through a real Redis server behave like the per-machine file: two
limiters (two instances) share one budget, sign-in throttles reset by account prefix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ratelimit_redis import RedisRateLimiter
from app.ratelimit_shared import Limiter, SharedRateLimiter, Throttles
from app.settings import Settings
from tests.redis_server import redis_server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["redis", "file"])
def pair(request: pytest.FixtureRequest, redis_url: str, tmp_path: Path) -> tuple[Limiter, Limiter]:
    """Two limiters of one bucket, as two instances (or two workers) would hold them."""
    if request.param == "redis":
        return (
            RedisRateLimiter(redis_url, bucket=f"t{tmp_path.name}", limit=3),
            RedisRateLimiter(redis_url, bucket=f"t{tmp_path.name}", limit=3),
        )
    path = tmp_path / "limits.db"
    return (
        SharedRateLimiter(path, bucket="t", limit=3),
        SharedRateLimiter(path, bucket="t", limit=3),
    )


def test_two_instances_share_one_budget(pair: tuple[Limiter, Limiter]) -> None:
    a, b = pair
    assert [a.allow("1.2.3.4"), b.allow("1.2.3.4"), a.allow("1.2.3.4")] == [None, None, None]
    wait = b.allow("1.2.3.4")
    assert wait is not None and 0 < wait <= 60
    assert a.allow("5.6.7.8") is None  # another address has its own budget
    assert a.count("1.2.3.4") == b.count("1.2.3.4") == 3


def test_sign_in_throttles_and_reset_by_account(pair: tuple[Limiter, Limiter]) -> None:
    a, b = pair
    settings = Settings(login_max_failures=2, login_lockout_minutes=1)
    first, second = Throttles.of(a, settings), Throttles.of(b, settings)
    for user in ("li*na", "lina"):
        first.account.hit(f"{user}\n10.0.0.1")
        second.account.hit(f"{user}\n10.0.0.2")
    assert second.account.count("li*na\n10.0.0.1") == 1
    first.account.reset_prefix("li*na\n")  # a glob character in a name matches only itself
    assert second.account.count("li*na\n10.0.0.1") == second.account.count("li*na\n10.0.0.2") == 0
    assert second.account.count("lina\n10.0.0.1") == 1
