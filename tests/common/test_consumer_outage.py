"""A PostgreSQL outage while a consumer applies events, on the real Kafka and PostgreSQL.

The consumer's sessions are killed with ``pg_terminate_backend`` (admin shutdown,
connection resets) and then, for longer than the bug-retry budget, every new
connection is answered "the database system is starting up" (57P03) by a small
proxy in front of the real server. Nothing may be dead-lettered and every event is
applied exactly once. The shared PostgreSQL itself is never stopped.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from hallway_common.config import DatabaseSettings
from hallway_common.consumer import EventConsumer, RetryPolicy
from hallway_common.contracts import FOLLOW, FollowCreated
from hallway_common.db import _init_connection, create_pool
from hallway_common.events import new_event
from hallway_common.kafka import create_broker, ensure_topics
from hallway_common.metrics import CONSUMER_FAILED
from hallway_dev.testing import KAFKA, eventually, migrated_database, topic_records

pytestmark = pytest.mark.integration
GROUP = "hallway-notification"
EVENTS = 60
APP_NAME = "outage-consumer"


class StartingUpProxy:
    """Forwards to PostgreSQL, or, while ``starting``, refuses logins as a starting server does."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.starting = False
        self.refused = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.starting:
                await self._refuse(reader, writer)
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # SSL/GSS negotiation requests come first: answer "no"
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            if struct.unpack("!I", body[:4])[0] in (80877103, 80877104):
                writer.write(b"N")
                continue
            break  # the startup message
        fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
        writer.write(b"E" + struct.pack("!I", len(fields) + 4) + fields)
        await writer.drain()
        self.refused += 1


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _terminate_consumer_sessions(admin: asyncpg.Pool) -> int:
    return await admin.fetchval(
        """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = $1""",
        APP_NAME,
    )


async def test_a_database_outage_is_waited_out_and_nothing_is_dead_lettered(
    topic_prefix: str, unique: str
) -> None:
    prefix = f"{topic_prefix}outage{unique}."
    settings = DatabaseSettings(kafka_bootstrap_servers=KAFKA, kafka_topic_prefix=prefix)
    dsn = await migrated_database("outage", [])
    admin = await create_pool(dsn, max_size=2)
    await admin.execute("CREATE TABLE applied (event_id uuid NOT NULL)")  # no key: count dups

    host_port = dsn.rsplit("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = StartingUpProxy(host, int(port))
    proxy_dsn = dsn.replace(f"@{host_port}/", f"@127.0.0.1:{await proxy.start()}/")
    pool = await asyncpg.create_pool(
        proxy_dsn,
        min_size=1,
        max_size=2,
        init=_init_connection,
        server_settings={"application_name": APP_NAME},
    )

    async def handler(event: Any, payload: Any, conn: asyncpg.Connection) -> None:
        await conn.execute("INSERT INTO applied (event_id) VALUES ($1)", event.id)
        await conn.execute("SELECT pg_sleep(0.02)")  # widen the window for the kills

    broker = create_broker(settings, client_id="outage-test")
    # A tight bug budget (3 attempts in well under a second): the outage below lasts
    # far longer, so only the transient classification keeps it out of the DLQ.
    consumer = EventConsumer(
        broker,
        GROUP,
        pool=pool,
        topic_prefix=prefix,
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.5),
    )
    consumer.on(FOLLOW, handler)
    topic = prefix + FOLLOW.name
    await ensure_topics(settings, [topic, consumer.dead_letter_topic])
    failed_before = CONSUMER_FAILED.labels(topic, consumer.group)._value.get()

    async def applied() -> int:
        return await admin.fetchval("SELECT count(*) FROM applied")

    await broker.start()
    try:
        ids = []
        for _ in range(EVENTS):
            payload = FollowCreated(
                follower_id=uuid.uuid4(), followee_id=uuid.uuid4(), occurred_at=datetime.now(UTC)
            )
            event = new_event("hallway.profile.follow.created", payload, "")
            ids.append(event.id)
            await broker.publish(event.data, topic, key=event.key.encode(), headers=event.headers())

        async def some_applied() -> bool:
            return 5 <= await applied() < EVENTS

        # 1. Sessions killed mid-stream: AdminShutdown / connection closed.
        await eventually(some_applied, within=30, what="the consumer is applying events")
        assert await _terminate_consumer_sessions(admin) >= 1

        # 2. Then the server "restarts": sessions die and logins are refused for 3 s.
        after_kill = await applied()

        async def more_applied() -> bool:
            return await applied() > after_kill

        await eventually(more_applied, within=30, what="the consumer resumes after the kill")
        proxy.starting = True
        await _terminate_consumer_sessions(admin)
        await eventually(lambda: proxy.refused >= 3, within=15, what="logins are refused")
        await asyncio.sleep(3)  # the outage: longer than the consumer's bug-retry budget
        proxy.starting = False

        async def all_applied() -> bool:
            return await applied() == EVENTS

        await eventually(all_applied, within=60, what="every event is applied")
        rows = await admin.fetch("SELECT event_id FROM applied")
        assert sorted(str(r["event_id"]) for r in rows) == sorted(ids)  # each exactly once
        assert CONSUMER_FAILED.labels(topic, consumer.group)._value.get() > failed_before
        assert await topic_records(consumer.dead_letter_topic) == []
    finally:
        await broker.stop()
        await pool.close()
        await admin.close()
        await proxy.close()
