"""Inboxes: ``check_*`` validates, ``do_*`` writes, ``notify_*`` announces on commit.

Writes triggered by events run inside the consumer's transaction (the same one that
records the event id), so a notification, its live-stream NOTIFY and its queued
email commit together with the dedup row, or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from hallway_common.errors import InvalidArgument
from hallway_common.fields import parse_id
from hallway_common.logs import get_logger
from hallway_common.pagination import decode_time_cursor, encode_time_cursor
from hallway_notification import prefs
from hallway_notification.kinds import KINDS, MENTION, NEW_FOLLOWER
from hallway_notification.metrics import NOTIFICATIONS_CREATED

log = get_logger(__name__)

# Delivered by PostgreSQL at commit to every replica's listener: '<person_id>:<id>'.
NOTIFY_CHANNEL = "hallway_notifications"
__all__ = ["KINDS", "MENTION", "NEW_FOLLOWER"]  # kinds live in kinds.py; re-exported
SNIPPET_CHARS = 140
# Bounds the fan-out of one post; the feed service limits mentions well below this.
MAX_MENTIONS = 200
MAX_MARK_IDS = 500
COLUMNS = "id, person_id, kind, actor_id, post_id, snippet, created_at, read_at"


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    next_token: str
    unread_count: int


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of a post for an inbox line: one line, at most ``limit`` characters.

    Whitespace and control characters collapse to single spaces; a cut falls on a
    word boundary when one is near and ends with an ellipsis.
    """
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "\u2026"


def mention_recipients(author_id: uuid.UUID, mentions: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Distinct mentioned people in mention order, without the author, at most MAX_MENTIONS."""
    recipients = [p for p in dict.fromkeys(mentions) if p != author_id]
    if len(recipients) > MAX_MENTIONS:
        log.warning("post mentions too many people; truncating", count=len(recipients))
    return recipients[:MAX_MENTIONS]


def _when(occurred_at: datetime) -> datetime:
    """When it happened per the event, but never in the future (producer clock skew)."""
    now = datetime.now(UTC)
    return min(occurred_at, now) if occurred_at.tzinfo else now


async def _insert(
    conn: asyncpg.Connection,
    kind: str,
    people: Sequence[uuid.UUID],
    actor_id: uuid.UUID,
    post_id: uuid.UUID | None,
    text: str,
    event_id: str,
    created_at: datetime,
    in_app: bool = True,
) -> list[asyncpg.Record]:
    """Insert one notification per person (duplicates skipped); returns the new rows.

    ``in_app=False`` keeps a row only to carry its e-mail: born read, never announced.
    """
    if not people:
        return []
    rows = await conn.fetch(
        """INSERT INTO notifications (person_id, kind, actor_id, post_id, snippet,
                                      source_event_id, created_at, in_app, read_at)
           SELECT p, $2, $3, $4, $5, $6, $7::timestamptz, $8::bool,
                  CASE WHEN $8::bool THEN NULL ELSE $7::timestamptz END
           FROM unnest($1::uuid[]) AS p
           ON CONFLICT DO NOTHING
           RETURNING id, person_id""",
        list(people),
        kind,
        actor_id,
        post_id,
        text,
        uuid.UUID(event_id),
        created_at,
        in_app,
    )
    if rows and in_app:
        await notify_new(conn, rows)
        # Each person with an inbox notification has a digest schedule.
        await conn.execute(
            "INSERT INTO digests (person_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING",
            list({r["person_id"] for r in rows}),
        )
        # Counted inside the transaction: the handler is its last step, so a
        # rollback after this point is rare enough not to skew the rate.
        NOTIFICATIONS_CREATED.labels(kind).inc(len(rows))
    return rows


async def _deliver(
    conn: asyncpg.Connection,
    kind: str,
    people: Sequence[uuid.UUID],
    actor_id: uuid.UUID,
    post_id: uuid.UUID | None,
    text: str,
    event_id: str,
    created_at: datetime,
) -> list[asyncpg.Record]:
    """Notify ``people`` as their preferences for ``kind`` say; returns the inbox rows.

    In-app on: an inbox row. In-app off, e-mail on: a hidden row carrying the e-mail.
    Both off: nothing. Immediate e-mails are queued for people with e-mail on and a
    known address (the mailer re-checks both at send time)."""
    switches = await prefs.switches_for(conn, people, kind)
    shown = [p for p in people if switches[p][0]]
    hidden = [p for p in people if not switches[p][0] and switches[p][1]]
    rows = await _insert(conn, kind, shown, actor_id, post_id, text, event_id, created_at)
    quiet = await _insert(
        conn, kind, hidden, actor_id, post_id, text, event_id, created_at, in_app=False
    )
    mail = [r["id"] for r in (*rows, *quiet) if switches[r["person_id"]][1]]
    if mail:
        await conn.execute(
            """INSERT INTO email_outbox (notification_id)
               SELECT n.id FROM unnest($1::uuid[]) AS n(id)
               JOIN notifications USING (id)
               JOIN email_addresses e USING (person_id)
               WHERE e.email IS NOT NULL
               ON CONFLICT DO NOTHING""",
            mail,
        )
    return rows


async def notify_new(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
    """Tell every replica's stream listener; PostgreSQL delivers it only on commit."""
    await conn.execute(
        "SELECT pg_notify($1, m) FROM unnest($2::text[]) AS m",
        NOTIFY_CHANNEL,
        [f"{r['person_id']}:{r['id']}" for r in rows],
    )


async def do_notify_mentions(
    conn: asyncpg.Connection,
    event_id: str,
    post_id: uuid.UUID,
    author_id: uuid.UUID,
    text: str,
    mentions: Iterable[uuid.UUID],
    occurred_at: datetime,
) -> int:
    """One MENTION per mentioned person (not the author), as their preferences say."""
    if await conn.fetchval("SELECT true FROM deleted_posts WHERE post_id = $1", post_id):
        log.info("post already deleted; no mentions", post_id=str(post_id))
        return 0
    rows = await _deliver(
        conn,
        MENTION,
        mention_recipients(author_id, mentions),
        author_id,
        post_id,
        snippet(text),
        event_id,
        _when(occurred_at),
    )
    return len(rows)


async def do_forget_post(conn: asyncpg.Connection, post_id: uuid.UUID) -> int:
    """A deleted post leaves no trace in inboxes (pending emails go with it)."""
    await conn.execute(
        "INSERT INTO deleted_posts (post_id) VALUES ($1) ON CONFLICT DO NOTHING", post_id
    )
    status = await conn.execute("DELETE FROM notifications WHERE post_id = $1", post_id)
    return int(status.split()[-1])


async def do_notify_follower(
    conn: asyncpg.Connection,
    event_id: str,
    follower_id: uuid.UUID,
    followee_id: uuid.UUID,
    occurred_at: datetime,
) -> int:
    """NEW_FOLLOWER for the followee, with the follower as actor."""
    if follower_id == followee_id:
        return 0
    rows = await _deliver(
        conn, NEW_FOLLOWER, [followee_id], follower_id, None, "", event_id, _when(occurred_at)
    )
    return len(rows)


async def unread_count(conn: asyncpg.Connection | asyncpg.Pool, person_id: uuid.UUID) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE person_id = $1 AND read_at IS NULL AND in_app",
        person_id,
    )


