"""Comments (one level of replies), reactions and their counts; followed #topics.

A comment or reaction belongs to its post: whoever may not read the post may not
see, write or even learn of them (NOT_FOUND, as for the post). Counts live beside
the rows they count and change in the same transaction; a page of posts reads all
its counts in two batched queries (``counts``). Only conversations on public posts
are published, like the posts themselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from hallway_common.contracts import (
    CommentCreated,
    CommentDeleted,
    CommentState,
    CommentUpdated,
    ReactionCreated,
    ReactionDeleted,
    ReactionState,
)
from hallway_common.errors import InvalidArgument, NotFound, PermissionDenied
from hallway_common.events import Event, new_event, tombstone
from hallway_common.outbox import enqueue
from hallway_common.pagination import decode_time_cursor, encode_time_cursor
from hallway_common.tracing import current_traceparent
from hallway_feed import communities, notices
from hallway_feed import text as rules
from hallway_feed.metrics import COMMENTS_WRITTEN, REACTIONS_CHANGED
from hallway_feed.posts import (
    POST_COLUMNS,
    READABLE,
    Page,
    check_author,
    page_of,
    resolve_mentions,
)
from hallway_feed.retraction import reaction_key

KINDS = ("like", "celebrate", "insightful", "support", "funny")
MAX_REPLIES_PER_COMMENT = 100
COMMENT_COLUMNS = (
    "cm.id, cm.post_id, cm.parent_id, cm.author_id, cm.text, cm.mentions, cm.version, "
    "cm.created_at, cm.edited_at"
)
POST_NOT_FOUND = "post not found"
COMMENT_NOT_FOUND = "comment not found"


@dataclass(frozen=True)
class PostRef:
    """A post as its conversation needs it."""

    id: uuid.UUID
    author_id: uuid.UUID
    community_id: uuid.UUID | None
    public: bool
    comment_count: int = 0


async def readable_post(
    conn: asyncpg.Connection, post_id: uuid.UUID, reader: uuid.UUID, *, lock: bool = False
) -> PostRef:
    """The post, if the reader may read it; NOT_FOUND otherwise (as for no post)."""
    row = await conn.fetchrow(
        f"""SELECT p.id, p.author_id, p.community_id, p.comment_count,
                   (p.community_id IS NULL OR (SELECT c.visibility = 'public' FROM communities c
                                               WHERE c.id = p.community_id)) AS public
            FROM posts p WHERE p.id = $2 AND p.deleted_at IS NULL AND {READABLE}"""
        + (" FOR UPDATE OF p" if lock else ""),
        reader,
        post_id,
    )
    if row is None:
        raise NotFound(POST_NOT_FOUND)
    return PostRef(
        row["id"], row["author_id"], row["community_id"], row["public"], row["comment_count"]
    )


async def _community_of(conn: asyncpg.Connection, post: PostRef) -> asyncpg.Record | None:
    """The post's community as a notice names it (None for a personal post)."""
    if post.community_id is None:
        return None
    return await conn.fetchrow("SELECT id, name FROM communities WHERE id = $1", post.community_id)


# Comments ------------------------------------------------------------------------------


def _comment_fields(row: asyncpg.Record, post: PostRef, parent_author: Any) -> dict[str, Any]:
    return {
        "comment_id": row["id"],
        "post_id": row["post_id"],
        "post_author_id": post.author_id,
        "parent_id": row["parent_id"],
        "parent_author_id": parent_author,
        "author_id": row["author_id"],
        "text": row["text"],
        "mentions": [uuid.UUID(m["person_id"]) for m in row["mentions"]],
        "version": row["version"],
        "created_at": row["created_at"],
        "edited_at": row["edited_at"],
        "occurred_at": row["edited_at"] or row["created_at"],
    }


def comment_state(fields: dict[str, Any]) -> Event:
    state = CommentState(**fields)
    return new_event(state.type, state, current_traceparent())


async def _parent_author(conn: asyncpg.Connection, parent_id: uuid.UUID | None) -> Any:
    if parent_id is None:
        return None
    return await conn.fetchval("SELECT author_id FROM comments WHERE id = $1", parent_id)


