"""Which failures are waited out and which dead-letter: the classification and the policy.

Unit tests: the consumer base runs against a recording broker stand-in; the real
PostgreSQL restart is covered in test_consumer_outage.py.
"""

from __future__ import annotations

import smtplib
import socket
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    NotLeaderForPartitionError,
)
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError

from hallway_common.consumer import EventConsumer, RetryPolicy
from hallway_common.contracts import FOLLOW, FollowCreated
from hallway_common.events import new_event
from hallway_common.failures import Rejected, classify, is_transient
from hallway_common.metrics import CONSUMER_DEAD_LETTERED


def _pg(cls: type[asyncpg.PostgresError]) -> asyncpg.PostgresError:
    return cls("simulated")


@pytest.mark.parametrize(
    "exc",
    [
        _pg(asyncpg.exceptions.CannotConnectNowError),  # "the database system is starting up"
        _pg(asyncpg.exceptions.AdminShutdownError),
        _pg(asyncpg.exceptions.CrashShutdownError),
        _pg(asyncpg.exceptions.TooManyConnectionsError),
        _pg(asyncpg.exceptions.SerializationError),
        _pg(asyncpg.exceptions.DeadlockDetectedError),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the connection is closed"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('10.0.0.1', 5432)"),
        socket.gaierror(-2, "Name or service not known"),
        ConnectionResetError(104, "reset"),
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        OSConnectionError("N/A", "refused", None),
        ConnectionTimeout("TIMEOUT", "timed out", None),
        TransportError(503, "unavailable", {}),
        TransportError(429, "too many requests", {}),
        KafkaConnectionError(),
        NotLeaderForPartitionError(),
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPResponseException(421, b"try later"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_unavailable_dependencies_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)
    assert classify(exc) == "transient"


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad value"),
        KeyError("x"),
        FileNotFoundError(2, "no such file"),  # an OSError, but a bug, not an outage
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        _pg(asyncpg.exceptions.UniqueViolationError),
        _pg(asyncpg.exceptions.UndefinedColumnError),  # a bug: wrong SQL
        TransportError(400, "mapper_parsing_exception", {}),
        smtplib.SMTPRecipientsRefused({}),
        smtplib.SMTPResponseException(550, b"no such user"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_errors_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)
    assert classify(exc) == "bug"


def test_a_wrapped_connection_error_is_recognised_through_the_chain() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset by peer")
        except OSError as inner:
            raise RuntimeError("library wrapper") from inner
    except RuntimeError as outer:
        assert is_transient(outer)


def test_rejected_is_never_transient_even_when_caused_by_an_outage() -> None:
    try:
        try:
            raise ConnectionResetError()
        except OSError as inner:
            raise Rejected("contradicts the domain") from inner
    except Rejected as exc:
        assert classify(exc) == "rejected"


# --- the consumer base's policy, with a recording broker -----------------------------


class RecordingBroker:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, str]]] = []

    def subscriber(self, *_a: Any, **_k: Any) -> Any:
        return lambda fn: fn

    async def publish(self, value: bytes, topic: str, key: bytes, headers: dict) -> None:
        self.published.append((topic, headers))


def _message() -> Any:
    now = datetime.now(UTC)
    payload = FollowCreated(follower_id=uuid.uuid4(), followee_id=uuid.uuid4(), occurred_at=now)
    event = new_event("hallway.profile.follow.created", payload, "")
    record = SimpleNamespace(key=event.key.encode(), value=event.data, partition=0, offset=7)
    return SimpleNamespace(raw_message=record, headers=event.headers())


def _consumer(broker: RecordingBroker) -> EventConsumer:
    return EventConsumer(
        broker,  # type: ignore[arg-type]
        "hallway-notification",
        retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002),
    )