async def list_notifications(
    pool: asyncpg.Pool, person_id: uuid.UUID, size: int, token: str, unread_only: bool
) -> Page:
    """Newest first, keyset-paginated on (created_at, id)."""
    after = decode_time_cursor(token)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""SELECT {COLUMNS} FROM notifications
                WHERE person_id = $1 AND in_app AND (NOT $2::bool OR read_at IS NULL)
                  AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $5""",
            person_id,
            unread_only,
            after[0] if after else None,
            after[1] if after else None,
            size + 1,
        )
        count = await unread_count(conn, person_id)
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    token = encode_time_cursor(last["created_at"], last["id"]) if more and last else ""
    return Page(rows, token, count)


def check_mark_read(ids: Sequence[str], all_: bool) -> list[uuid.UUID]:
    """The ids to mark (empty with ``all_``); INVALID_ARGUMENT when nothing is named."""
    if all_:
        return []
    if not ids:
        raise InvalidArgument("give notification_ids or set all")
    if len(ids) > MAX_MARK_IDS:
        raise InvalidArgument(f"at most {MAX_MARK_IDS} notification_ids per call")
    return list(dict.fromkeys(parse_id(i, "notification_ids") for i in ids))


async def do_mark_read(
    pool: asyncpg.Pool, person_id: uuid.UUID, ids: Sequence[uuid.UUID], all_: bool
) -> tuple[int, int]:
    """Mark the person's own notifications read; others' ids never match. (updated, unread)."""
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.execute(
            """UPDATE notifications SET read_at = now()
               WHERE person_id = $1 AND read_at IS NULL AND ($2::bool OR id = ANY($3::uuid[]))""",
            person_id,
            all_,
            list(ids),
        )
        count = await unread_count(conn, person_id)
    return int(status.split()[-1]), count


async def fetch_for_delivery(
    pool: asyncpg.Pool, ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, asyncpg.Record], dict[uuid.UUID, int]]:
    """Rows by id (deleted ones are absent) and the unread count of their owners."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM notifications WHERE id = ANY($1::uuid[]) AND in_app",
            list(ids),
        )
        counts = await conn.fetch(
            """SELECT person_id, count(*) AS n FROM notifications
               WHERE person_id = ANY($1::uuid[]) AND read_at IS NULL AND in_app
               GROUP BY person_id""",
            list({r["person_id"] for r in rows}),
        )
    return {r["id"]: r for r in rows}, {r["person_id"]: r["n"] for r in counts}


async def housekeeping(pool: asyncpg.Pool, retention_days: int) -> dict[str, Any]:
    """Forget old notifications and deleted-post tombstones (the runtime purges event ids)."""
    result = {}
    for name, sql, days in (
        (
            "notifications",
            "DELETE FROM notifications WHERE created_at < now() - make_interval(days => $1)",
            retention_days,
        ),
        (
            "deleted_posts",
            "DELETE FROM deleted_posts WHERE deleted_at < now() - make_interval(days => $1)",
            retention_days,
        ),
    ):
        status = await pool.execute(sql, days)
        result[name] = int(status.split()[-1])
    return result


async def do_set_address(
    conn: asyncpg.Connection, person_id: uuid.UUID, email: str | None, version: int
) -> None:
    """Record a person's address (None: no mail) unless a newer version is held."""
    await conn.execute(
        """INSERT INTO email_addresses (person_id, email, version, updated_at)
           VALUES ($1, $2, $3, now())
           ON CONFLICT (person_id) DO UPDATE SET email = EXCLUDED.email,
               version = EXCLUDED.version, updated_at = now()
           WHERE email_addresses.version < EXCLUDED.version""",
        person_id,
        email,
        version,
    )