async def do_comment(
    pool: asyncpg.Pool,
    prefix: str,
    post_id: uuid.UUID,
    author: uuid.UUID,
    text: str,
    parent_id: uuid.UUID | None = None,
) -> asyncpg.Record:
    """Comment on a post, or reply to a comment of it. A reply to a reply joins its
    thread (one level). NOT_FOUND for a post or parent comment the author may not read."""
    text = rules.check_text(text)
    candidates = rules.mention_candidates(text)
    async with pool.acquire() as conn, conn.transaction():
        await check_author(conn, author)
        post = await readable_post(conn, post_id, author, lock=True)
        if parent_id is not None:
            parent = await conn.fetchrow(
                """SELECT id, parent_id FROM comments
                   WHERE id = $1 AND post_id = $2 AND deleted_at IS NULL""",
                parent_id,
                post_id,
            )
            if parent is None:
                raise NotFound(COMMENT_NOT_FOUND)
            parent_id = parent["parent_id"] or parent["id"]
        mentions = await resolve_mentions(conn, candidates)
        row = await conn.fetchrow(
            f"""INSERT INTO comments AS cm (id, post_id, parent_id, author_id, text, mentions,
                                            created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COMMENT_COLUMNS}""",
            uuid.uuid4(),
            post_id,
            parent_id,
            author,
            text,
            mentions,
            datetime.now(UTC),
        )
        await conn.execute(
            "UPDATE posts SET comment_count = comment_count + 1 WHERE id = $1", post_id
        )
        events = await _comment_notices(conn, post, row, author, text)
        if post.public:
            fields = _comment_fields(row, post, await _parent_author(conn, parent_id))
            created = CommentCreated(**fields)
            events += [
                new_event(created.type, created, current_traceparent()),
                comment_state(fields),
            ]
        await enqueue(conn, events, prefix)
    COMMENTS_WRITTEN.labels("created").inc()
    return row


async def _comment_notices(
    conn: asyncpg.Connection, post: PostRef, row: asyncpg.Record, author: uuid.UUID, text: str
) -> list[Event]:
    """Mentioned people hear of the mention; the post's author and everyone in the
    thread (the comment replied to and its replies) of the reply. Readers only."""
    community = await _community_of(conn, post)
    mentioned = set(
        await notices.readers_among(
            conn, [uuid.UUID(m["person_id"]) for m in row["mentions"]], post.community_id
        )
    )
    thread: set[uuid.UUID] = {post.author_id}
    if row["parent_id"] is not None:
        authors = await conn.fetch(
            """SELECT DISTINCT author_id FROM comments
               WHERE (id = $1 OR parent_id = $1) AND deleted_at IS NULL""",
            row["parent_id"],
        )
        thread |= {a["author_id"] for a in authors}
    repliers = await notices.readers_among(conn, thread - mentioned, post.community_id)
    common = {"post_id": post.id, "comment_id": row["id"], "community": community, "text": text}
    return notices.created("mention", mentioned, author, **common) + notices.created(
        "reply", repliers, author, **common
    )


async def _own_comment(
    conn: asyncpg.Connection, comment_id: uuid.UUID, actor: uuid.UUID
) -> tuple[asyncpg.Record, PostRef]:
    row = await conn.fetchrow(
        f"""SELECT {COMMENT_COLUMNS} FROM comments cm
            WHERE cm.id = $1 AND cm.deleted_at IS NULL FOR UPDATE""",
        comment_id,
    )
    if row is None:
        raise NotFound(COMMENT_NOT_FOUND)
    try:
        post = await readable_post(conn, row["post_id"], actor, lock=True)
    except NotFound:
        raise NotFound(COMMENT_NOT_FOUND) from None
    return row, post


async def do_edit_comment(
    pool: asyncpg.Pool, prefix: str, comment_id: uuid.UUID, actor: uuid.UUID, text: str
) -> asyncpg.Record:
    """The author edits their comment: marked edited, the earlier text kept for
    moderators."""
    text = rules.check_text(text)
    candidates = rules.mention_candidates(text)
    async with pool.acquire() as conn, conn.transaction():
        before, post = await _own_comment(conn, comment_id, actor)
        if before["author_id"] != actor:
            raise PermissionDenied("only the author may edit a comment")
        if before["text"] == text:
            return before
        await conn.execute(
            """INSERT INTO comment_edits (comment_id, version, text, written_at)
               VALUES ($1, $2, $3, $4)""",
            comment_id,
            before["version"],
            before["text"],
            before["edited_at"] or before["created_at"],
        )
        mentions = await resolve_mentions(conn, candidates)
        row = await conn.fetchrow(
            f"""UPDATE comments cm SET text = $2, mentions = $3, version = version + 1,
                    edited_at = $4
                WHERE id = $1 RETURNING {COMMENT_COLUMNS}""",
            comment_id,
            text,
            mentions,
            datetime.now(UTC),
        )
        if post.public:
            fields = _comment_fields(row, post, await _parent_author(conn, row["parent_id"]))
            updated = CommentUpdated(**fields)
            await enqueue(
                conn,
                [new_event(updated.type, updated, current_traceparent()), comment_state(fields)],
                prefix,
            )
    COMMENTS_WRITTEN.labels("edited").inc()
    return row


