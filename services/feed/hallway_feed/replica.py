"""Local read models of profile's data, fed by its events (consumer group hallway-feed).

Handlers run inside the consumer's transaction, which also records the event id, so
each effect applies once. People are versioned upserts (an older version never
overwrites a newer one); follow edges are ordered per follower by the topic's key.
"""

from __future__ import annotations

import asyncpg

from hallway_common.contracts import FollowChanged, Payload, PersonRemoved, PersonUpserted
from hallway_common.events import Event
from hallway_common.logs import get_logger
from hallway_common.outbox import enqueue
from hallway_feed import communities

log = get_logger(__name__)


async def on_person(event: Event, payload: Payload, conn: asyncpg.Connection | None) -> None:
    """Upsert the person when this version is newer than the one held.

    person.removed needs nothing here: the person.updated before it, at the same
    version, already carried the inactive (and, when erased, scrubbed) entry.
    """
    assert conn is not None
    if not isinstance(payload, PersonUpserted):
        return
    await conn.execute(
        """INSERT INTO people (id, handle, display_name, active, version, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET handle = EXCLUDED.handle,
               display_name = EXCLUDED.display_name, active = EXCLUDED.active,
               version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
           WHERE people.version < EXCLUDED.version""",
        payload.person_id,
        payload.handle,
        payload.display_name,
        payload.active,
        payload.version,
        payload.occurred_at,
    )


class PersonHandler:
    """The people replica (``on_person``); an erased person's memberships end too, each
    published as the community's rules say (their personal choices do not outlive
    them; a deactivated person keeps theirs, as deactivation can be undone)."""

    def __init__(self, topic_prefix: str) -> None:
        self.prefix = topic_prefix

    async def __call__(
        self, event: Event, payload: Payload, conn: asyncpg.Connection | None
    ) -> None:
        assert conn is not None
        await on_person(event, payload, conn)
        if isinstance(payload, PersonRemoved) and payload.reason == "erased":
            events = await communities.end_memberships_of(conn, payload.person_id)
            await enqueue(conn, events, self.prefix)
            if events:
                log.info("memberships of an erased person ended", person_id=str(payload.person_id))


class FollowHandler:
    """Keeps the follow replica; on unfollow, removes the followee from the home timeline.

    ``backfill_posts`` recent posts of a newly followed person are copied into the
    follower's home timeline (0 turns that off), so following someone shows their
    latest posts at once instead of only their future ones.
    """

    def __init__(self, backfill_posts: int) -> None:
        self.backfill_posts = backfill_posts

    async def __call__(
        self, event: Event, payload: FollowChanged, conn: asyncpg.Connection | None
    ) -> None:
        assert conn is not None
        if event.type == "hallway.profile.follow.created":
            await self._followed(conn, payload)
        elif event.type == "hallway.profile.follow.deleted":
            await self._unfollowed(conn, payload)

    async def _followed(self, conn: asyncpg.Connection, payload: FollowChanged) -> None:
        await conn.execute(
            """INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""",
            payload.follower_id,
            payload.followee_id,
            payload.occurred_at,
        )
        if self.backfill_posts:
            # Merge-on-read posts are served without rows; only fanned-out ones are copied.
            await conn.execute(
                """INSERT INTO home_timeline (owner_id, post_id, author_id, created_at)
                   SELECT $1, p.id, p.author_id, p.created_at FROM posts p
                   WHERE p.author_id = $2 AND p.deleted_at IS NULL AND NOT p.merge_on_read
                   ORDER BY p.created_at DESC, p.id DESC LIMIT $3
                   ON CONFLICT DO NOTHING""",
                payload.follower_id,
                payload.followee_id,
                self.backfill_posts,
            )

    async def _unfollowed(self, conn: asyncpg.Connection, payload: FollowChanged) -> None:
        await conn.execute(
            "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2",
            payload.follower_id,
            payload.followee_id,
        )
        await conn.execute(
            "DELETE FROM home_timeline WHERE owner_id = $1 AND author_id = $2",
            payload.follower_id,
            payload.followee_id,
        )
