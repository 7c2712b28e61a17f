"""Per-person write rate limit: a token bucket in this process's memory.

The limit is per replica (N gateway replicas allow up to N times the rate); it
stops a runaway script or a stuck retry loop, not a determined abuser. A
cluster-wide limit belongs in a shared store or the ingress.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from hallway_gateway.problems import Problem


class TokenBucketLimiter:
    """``per_minute`` writes per key per minute, with bursts of up to ``per_minute``."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def try_acquire(self, key: str) -> float:
        """0 when allowed (one token taken), else seconds until a token is available."""
        now = self.clock()
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_keys:
                self._sweep(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def check(self, key: str) -> None:
        """Raise a 429 problem with Retry-After when ``key`` is over its rate."""
        wait = self.try_acquire(key)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise Problem(
                429,
                f"too many writes; retry in {retry_after}s",
                slug="rate-limited",
                headers={"Retry-After": str(retry_after)},
            )

    def _sweep(self, now: float) -> None:
        """Forget buckets that have refilled: they behave exactly like new ones."""
        full = [
            k
            for k, (tokens, updated) in self._buckets.items()
            if tokens + (now - updated) * self.rate >= self.capacity
        ]
        for k in full:
            del self._buckets[k]
