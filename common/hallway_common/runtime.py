"""The one service lifecycle: CLI (serve | migrate), start-up order, graceful shutdown.

A service describes itself with ``build(rt)`` (register gRPC servicers, consumers,
background tasks) and this module runs it: logs, metrics, database pool, topics,
outbox relay, broker, gRPC server; on SIGTERM it reports NOT_SERVING, drains RPCs,
stops consuming (committed offsets stay behind the durable effects) and closes.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import asyncpg

from hallway_common.config import (
    ENV_PREFIX,
    DatabaseSettings,
    ServiceSettings,
    file_problems,
    load_settings,
    refuse,
    tls_problems,
)
from hallway_common.consumer import EventConsumer, purge_processed_events
from hallway_common.contracts import CONSUMERS, Topic
from hallway_common.db import create_pool, migrate
from hallway_common.dlq import replay as dlq_replay
from hallway_common.failures import is_transient
from hallway_common.grpc_server import GrpcServer, server_credentials
from hallway_common.identity import IdentityVerifier
from hallway_common.kafka import LagMonitor, create_broker, create_producer, ensure_topics
from hallway_common.logs import configure_logging, get_logger
from hallway_common.metrics import OUTBOX_PUBLISHED, start_metrics_server
from hallway_common.outbox import OutboxRelay, StateTable, republish

log = get_logger(__name__)

S = TypeVar("S", bound=ServiceSettings)


class Runtime(Generic[S]):
    """What one running service process has; passed to the service's ``build``."""

    def __init__(self, name: str, settings: S) -> None:
        self.name = name
        self.settings = settings
        self.broker = create_broker(settings, client_id=f"hallway-{name}")
        self.grpc = _grpc_server(settings)
        self.pool: asyncpg.Pool | None = None
        self.consumers: list[EventConsumer] = []
        self.produces: list[Topic] = []
        self._tasks: list[Callable[[], Awaitable[Any]]] = []
        self._closers: list[Callable[[], Awaitable[Any]]] = []

    def topic(self, topic: Topic) -> str:
        return self.settings.kafka_topic_prefix + topic.name

    def consumer(
        self, group: str, transient_errors: tuple[type[BaseException], ...] = ()
    ) -> EventConsumer:
        """A consumer group of this service (dedup in its database when it has one).

        ``transient_errors``: the store's "unavailable" errors, retried without
        dead-lettering (PostgreSQL's and network errors already are).
        """
        consumer = EventConsumer(
            self.broker,
            group,
            pool=self.pool,
            topic_prefix=self.settings.kafka_topic_prefix,
            transient_errors=transient_errors,
        )
        self.consumers.append(consumer)
        return consumer

    def background(self, task: Callable[[], Awaitable[Any]]) -> None:
        """Run ``task`` for the life of the process (cancelled at shutdown)."""
        self._tasks.append(task)

    def on_close(self, closer: Callable[[], Awaitable[Any]]) -> None:
        self._closers.append(closer)

    async def open_database(self) -> asyncpg.Pool:
        assert isinstance(self.settings, DatabaseSettings)
        self.pool = await create_pool(
            self.settings.database_url, max_size=self.settings.database_pool_max
        )
        self.on_close(self.pool.close)
        return self.pool


def _grpc_server(settings: ServiceSettings) -> GrpcServer:
    """The server with mutual TLS and identity verification, or a one-line refusal."""
    problems = tls_problems(settings)
    key_file = settings.identity_public_key_file
    problems += file_problems(
        "IDENTITY_PUBLIC_KEY_FILE", key_file, "the gateway's public key that verifies who is acting"
    )
    refuse(problems)
    try:
        verifier = IdentityVerifier.from_file(key_file)
    except ValueError as exc:
        refuse([f"{ENV_PREFIX}IDENTITY_PUBLIC_KEY_FILE: {exc}"])
        raise
    credentials = None
    if settings.grpc_tls_enabled:
        credentials = server_credentials(
            settings.grpc_tls_cert_file, settings.grpc_tls_key_file, settings.grpc_tls_ca_file
        )
    else:
        log.warning("gRPC without built-in TLS: only behind a service mesh that gives mTLS")
    return GrpcServer(
        settings.grpc_port,
        verifier,
        bind=settings.grpc_bind,
        credentials=credentials,
        health_port=settings.grpc_health_port,
    )


