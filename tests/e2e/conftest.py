"""The whole system, started once for the end-to-end tests: four services + gateway."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import jwt
import pytest

from hallway_dev.testing import System

JWT_SECRET = "e2e-secret-not-for-production-0123456789"


def _mint(person_id: str, handle: str, ttl: int = 600) -> str:
    now = int(time.time())
    claims = {"sub": person_id, "handle": handle, "iss": "hallway", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.fixture(scope="session")
def mint() -> Callable[[str, str], str]:
    """Mints a bearer token as `python -m hallway_gateway token` does."""
    return _mint


@pytest.fixture(scope="session")
async def system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "e2e.", index_prefix + "-e2e")
    try:
        await sys.start("profile", "feed", "search", "notification")
        sys.gateway(JWT_SECRET).start()
        yield sys
    finally:
        sys.stop()