async def do_delete_comment(
    pool: asyncpg.Pool, prefix: str, comment_id: uuid.UUID, actor: uuid.UUID
) -> None:
    """Delete a comment (its author, or an owner or admin of the post's community, who
    moderate it); a top-level comment takes its replies with it."""
    async with pool.acquire() as conn, conn.transaction():
        row, post = await _own_comment(conn, comment_id, actor)
        if row["author_id"] != actor and not await _moderates(conn, post, actor):
            raise PermissionDenied("only the author or the community's admins may delete it")
        now = datetime.now(UTC)
        gone = await conn.fetch(
            """UPDATE comments SET deleted_at = $2, text = '', mentions = '[]',
                   version = version + 1
               WHERE (id = $1 OR parent_id = $1) AND deleted_at IS NULL
               RETURNING id, post_id, author_id, version""",
            comment_id,
            now,
        )
        await conn.execute(
            "UPDATE posts SET comment_count = comment_count - $2 WHERE id = $1",
            row["post_id"],
            len(gone),
        )
        scope = post.community_id or post.id
        retractions = [notices.retracted(scope, comment_id=g["id"]) for g in gone]
        await enqueue(conn, retractions, prefix)
        if post.public:
            trace = current_traceparent()
            events: list[Event] = []
            for g in gone:
                deleted = CommentDeleted(
                    comment_id=g["id"],
                    post_id=g["post_id"],
                    author_id=g["author_id"],
                    reason="deleted",
                    version=g["version"],
                    occurred_at=now,
                )
                events += [
                    new_event(deleted.type, deleted, trace),
                    tombstone("hallway.feed.comment.state", str(g["id"]), now, trace),
                ]
            await enqueue(conn, events, prefix)
    COMMENTS_WRITTEN.labels("deleted").inc(len(gone))


async def _moderates(conn: asyncpg.Connection, post: PostRef, actor: uuid.UUID) -> bool:
    if post.community_id is None:
        return False
    return (await communities.access(conn, post.community_id, actor)).manager


async def list_comments(
    pool: asyncpg.Pool, post_id: uuid.UUID, reader: uuid.UUID, size: int, token: str
) -> Page:
    """A page of top-level comments, oldest first, each followed by its replies (up to
    ``MAX_REPLIES_PER_COMMENT``, oldest first). The token continues after the last
    top-level comment."""
    after = decode_time_cursor(token)
    async with pool.acquire() as conn:
        await readable_post(conn, post_id, reader)
        tops = await conn.fetch(
            f"""SELECT {COMMENT_COLUMNS} FROM comments cm
                WHERE cm.post_id = $1 AND cm.parent_id IS NULL AND cm.deleted_at IS NULL
                  AND ($2::timestamptz IS NULL OR (cm.created_at, cm.id) > ($2, $3::uuid))
                ORDER BY cm.created_at, cm.id LIMIT $4""",
            post_id,
            after[0] if after else None,
            after[1] if after else None,
            size + 1,
        )
        more = len(tops) > size
        tops = tops[:size]
        replies = await conn.fetch(
            f"""SELECT r.* FROM unnest($1::uuid[]) AS t(id)
                CROSS JOIN LATERAL (
                    SELECT {COMMENT_COLUMNS} FROM comments cm
                    WHERE cm.parent_id = t.id AND cm.deleted_at IS NULL
                    ORDER BY cm.created_at, cm.id LIMIT $2) r""",
            [t["id"] for t in tops],
            MAX_REPLIES_PER_COMMENT,
        )
    by_parent: dict[uuid.UUID, list[asyncpg.Record]] = {}
    for r in replies:
        by_parent.setdefault(r["parent_id"], []).append(r)
    rows = [row for t in tops for row in (t, *by_parent.get(t["id"], []))]
    token_out = encode_time_cursor(tops[-1]["created_at"], tops[-1]["id"]) if more else ""
    return Page(rows, token_out)


