"""Test support shared by every service's tests: real servers, fresh stores, processes.

Integration tests never fake Kafka, PostgreSQL or OpenSearch: the session fixture
starts the local stack (idempotently) and each test session gets its own
databases, topic prefix and index prefix, so runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs" / "tests"
ADMIN_DSN = os.environ.get(
    "HALLWAY_TEST_ADMIN_DSN", "postgresql://hallway:hallway@127.0.0.1:5433/postgres"
)
KAFKA = os.environ.get("HALLWAY_TEST_KAFKA", "127.0.0.1:9092")
OPENSEARCH = os.environ.get("HALLWAY_TEST_OPENSEARCH", "http://127.0.0.1:9201")
SMTP_PORT = int(os.environ.get("HALLWAY_TEST_SMTP_PORT", "1025"))
SMTP_MAILDIR = ROOT / ".local" / "data" / "smtp"

RUN_ID = secrets.token_hex(3)
# The development PKI (CA, a certificate per process, identity keys), shared with the
# local stack; created on first use.
PKI = ROOT / ".local" / "pki"
# An administrator who is nobody in the directory: tests provision people as it.
BOOTSTRAP_ADMIN = "00000000-0000-0000-0000-000000000001"


def pki() -> Path:
    from hallway_dev import devpki

    return devpki.ensure(PKI)


def signer() -> Any:
    """Signs identity tokens as the gateway does (the dev PKI's identity key)."""
    from hallway_common.identity import IdentitySigner

    return IdentitySigner.from_file(str(pki() / "identity.key"))


def as_person(person_id: str, roles: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """gRPC metadata that makes a call on behalf of ``person_id``."""
    return signer().metadata(person_id, list(roles))


def as_admin() -> tuple[tuple[str, str], ...]:
    return as_person(BOOTSTRAP_ADMIN, ("admin",))


def client_credentials() -> Any:
    """mTLS client credentials signed by the dev CA (what the gateway presents)."""
    from hallway_common.grpc_client import client_credentials as creds

    folder = pki()
    return creds(str(folder / "client.crt"), str(folder / "client.key"), str(folder / "ca.crt"))


def service_channel(
    address: str, deadline: float = 10.0, identity: Callable[[], Any] | None = as_admin
) -> Any:
    """A mutual-TLS channel to a service started by these tests. Calls act as
    ``identity()`` (the bootstrap administrator by default) unless they pass their own
    ``metadata=as_person(...)``."""
    from hallway_common.grpc_client import channel

    return channel(address, deadline, credentials=client_credentials(), identity=identity)


def ensure_stack() -> None:
    """Start the real infrastructure if it is not running (no-op when it is)."""
    if os.environ.get("HALLWAY_STACK_ASSUMED_UP") == "1":
        return
    result = subprocess.run(
        [str(ROOT / "scripts" / "stack" / "up.sh")], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"local stack failed to start:\n{result.stdout}\n{result.stderr}")
    os.environ["HALLWAY_STACK_ASSUMED_UP"] = "1"


def metric(metrics_port: int, name: str, **labels: str) -> float:
    """Sum of a metric's samples on a /metrics endpoint that match ``labels``."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def _kafka(bootstrap: str) -> Any:
    from hallway_common.config import ServiceSettings

    return ServiceSettings(kafka_bootstrap_servers=bootstrap)


async def topic_records(topic: str, bootstrap: str = KAFKA) -> list:
    """Every record currently on a topic (reads from the beginning to the end offsets)."""
    from hallway_common.kafka import read_range

    async with asyncio.timeout(30):
        _, records = await read_range(_kafka(bootstrap), topic)
        return [record async for record in records]


async def topic_state(topic: str, bootstrap: str = KAFKA) -> dict[str, bytes]:
    """A compacted state topic as a new reader loads it: key -> newest non-null value."""
    from hallway_common.kafka import read_state

    async with asyncio.timeout(30):
        return (await read_state(_kafka(bootstrap), topic))[1]


async def first_record(topic: str, match: Callable[[Any], bool], within: float = 30) -> Any:
    """The first record on ``topic`` that ``match``es, waiting for it (bounded)."""

    async def find() -> Any:
        return next((r for r in await topic_records(topic) if match(r)), None)

    return await eventually(find, within=within, what=f"a matching record on {topic}")


def headers_of(record: Any) -> dict[str, str]:
    """A Kafka record's headers as text."""
    return {k: v.decode() for k, v in record.headers}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def create_database(label: str) -> str:
    """A new empty database; returns its DSN."""
    name = f"t_{label}_{RUN_ID}_{secrets.token_hex(2)}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


async def drop_test_databases() -> None:
    """Drop databases this run created (others' runs keep theirs)."""
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"t\\_%\\_{RUN_ID}\\_%"
        )
        for row in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrated_database(label: str, packages: list[str]) -> str:
    from hallway_common.db import migrate

    dsn = await create_database(label)
    await migrate(dsn, ["hallway_common", *packages])
    return dsn


@dataclass
class ServiceProcess:
    """One service running as its own OS process, as in production."""

    name: str
    env: dict[str, str]
    grpc_port: int = 0
    metrics_port: int = 0
    http_port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path = field(default_factory=Path)

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, extra_env: dict[str, str] | None = None, timeout: float = 60) -> ServiceProcess:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{self.name}-{RUN_ID}-{self.grpc_port or self.http_port}.log"
        env = {**os.environ, **self.env, **(extra_env or {})}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"hallway_{self.name}", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.wait_ready(timeout)
        return self

    def run_until_exit(self, extra_env: dict[str, str], timeout: float = 60) -> int:
        """Run with extra settings (e.g. a fault point) and return the exit code."""
        LOGS.mkdir(parents=True, exist_ok=True)
        log = (LOGS / f"{self.name}-{RUN_ID}-fault.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", f"hallway_{self.name}", "serve"],
            env={**os.environ, **self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        return proc.wait(timeout)

    def wait_ready(self, timeout: float) -> None:
        from hallway_common.healthcheck import check_grpc, check_http

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.tail()}")
            ok = (
                check_http(f"http://127.0.0.1:{self.http_port}/readyz")
                if self.http_port
                else check_grpc(self.grpc_address, credentials=_sync_client_credentials())
            )
            if ok:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready in {timeout}s:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, like a node dying."""
        self.stop(signal.SIGKILL)

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _sync_client_credentials() -> Any:
    from hallway_common.healthcheck import tls_from_env
    from hallway_dev.devpki import env

    return tls_from_env(env(pki(), "client"))


def base_env(topic_prefix: str) -> dict[str, str]:
    return {
        "HALLWAY_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "HALLWAY_KAFKA_TOPIC_PREFIX": topic_prefix,
        "HALLWAY_LOG_LEVEL": "INFO",
    }


def devpki_env(name: str) -> dict[str, str]:
    from hallway_dev import devpki

    return devpki.env(pki(), name)


def service_process(name: str, topic_prefix: str, **env: str) -> ServiceProcess:
    """A not-yet-started process of service ``name`` on free ports."""
    grpc_port, metrics_port = free_port(), free_port()
    all_env = {
        **base_env(topic_prefix),
        "HALLWAY_GRPC_PORT": str(grpc_port),
        "HALLWAY_METRICS_PORT": str(metrics_port),
        **devpki_env(name),
        **{k if k.startswith("HALLWAY_") else f"HALLWAY_{k.upper()}": v for k, v in env.items()},
    }
    return ServiceProcess(name, all_env, grpc_port=grpc_port, metrics_port=metrics_port)


async def eventually(
    check: Callable[[], object], within: float = 30, interval: float = 0.2, what: str = ""
) -> object:
    """Poll ``check`` (sync or async) until it returns a truthy value; bounded, never a bare sleep."""
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if asyncio.iscoroutine(last):
                last = await last
            if last:
                return last
        except AssertionError as exc:
            last = exc
        await asyncio.sleep(interval)
    raise AssertionError(f"not true within {within}s: {what or check} (last: {last!r})")


DB_SERVICES = {"profile", "feed", "notification"}


@dataclass
class System:
    """Several services wired together on one topic prefix, each a real process."""

    topic_prefix: str
    index_prefix: str
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    dsns: dict[str, str] = field(default_factory=dict)

    async def prepare(self, name: str, **env: str) -> ServiceProcess:
        """Create (not start) a service process with its own fresh store."""
        if name in DB_SERVICES and name not in self.dsns:
            self.dsns[name] = await migrated_database(name, [f"hallway_{name}"])
        if name in DB_SERVICES:
            env.setdefault("database_url", self.dsns[name])
        if name == "search":
            env.setdefault("opensearch_url", OPENSEARCH)
            env.setdefault("opensearch_index_prefix", self.index_prefix)
        if name == "notification":
            env.setdefault("smtp_host", "127.0.0.1")
            env.setdefault("smtp_port", str(SMTP_PORT))
        proc = service_process(name, self.topic_prefix, **env)
        self.processes[name] = proc
        return proc

    async def start(self, *names: str) -> System:
        for name in names:
            proc = self.processes.get(name) or await self.prepare(name)
            proc.start()
        return self

    def gateway(self, jwt_secret: str) -> ServiceProcess:
        """The gateway process, pointed at the services of this system."""
        port = free_port()
        env = {
            **base_env(self.topic_prefix),
            **devpki_env("gateway"),
            # The e2e gateway uses the development sign-in (the browser test signs in).
            "HALLWAY_DEV_MODE": "true",
            "HALLWAY_DEV_LOGIN": "true",
            "HALLWAY_HTTP_PORT": str(port),
            "HALLWAY_JWT_SECRET": jwt_secret,
            **{
                f"HALLWAY_{n.upper()}_ADDR": p.grpc_address
                for n, p in self.processes.items()
                if n != "gateway"
            },
        }
        proc = ServiceProcess("gateway", env, http_port=port)
        self.processes["gateway"] = proc
        return proc

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop()
