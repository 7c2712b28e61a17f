"""Live notifications across replicas: one LISTEN connection, local fan-out.

Whichever replica consumes an event NOTIFYs ``hallway_notifications`` in the same
transaction; PostgreSQL delivers it at commit to every replica. Each replica keeps
one dedicated listening connection and hands the new notification to the
StreamNotifications calls of that person open on *this* replica, through bounded
per-subscriber queues. A subscriber that does not keep up is dropped (its client
reconnects and resyncs from the unread count) rather than slowing anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import grpc

from hallway_common.errors import HallwayError
from hallway_common.logs import get_logger
from hallway_notification import inbox
from hallway_notification.metrics import STREAMS_ACTIVE

log = get_logger(__name__)

KEEPALIVE_SECONDS = 30.0
RECONNECT_SECONDS = 2.0
DISPATCH_BATCH = 500
# Names the listening session in pg_stat_activity (for operators and tests).
LISTENER_APP_NAME = "hallway-notification-listener"


class TooManyStreams(HallwayError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FeedUnavailable(HallwayError):
    code = grpc.StatusCode.UNAVAILABLE


class StreamClosed(Exception):
    """The hub ended this subscription (slow reader, lost feed, shutdown)."""

    def __init__(self, reason: str, code: grpc.StatusCode) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Delivery:
    """One new notification and its owner's unread count right after it."""

    unread_count: int
    row: asyncpg.Record


class Subscription:
    """One open stream: a bounded queue the hub fills and the RPC drains."""

    def __init__(self, person_id: uuid.UUID, size: int) -> None:
        self.person_id = person_id
        self._queue: asyncio.Queue[Delivery | StreamClosed] = asyncio.Queue(size)
        self.closed = False

    async def next(self) -> Delivery:
        """The next delivery; raises StreamClosed when the hub ended the stream."""
        item = await self._queue.get()
        if isinstance(item, StreamClosed):
            raise item
        return item

    def offer(self, delivery: Delivery) -> bool:
        """Queue without waiting; False when the reader is too far behind."""
        if self.closed:
            return True
        try:
            self._queue.put_nowait(delivery)
            return True
        except asyncio.QueueFull:
            return False

    def close(self, reason: str, code: grpc.StatusCode) -> None:
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():  # make room: the end matters more than the backlog
            self._queue.get_nowait()
        self._queue.put_nowait(StreamClosed(reason, code))


class StreamHub:
    """Subscriptions of this replica and the LISTEN loop that feeds them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        *,
        queue_size: int = 100,
        max_per_person: int = 16,
        on_notify: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._queue_size = queue_size
        self._max_per_person = max_per_person
        self._on_notify = on_notify
        self._subs: dict[uuid.UUID, set[Subscription]] = {}
        self._pending: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._listening = False

    # -- subscriptions -------------------------------------------------------

    def subscribe(self, person_id: uuid.UUID) -> Subscription:
        """Register before reading the unread count, so nothing falls in between."""
        if not self._listening:  # a stream opened now could silently miss notifications
            raise FeedUnavailable("live notifications are reconnecting; retry shortly")
        subs = self._subs.setdefault(person_id, set())
        if len(subs) >= self._max_per_person:
            raise TooManyStreams(f"at most {self._max_per_person} open streams per person")
        sub = Subscription(person_id, self._queue_size)
        subs.add(sub)
        STREAMS_ACTIVE.inc()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.person_id)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._subs[sub.person_id]
        STREAMS_ACTIVE.dec()

    def deliver(self, person_id: uuid.UUID, delivery: Delivery) -> None:
        """Hand a delivery to every local stream of the person; drop the ones that lag."""
        for sub in list(self._subs.get(person_id, ())):
            if not sub.offer(delivery):
                log.warning("stream too slow; dropping it", person_id=str(person_id))
                sub.close("stream fell behind; reconnect", grpc.StatusCode.RESOURCE_EXHAUSTED)
                self.unsubscribe(sub)

    def close_all(self, reason: str, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.close(reason, code)
                self.unsubscribe(sub)

    # -- the LISTEN connection -----------------------------------------------

    async def connect(self) -> None:
        """Open the listening connection (at start-up, before the gRPC server serves)."""
        conn = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": LISTENER_APP_NAME}
        )
        self._lost.clear()
        conn.add_termination_listener(lambda _c: self._on_lost())
        await conn.add_listener(inbox.NOTIFY_CHANNEL, self._notified)
        self._conn = conn
        self._listening = True
        log.info("listening for notifications", channel=inbox.NOTIFY_CHANNEL)

    def _on_lost(self) -> None:
        self._listening = False
        self._lost.set()

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if self._on_notify:
            self._on_notify()
        person, _, notification = payload.partition(":")
        try:
            person_id, notification_id = uuid.UUID(person), uuid.UUID(notification)
        except ValueError:
            log.warning("ignoring malformed notification payload", payload=payload[:100])
            return
        if person_id in self._subs:  # only people with a stream on this replica
            self._pending.put_nowait(notification_id)

    async def run(self) -> None:
        """Keep the listener alive and dispatch; reconnects when the connection drops."""
        dispatcher = asyncio.create_task(self._dispatch_forever(), name="stream-dispatch")
        try:
            while True:
                try:
                    if self._conn is None or self._conn.is_closed():
                        await self.connect()
                    await self._watch()
                except (
                    OSError,
                    TimeoutError,
                    asyncpg.PostgresError,
                    asyncpg.InterfaceError,
                ) as exc:
                    log.warning("notification listener lost; reconnecting", error=repr(exc))
                await self._drop_connection()
                # Streams may have missed notifications while the feed was down: end
                # them so clients reconnect and start again from the unread count.
                self.close_all("live feed interrupted; reconnect")
                await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher

    async def _watch(self) -> None:
        """Return when the connection is gone; ping it so a dead peer is noticed."""
        assert self._conn is not None
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), KEEPALIVE_SECONDS)
                return
            except TimeoutError:
                await self._conn.fetchval("SELECT 1", timeout=10)

    async def _drop_connection(self) -> None:
        self._listening = False
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)

    async def close(self) -> None:
        self.close_all("server shutting down", grpc.StatusCode.UNAVAILABLE)
        await self._drop_connection()

    async def _dispatch_forever(self) -> None:
        while True:
            ids = [await self._pending.get()]
            while not self._pending.empty() and len(ids) < DISPATCH_BATCH:
                ids.append(self._pending.get_nowait())
            try:
                rows, counts = await inbox.fetch_for_delivery(self._pool, ids)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("could not load notifications for streams", error=repr(exc))
                self.close_all("live feed interrupted; reconnect")
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            for notification_id in ids:  # commit order, as PostgreSQL delivered them
                row = rows.get(notification_id)
                if row is None:  # deleted in the meantime (e.g. its post was deleted)
                    continue
                self.deliver(row["person_id"], Delivery(counts.get(row["person_id"], 0), row))
