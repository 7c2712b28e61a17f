"""The real system for the privacy suite: four services + gateway as processes, and a
cast of five for each community visibility."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import jwt
import pytest

from hallway_dev.testing import System

JWT_SECRET = "privacy-secret-not-for-production-0123456789"


@pytest.fixture(scope="session")
async def system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "privacy.", index_prefix + "-privacy")
    try:
        await sys.start("profile", "feed", "search", "notification")
        gateway = sys.gateway(JWT_SECRET)
        gateway.env["HALLWAY_WRITE_RATE_PER_MINUTE"] = "100000"
        gateway.start()
        yield sys
    finally:
        sys.stop()


@pytest.fixture(scope="session")
def mint() -> Callable[..., str]:
    """``mint(person_id, handle, roles)``: a bearer token this system's gateway accepts."""

    def token(person_id: str, handle: str, roles: list[str] | None = None) -> str:
        now = int(time.time())
        claims: dict = {"sub": person_id, "handle": handle, "iss": "hallway", "iat": now}
        claims["exp"] = now + 3600
        if roles:
            claims["roles"] = roles
        return jwt.encode(claims, JWT_SECRET, algorithm="HS256")

    return token
