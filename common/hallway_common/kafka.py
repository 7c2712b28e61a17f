"""Kafka plumbing: the broker factory, topic creation and the consumer-lag monitor."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from hallway_common.config import ServiceSettings
from hallway_common.logs import get_logger
from hallway_common.metrics import CONSUMER_LAG, CONSUMER_LAG_SAMPLE_AGE

log = get_logger(__name__)


def _ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    return ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)


def _security(settings: ServiceSettings) -> BaseSecurity | None:
    ctx = _ssl_context(settings)
    use_ssl = ctx is not None
    creds = {"username": settings.kafka_sasl_username, "password": settings.kafka_sasl_password}
    match settings.kafka_sasl_mechanism:
        case "PLAIN":
            return SASLPlaintext(**creds, ssl_context=ctx, use_ssl=use_ssl)
        case "SCRAM-SHA-256":
            return SASLScram256(**creds, ssl_context=ctx, use_ssl=use_ssl)
        case "SCRAM-SHA-512":
            return SASLScram512(**creds, ssl_context=ctx, use_ssl=use_ssl)
    return BaseSecurity(ssl_context=ctx, use_ssl=use_ssl) if use_ssl else None


def client_kwargs(settings: ServiceSettings) -> dict:
    """aiokafka keyword arguments for admin/lag clients, matching the broker's security."""
    kwargs: dict = {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "security_protocol": settings.kafka_security_protocol,
    }
    if ctx := _ssl_context(settings):
        kwargs["ssl_context"] = ctx
    if settings.kafka_sasl_mechanism:
        kwargs |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password,
        }
    return kwargs


def create_broker(settings: ServiceSettings, client_id: str) -> KafkaBroker:
    """A FastStream broker whose producer is idempotent with acks=all.

    ``apply_types=False``: handlers receive the raw message and the consumer base
    validates it, so a malformed payload goes to the dead-letter topic instead of
    failing inside the framework and being redelivered forever.
    """
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        security=_security(settings),
        apply_types=False,
        logger=None,
    )


def create_producer(settings: ServiceSettings, client_id: str) -> AIOKafkaProducer:
    """The outbox relay's producer: idempotent, acks=all, and raw, so a record carries
    exactly the CloudEvents headers and a tombstone is a real null value (the
    FastStream broker adds headers of its own and turns ``None`` into b"")."""
    return AIOKafkaProducer(
        **client_kwargs(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )


def topic_config(compacted: bool) -> dict[str, str]:
    """Topic settings: state topics are compacted (the newest record per key is kept
    for ever; tombstones are kept a day so slow readers still see the delete), and
    compaction runs within a day of a change, so a deleted post's text or an erased
    person's entry does not linger on them."""
    if not compacted:
        return {}
    day = str(24 * 3600 * 1000)
    return {
        "cleanup.policy": "compact",
        "delete.retention.ms": day,
        "max.compaction.lag.ms": day,
        "min.compaction.lag.ms": "0",
        "segment.ms": str(3600 * 1000),
    }


async def ensure_topics(
    settings: ServiceSettings, names: list[str], compacted: frozenset[str] = frozenset()
) -> None:
    """Create topics that do not exist yet (no-op when topic creation is disabled);
    those in ``compacted`` are created with log compaction."""
    if not settings.kafka_create_topics:
        return
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=settings.kafka_topic_partitions,
                            replication_factor=settings.kafka_topic_replication,
                            topic_configs=topic_config(name in compacted),
                        )
                    ]
                )
                log.info("topic created", topic=name)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


Clients = tuple[AIOKafkaAdminClient, AIOKafkaConsumer]