async def _serve(name: str, settings: Any, build: Callable[[Runtime], Awaitable[None]]) -> None:
    rt = Runtime(name, settings)  # inside the loop: grpc.aio binds to the running loop
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    start_metrics_server(settings.metrics_port)
    if isinstance(settings, DatabaseSettings):
        await rt.open_database()
    await build(rt)

    topics = [rt.topic(t) for t in rt.produces]
    topics += [name for c in rt.consumers for name in c.topics]
    topics += [c.dead_letter_topic for c in rt.consumers]
    compacted = frozenset(rt.topic(t) for t in rt.produces if t.compacted)
    await ensure_topics(settings, sorted(set(topics)), compacted)

    await rt.broker.start()
    tasks = [asyncio.create_task(t(), name=getattr(t, "__name__", "task")) for t in rt._tasks]
    relay = relay_task = None
    if _outbox_relay_enabled(rt, settings):
        producer = create_producer(settings, client_id=f"hallway-{name}-outbox")
        await producer.start()
        rt.on_close(producer.stop)
        relay = OutboxRelay(
            rt.pool,
            producer,
            source=settings.event_source(name),
            batch_size=settings.outbox_batch_size,
        )
        for topic in rt.produces:
            OUTBOX_PUBLISHED.labels(rt.topic(topic))  # a zero series before the first event
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        tasks.append(relay_task)
    if rt.consumers and rt.pool is not None:
        tasks.append(
            asyncio.create_task(
                _purge_dedup_ids(rt.pool, settings.processed_events_retention_days),
                name="dedup-purge",
            )
        )
    if rt.consumers:
        groups: dict[str, list[str]] = {}
        for c in rt.consumers:
            groups.setdefault(c.group, []).extend(c.topics)
        tasks.append(asyncio.create_task(LagMonitor(settings, groups).run(), name="lag"))
    await rt.grpc.start()
    log.info("service started", grpc_port=rt.grpc.port, metrics_port=settings.metrics_port)

    await _until_stopped_or_failed(stopping, tasks)

    log.info("service stopping")
    await rt.grpc.stop(settings.grpc_shutdown_grace_seconds)
    if relay and relay_task:
        # Let the relay finish its batch and release its connection (and leader
        # lock) instead of cancelling it halfway through.
        relay.stop()
        await asyncio.wait([relay_task], timeout=10)
    await rt.broker.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for closer in reversed(rt._closers):
        try:
            await asyncio.wait_for(closer(), 10)
        except Exception as exc:
            log.warning("close failed", closer=getattr(closer, "__qualname__", ""), error=repr(exc))
    log.info("service stopped")


def _outbox_relay_enabled(rt: Runtime, settings: ServiceSettings) -> bool:
    """Whether this process relays its outbox to Kafka: a service that declared the
    topics it produces does, unless HALLWAY_OUTBOX_RELAY_ENABLED=false (another process
    relays, or a test leaves events in the outbox on purpose). Declaring produced topics
    without a database is a bug, not a reason to publish nothing."""
    if not rt.produces:
        return False
    if rt.pool is None or not isinstance(settings, DatabaseSettings):
        raise RuntimeError(
            f"{rt.name} declares the topics it produces but has no database: "
            "events are written to the outbox in the service's own transactions"
        )
    return settings.outbox_relay_enabled


async def _purge_dedup_ids(pool: asyncpg.Pool, retention_days: int) -> None:
    """Hourly: forget consumed event ids older than any redelivery."""
    while True:
        try:
            await purge_processed_events(pool, retention_days)
        except Exception as exc:
            if not is_transient(exc):
                raise
            # PostgreSQL unavailable (restarting, connection closed): not worth a restart.
            log.warning("purging processed events failed; next round retries", error=repr(exc))
        await asyncio.sleep(3600)


