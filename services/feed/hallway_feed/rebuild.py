"""``python -m hallway_feed rebuild``: feed's derived tables, fresh from the state topics.

The people and follow replicas and the home timelines are projections (of profile's
state topics and of feed's own posts). They are built into fresh tables while the
live ones keep serving, then swapped in one short transaction (renames, under a
lock that waits for in-flight statements), and a catch-up pass applies what the
state topics received meanwhile through the live consumers' own handlers.

The home timeline rule is the live one: a person's own posts, and the posts of the
people they follow from the moment they followed, plus the ``backfill`` most recent
earlier ones; posts of large authors are merged on read and have no rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from hallway_common.contracts import (
    FOLLOW_STATE,
    PERSON_STATE,
    FollowCreated,
    FollowDeleted,
    FollowState,
    PersonState,
    Topic,
)
from hallway_common.db import create_pool
from hallway_common.events import Event
from hallway_common.kafka import Offsets, read_range, read_state
from hallway_common.runtime import Command
from hallway_feed.replica import FollowHandler, on_person

TABLES = ("people", "follows", "home_timeline")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Home timeline rows of posts created at or after $2, by the live rule: the author's
# own, and for each follow edge the posts after the follow plus the $1 most recent
# before it (large authors' posts are merged on read: no rows). Reads the table
# named follows_next while building, follows when catching up.
_TIMELINE = """(owner_id, post_id, author_id, created_at)
    SELECT p.author_id, p.id, p.author_id, p.created_at FROM posts p
    WHERE p.deleted_at IS NULL AND p.created_at >= $2
    UNION
    SELECT f.follower_id, e.id, e.author_id, e.created_at FROM {follows} f
    CROSS JOIN LATERAL (
        SELECT p.id, p.author_id, p.created_at FROM posts p
        WHERE p.author_id = f.followee_id AND p.deleted_at IS NULL AND NOT p.merge_on_read
          AND p.created_at < f.created_at
        ORDER BY p.created_at DESC, p.id DESC LIMIT $1) e
    WHERE e.created_at >= $2
    UNION
    SELECT f.follower_id, p.id, p.author_id, p.created_at
    FROM {follows} f JOIN posts p ON p.author_id = f.followee_id
    WHERE p.deleted_at IS NULL AND NOT p.merge_on_read AND p.created_at >= f.created_at
      AND p.created_at >= $2
    ON CONFLICT DO NOTHING"""
TIMELINE_ROWS = _TIMELINE.format(follows="follows_next")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _load_state(settings: Any, topic: Topic) -> tuple[Offsets, dict[str, bytes]]:
    end, state = await read_state(settings, settings.kafka_topic_prefix + topic.name)
    _say(f"  loaded {topic.name}: {len(state)} live keys")
    return end, state


async def _fill(conn: asyncpg.Connection, people: dict, follows: dict, backfill: int) -> dict:
    """Fill the ``*_next`` tables; returns their row counts."""
    person_rows = []
    for value in people.values():
        p = PersonState.model_validate_json(value)
        person_rows.append((p.person_id, p.handle, p.display_name, True, p.version, p.occurred_at))
    # People removed since (tombstones) stay known as inactive authors of their posts,
    # with whatever the live replica last had (an erased person's entry was scrubbed).
    await conn.copy_records_to_table("people_next", records=person_rows)
    await conn.execute(
        """INSERT INTO people_next SELECT id, handle, display_name, false, version, updated_at
           FROM people WHERE id NOT IN (SELECT id FROM people_next)"""
    )
    edge_rows = []
    for value in follows.values():
        f = FollowState.model_validate_json(value)
        edge_rows.append((f.follower_id, f.followee_id, f.occurred_at))
    await conn.copy_records_to_table("follows_next", records=edge_rows)
    await conn.execute(f"INSERT INTO home_timeline_next {TIMELINE_ROWS}", backfill, EPOCH)
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}_next") for t in TABLES}


async def _index_pairs(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    """(live index, its twin on ``<table>_next``), matched by definition."""
    rows = await conn.fetch(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[])",
        [table, f"{table}_next"],
    )

    def shape(r: asyncpg.Record) -> str:
        return r["indexdef"].replace(r["indexname"], "").replace(r["tablename"], "")

    twins = {shape(r): r["indexname"] for r in rows if r["tablename"] == f"{table}_next"}
    return [(r["indexname"], twins[shape(r)]) for r in rows if r["tablename"] == table]


async def _swap(conn: asyncpg.Connection) -> None:
    """Live tables become ``*_old``, ``*_next`` become live, index names included."""
    async with conn.transaction():
        await conn.execute(f"LOCK TABLE {', '.join(TABLES)} IN ACCESS EXCLUSIVE MODE")
        for table in TABLES:
            pairs = await _index_pairs(conn, table)
            await conn.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
            await conn.execute(f"ALTER TABLE {table}_next RENAME TO {table}")
            for live, twin in pairs:
                await conn.execute(f"ALTER INDEX {live} RENAME TO {live}_old")
                await conn.execute(f"ALTER INDEX {twin} RENAME TO {live}")


async def _catch_up(
    pool: asyncpg.Pool, settings: Any, start: dict[str, Offsets], backfill: int
) -> int:
    """Apply what the state topics got since the snapshot, as the live consumers would."""
    follows = FollowHandler(backfill)
    applied = 0
    for topic in (PERSON_STATE, FOLLOW_STATE):
        _, records = await read_range(
            settings, settings.kafka_topic_prefix + topic.name, start[topic.name]
        )
        async for record in records:
            async with pool.acquire() as conn, conn.transaction():
                await _apply(conn, follows, topic, record.key.decode(), record.value)
            applied += 1
    return applied


async def _apply(
    conn: asyncpg.Connection, follows: FollowHandler, topic: Topic, key: str, value: bytes | None
) -> None:
    """One state record, applied as the live consumers apply the matching event."""
    if topic is PERSON_STATE:
        if value is None:
            await conn.execute("UPDATE people SET active = false WHERE id = $1", uuid.UUID(key))
        else:
            person = PersonState.model_validate_json(value)
            await on_person(_event(person.type, person.occurred_at, key, value), person, conn)
        return
    follower, followee = (uuid.UUID(k) for k in key.split(":"))
    edge = {"follower_id": follower, "followee_id": followee}
    payload: FollowCreated | FollowDeleted = (
        FollowDeleted(**edge, occurred_at=_now())
        if value is None
        else FollowCreated(**edge, occurred_at=FollowState.model_validate_json(value).occurred_at)
    )
    await follows(_event(payload.type, payload.occurred_at, key, value), payload, conn)


def _event(event_type: str, when: datetime, key: str, value: bytes | None) -> Event:
    return Event(str(uuid.uuid4()), event_type, "", when, key, value, "")


def _now() -> datetime:
    return datetime.now(UTC)


async def rebuild(settings: Any, keep_old: bool = False) -> dict[str, Any]:
    """Rebuild the replicas and home timelines; returns a report."""
    started = time.monotonic()
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        end_people, people = await _load_state(settings, PERSON_STATE)
        end_follows, follows = await _load_state(settings, FOLLOW_STATE)
        backfill = settings.feed_follow_backfill_posts
        held = await pool.fetchval("SELECT count(*) FROM people WHERE active")
        if held and not people:
            raise SystemExit(
                f"refusing to rebuild: {settings.kafka_topic_prefix}{PERSON_STATE.name} is "
                f"empty but {held} people are replicated; fill it first with "
                "`python -m hallway_profile republish-state`"
            )
        fill_started = await pool.fetchval("SELECT now()")
        async with pool.acquire() as conn:
            for table in TABLES:
                await conn.execute(f"DROP TABLE IF EXISTS {table}_next, {table}_old")
                await conn.execute(f"CREATE TABLE {table}_next (LIKE {table} INCLUDING ALL)")
            counts = await _fill(conn, people, follows, backfill)
            _say(f"  built: {json.dumps(counts)}")
            await _swap(conn)
            _say("  swapped")
        caught_up = await _catch_up(
            pool,
            settings,
            {PERSON_STATE.name: end_people, FOLLOW_STATE.name: end_follows},
            backfill,
        )
        async with pool.acquire() as conn, conn.transaction():
            # Posts written or deleted while the new tables were filled were fanned out
            # into (or removed from) the old ones: do it again on the new ones.
            margin = fill_started - timedelta(seconds=5)
            await conn.execute(
                f"INSERT INTO home_timeline {_TIMELINE.format(follows='follows')}",
                backfill,
                margin,
            )
            await conn.execute(
                """DELETE FROM home_timeline h USING posts p
                   WHERE h.post_id = p.id AND p.deleted_at >= $1""",
                margin,
            )
        _say(f"  caught up: {caught_up} records")
        if not keep_old:
            async with pool.acquire() as conn:
                await conn.execute(f"DROP TABLE {', '.join(f'{t}_old' for t in TABLES)}")
        return {
            "rows": counts,
            "caught_up": caught_up,
            "kept_old": keep_old,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        await pool.close()


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep-old", action="store_true", help="keep the replaced tables as *_old")


async def _run(settings: Any, args: argparse.Namespace) -> int:
    print(json.dumps(await rebuild(settings, keep_old=args.keep_old), indent=2))
    return 0


COMMAND = Command(
    help="rebuild the people and follow replicas and the home timelines from the state "
    "topics, then swap tables (reads keep being served)",
    add_arguments=_arguments,
    run=_run,
)
