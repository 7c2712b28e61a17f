"""The outbox gauges on a real PostgreSQL while Kafka is unavailable: the backlog and
the age of the oldest row keep growing (an alert must see the outage), and they
return to zero once Kafka is back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from prometheus_client import REGISTRY

from hallway_common import outbox
from hallway_common.contracts import FollowCreated
from hallway_common.db import create_pool
from hallway_common.events import new_event
from hallway_dev.testing import eventually, migrated_database

pytestmark = pytest.mark.integration


class FlakyProducer:
    def __init__(self) -> None:
        self.up = False
        self.published: list[str] = []

    async def send(self, topic: str, *, headers: list[tuple[str, bytes]], **_: Any) -> Any:
        if not self.up:
            raise KafkaConnectionError("broker down")
        self.published.append(dict(headers)["ce_id"].decode())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _gauge(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    assert value is not None
    return value


async def test_the_gauges_keep_telling_the_truth_while_kafka_is_down(stack: None) -> None:
    pool = await create_pool(await migrated_database("gauges", []), max_size=3)
    broker = FlakyProducer()
    relay = outbox.OutboxRelay(pool, broker, "urn:test", idle_poll_seconds=0.1)
    now = datetime.now(UTC)
    events = [
        new_event(
            "hallway.profile.follow.created",
            FollowCreated(follower_id=uuid.uuid4(), followee_id=uuid.uuid4(), occurred_at=now),
            "",
        )
        for _ in range(3)
    ]
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, events)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(
            lambda: _gauge("hallway_outbox_backlog") == 3, within=10, what="backlog seen"
        )
        first = _gauge("hallway_outbox_oldest_age_seconds")
        await eventually(
            lambda: _gauge("hallway_outbox_oldest_age_seconds") > first + 1,
            within=10,
            what="the oldest age grows while nothing can be published",
        )
        assert _gauge("hallway_outbox_sample_age_seconds") < 5  # still refreshed
        assert broker.published == []

        broker.up = True
        await eventually(
            lambda: (
                _gauge("hallway_outbox_backlog") == 0
                and _gauge("hallway_outbox_oldest_age_seconds") == 0
            ),
            within=15,
            what="drained once Kafka is back",
        )
        assert sorted(broker.published) == sorted(e.id for e in events)
    finally:
        relay.stop()
        await asyncio.wait([task], timeout=10)
        await pool.close()