async def comment_history(
    pool: asyncpg.Pool, comment_id: uuid.UUID, actor: uuid.UUID, actor_is_admin: bool
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """A comment and its earlier texts, oldest first: for network admins (moderators)
    and the comment's author. NOT_FOUND for anyone who may not read the post."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {COMMENT_COLUMNS} FROM comments cm WHERE cm.id = $1 AND cm.deleted_at IS NULL",
            comment_id,
        )
        if row is None:
            raise NotFound(COMMENT_NOT_FOUND)
        if not actor_is_admin:
            try:
                await readable_post(conn, row["post_id"], actor)
            except NotFound:
                raise NotFound(COMMENT_NOT_FOUND) from None
            if row["author_id"] != actor:
                raise PermissionDenied("the edit history is for moderators and the author")
        edits = await conn.fetch(
            """SELECT version, text, written_at FROM comment_edits
               WHERE comment_id = $1 ORDER BY version""",
            comment_id,
        )
    return row, edits


def public_comment_record(row: asyncpg.Record) -> Event | None:
    """republish-state: a comment's state record when its post is live and public (a
    tombstone once the comment is deleted); none otherwise."""
    post_author, public = row["post"]
    if not public:
        return None
    if row["deleted_at"] is not None:
        return tombstone(
            "hallway.feed.comment.state", str(row["id"]), row["deleted_at"], current_traceparent()
        )
    post = PostRef(row["post_id"], post_author, None, True)
    return comment_state(_comment_fields(row, post, row["parent_author_id"]))


def public_reaction_record(row: asyncpg.Record) -> Event | None:
    """republish-state: a reaction's state record when its post is live and public."""
    post_author, public = row["post"]
    if not public:
        return None
    state = ReactionState(
        post_id=row["post_id"],
        post_author_id=post_author,
        person_id=row["person_id"],
        kind=row["kind"],
        occurred_at=row["created_at"],
    )
    return new_event(state.type, state, current_traceparent())


# Reactions -----------------------------------------------------------------------------


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidArgument(f"kind must be one of {', '.join(KINDS)}")
    return kind


def _reaction_events(post: PostRef, person: uuid.UUID, kind: str, added: bool) -> list[Event]:
    trace = current_traceparent()
    now = datetime.now(UTC)
    fields = {
        "post_id": post.id,
        "post_author_id": post.author_id,
        "person_id": person,
        "kind": kind,
        "occurred_at": now,
    }
    if added:
        created = ReactionCreated(**fields)
        state = ReactionState(**fields)
        return [new_event(created.type, created, trace), new_event(state.type, state, trace)]
    deleted = ReactionDeleted(**fields)
    return [
        new_event(deleted.type, deleted, trace),
        tombstone("hallway.feed.reaction.state", reaction_key(post.id, person, kind), now, trace),
    ]


