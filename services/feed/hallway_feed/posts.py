"""Posts and timelines: ``check_*`` validates, ``do_*`` writes + enqueues events.

Every ``do_*`` runs in one transaction with the outbox rows it causes. Deleted posts
are tombstones (content scrubbed) and are never served.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from hallway_common.contracts import PostCreated, PostDeleted, PostState
from hallway_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
)
from hallway_common.events import Event, new_event, tombstone
from hallway_common.outbox import enqueue
from hallway_common.pagination import decode_time_cursor, encode_time_cursor
from hallway_common.tracing import current_traceparent
from hallway_feed import communities, notices
from hallway_feed import text as rules
from hallway_feed.metrics import POSTS_CREATED
from hallway_feed.retraction import retract_conversations

POST_COLUMNS = (
    "p.id, p.author_id, p.community_id, p.text, p.mentions, p.hashtags, p.version, "
    "p.created_at, p.comment_count"
)
# The one read rule for posts, as SQL over ``p`` for the reader ``$1``: a personal
# post, a post in a public community, or one in a community the reader is an active
# member of. Evaluated at read time from current rows, so leaving a community or
# its narrowing hides its posts at once.
READABLE = """(p.community_id IS NULL OR EXISTS (
    SELECT 1 FROM communities c WHERE c.id = p.community_id AND (c.visibility = 'public'
        OR EXISTS (SELECT 1 FROM memberships m WHERE m.community_id = c.id
                   AND m.person_id = $1 AND m.state = 'active'))))"""


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    next_token: str


async def resolve_mentions(
    conn: asyncpg.Connection, candidates: list[tuple[str, ...]]
) -> list[dict[str, str]]:
    """Mentioned people ({person_id, handle}) among the candidates, via the replica.

    Unknown or deactivated handles are not mentions. For a token with alternatives
    the first one that is a person wins; a person mentioned twice counts once.
    """
    handles = sorted({h for options in candidates for h in options})
    if not handles:
        return []
    rows = await conn.fetch(
        """SELECT DISTINCT ON (handle) id, handle FROM people
           WHERE handle = ANY($1::text[]) AND active ORDER BY handle, version DESC""",
        handles,
    )
    by_handle = {r["handle"]: r["id"] for r in rows}
    mentions: dict[uuid.UUID, dict[str, str]] = {}
    for options in candidates:
        for handle in options:
            if handle in by_handle:
                person = by_handle[handle]
                mentions.setdefault(person, {"person_id": str(person), "handle": handle})
                break
    return list(mentions.values())


async def check_author(conn: asyncpg.Connection, author_id: uuid.UUID) -> None:
    """The author is an active person in the replica (FAILED_PRECONDITION otherwise)."""
    active = await conn.fetchval("SELECT active FROM people WHERE id = $1", author_id)
    if active is None:
        raise FailedPrecondition(
            f"author {author_id} is not a known person (unknown id, or the directory "
            "update has not reached the feed yet)"
        )
    if not active:
        raise FailedPrecondition(f"author {author_id} is deactivated")


async def do_create_post(
    pool: asyncpg.Pool,
    topic_prefix: str,
    author_id: uuid.UUID,
    text: str,
    idempotency_key: str = "",
    community_id: uuid.UUID | None = None,
) -> tuple[asyncpg.Record, bool]:
    """Create a post, personal or in a community; returns (post, created). A retry with
    the same key returns the first.

    The same key with different text is ALREADY_EXISTS (a key names one request);
    a key whose post was deleted since is FAILED_PRECONDITION. Posting in a community
    needs an active membership (and a manager role where posting is for admins); a
    community the author may not read is NOT_FOUND. Only posts everyone may read are
    published on the post topics.
    """
    text = rules.check_text(text)
    key = rules.check_idempotency_key(idempotency_key)
    candidates = rules.mention_candidates(text)
    hashtags = rules.parse_hashtags(text)
    async with pool.acquire() as conn, conn.transaction():
        await check_author(conn, author_id)
        public = True
        place = None
        if community_id is not None:
            # FOR SHARE: a concurrent narrowing waits, so it withdraws this post too.
            place = await communities.access(conn, community_id, author_id, share=True)
            if not place.can_read:
                raise NotFound(communities.NOT_FOUND)
            if not place.member:
                raise PermissionDenied("join the community to post in it")
            if not place.can_post:
                raise PermissionDenied("only the community's owners and admins post here")
            public = place.community["visibility"] == "public"
        if key is not None:
            existing = await _by_key(conn, author_id, key)
            if existing is not None:
                return _replay(existing, text), False
        mentions = await resolve_mentions(conn, candidates)
        post_id = uuid.uuid4()
        now = datetime.now(UTC)
        row = await conn.fetchrow(
            f"""INSERT INTO posts AS p (id, author_id, text, mentions, hashtags, idempotency_key,
                                        created_at, community_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (author_id, idempotency_key) WHERE idempotency_key IS NOT NULL
                DO NOTHING
                RETURNING {POST_COLUMNS}""",
            post_id,
            author_id,
            text,
            mentions,
            hashtags,
            key,
            now,
            community_id,
        )
        if row is None:  # a concurrent retry with the same key committed first
            existing = await _by_key(conn, author_id, key)
            assert existing is not None
            return _replay(existing, text), False
        await conn.execute(
            """INSERT INTO post_tags (tag, post_id, created_at)
               SELECT DISTINCT t, $1::uuid, $2::timestamptz FROM unnest($3::text[]) t""",
            post_id,
            now,
            hashtags,
        )
        events: list[Event] = []
        if public:
            created = PostCreated(**_post_fields(row))
            events = [new_event(created.type, created, current_traceparent()), post_state(row)]
        else:  # mentions of a restricted post reach only those who may read it
            assert place is not None
            mentioned = [uuid.UUID(m["person_id"]) for m in mentions]
            readers = await notices.readers_among(conn, mentioned, community_id)
            events += notices.created(
                "mention", readers, author_id, post_id=post_id, community=place.community, text=text
            )
        if place is not None:
            events += notices.created(
                "community_post",
                await _subscribers(conn, place.community["id"]),
                author_id,
                post_id=post_id,
                community=place.community,
                text=text,
            )
        await enqueue(conn, events, topic_prefix)
    POSTS_CREATED.inc()
    return row, True


async def _subscribers(conn: asyncpg.Connection, community_id: uuid.UUID) -> list[uuid.UUID]:
    """Members who asked to hear of every post in the community."""
    rows = await conn.fetch(
        """SELECT person_id FROM memberships
           WHERE community_id = $1 AND state = 'active' AND notify_posts""",
        community_id,
    )
    return [r["person_id"] for r in rows]


def _post_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "post_id": row["id"],
        "author_id": row["author_id"],
        "community_id": row["community_id"],
        "text": row["text"],
        "mentions": [uuid.UUID(m["person_id"]) for m in row["mentions"]],
        "hashtags": row["hashtags"],
        "version": row["version"],
        "created_at": row["created_at"],
        "occurred_at": row["created_at"],  # posts are not edited: created is the last change
    }


def post_state(row: asyncpg.Record) -> Event:
    """A public post's record on the state topic: the post, or a tombstone once deleted."""
    if row.get("deleted_at") is not None:
        return tombstone(
            "hallway.feed.post.state", str(row["id"]), row["deleted_at"], current_traceparent()
        )
    state = PostState(**_post_fields(row))
    return new_event(state.type, state, current_traceparent())


async def _by_key(conn: asyncpg.Connection, author_id: uuid.UUID, key: str | None) -> Any:
    return await conn.fetchrow(
        f"""SELECT {POST_COLUMNS}, p.deleted_at FROM posts p
            WHERE p.author_id = $1 AND p.idempotency_key = $2""",
        author_id,
        key,
    )


def _replay(existing: asyncpg.Record, text: str) -> asyncpg.Record:
    if existing["deleted_at"] is not None:
        raise FailedPrecondition("the post created with this idempotency_key has been deleted")
    if existing["text"] != text:
        raise AlreadyExists("idempotency_key was already used for a post with different text")
    return existing


def public_post_record(row: asyncpg.Record) -> Event | None:
    """republish-state: the record of a post on the state topic; none for a post that
    was never public (its id stays off the broad topic too)."""
    if row["visibility"] not in (None, "public") and row["deleted_at"] is None:
        return None
    return post_state(row)


async def get_post(pool: asyncpg.Pool, post_id: uuid.UUID, reader: uuid.UUID) -> asyncpg.Record:
    """One post the reader may read; NOT_FOUND for one they may not (the same answer
    as for a post that does not exist)."""
    row = await pool.fetchrow(
        f"""SELECT {POST_COLUMNS} FROM posts p
            WHERE p.id = $2 AND p.deleted_at IS NULL AND {READABLE}""",
        reader,
        post_id,
    )
    if row is None:
        raise NotFound(f"post {post_id} not found")
    return row


async def do_delete_post(
    pool: asyncpg.Pool, topic_prefix: str, post_id: uuid.UUID, actor_id: uuid.UUID
) -> None:
    """Soft-delete (the author, or an owner or admin of the post's community, who
    moderate it): scrub the content, keep the tombstone, publish. NOT_FOUND for a post
    the actor may not read (as for one that does not exist)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"""SELECT p.author_id, p.version, p.community_id, c.visibility FROM posts p
                LEFT JOIN communities c ON c.id = p.community_id
                WHERE p.id = $2 AND p.deleted_at IS NULL AND {READABLE}
                FOR UPDATE OF p""",
            actor_id,
            post_id,
        )
        if row is None:
            raise NotFound(f"post {post_id} not found")
        if row["author_id"] != actor_id and not (
            row["community_id"] is not None
            and (await communities.access(conn, row["community_id"], actor_id)).manager
        ):
            raise PermissionDenied("only the author or the community's admins may delete a post")
        published = row["visibility"] in (None, "public")
        now = datetime.now(UTC)
        version = await conn.fetchval(
            """UPDATE posts SET deleted_at = $2, version = version + 1, text = '',
                   mentions = '[]', hashtags = '{}'
               WHERE id = $1 RETURNING version""",
            post_id,
            now,
        )
        await conn.execute("DELETE FROM post_tags WHERE post_id = $1", post_id)
        scope = row["community_id"] or post_id
        retraction = notices.retracted(scope, post_id=post_id)
        if not published:  # never on a broad topic: only the notices to take back
            await enqueue(conn, [retraction], topic_prefix)
            return
        payload = PostDeleted(
            post_id=post_id, author_id=row["author_id"], version=version, occurred_at=now
        )
        trace = current_traceparent()
        events = [
            new_event("hallway.feed.post.deleted", payload, trace),
            # The state topic forgets the post: its text does not survive compaction.
            tombstone("hallway.feed.post.state", str(post_id), now, trace),
            *await retract_conversations(conn, [post_id], "post_deleted", now),
            retraction,
        ]
        await enqueue(conn, events, topic_prefix)


def _after(token: str) -> tuple[datetime | None, uuid.UUID | None]:
    """The (created_at, post_id) a page token continues after."""
    return decode_time_cursor(token) or (None, None)


def page_of(rows: list[asyncpg.Record], size: int) -> Page:
    more = len(rows) > size
    rows = rows[:size]
    token = encode_time_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else ""
    return Page(rows, token)


async def list_person_timeline(
    pool: asyncpg.Pool, person_id: uuid.UUID, reader: uuid.UUID, size: int, token: str
) -> Page:
    """A person's own posts that the reader may read, newest first (empty for a person
    without posts)."""
    at, pid = _after(token)
    rows = await pool.fetch(
        f"""SELECT {POST_COLUMNS} FROM posts p
            WHERE p.author_id = $2 AND p.deleted_at IS NULL AND {READABLE}
              AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3, $4::uuid))
            ORDER BY p.created_at DESC, p.id DESC LIMIT $5""",
        reader,
        person_id,
        at,
        pid,
        size + 1,
    )
    return page_of(rows, size)


async def list_community_posts(
    pool: asyncpg.Pool, community_id: uuid.UUID, reader: uuid.UUID, size: int, token: str
) -> Page:
    """A community's feed, newest first. NOT_FOUND for a community the reader may not
    know of; PERMISSION_DENIED for a private one they are not a member of."""
    async with pool.acquire() as conn:
        place = await communities.access(conn, community_id, reader)
        if not place.can_read:
            raise PermissionDenied("the posts of a private community are for its members")
        at, pid = _after(token)
        rows = await conn.fetch(
            f"""SELECT {POST_COLUMNS} FROM posts p
                WHERE p.community_id = $1 AND p.deleted_at IS NULL
                  AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2, $3::uuid))
                ORDER BY p.created_at DESC, p.id DESC LIMIT $4""",
            community_id,
            at,
            pid,
            size + 1,
        )
    return page_of(rows, size)


# The home timeline is the union of three keyset-ordered streams, each cut at the page
# size + 1 before merging so the page is exact:
#  - materialised rows (fan-out on write), joined to posts to drop deleted ones and
#    to the follow replica so an unfollow hides that author at once (the follow.deleted
#    consumer also removes the rows; this covers a fan-out racing the unfollow), and
#    filtered by the read rule (a post whose community was narrowed since);
#  - posts of large authors the person follows (merge on read), one index probe per
#    large followee via LATERAL;
#  - posts of the communities the person is an active member of (merge on read, so
#    leaving needs no clean-up and no cached row can outlive a membership);
#  - posts under the #topics the person follows (merge on read, one index range of
#    post_tags per topic), filtered by the read rule.
# UNION drops posts present in more than one (each post once).
HOME_SQL = f"""
WITH fanned AS (
    SELECT p.id, p.created_at FROM home_timeline h
    JOIN posts p ON p.id = h.post_id AND p.deleted_at IS NULL
    WHERE h.owner_id = $1
      AND ($2::timestamptz IS NULL OR (h.created_at, h.post_id) < ($2, $3::uuid))
      AND (h.author_id = $1 OR EXISTS (
            SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = h.author_id))
      AND {READABLE}
    ORDER BY h.created_at DESC, h.post_id DESC LIMIT $4
), joined AS (
    SELECT j.id, j.created_at FROM memberships m
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts p
        WHERE p.community_id = m.community_id AND p.deleted_at IS NULL
          AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2, $3::uuid))
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4) j
    WHERE m.person_id = $1 AND m.state = 'active'
), topics AS (
    SELECT tp.id, tp.created_at FROM topic_follows tf
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM post_tags t JOIN posts p ON p.id = t.post_id
        WHERE t.tag = tf.tag AND p.deleted_at IS NULL
          AND ($2::timestamptz IS NULL OR (t.created_at, t.post_id) < ($2, $3::uuid))
          AND {READABLE}
        ORDER BY t.created_at DESC, t.post_id DESC LIMIT $4) tp
    WHERE tf.person_id = $1
), merged AS (
    SELECT m.id, m.created_at FROM follows f
    JOIN large_authors l ON l.author_id = f.followee_id
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts p
        WHERE p.author_id = f.followee_id AND p.merge_on_read AND p.deleted_at IS NULL
          AND ($2::timestamptz IS NULL OR (p.created_at, p.id) < ($2, $3::uuid))
          AND {READABLE}
        ORDER BY p.created_at DESC, p.id DESC LIMIT $4) m
    WHERE f.follower_id = $1
), page AS (
    SELECT id, created_at FROM fanned UNION SELECT id, created_at FROM merged
    UNION SELECT id, created_at FROM joined
    UNION SELECT id, created_at FROM topics
    ORDER BY created_at DESC, id DESC LIMIT $4
)
SELECT {POST_COLUMNS} FROM page JOIN posts p ON p.id = page.id
ORDER BY p.created_at DESC, p.id DESC
"""


async def list_home_timeline(
    pool: asyncpg.Pool, person_id: uuid.UUID, size: int, token: str
) -> Page:
    """Posts of the people ``person_id`` follows, their own, those of the communities
    they are a member of and under the topics they follow, newest first, each once;
    only posts they may read."""
    at, pid = _after(token)
    rows = await pool.fetch(HOME_SQL, person_id, at, pid, size + 1)
    return page_of(rows, size)