@pytest.mark.parametrize(
    "outage",
    [
        lambda: _pg(asyncpg.exceptions.CannotConnectNowError),  # PostgreSQL starting up
        lambda: _pg(asyncpg.exceptions.AdminShutdownError),  # PostgreSQL shutting down
        lambda: ConnectionTimeout("TIMEOUT", "timed out", None),  # OpenSearch
        lambda: TransportError(503, "unavailable", {}),  # OpenSearch restarting
        lambda: NotLeaderForPartitionError(),  # Kafka leader election
        lambda: smtplib.SMTPResponseException(421, b"try later"),  # SMTP
    ],
    ids=["pg-starting", "pg-admin-shutdown", "os-timeout", "os-503", "kafka-leader", "smtp-421"],
)
async def test_an_outage_of_any_length_is_waited_out_never_dead_lettered(outage: Any) -> None:
    broker = RecordingBroker()
    calls = 0

    async def handler(*_: Any) -> None:
        nonlocal calls
        calls += 1
        if calls <= 20:  # far more attempts than max_attempts
            raise outage()

    await _consumer(broker)._process(FOLLOW, FOLLOW.name, handler, _message())
    assert calls == 21
    assert broker.published == []


async def test_a_rejected_event_is_dead_lettered_at_once() -> None:
    broker = RecordingBroker()
    calls = 0

    async def handler(*_: Any) -> None:
        nonlocal calls
        calls += 1
        raise Rejected("never valid")

    before = CONSUMER_DEAD_LETTERED.labels(
        FOLLOW.name, "hallway-notification", "rejected"
    )._value.get()
    await _consumer(broker)._process(FOLLOW, FOLLOW.name, handler, _message())
    assert calls == 1
    [(topic, headers)] = broker.published
    assert topic == "hallway.dlq.hallway-notification"
    assert headers["dlq_reason"] == "rejected"
    assert headers["dlq_original_topic"] == FOLLOW.name
    after = CONSUMER_DEAD_LETTERED.labels(
        FOLLOW.name, "hallway-notification", "rejected"
    )._value.get()
    assert after == before + 1


async def test_a_bug_is_retried_a_bounded_number_of_times_then_dead_lettered() -> None:
    broker = RecordingBroker()
    calls = 0

    async def handler(*_: Any) -> None:
        nonlocal calls
        calls += 1
        raise KeyError("a bug")

    await _consumer(broker)._process(FOLLOW, FOLLOW.name, handler, _message())
    assert calls == 3
    [(_, headers)] = broker.published
    assert headers["dlq_reason"] == "bug"
    assert "KeyError" in headers["dlq_error"]


async def test_an_invalid_envelope_is_dead_lettered_without_calling_the_handler() -> None:
    broker = RecordingBroker()
    message = _message()
    message.headers = {**message.headers, "ce_id": "not-a-uuid"}

    async def handler(*_: Any) -> None:
        raise AssertionError("must not be called")

    await _consumer(broker)._process(FOLLOW, FOLLOW.name, handler, message)
    [(_, headers)] = broker.published
    assert headers["dlq_reason"] == "invalid"


async def test_a_transient_failure_while_dead_lettering_leaves_the_offset_uncommitted() -> None:
    class DownBroker(RecordingBroker):
        async def publish(self, *_a: Any, **_k: Any) -> None:
            raise KafkaConnectionError()

    async def handler(*_: Any) -> None:
        raise Rejected("never valid")

    # Raising out of _process is what makes FastStream NACK (redeliver) the message.
    with pytest.raises(KafkaConnectionError):
        await _consumer(DownBroker())._process(FOLLOW, FOLLOW.name, handler, _message())


def test_search_busy_is_transient_through_its_cause() -> None:
    from hallway_search.indexing import OpenSearchBusy

    try:
        try:
            raise TransportError(503, "unavailable", {})
        except TransportError as inner:
            raise OpenSearchBusy("OpenSearch answered 503") from inner
    except OpenSearchBusy as exc:
        assert classify(exc) == "transient"
