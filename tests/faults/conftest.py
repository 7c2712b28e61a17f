"""Fault suite fixtures: one System (four services + gateway) shared by every fault
run, and the matrix printed in the terminal summary at the end of the session."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest
from faults_harness import MATRIX, table

from hallway_dev.testing import System

JWT_SECRET = "faults-secret-not-for-production-0123456789"


def mint(person_id: str, handle: str, ttl: int = 3600) -> str:
    """A bearer token the fault system's gateway accepts (as tests/e2e/conftest.py)."""
    import jwt

    now = int(time.time())
    claims = {"sub": person_id, "handle": handle, "iss": "hallway", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.fixture(scope="session")
def fault_mint() -> Callable[[str, str], str]:
    return mint


@pytest.fixture(scope="session")
async def fault_system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "faults.", index_prefix + "-faults")
    try:
        await sys.start("profile", "feed", "search", "notification")
        gw = sys.gateway(JWT_SECRET)
        # The load writes faster than a person would; the rate limiter is not under test.
        gw.env["HALLWAY_WRITE_RATE_PER_MINUTE"] = "100000"
        gw.start()
        yield sys
    finally:
        sys.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MATRIX:
        terminalreporter.write_sep("=", "fault matrix")
        terminalreporter.write_line(table(MATRIX))
