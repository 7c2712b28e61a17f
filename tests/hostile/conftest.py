"""The real system for the hostile suite: four services + gateway as processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from hostile_support import JWT_SECRET, Cast, Who, mint, provision

from hallway_dev import testing
from hallway_dev.testing import System


@pytest.fixture(scope="session")
async def system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "hostile.", index_prefix + "-hostile")
    try:
        await sys.start("profile", "feed", "search", "notification")
        gateway = sys.gateway(JWT_SECRET)
        gateway.env["HALLWAY_WRITE_RATE_PER_MINUTE"] = "100000"
        gateway.start()
        yield sys
    finally:
        sys.stop()


@pytest.fixture(scope="session")
def base_url(system: System) -> str:
    return f"http://127.0.0.1:{system.processes['gateway'].http_port}"


@pytest.fixture(scope="session")
async def cast(system: System) -> Cast:
    run = testing.RUN_ID
    people = {
        name: await provision(system, f"{name}{run}", f"{name}{run}@example.com")
        for name in ("other", "owner", "admin")
    }
    roles = {"admin": ["admin"]}
    who = {
        name: Who(name, p.id, p.handle, mint(p.id, p.handle, roles=roles.get(name)))
        for name, p in people.items()
    }
    return Cast(Who("anonymous", "", "", ""), who["other"], who["owner"], who["admin"])


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=15, follow_redirects=False) as c:
        yield c
