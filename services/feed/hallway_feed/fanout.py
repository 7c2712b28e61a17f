"""Home timeline fan-out (consumer group hallway-feed-fanout on hallway.feed.post.v1).

On ``post.created`` one ``INSERT ... SELECT`` writes a row for every follower in the
replica plus the author. Authors with more than ``max_followers`` followers are not
fanned out: only the author's own row is written, the post is flagged
``merge_on_read`` and readers merge it in (see ``posts.HOME_SQL``) — the hybrid that
keeps a celebrity's post from costing one write per follower.
On ``post.deleted`` the post's rows go. Replaying the topic rebuilds the table.
"""

from __future__ import annotations

import time

import asyncpg

from hallway_common.contracts import PostCreated, PostDeleted
from hallway_common.events import Event
from hallway_common.logs import get_logger
from hallway_feed.metrics import FANOUT_ROWS, FANOUT_SECONDS

log = get_logger(__name__)


class FanoutHandler:
    """Materialises posts into home timelines."""

    def __init__(self, max_followers: int) -> None:
        self.max_followers = max_followers

    async def __call__(
        self, event: Event, payload: PostCreated | PostDeleted, conn: asyncpg.Connection | None
    ) -> None:
        assert conn is not None
        if isinstance(payload, PostCreated):
            await self.fan_out(conn, payload)
        else:
            await conn.execute("DELETE FROM home_timeline WHERE post_id = $1", payload.post_id)

    async def fan_out(self, conn: asyncpg.Connection, post: PostCreated) -> int:
        """Write the post's home timeline rows; returns how many were new."""
        started = time.perf_counter()
        deleted = await conn.fetchval(
            "SELECT deleted_at IS NOT NULL FROM posts WHERE id = $1", post.post_id
        )
        if deleted:  # deleted before we got here: nothing to show anyone
            return 0
        # Counting stops at the threshold, so a celebrity costs a bounded index scan.
        followers = await conn.fetchval(
            """SELECT count(*) FROM (SELECT 1 FROM follows WHERE followee_id = $1 LIMIT $2) f""",
            post.author_id,
            self.max_followers + 1,
        )
        large = followers > self.max_followers
        if large:
            await conn.execute(
                "INSERT INTO large_authors (author_id) VALUES ($1) ON CONFLICT DO NOTHING",
                post.author_id,
            )
            await conn.execute("UPDATE posts SET merge_on_read = true WHERE id = $1", post.post_id)
        status = await conn.execute(
            """INSERT INTO home_timeline (owner_id, post_id, author_id, created_at)
               SELECT owner_id, $1, $2, $3 FROM (
                   SELECT $2::uuid AS owner_id
                   UNION
                   SELECT follower_id FROM follows WHERE followee_id = $2 AND NOT $4::boolean
               ) owners
               ON CONFLICT DO NOTHING""",
            post.post_id,
            post.author_id,
            post.created_at,
            large,
        )
        rows = int(status.split()[-1])
        FANOUT_ROWS.inc(rows)
        FANOUT_SECONDS.observe(time.perf_counter() - started)
        if large:
            log.info("large author: post merged on read", post_id=str(post.post_id))
        return rows