async def _until_stopped_or_failed(stopping: asyncio.Event, tasks: list[asyncio.Task]) -> None:
    """Wait for a signal; a background task that dies takes the process down with it."""
    waiter = asyncio.create_task(stopping.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and not task.cancelled() and task.exception():
            log.error("background task failed", task=task.get_name(), error=repr(task.exception()))
            stopping.set()
    waiter.cancel()


@dataclass(frozen=True)
class Command(Generic[S]):
    """An operator command of one service: its arguments and what it does (exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[S, argparse.Namespace], Awaitable[int]]


def republish_command(*tables: StateTable) -> Command[Any]:
    """``republish-state``: enqueue the state record of every row of ``tables`` through
    the outbox (a new state topic, or one to repair); the running service publishes."""

    async def republish_all(settings: Any, args: argparse.Namespace) -> int:
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            counts = [
                f"{await republish(pool, settings.kafka_topic_prefix, table)} {table.name}"
                for table in tables
            ]
        finally:
            await pool.close()
        print(f"enqueued the state of {', '.join(counts)}; the running service publishes it")
        return 0

    return Command(
        help="publish the current state of every one of "
        + ", ".join(t.name for t in tables)
        + " to the state topics",
        add_arguments=lambda parser: None,
        run=republish_all,
    )


def run(
    name: str,
    settings_cls: type[S],
    build: Callable[[Runtime[S]], Awaitable[None]],
    *,
    defaults: dict[str, Any],
    migrate_packages: list[str] | None = None,
    extra_migrate: Callable[[S], Awaitable[list[str]]] | None = None,
    commands: dict[str, Command[S]] | None = None,
    argv: list[str] | None = None,
) -> None:
    """``python -m hallway_<name> serve | migrate | dlq replay --group G | <command>``.

    ``commands`` are the service's own operator commands (e.g. search's ``rebuild``).
    """
    parser = argparse.ArgumentParser(prog=f"hallway_{name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service")
    sub.add_parser("migrate", help="apply database migrations")
    dlq = sub.add_parser("dlq", help="dead-letter topics of this service's consumers")
    dlq_actions = dlq.add_subparsers(dest="action", required=True)
    replay = dlq_actions.add_parser(
        "replay", help="re-publish parked events to their topics (idempotent; resumes)"
    )
    groups = sorted(g for g, (svc, _) in CONSUMERS.items() if svc == name)
    replay.add_argument("--group", required=True, choices=groups)
    replay.add_argument(
        "--since",
        type=_aware_datetime,
        help="only events parked at or after this ISO 8601 time; older ones are passed over",
    )
    replay.add_argument("--dry-run", action="store_true", help="list, send and commit nothing")
    replay.add_argument(
        "--from-beginning", action="store_true", help="ignore earlier replays' progress"
    )
    own = commands or {}
    for command_name, command in own.items():
        command.add_arguments(sub.add_parser(command_name, help=command.help))
    args = parser.parse_args(argv)
    settings = load_settings(settings_cls, **defaults)
    configure_logging(name, settings.log_level)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency; Windows lacks it
        pass
    try:
        if args.command == "dlq":
            report = asyncio.run(
                dlq_replay(
                    settings,
                    args.group,
                    since=args.since,
                    dry_run=args.dry_run,
                    from_beginning=args.from_beginning,
                )
            )
            raise SystemExit(1 if report.unroutable else 0)
        if args.command in own:
            raise SystemExit(asyncio.run(own[args.command].run(settings, args)))
        if args.command == "migrate":
            applied = asyncio.run(_migrate(settings, migrate_packages or [], extra_migrate))
            print(f"{name}: {len(applied)} migration(s) applied", *applied, sep="\n  ")
        else:
            asyncio.run(_serve(name, settings, build))
    except (OSError, asyncpg.PostgresError) as exc:
        # A dependency that is not there is an operator problem, not a bug: one line.
        sys.stderr.write(f"{name}: cannot {args.command}: {exc}\n")
        raise SystemExit(1) from None


def _aware_datetime(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is taken as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _migrate(
    settings: Any, packages: list[str], extra: Callable[[Any], Awaitable[list[str]]] | None
) -> list[str]:
    applied: list[str] = []
    if packages:
        applied += await migrate(settings.database_url, ["hallway_common", *packages])
    if extra:
        applied += await extra(settings)
    return applied


__all__ = ["Command", "Runtime", "republish_command", "run"]
