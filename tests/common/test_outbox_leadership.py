"""The outbox relay's leadership against a real PostgreSQL: a leader whose session
dies stops publishing at once, leadership moves to a live session, and every row
is published only by the relay that holds the lock at that moment.

Kafka is not the subject here: publishes go to a recording stand-in, so the test
can say which relay published which row and who held the lock then.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from hallway_common import outbox
from hallway_common.contracts import FollowCreated
from hallway_common.db import _init_connection, create_pool
from hallway_common.events import new_event
from hallway_dev.testing import eventually, migrated_database

pytestmark = pytest.mark.integration


class RecordingProducer:
    """Records (relay, event id, application_name of the lock holder) per send."""

    def __init__(self, name: str, log: list[tuple[str, str, str]], admin: asyncpg.Pool) -> None:
        self.name = name
        self.log = log
        self.admin = admin

    async def send(self, topic: str, *, headers: list[tuple[str, bytes]], **_: Any) -> Any:
        holder = await self.admin.fetchval(
            """SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
            outbox._RELAY_LOCK,
        )
        self.log.append((self.name, dict(headers)["ce_id"].decode(), holder or ""))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def _enqueue(pool: asyncpg.Pool, n: int, notify: bool = True) -> list[str]:
    now = datetime.now(UTC)
    events = [
        new_event(
            "hallway.profile.follow.created",
            FollowCreated(follower_id=uuid.uuid4(), followee_id=uuid.uuid4(), occurred_at=now),
            "",
        )
        for _ in range(n)
    ]
    async with pool.acquire() as conn, conn.transaction():
        if notify:
            await outbox.enqueue(conn, events)
        else:  # found only by polling, so every relay that still polls has its chance
            await conn.executemany(
                """INSERT INTO outbox (event_id, topic, key, event_type, headers, payload)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                [(e.id, e.topic, e.key, e.type, e.headers(), e.data) for e in events],
            )
    return [e.id for e in events]


async def _named_pool(dsn: str, name: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=3,
        init=_init_connection,
        server_settings={"application_name": name},
    )


async def _leader_pid(pool: asyncpg.Pool) -> int | None:
    return await pool.fetchval(
        """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        outbox._RELAY_LOCK,
    )


async def test_a_leader_whose_session_dies_stops_and_another_takes_over(stack: None) -> None:
    dsn = await migrated_database("relay", [])
    published: list[tuple[str, str, str]] = []
    admin = await create_pool(dsn, max_size=3)
    pools = [await _named_pool(dsn, name) for name in ("first", "second")] + [admin]
    first = outbox.OutboxRelay(
        pools[0], RecordingProducer("first", published, admin), "urn:test", idle_poll_seconds=0.1
    )
    second = outbox.OutboxRelay(
        pools[1], RecordingProducer("second", published, admin), "urn:test", idle_poll_seconds=0.1
    )
    tasks = [asyncio.create_task(first.run())]
    try:
        batch1 = await _enqueue(admin, 5)
        await eventually(lambda: len(published) >= 5, within=10, what="first relay publishes")
        assert {who for who, _, _ in published} == {"first"}
        tasks.append(asyncio.create_task(second.run()))  # waits: the lock is taken

        leader = await _leader_pid(admin)
        assert leader is not None
        await admin.execute("SELECT pg_terminate_backend($1)", leader)

        async def second_leads() -> bool:
            pid = await _leader_pid(admin)
            return pid is not None and pid != leader

        await eventually(second_leads, within=15, what="a live session takes the lock")
        batch2 = []
        for _ in range(10):
            batch2 += await _enqueue(admin, 2, notify=False)
            await asyncio.sleep(0.15)  # let more than one poll happen between batches
        await eventually(
            lambda: {i for _, i, _ in published} >= set(batch1 + batch2),
            within=15,
            what="all published",
        )
        # Whoever published held the lock at that moment: never two publishers at once.
        assert [(who, i, holder) for who, i, holder in published if holder != who] == []

        async def drained() -> bool:
            return await admin.fetchval("SELECT count(*) FROM outbox") == 0

        await eventually(drained, within=10, what="the outbox is drained")
    finally:
        first.stop()
        second.stop()
        await asyncio.wait(tasks, timeout=10)
        for pool in pools:
            await pool.close()
