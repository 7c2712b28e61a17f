"""The one Kafka consumer base: validate, apply once, retry, dead-letter, then commit.

Every consuming service registers handlers here instead of writing its own loop.
Offsets are committed only after the handler's effect is durable (FastStream's
NACK_ON_ERROR policy; never ACK_FIRST). Duplicates are dropped by event id in the
service's database (``processed_events``, same transaction as the effect) or, for
stores without transactions (OpenSearch), by versioned upserts in the handler.

What a failure does depends on whose fault it is (``hallway_common.failures``):

- **A dependency is unavailable** (PostgreSQL restarting, OpenSearch or Kafka down,
  SMTP refusing for now): retried with capped backoff for as long as it takes. The
  partition waits; lag grows and the lag alert fires. Never dead-lettered.
- **The message is invalid** (envelope or schema) or the handler raised
  ``Rejected`` on purpose: dead-lettered at once (``reason="invalid"|"rejected"``).
- **A bug** (any other exception): retried a bounded number of times (it may be a
  race), then dead-lettered with ``reason="bug"``, logged with the traceback and
  alerted on (``HallwayConsumerBug``). We chose this over arroyo's "stop the
  consumer": one bad code path must not freeze every other event of the partition,
  and ``dlq replay`` re-drives the parked messages once the fix is deployed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from hallway_common.contracts import CONSUMERS, Payload, Topic, dlq_topic
from hallway_common.events import EnvelopeError, Event, parse_headers
from hallway_common.failures import classify
from hallway_common.logs import get_logger
from hallway_common.metrics import (
    CONSUMER_DEAD_LETTERED,
    CONSUMER_DUPLICATES,
    CONSUMER_FAILED,
    CONSUMER_PROCESSED,
    CONSUMER_SECONDS,
)
from hallway_common.tracing import adopt, event_id_var

log = get_logger(__name__)

# A handler may return False to say "already applied" (stores without a dedup table,
# e.g. a versioned upsert that lost to a newer version); anything else means applied.
DEAD_LETTER_REASONS = ("invalid", "rejected", "bug")

Handler = Callable[[Event, Payload, asyncpg.Connection | None], Awaitable[bool | None]]


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)


class EventConsumer:
    """One consumer group; ``on(topic, handler)`` adds a subscription."""

    def __init__(
        self,
        broker: KafkaBroker,
        group: str,
        *,
        pool: asyncpg.Pool | None = None,
        topic_prefix: str = "",
        retry: RetryPolicy | None = None,
        transient_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.broker = broker
        self.group = topic_prefix + group
        self.pool = pool
        self.prefix = topic_prefix
        self.retry = retry or RetryPolicy()
        self.extra_transient = transient_errors
        self.topics: list[str] = []

    @property
    def dead_letter_topic(self) -> str:
        return self.prefix + dlq_topic(self.group.removeprefix(self.prefix))

    def on(self, topic: Topic, handler: Handler) -> None:
        """Apply ``handler`` to every event of ``topic`` (unknown event types are skipped)."""
        declared = CONSUMERS.get(self.group.removeprefix(self.prefix), ("", ()))[1]
        if topic not in declared:
            raise ValueError(
                f"{self.group} does not declare {topic.name} in contracts.CONSUMERS; "
                "declare it there so the AsyncAPI document lists it"
            )
        name = self.prefix + topic.name

        async def receive(message: Any) -> None:
            await self._process(topic, name, handler, message)

        self.broker.subscriber(
            name,
            group_id=self.group,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            decoder=_raw_message,
        )(receive)
        self.topics.append(name)
        # Export zeros from the start, so rates and alerts have series before the first event.
        for metric in (CONSUMER_PROCESSED, CONSUMER_DUPLICATES, CONSUMER_FAILED, CONSUMER_SECONDS):
            metric.labels(name, self.group)
        for reason in DEAD_LETTER_REASONS:
            CONSUMER_DEAD_LETTERED.labels(name, self.group, reason)

    async def _process(self, topic: Topic, name: str, handler: Handler, message: Any) -> None:
        record = message.raw_message
        started = time.perf_counter()
        try:
            event = parse_headers(message.headers, record.key, record.value)
        except EnvelopeError as exc:
            await self._dead_letter(message, name, exc, reason="invalid")
            return
        event_id_var.set(event.id)
        adopt(event.traceparent)
        model = topic.events.get(event.type)
        if model is None:
            log.info("skipping unknown event type", type=event.type, topic=name)
            CONSUMER_PROCESSED.labels(name, self.group).inc()
            return
        try:
            payload = model.model_validate_json(event.data)
        except ValidationError as exc:
            await self._dead_letter(message, name, exc, reason="invalid")
            return

        attempt = 0
        while True:
            attempt += 1
            try:
                applied = await self._apply(handler, event, payload)
                break
            except Exception as exc:
                CONSUMER_FAILED.labels(name, self.group).inc()
                kind = classify(exc, self.extra_transient)
                if kind == "transient":
                    # Not the message's fault: wait for the dependency, keep the partition.
                    log.warning(
                        "dependency unavailable; retrying", error=repr(exc), attempt=attempt
                    )
                    await asyncio.sleep(self.retry.delay(min(attempt, 8)))
                    continue
                if kind == "rejected":
                    log.warning("handler rejected the event; dead-lettering", error=repr(exc))
                    await self._dead_letter(message, name, exc, reason="rejected")
                    return
                if attempt >= self.retry.max_attempts:
                    log.exception("handler failed (a bug); dead-lettering", attempt=attempt)
                    await self._dead_letter(message, name, exc, reason="bug")
                    return
                log.warning("handler failed; retrying", error=repr(exc), attempt=attempt)
                await asyncio.sleep(self.retry.delay(attempt))
        (CONSUMER_PROCESSED if applied else CONSUMER_DUPLICATES).labels(name, self.group).inc()
        CONSUMER_SECONDS.labels(name, self.group).observe(time.perf_counter() - started)

    async def _apply(self, handler: Handler, event: Event, payload: Payload) -> bool:
        """Run the handler once per event id; False when it was a duplicate."""
        if self.pool is None:
            return await handler(event, payload, None) is not False
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                """INSERT INTO processed_events (consumer_group, event_id) VALUES ($1, $2)
                   ON CONFLICT DO NOTHING RETURNING true""",
                self.group,
                event.id,
            )
            if not fresh:
                return False
            await handler(event, payload, conn)
            return True

    async def _dead_letter(
        self, message: Any, topic: str, exc: BaseException, *, reason: str
    ) -> None:
        """Park the message with provenance; raising here leaves the offset uncommitted."""
        record = message.raw_message
        headers = {k: v for k, v in message.headers.items() if isinstance(v, str)}
        headers |= {
            "dlq_error": f"{type(exc).__name__}: {exc}"[:4000],
            "dlq_original_topic": topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_group": self.group,
            "dlq_reason": reason,
            "dlq_failed_at": datetime.now(UTC).isoformat(),
        }
        await self.broker.publish(
            record.value, self.dead_letter_topic, key=record.key, headers=headers
        )
        CONSUMER_DEAD_LETTERED.labels(topic, self.group, reason).inc()
        log.error(
            "event dead-lettered", topic=topic, offset=record.offset, reason=reason, error=str(exc)
        )


async def _raw_message(message: Any, _original: Any = None) -> Any:
    """Decoder that hands the whole message (headers, key, offset) to the consumer base."""
    return message


async def purge_processed_events(pool: asyncpg.Pool, older_than_days: int = 7) -> int:
    """Forget event ids older than Kafka's retention could ever redeliver."""
    result = await pool.execute(
        "DELETE FROM processed_events WHERE processed_at < now() - make_interval(days => $1)",
        older_than_days,
    )
    return int(result.split()[-1])
