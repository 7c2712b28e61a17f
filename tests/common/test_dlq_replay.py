"""Dead-letter replay on the real Kafka and PostgreSQL: a rejected event is parked,
the "fix" is deployed, ``dlq replay`` re-drives it, and it is applied exactly once —
also when the replay is repeated."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hallway_common.config import DatabaseSettings
from hallway_common.consumer import EventConsumer
from hallway_common.contracts import FOLLOW, FollowCreated, dlq_topic
from hallway_common.db import create_pool
from hallway_common.dlq import replay
from hallway_common.events import new_event
from hallway_common.failures import Rejected
from hallway_common.kafka import create_broker, ensure_topics
from hallway_dev.testing import KAFKA, eventually, headers_of, migrated_database, topic_records

pytestmark = pytest.mark.integration
GROUP = "hallway-notification"


async def test_a_parked_event_is_replayed_after_the_fix_and_applied_once(
    topic_prefix: str, unique: str
) -> None:
    prefix = f"{topic_prefix}dlq{unique}."
    settings = DatabaseSettings(kafka_bootstrap_servers=KAFKA, kafka_topic_prefix=prefix)
    pool = await create_pool(await migrated_database("dlq", []))
    broker = create_broker(settings, client_id="dlq-test")
    applied: list[str] = []
    fixed = False

    async def handler(event: Any, payload: Any, conn: Any) -> None:
        if not fixed:
            raise Rejected("the handler cannot take this yet")
        applied.append(event.id)

    consumer = EventConsumer(broker, GROUP, pool=pool, topic_prefix=prefix)
    consumer.on(FOLLOW, handler)
    await ensure_topics(settings, [prefix + FOLLOW.name, consumer.dead_letter_topic])
    await broker.start()
    try:
        payload = FollowCreated(
            follower_id=uuid.uuid4(), followee_id=uuid.uuid4(), occurred_at=datetime.now(UTC)
        )
        event = new_event("hallway.profile.follow.created", payload, "")
        await broker.publish(
            event.data, prefix + FOLLOW.name, key=event.key.encode(), headers=event.headers()
        )
        dlq = prefix + dlq_topic(GROUP)
        await eventually(lambda: _count(dlq), within=30, what="the event is dead-lettered")
        [parked] = await topic_records(dlq)
        assert headers_of(parked)["dlq_reason"] == "rejected"

        # --since after the failure and --dry-run send nothing.
        later = datetime.now(UTC) + timedelta(hours=1)
        report = await replay(settings, GROUP, since=later, out=io.StringIO())
        assert (report.replayed, report.skipped) == (0, 1)
        out = io.StringIO()
        report = await replay(settings, GROUP, dry_run=True, from_beginning=True, out=out)
        assert report.replayed == 1 and event.id in out.getvalue()
        assert applied == []

        fixed = True  # the fix is deployed
        report = await replay(settings, GROUP, from_beginning=True, out=io.StringIO())
        assert report.replayed == 1
        await eventually(lambda: applied == [event.id], within=30, what="applied after replay")
        replayed = [r for r in await topic_records(prefix + FOLLOW.name)]
        assert "dlq_replayed_at" in headers_of(replayed[-1])
        where = f"{dlq}:{parked.partition}:{parked.offset}"
        assert headers_of(replayed[-1])["dlq_replayed_from"] == where
        assert "dlq_reason" not in headers_of(replayed[-1])  # the parking headers are dropped
        assert headers_of(replayed[-1])["ce_id"] == event.id

        # Progress is kept: a second replay has nothing left ...
        assert (await replay(settings, GROUP, out=io.StringIO())).replayed == 0
        # ... and replaying everything again is harmless: deduplicated by event id.
        assert (await replay(settings, GROUP, from_beginning=True, out=io.StringIO())).replayed == 1

        async def duplicate_dropped() -> bool:
            return (
                await pool.fetchval("SELECT count(*) FROM processed_events") == 1
                and len(await topic_records(prefix + FOLLOW.name)) == 3
            )

        await eventually(duplicate_dropped, within=30, what="the replayed duplicate arrives")
        await eventually(lambda: _consumed_all(prefix), within=30, what="the duplicate is consumed")
        assert applied == [event.id]
    finally:
        await broker.stop()
        await pool.close()


async def _count(topic: str) -> int:
    return len(await topic_records(topic))


async def _consumed_all(prefix: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    from hallway_common.kafka import topic_partitions

    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(prefix + GROUP)
        tps = await topic_partitions(admin, [prefix + FOLLOW.name])
    finally:
        await admin.close()
    total = len(await topic_records(prefix + FOLLOW.name))
    return sum(committed[tp].offset for tp in tps if tp in committed) == total
