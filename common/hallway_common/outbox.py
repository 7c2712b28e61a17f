"""Transactional outbox: ``enqueue`` inside the write's transaction, ``OutboxRelay`` publishes.

The relay is the only publisher of domain events. It keeps per-key order by
handing records to the idempotent producer one after another (the producer
preserves enqueue order per partition) and only then waiting for the batch's
acknowledgements; rows are deleted after Kafka acknowledged them. A crash
between publish and delete republishes; consumers drop the duplicate by event id.

Leadership is a session-level advisory lock, and everything the leader does (read,
publish, delete) happens on that one session, after re-checking that the session
still holds the lock. A leader whose session dropped (network cut, PostgreSQL
restart, ``pg_terminate_backend``) fails its next statement and stops publishing at
once, so two relays never keep publishing side by side; the window is at most the
one batch in flight, which consumers deduplicate.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from hallway_common.events import Event
from hallway_common.failures import is_transient
from hallway_common.logs import get_logger
from hallway_common.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    OUTBOX_SAMPLE_AGE,
)

log = get_logger(__name__)

NOTIFY_CHANNEL = "hallway_outbox"
# Session-level advisory lock: one relay per database publishes at a time, which is
# what keeps per-key order across replicas.
_RELAY_LOCK = 0x4F555442  # "OUTB"


async def enqueue(conn: asyncpg.Connection, events: list[Event], topic_prefix: str = "") -> None:
    """Write events to the outbox in the caller's transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.enqueue must run inside the write's transaction")
    await conn.executemany(
        """INSERT INTO outbox (event_id, topic, key, event_type, headers, payload)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(e.id, topic_prefix + e.topic, e.key, e.type, e.headers(), e.data) for e in events],
    )
    await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")


class Producer(Protocol):
    """What the relay needs of a Kafka producer (aiokafka's AIOKafkaProducer fits)."""

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Awaitable[object]: ...


class OutboxRelay:
    """Publishes outbox rows in id order, then deletes them.

    ``source`` is the absolute URI stamped as every record's ``ce_source``: it is
    deployment configuration, so it is set here rather than by the code that writes.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: Producer,
        source: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._source = source
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        # Ages are computed at scrape time: while Kafka or PostgreSQL is down the
        # gauges cannot be refreshed, and a frozen "oldest age" would hide the outage.
        self._oldest: float | None = None  # epoch seconds of the oldest unpublished row
        self._refreshed = time.monotonic()
        OUTBOX_OLDEST_AGE.set_function(
            lambda: time.time() - self._oldest if self._oldest is not None else 0.0
        )
        OUTBOX_SAMPLE_AGE.set_function(lambda: time.monotonic() - self._refreshed)

    async def run(self) -> None:
        """Run until ``stop``; waits for leadership, then relays forever."""
        while not self._stopping.is_set():
            try:
                await self._run_as_leader()
            except Exception as exc:
                if not is_transient(exc):
                    raise  # a bug: let the process die loudly and be restarted
                # PostgreSQL or Kafka unavailable: rows stay in the outbox until it is back.
                log.warning("outbox relay lost a dependency; retrying", error=repr(exc))
                await self._sleep(2.0)

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    async def _run_as_leader(self) -> None:
        lock_conn = await self._pool.acquire()
        try:
            while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):
                await self._refresh_gauges(lock_conn)  # followers report the backlog too
                if await self._sleep(2.0):
                    return
            await lock_conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            log.info("outbox relay is the leader")
            while not self._stopping.is_set():
                self._wakeup.clear()  # before reading, so no NOTIFY is missed
                if not await _holds_lock(lock_conn):
                    log.warning("outbox relay lost its leader lock; electing again")
                    return
                # Before publishing, so the backlog still grows on the gauge while Kafka is down.
                await self._refresh_gauges(lock_conn)
                published = await self.relay_once(lock_conn)
                if published < self._batch_size:
                    await self._sleep(self._idle_poll)
        finally:
            if not lock_conn.is_closed():  # a terminated session has no listener left
                await lock_conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await self._pool.release(lock_conn)  # resetting the session frees the lock

    async def relay_once(self, conn: asyncpg.Connection) -> int:
        """Publish one batch read on ``conn`` (the leader's session); returns its size."""
        rows = await conn.fetch(
            "SELECT id, topic, key, headers, payload FROM outbox ORDER BY id LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        acks = []
        for row in rows:  # sequential enqueue keeps per-partition order
            headers = {**row["headers"], "ce_source": self._source}
            payload = row["payload"]
            acks.append(
                await self._producer.send(
                    row["topic"],
                    value=None if payload is None else bytes(payload),  # None: a tombstone
                    key=row["key"].encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        await asyncio.gather(*acks)
        _fault_point("outbox.after_publish")
        await conn.execute(
            "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
        )
        for row in rows:
            OUTBOX_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def _refresh_gauges(self, conn: asyncpg.Connection) -> None:
        row = await conn.fetchrow("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox")
        OUTBOX_BACKLOG.set(row["n"])
        self._oldest = row["oldest"].timestamp() if row["oldest"] else None
        self._refreshed = time.monotonic()

    def _on_notify(self, *_args: object) -> None:
        self._wakeup.set()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep until woken, stopped or timed out; True when stopping."""
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)
        except TimeoutError:
            pass
        return self._stopping.is_set()


async def _holds_lock(conn: asyncpg.Connection) -> bool:
    """Whether this session still holds the relay's advisory lock."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                 AND pid = pg_backend_pid() AND granted
                 AND ((classid::bigint << 32) | objid::bigint) = $1)""",
            _RELAY_LOCK,
        )
    )


def _fault_point(name: str) -> None:
    """Crash here when HALLWAY_FAULT names this point (the crash tests use it)."""
    if os.environ.get("HALLWAY_FAULT") == name:
        log.warning("fault injected: exiting", fault=name)
        os._exit(86)


@dataclass(frozen=True)
class StateTable:
    """A table whose rows have records on a state topic: how to read them, in key
    order, and how to turn a row into its record (the state, or a tombstone)."""

    name: str  # what the rows are, for reports ("people", "follow edges")
    select_sql: str  # SELECT ... FROM <table> [alias], the key columns selected
    key_columns: tuple[str, ...]
    # None: the row has no record there (e.g. content that never goes on a broad topic).
    to_record: Callable[[asyncpg.Record], Event | None]


async def republish(
    pool: asyncpg.Pool, topic_prefix: str, table: StateTable, batch_size: int = 500
) -> int:
    """Enqueue the state record of every row of ``table``, a batch per transaction;
    returns the number of rows. Used to (re)fill a state topic.

    Rows are read ``FOR SHARE``: a concurrent change of the same row waits for the
    batch to commit, so its own outbox row comes after and the newer state wins.
    """
    keys = ", ".join(table.key_columns)
    params = ", ".join(f"${i + 1}" for i in range(len(table.key_columns)))
    after: tuple | None = None
    total = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            where = f"WHERE ({keys}) > ({params})" if after else ""
            rows = await conn.fetch(
                f"{table.select_sql} {where} ORDER BY {keys} LIMIT {int(batch_size)} FOR SHARE",
                *(after or ()),
            )
            if not rows:
                return total
            records = [table.to_record(row) for row in rows]
            await enqueue(conn, [r for r in records if r is not None], topic_prefix)
        total += len(rows)
        after = tuple(rows[-1][c.split(".")[-1]] for c in table.key_columns)
        log.info("republished", table=table.name, rows=total)