async def do_react(
    pool: asyncpg.Pool, prefix: str, post_id: uuid.UUID, person: uuid.UUID, kind: str, on: bool
) -> Counts:
    """Add (``on``) or take back one reaction; doing it twice is not an error. Returns
    the post's counts after the change."""
    check_kind(kind)
    async with pool.acquire() as conn, conn.transaction():
        if on:
            await check_author(conn, person)
        post = await readable_post(conn, post_id, person)
        if on:
            changed = await conn.fetchval(
                """INSERT INTO reactions (post_id, person_id, kind, created_at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
                post_id,
                person,
                kind,
                datetime.now(UTC),
            )
        else:
            changed = await conn.fetchval(
                """DELETE FROM reactions WHERE post_id = $1 AND person_id = $2 AND kind = $3
                   RETURNING true""",
                post_id,
                person,
                kind,
            )
        if changed:
            if on:
                await conn.execute(
                    """INSERT INTO reaction_counts (post_id, kind, count) VALUES ($1, $2, 1)
                       ON CONFLICT (post_id, kind) DO UPDATE SET count = reaction_counts.count + 1""",
                    post_id,
                    kind,
                )
            else:  # the row exists: the reaction just deleted was counted in it
                await conn.execute(
                    """UPDATE reaction_counts SET count = count - 1
                       WHERE post_id = $1 AND kind = $2""",
                    post_id,
                    kind,
                )
            events = _reaction_events(post, person, kind, on) if post.public else []
            if on:
                community = await _community_of(conn, post)
                author = await notices.readers_among(conn, [post.author_id], post.community_id)
                events += notices.created(
                    "reaction", author, person, post_id=post.id, community=community, reaction=kind
                )
            await enqueue(conn, events, prefix)
            REACTIONS_CHANGED.labels("added" if on else "removed").inc()
        summary = (await counts(conn, [post_id], person))[post_id]
        summary.comments = post.comment_count
        return summary


async def list_reactions(
    pool: asyncpg.Pool, post_id: uuid.UUID, reader: uuid.UUID, kind: str, size: int, token: str
) -> Page:
    """Who reacted (of one kind, or any when empty), newest first."""
    if kind:
        check_kind(kind)
    after = decode_time_cursor(token)
    async with pool.acquire() as conn:
        await readable_post(conn, post_id, reader)
        rows = await conn.fetch(
            """SELECT person_id, kind, created_at, person_id AS id FROM reactions
               WHERE post_id = $1 AND ($2 = '' OR kind = $2)
                 AND ($3::timestamptz IS NULL OR (created_at, person_id) < ($3, $4::uuid))
               ORDER BY created_at DESC, person_id DESC LIMIT $5""",
            post_id,
            kind,
            after[0] if after else None,
            after[1] if after else None,
            size + 1,
        )
    return page_of(rows, size)


@dataclass
class Counts:
    """A post's conversation at a glance, for one reader (``comments`` comes with the
    post row, ``posts.comment_count``; ``counts`` reads the reactions)."""

    comments: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    mine: list[str] = field(default_factory=list)


async def counts(
    conn: asyncpg.Connection | asyncpg.Pool, post_ids: list[uuid.UUID], reader: uuid.UUID
) -> dict[uuid.UUID, Counts]:
    """Reaction counts and the reader's own reactions of many posts, in two index
    lookups whatever the number of posts."""
    out = {pid: Counts() for pid in post_ids}
    if not post_ids:
        return out
    for row in await conn.fetch(
        """SELECT post_id, kind, count FROM reaction_counts
           WHERE post_id = ANY($1::uuid[]) AND count > 0""",
        post_ids,
    ):
        out[row["post_id"]].reactions[row["kind"]] = row["count"]
    for row in await conn.fetch(
        """SELECT post_id, kind FROM reactions
           WHERE post_id = ANY($1::uuid[]) AND person_id = $2 ORDER BY kind""",
        post_ids,
        reader,
    ):
        out[row["post_id"]].mine.append(row["kind"])
    return out


# Topics --------------------------------------------------------------------------------


def check_tag(tag: str) -> str:
    """A #topic as posts store it: lower-cased, without '#'."""
    bare = tag.strip().removeprefix("#")
    if rules.parse_hashtags("#" + bare) != [bare.lower()]:
        raise InvalidArgument(f"{tag!r} is not a topic (a #word of letters, digits or _)")
    return bare.lower()


async def do_follow_topic(pool: asyncpg.Pool, person: uuid.UUID, tag: str, on: bool) -> bool:
    """Follow or unfollow a topic; returns whether anything changed."""
    tag = check_tag(tag)
    if on:
        status = await pool.execute(
            """INSERT INTO topic_follows (person_id, tag, created_at) VALUES ($1, $2, $3)
               ON CONFLICT DO NOTHING""",
            person,
            tag,
            datetime.now(UTC),
        )
    else:
        status = await pool.execute(
            "DELETE FROM topic_follows WHERE person_id = $1 AND tag = $2", person, tag
        )
    return status.split()[-1] != "0"


async def get_topic(pool: asyncpg.Pool, person: uuid.UUID, tag: str) -> tuple[str, int, bool]:
    """(tag, followers, whether the person follows it)."""
    tag = check_tag(tag)
    row = await pool.fetchrow(
        """SELECT count(*) AS followers, bool_or(person_id = $2) AS mine
           FROM topic_follows WHERE tag = $1""",
        tag,
        person,
    )
    return tag, row["followers"], bool(row["mine"])


async def list_topic_posts(
    pool: asyncpg.Pool, tag: str, reader: uuid.UUID, size: int, token: str
) -> Page:
    """Posts under a topic that the reader may read, newest first."""
    tag = check_tag(tag)
    after = decode_time_cursor(token)
    rows = await pool.fetch(
        f"""SELECT {POST_COLUMNS} FROM post_tags t JOIN posts p ON p.id = t.post_id
            WHERE t.tag = $2 AND p.deleted_at IS NULL AND {READABLE}
              AND ($3::timestamptz IS NULL OR (t.created_at, t.post_id) < ($3, $4::uuid))
            ORDER BY t.created_at DESC, t.post_id DESC LIMIT $5""",
        reader,
        tag,
        after[0] if after else None,
        after[1] if after else None,
        size + 1,
    )
    return page_of(rows, size)
