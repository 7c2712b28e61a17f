"""Fixtures shared by every test in the tree (see hallway_dev.testing)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from hallway_dev import testing


@pytest.fixture(scope="session")
def stack() -> None:
    """The real Kafka, PostgreSQL, OpenSearch and SMTP sink, started if needed."""
    testing.ensure_stack()


@pytest.fixture(scope="session")
def topic_prefix(stack: None) -> str:
    """A per-session namespace for topics and consumer groups on the shared broker."""
    return f"t{testing.RUN_ID}."


@pytest.fixture(scope="session")
def index_prefix(stack: None) -> str:
    return f"t{testing.RUN_ID}"


@pytest.fixture(scope="session", autouse=True)
async def _drop_databases_at_end() -> AsyncIterator[None]:
    yield
    try:
        await testing.drop_test_databases()
    except OSError:
        pass  # no stack was started in this session (unit tests only)


@pytest.fixture
def unique() -> str:
    """A short random string for unique handles etc."""
    return secrets.token_hex(4)


@pytest.fixture
def processes() -> Iterator[list[testing.ServiceProcess]]:
    """Processes registered here are stopped after the test, even when it fails."""
    started: list[testing.ServiceProcess] = []
    yield started
    for proc in reversed(started):
        proc.stop()