class LagMonitor:
    """Publishes ``hallway_consumer_lag_messages`` per consumer group: end offset - committed.

    It must survive broker restarts: every sample is bounded by a timeout, any
    failure throws both clients away and the next round connects afresh (a client
    that lost its broker can otherwise hang or answer from stale metadata, and the
    gauge froze at its last value). ``hallway_consumer_lag_sample_age_seconds``
    is computed at scrape time, so a stale gauge shows even if this loop is stuck.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        groups: dict[str, list[str]],
        every: float = 10,
        connect: Callable[[], Awaitable[Clients]] | None = None,
    ):
        self._settings = settings
        self._groups = groups  # group id -> topics
        self._every = every
        self._connect = connect or self._connect_clients
        started = time.monotonic()
        self._last_good = {group: started for group in groups}
        for group in groups:
            CONSUMER_LAG_SAMPLE_AGE.labels(group).set_function(
                lambda g=group: time.monotonic() - self._last_good[g]
            )

    async def _connect_clients(self) -> Clients:
        admin = AIOKafkaAdminClient(**client_kwargs(self._settings))
        offsets = AIOKafkaConsumer(**client_kwargs(self._settings), enable_auto_commit=False)
        try:
            await admin.start()
            await offsets.start()
        except BaseException:
            await _close(admin, offsets)
            raise
        return admin, offsets

    async def run(self) -> None:
        clients: Clients | None = None
        try:
            while True:
                try:
                    if clients is None:
                        clients = await asyncio.wait_for(self._connect(), self._timeout)
                    await asyncio.wait_for(self.sample(*clients), self._timeout)
                except Exception as exc:  # any failure: reconnect next round
                    log.warning("consumer lag sample failed; reconnecting", error=repr(exc))
                    if clients is not None:
                        await _close(*clients)
                    clients = None
                await asyncio.sleep(self._every)
        finally:
            if clients is not None:
                await _close(*clients)

    @property
    def _timeout(self) -> float:
        return max(5.0, self._every)

    async def sample(self, admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> None:
        for group, topics in self._groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            partitions = await topic_partitions(admin, topics)
            if len(partitions) == 0 and topics:
                raise KafkaError(f"no partition metadata for {topics}")
            ends = await offsets.end_offsets(partitions)
            positions = {
                tp: meta.offset
                for tp, meta in committed.items()
                if tp in ends and meta is not None and meta.offset >= 0
            }
            # No commit yet: the group starts at the log start (auto_offset_reset=earliest),
            # which after retention is not 0; counting from 0 would overstate the lag.
            if uncommitted := [tp for tp in partitions if tp not in positions]:
                positions |= await offsets.beginning_offsets(uncommitted)
            for tp in partitions:
                CONSUMER_LAG.labels(tp.topic, str(tp.partition), group).set(
                    max(0, ends[tp] - positions[tp])
                )
            self._last_good[group] = time.monotonic()


async def _close(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> None:
    for close in (offsets.stop, admin.close):
        try:
            await asyncio.wait_for(close(), 5)
        except Exception as exc:  # a dead client may fail to close; it is dropped anyway
            log.debug("closing a lag client failed", error=repr(exc))


async def topic_partitions(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the given topics (missing topics have none)."""
    described = await admin.describe_topics(topics)
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in sorted(t["partitions"], key=lambda p: p["partition"])
    ]


Offsets = dict[TopicPartition, int]


async def read_range(
    settings: ServiceSettings, topic: str, start: Offsets | None = None
) -> tuple[Offsets, AsyncIterator[ConsumerRecord]]:
    """The records of ``topic`` from ``start`` (default: offset 0) up to its end offsets
    as of this call, in partition order; returns those end offsets (where a later
    read can resume) and the records. No consumer group: nothing is committed."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings))
    await admin.start()
    try:
        tps = await topic_partitions(admin, [topic])
    finally:
        await admin.close()
    if not tps:  # no such topic (yet): nothing to read
        return {}, _no_records()
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, (start or {}).get(tp, 0))
    except BaseException:
        await consumer.stop()
        raise

    async def records() -> AsyncIterator[ConsumerRecord]:
        try:
            while any([await consumer.position(tp) < end[tp] for tp in tps]):
                for tp, batch in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in batch:
                        if record.offset < end[tp]:
                            yield record
        finally:
            await consumer.stop()

    return end, records()


async def _no_records() -> AsyncIterator[ConsumerRecord]:
    return
    yield


async def read_state(settings: ServiceSettings, topic: str) -> tuple[Offsets, dict[str, bytes]]:
    """A compacted state topic as a new reader loads it: key -> newest value, tombstoned
    keys left out; and the end offsets it was read up to (where a catch-up resumes)."""
    end, records = await read_range(settings, topic)
    state: dict[str, bytes] = {}
    async for record in records:
        key = record.key.decode()
        if record.value is None:
            state.pop(key, None)
        else:
            state[key] = record.value
    return end, state
