"""The feed's event handlers against a real PostgreSQL: versioned and replay-safe effects.

The handlers are called directly (the Kafka path is covered by test_feed_integration);
this pins down what happens when events arrive out of order or twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from hallway_common.contracts import (
    FollowCreated,
    PersonUpdated,
    PostCreated,
    PostDeleted,
    model_of,
)
from hallway_common.events import new_event
from hallway_dev import testing
from hallway_feed.fanout import FanoutHandler
from hallway_feed.replica import FollowHandler, on_person

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
async def pool(stack: None):
    dsn = await testing.migrated_database("feedh", ["hallway_feed"])
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    yield pool
    await pool.close()


def _person(pid: uuid.UUID, handle: str, version: int, active: bool = True) -> PersonUpdated:
    return PersonUpdated(
        person_id=pid,
        handle=handle,
        display_name=handle,
        active=active,
        version=version,
        occurred_at=NOW + timedelta(seconds=version),
    )


async def _apply(pool: asyncpg.Pool, handler, event_type: str, payload) -> None:
    payload = model_of(event_type)(**payload.model_dump(exclude={"type"}))
    event = new_event(event_type, payload, "")
    async with pool.acquire() as conn, conn.transaction():
        await handler(event, payload, conn)


async def test_people_replica_keeps_the_newest_version(pool: asyncpg.Pool) -> None:
    pid = uuid.uuid4()
    await _apply(pool, on_person, "hallway.profile.person.updated", _person(pid, "v2", 2))
    # An older version arriving late (e.g. a replay) does not win.
    await _apply(pool, on_person, "hallway.profile.person.created", _person(pid, "v1", 1))
    row = await pool.fetchrow("SELECT handle, version FROM people WHERE id = $1", pid)
    assert (row["handle"], row["version"]) == ("v2", 2)
    await _apply(pool, on_person, "hallway.profile.person.updated", _person(pid, "v3", 3, False))
    row = await pool.fetchrow("SELECT handle, active FROM people WHERE id = $1", pid)
    assert (row["handle"], row["active"]) == ("v3", False)


async def test_fanout_is_replay_safe_and_skips_large_authors(pool: asyncpg.Pool) -> None:
    author, a, b, c = (uuid.uuid4() for _ in range(4))
    follows = FollowHandler(backfill_posts=20)
    for follower in (a, b):
        await _apply(
            pool,
            follows,
            "hallway.profile.follow.created",
            FollowCreated(follower_id=follower, followee_id=author, occurred_at=NOW),
        )
    post_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO posts (id, author_id, text, created_at) VALUES ($1, $2, 'hi', $3)",
        post_id,
        author,
        NOW,
    )
    created = PostCreated(
        post_id=post_id, author_id=author, text="hi", version=1, created_at=NOW, occurred_at=NOW
    )
    fanout = FanoutHandler(max_followers=2)
    owners = "SELECT owner_id FROM home_timeline WHERE post_id = $1 ORDER BY owner_id"
    for _ in range(2):  # the second delivery changes nothing
        await _apply(pool, fanout, "hallway.feed.post.created", created)
        assert {r["owner_id"] for r in await pool.fetch(owners, post_id)} == {author, a, b}

    # A third follower makes the author large: the next post is merged on read.
    await _apply(
        pool,
        follows,
        "hallway.profile.follow.created",
        FollowCreated(follower_id=c, followee_id=author, occurred_at=NOW),
    )
    # c's follow backfilled the earlier, fanned-out post.
    assert c in {r["owner_id"] for r in await pool.fetch(owners, post_id)}
    big_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO posts (id, author_id, text, created_at) VALUES ($1, $2, 'big', $3)",
        big_id,
        author,
        NOW,
    )
    big = created.model_copy(update={"post_id": big_id, "text": "big"})
    await _apply(pool, fanout, "hallway.feed.post.created", big)
    assert [r["owner_id"] for r in await pool.fetch(owners, big_id)] == [author]
    assert await pool.fetchval("SELECT merge_on_read FROM posts WHERE id = $1", big_id)
    assert await pool.fetchval("SELECT true FROM large_authors WHERE author_id = $1", author)

    deleted = PostDeleted(post_id=post_id, author_id=author, version=2, occurred_at=NOW)
    await _apply(pool, fanout, "hallway.feed.post.deleted", deleted)
    assert await pool.fetch(owners, post_id) == []

    # Unfollow removes the followee's rows from that follower's timeline only.
    await _apply(
        pool,
        follows,
        "hallway.profile.follow.deleted",
        FollowCreated(follower_id=a, followee_id=author, occurred_at=NOW),
    )
    assert await pool.fetchval("SELECT count(*) FROM home_timeline WHERE owner_id = $1", a) == 0
    assert await pool.fetchval("SELECT count(*) FROM follows WHERE followee_id = $1", author) == 2
