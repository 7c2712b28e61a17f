"""Kafka plumbing: the broker factory, topic creation and the consumer-lag monitor."""

from __future__ import annotations

import asyncio
import ssl

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from hallway_common.config import ServiceSettings
from hallway_common.logs import get_logger
from hallway_common.metrics import CONSUMER_LAG

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


def _client_kwargs(settings: ServiceSettings) -> dict:
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


async def ensure_topics(settings: ServiceSettings, names: list[str]) -> None:
    """Create topics that do not exist yet (no-op when topic creation is disabled)."""
    if not settings.kafka_create_topics:
        return
    admin = AIOKafkaAdminClient(**_client_kwargs(settings))
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
                        )
                    ]
                )
                log.info("topic created", topic=name)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


class LagMonitor:
    """Publishes ``hallway_consumer_lag`` for consumer groups: end offset - committed."""

    def __init__(self, settings: ServiceSettings, groups: dict[str, list[str]], every: float = 10):
        self._settings = settings
        self._groups = groups  # group id -> topics
        self._every = every

    async def run(self) -> None:
        admin = AIOKafkaAdminClient(**_client_kwargs(self._settings))
        offsets = AIOKafkaConsumer(**_client_kwargs(self._settings), enable_auto_commit=False)
        await admin.start()
        await offsets.start()
        try:
            while True:
                try:
                    await self.sample(admin, offsets)
                except KafkaError as exc:
                    log.warning("consumer lag sample failed", error=str(exc))
                await asyncio.sleep(self._every)
        finally:
            await offsets.stop()
            await admin.close()

    async def sample(self, admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> None:
        for group, topics in self._groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            partitions = await topic_partitions(admin, topics)
            if not partitions:
                continue
            ends = await offsets.end_offsets(partitions)
            for tp in partitions:
                meta = committed.get(tp)
                position = meta.offset if meta is not None and meta.offset >= 0 else 0
                CONSUMER_LAG.labels(tp.topic, str(tp.partition), group).set(
                    max(0, ends[tp] - position)
                )


async def topic_partitions(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    """Every partition of the given topics (missing topics have none)."""
    described = await admin.describe_topics(topics)
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in sorted(t["partitions"], key=lambda p: p["partition"])
    ]
