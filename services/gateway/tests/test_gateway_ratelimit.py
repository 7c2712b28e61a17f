"""The token bucket itself, on a fake clock."""

from __future__ import annotations

import pytest

from hallway_gateway.problems import Problem
from hallway_gateway.ratelimit import TokenBucketLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(30, clock=clock)
    assert all(limiter.try_acquire("ada") == 0 for _ in range(30))
    wait = limiter.try_acquire("ada")
    assert wait == pytest.approx(2.0)  # 30/min = one token every 2 s
    clock.now += 2.0
    assert limiter.try_acquire("ada") == 0
    assert limiter.try_acquire("ada") > 0


def test_check_raises_429_with_retry_after() -> None:
    limiter = TokenBucketLimiter(1, clock=Clock())
    limiter.check("ada")
    with pytest.raises(Problem) as info:
        limiter.check("ada")
    assert info.value.status == 429
    assert info.value.headers["Retry-After"] == "60"


def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = TokenBucketLimiter(60, clock=clock, max_keys=10)
    for i in range(10):
        limiter.try_acquire(f"p{i}")
    clock.now += 5  # every bucket has refilled
    limiter.try_acquire("p-new")
    assert len(limiter._buckets) <= 2
