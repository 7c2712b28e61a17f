"""Fault suite fixtures: one System (four services + gateway) shared by every fault,
and the matrix printed at the end of the session."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import jwt
import pytest

from hallway_common import testing
from hallway_common.testing import DB_SERVICES, System

JWT_SECRET = "faults-secret-not-for-production-0123456789"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: kill/freeze processes under a write load")


def mint(person_id: str, handle: str, ttl: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": person_id, "handle": handle, "iss": "hallway", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@pytest.fixture(scope="session")
def fault_mint() -> Callable[[str, str], str]:
    """Mints bearer tokens the fault system's gateway accepts."""
    return mint


@pytest.fixture(scope="session")
async def fault_system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "faults.", index_prefix + "-faults")
    try:
        await sys.start("profile", "feed", "search", "notification")
        gw = sys.gateway(JWT_SECRET)
        # The load writes faster than a person would; the limiter is not under test.
        gw.env["HALLWAY_WRITE_RATE_PER_MINUTE"] = "100000"
        gw.start()
        yield sys
    finally:
        sys.stop()


@pytest.fixture(scope="session")
def matrix() -> Iterator[list[dict]]:
    """Rows appended by each fault test; printed as a table when the session ends."""
    rows: list[dict] = []
    yield rows
    if not rows:
        return
    head = f"{'fault':<22} {'acked':>6} {'lost':>5} {'dup':>4} {'recovery s':>10}"
    lines = ["", "fault matrix", head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['fault']:<22} {r['acked']:>6} {r['lost']:>5} {r['dup']:>4} {r['recovery']:>10.1f}"
        )
    print("\n".join(lines))


@dataclass
class PrivateInfra:
    """A PostgreSQL and a Kafka of the fault suite's own, on other ports and data dirs,
    started by the project's stack scripts: killing them must never touch the shared
    servers other sessions and `make up` are using."""

    state: Path
    pg_port: int = field(default_factory=testing.free_port)
    kafka_port: int = field(default_factory=testing.free_port)
    controller_port: int = field(default_factory=testing.free_port)

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://hallway:hallway@127.0.0.1:{self.pg_port}/postgres"

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def script(self, server: str, action: str) -> None:
        shared = Path(os.environ.get("HALLWAY_STACK_DIR", testing.ROOT / ".local"))
        env = {
            **os.environ,
            "HALLWAY_STACK_DIR": str(self.state),
            "HALLWAY_STACK_CACHE_DIR": str(shared / "cache"),  # no second download
            "HALLWAY_PG_PORT": str(self.pg_port),
            "HALLWAY_KAFKA_PORT": str(self.kafka_port),
            "HALLWAY_KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }
        path = testing.ROOT / "scripts" / "stack" / f"{server}.sh"
        r = subprocess.run(
            [str(path), action], env=env, capture_output=True, text=True, timeout=240, check=False
        )
        if r.returncode != 0:
            raise RuntimeError(f"private {server} {action} failed:\n{r.stdout}\n{r.stderr}")

    def pid(self, server: str) -> int:
        if server == "postgres":  # the postmaster's own record is the authority
            return int((self.state / "data/postgres/postmaster.pid").read_text().split()[0])
        return int((self.state / "run" / f"{server}.pid").read_text().strip())

    def kill9(self, server: str) -> None:
        """SIGKILL the server's whole process group (postmaster and backends alike);
        both scripts start servers as session leaders, so the group is theirs alone."""
        pid = self.pid(server)
        assert os.getpgid(pid) == pid, f"{server} pid {pid} does not lead its own group"
        os.killpg(pid, signal.SIGKILL)
        # Restarting before the group is gone finds the old postmaster.pid still live.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{server} pid {pid} still alive 30 s after SIGKILL")


async def _database(admin_dsn: str, name: str) -> str:
    from hallway_common.db import migrate

    db = f"f_{name}_{testing.RUN_ID}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{db}"')
    finally:
        await conn.close()
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + db
    await migrate(dsn, ["hallway_common", f"hallway_{name}"])
    return dsn


@pytest.fixture(scope="session")
def private_infra(stack: None) -> Iterator[PrivateInfra]:
    infra = PrivateInfra(Path(tempfile.mkdtemp(prefix="faults-", dir=testing.ROOT / ".local")))
    os.chmod(infra.state, 0o755)  # PostgreSQL runs as `postgres` under root
    try:
        infra.script("postgres", "start")
        infra.script("kafka", "start")
        yield infra
    finally:
        for server in ("kafka", "postgres"):
            try:
                infra.script(server, "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                with contextlib.suppress(OSError, ValueError):
                    infra.kill9(server)
        shutil.rmtree(infra.state, ignore_errors=True)


@pytest.fixture(scope="session")
async def infra_system(
    private_infra: PrivateInfra, topic_prefix: str, index_prefix: str
) -> AsyncIterator[System]:
    """The same four services and gateway, on the private PostgreSQL and Kafka."""
    sys = System(topic_prefix + "infra.", index_prefix + "-infra")
    try:
        for name in ("profile", "feed", "search", "notification"):
            if name in DB_SERVICES:
                sys.dsns[name] = await _database(private_infra.admin_dsn, name)
            await sys.prepare(name, kafka_bootstrap_servers=private_infra.kafka)
            sys.processes[name].start()
        gw = sys.gateway(JWT_SECRET)
        gw.env["HALLWAY_WRITE_RATE_PER_MINUTE"] = "100000"
        gw.env["HALLWAY_KAFKA_BOOTSTRAP_SERVERS"] = private_infra.kafka
        gw.start()
        yield sys
    finally:
        sys.stop()
