"""Fault suite fixtures: one System (four services + gateway) shared by every fault,
and the matrix printed at the end of the session."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator

import jwt
import pytest

from hallway_common.testing import System

JWT_SECRET = "faults-secret-not-for-production-0123456789"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: kill/freeze processes under a write load")


def mint(person_id: str, handle: str, ttl: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": person_id, "handle": handle, "iss": "hallway", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.fixture(scope="session")
def fault_mint() -> Callable[[str, str], str]:
    """Mints bearer tokens the fault system's gateway accepts."""
    return mint


@pytest.fixture(scope="session")
async def fault_system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "faults.", index_prefix + "-faults")
    try:
        await sys.start("profile", "feed", "search", "notification")
        gw = sys.gateway(JWT_SECRET)
        # The load writes faster than a person would; the limiter is not under test.
        gw.env["HALLWAY_WRITE_RATE_PER_MINUTE"] = "100000"
        gw.start()
        yield sys
    finally:
        sys.stop()


@pytest.fixture(scope="session")
def matrix() -> Iterator[list[dict]]:
    """Rows appended by each fault test; printed as a table when the session ends."""
    rows: list[dict] = []
    yield rows
    if not rows:
        return
    head = f"{'fault':<22} {'acked':>6} {'lost':>5} {'dup':>4} {'recovery s':>10}"
    lines = ["", "fault matrix", head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['fault']:<22} {r['acked']:>6} {r['lost']:>5} {r['dup']:>4} {r['recovery']:>10.1f}"
        )
    print("\n".join(lines))
