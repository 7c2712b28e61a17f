"""PostgreSQL access (asyncpg) and the one migration runner every service uses."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import asyncpg

from hallway_common.logs import get_logger

log = get_logger(__name__)

# One advisory lock id for migrations, so parallel pods or Jobs apply them once.
_MIGRATION_LOCK = 0x48414C4C  # "HALL"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, max_size: int = 10) -> asyncpg.Pool:
    """A connection pool with JSON codecs; fails fast with the DSN's host in the error."""
    return await asyncpg.create_pool(
        dsn, min_size=1, max_size=max_size, init=_init_connection, command_timeout=30
    )


def _migration_files(package: str) -> list[tuple[str, str]]:
    """(version, sql) of a package's migrations/ folder, in file-name order."""
    folder = resources.files(package) / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(Path(p.name).stem, p.read_text()) for p in files]


async def migrate(dsn: str, packages: list[str]) -> list[str]:
    """Apply pending migrations of each package (common plumbing first); returns applied.

    Each file runs in its own transaction together with its bookkeeping row, so a
    failed migration leaves nothing half-applied.
    """
    applied: list[str] = []
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   component text NOT NULL,
                   version text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (component, version))"""
        )
        for package in packages:
            done = {
                r["version"]
                for r in await conn.fetch(
                    "SELECT version FROM schema_migrations WHERE component = $1", package
                )
            }
            for version, sql in _migration_files(package):
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)",
                        package,
                        version,
                    )
                applied.append(f"{package}:{version}")
                log.info("migration applied", component=package, version=version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()
    return applied
