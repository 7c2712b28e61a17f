"""The whole system, started once for the end-to-end tests: four services + gateway."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest

from hallway_dev.testing import System, eventually

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


async def _create_post(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> dict:
    """POST /api/v1/posts once feed knows the author.

    People are created in profile and reach feed's replica through Kafka; until then
    feed refuses the author (422 failed-precondition). Like a real client, retry with
    the same Idempotency-Key (bounded), so a retry never makes a second post.
    """
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}

    async def posted() -> dict | None:
        r = await client.post("/api/v1/posts", headers={**headers, **key}, json={"text": text})
        if r.status_code == 422:
            return None
        assert r.status_code == 201, r.text
        return r.json()

    return await eventually(posted, within=60, what="feed knows the author")  # type: ignore[return-value]


@pytest.fixture(scope="session")
def create_post() -> Callable[..., Any]:
    """``await create_post(client, headers, text)``: a post, once feed knows its author."""
    return _create_post
