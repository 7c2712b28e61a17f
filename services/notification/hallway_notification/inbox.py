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
from hallway_common.failures import Rejected
from hallway_common.fields import parse_id
from hallway_common.logs import get_logger
from hallway_common.pagination import decode_time_cursor, encode_time_cursor
from hallway_notification import prefs
from hallway_notification.kinds import (
    COMMUNITY_INVITE,
    COMMUNITY_POST,
    GROUPED,
    JOIN_REQUEST,
    KINDS,
    MENTION,
    NEW_FOLLOWER,
    REACTION,
    REPLY,
    REQUEST_APPROVED,
)
from hallway_notification.metrics import NOTIFICATIONS_CREATED, NOTIFICATIONS_GROUPED

log = get_logger(__name__)

# Delivered by PostgreSQL at commit to every replica's listener: '<person_id>:<id>'.
NOTIFY_CHANNEL = "hallway_notifications"
# kinds live in kinds.py; re-exported
__all__ = [
    "COMMUNITY_INVITE",
    "COMMUNITY_POST",
    "JOIN_REQUEST",
    "KINDS",
    "MENTION",
    "NEW_FOLLOWER",
    "REACTION",
    "REPLY",
    "REQUEST_APPROVED",
]
SNIPPET_CHARS = 140
# Bounds the fan-out of one post; the feed service limits mentions well below this.
MAX_MENTIONS = 200
MAX_MARK_IDS = 500
NAME_CHARS = 200
COLUMNS = (
    "id, person_id, kind, actor_id, post_id, snippet, created_at, read_at, comment_id, "
    "community_id, community_name, reaction, actor_count"
)
# An e-mail-only group (in-app off, so never read) stays open this long: at most one
# e-mail per person, kind and post in that time.
MAIL_GROUP_SECONDS = 3600.0


@dataclass(frozen=True)
class About:
    """What a notification is about (all optional; the table's CHECKs say which kind
    needs what)."""

    post_id: uuid.UUID | None = None
    comment_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    community_name: str = ""
    reaction: str | None = None


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
    about: About,
    text: str,
    event_id: str | uuid.UUID,
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
                                      source_event_id, created_at, in_app, read_at,
                                      comment_id, community_id, community_name, reaction)
           SELECT p, $2, $3, $4, $5, $6, $7::timestamptz, $8::bool,
                  CASE WHEN $8::bool THEN NULL ELSE $7::timestamptz END, $9, $10, $11, $12
           FROM unnest($1::uuid[]) AS p
           ON CONFLICT DO NOTHING
           RETURNING id, person_id""",
        list(people),
        kind,
        actor_id,
        about.post_id,
        text,
        event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(event_id),
        created_at,
        in_app,
        about.comment_id,
        about.community_id,
        about.community_name,
        about.reaction,
    )
    if rows and in_app:
        await _announce(conn, rows)
        # Counted inside the transaction: the handler is its last step, so a
        # rollback after this point is rare enough not to skew the rate.
        NOTIFICATIONS_CREATED.labels(kind).inc(len(rows))
    return rows


async def _announce(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
    """New or changed inbox rows: to the live streams, and a digest schedule for their people."""
    await notify_new(conn, rows)
    # Each person with an inbox notification has a digest schedule.
    await conn.execute(
        "INSERT INTO digests (person_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING",
        list({r["person_id"] for r in rows}),
    )


async def _queue_mail(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> None:
    """Queue immediate e-mails for these notifications where their person has an address."""
    if ids:
        await conn.execute(
            """INSERT INTO email_outbox (notification_id)
               SELECT n.id FROM unnest($1::uuid[]) AS n(id)
               JOIN notifications USING (id)
               JOIN email_addresses e USING (person_id)
               WHERE e.email IS NOT NULL
               ON CONFLICT DO NOTHING""",
            list(ids),
        )


async def _deliver(
    conn: asyncpg.Connection,
    kind: str,
    people: Sequence[uuid.UUID],
    actor_id: uuid.UUID,
    about: About,
    text: str,
    event_id: str | uuid.UUID,
    created_at: datetime,
) -> list[asyncpg.Record]:
    """Notify ``people`` as their preferences for ``kind`` say; returns the inbox rows.

    In-app on: an inbox row. In-app off, e-mail on: a hidden row carrying the e-mail.
    Both off: nothing. Immediate e-mails are queued for people with e-mail on and a
    known address (the mailer re-checks both at send time)."""
    switches = await prefs.switches_for(conn, people, kind)
    shown = [p for p in people if switches[p][0]]
    hidden = [p for p in people if not switches[p][0] and switches[p][1]]
    rows = await _insert(conn, kind, shown, actor_id, about, text, event_id, created_at)
    quiet = await _insert(
        conn, kind, hidden, actor_id, about, text, event_id, created_at, in_app=False
    )
    await _queue_mail(conn, [r["id"] for r in (*rows, *quiet) if switches[r["person_id"]][1]])
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
    community_id: uuid.UUID | None = None,
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
        About(post_id=post_id, community_id=community_id),
        snippet(text),
        event_id,
        _when(occurred_at),
    )
    return len(rows)


async def do_forget_post(
    conn: asyncpg.Connection, post_id: uuid.UUID, tombstone: bool = True
) -> int:
    """A deleted post leaves no trace in inboxes (pending emails go with it).

    ``tombstone=False`` (a post withdrawn from the public audience, still readable by
    its community's members): what is held goes, later notices about it still count."""
    if tombstone:
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
        conn, NEW_FOLLOWER, [followee_id], follower_id, About(), "", event_id, _when(occurred_at)
    )
    return len(rows)


# -- notices from feed (hallway.feed.notice.v1) -----------------------------------------


@dataclass(frozen=True)
class Notice:
    """A NoticeCreated as the inbox needs it (decoupled from the contract model)."""

    notice_id: uuid.UUID
    kind: str
    recipients: Sequence[uuid.UUID]
    actor_id: uuid.UUID
    about: About
    snippet: str
    occurred_at: datetime


def notice_recipients(actor_id: uuid.UUID, recipients: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """Distinct recipients in order, without the actor (nobody hears of their own doing)."""
    return [p for p in dict.fromkeys(recipients) if p != actor_id]


POST_KINDS = (MENTION, REPLY, REACTION, COMMUNITY_POST)
COMMUNITY_KINDS = (COMMUNITY_INVITE, JOIN_REQUEST, REQUEST_APPROVED)


def check_notice(notice: Notice) -> None:
    """Rejected (dead-lettered, replayable after a fix) when a notice lacks what its kind
    is about: a post for content kinds, a community for community kinds."""
    if notice.kind in POST_KINDS and notice.about.post_id is None:
        raise Rejected(f"a {notice.kind} notice without post_id")
    if notice.kind in COMMUNITY_KINDS and notice.about.community_id is None:
        raise Rejected(f"a {notice.kind} notice without community_id")
    if notice.kind not in POST_KINDS + COMMUNITY_KINDS:
        raise Rejected(f"notices of kind {notice.kind[:40]!r} are not taken")


async def _retracted(conn: asyncpg.Connection, about: About) -> bool:
    """Whether the post or comment a notice is about was retracted already."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM deleted_posts WHERE post_id = $1)
                   OR EXISTS (SELECT 1 FROM deleted_comments WHERE comment_id = $2)""",
            about.post_id,
            about.comment_id,
        )
    )


async def do_notice(conn: asyncpg.Connection, notice: Notice) -> tuple[int, int]:
    """Deliver a notice to its recipients as their preferences say.

    Returns (notifications created, notices folded into an open group). Replies and
    reactions group per (person, post); the other kinds are one notification each,
    with the table's unique indexes refusing what would double up (the same mention
    from post.created and from a notice; a second unread invitation).
    """
    check_notice(notice)
    if await _retracted(conn, notice.about):
        log.info("notice about retracted content; dropped", notice_id=str(notice.notice_id))
        return 0, 0
    people = notice_recipients(notice.actor_id, notice.recipients)
    text = snippet(notice.snippet) if notice.snippet else ""
    when = _when(notice.occurred_at)
    if notice.kind in GROUPED:
        return await _deliver_grouped(
            conn, notice.kind, people, notice.actor_id, notice.about, text, notice.notice_id, when
        )
    rows = await _deliver(
        conn, notice.kind, people, notice.actor_id, notice.about, text, notice.notice_id, when
    )
    return len(rows), 0


async def _deliver_grouped(
    conn: asyncpg.Connection,
    kind: str,
    people: Sequence[uuid.UUID],
    actor_id: uuid.UUID,
    about: About,
    text: str,
    notice_id: uuid.UUID,
    when: datetime,
) -> tuple[int, int]:
    """Replies and reactions: join the person's open group for the post, else open one.

    A group is open while unread (in-app); an e-mail-only group (in-app off) for
    MAIL_GROUP_SECONDS after its last activity. Only opening a group queues an e-mail.
    Each notice is recorded as a source of its group: a notice already there (a replay,
    even under a new event id) changes nothing, and the group counts distinct people."""
    if not people:
        return 0, 0
    reached = await conn.fetch(
        """SELECT n.person_id FROM notification_sources s
           JOIN notifications n ON n.id = s.notification_id
           WHERE s.notice_id = $1 AND n.person_id = ANY($2::uuid[])""",
        notice_id,
        list(people),
    )
    done = {r["person_id"] for r in reached}
    people = [p for p in people if p not in done]
    if not people:
        return 0, 0
    switches = await prefs.switches_for(conn, people, kind)
    shown = [p for p in people if switches[p][0]]
    hidden = [p for p in people if not switches[p][0] and switches[p][1]]
    open_rows = await conn.fetch(
        """SELECT DISTINCT ON (person_id) id, person_id, in_app FROM notifications
           WHERE kind = $1 AND post_id = $2 AND (
               (person_id = ANY($3::uuid[]) AND in_app AND read_at IS NULL)
               OR (person_id = ANY($4::uuid[]) AND NOT in_app
                   AND created_at > now() - make_interval(secs => $5)))
           ORDER BY person_id, created_at DESC""",
        kind,
        about.post_id,
        shown,
        hidden,
        MAIL_GROUP_SECONDS,
    )
    joined = {r["person_id"]: r for r in open_rows}
    opened = await _insert(
        conn, kind, [p for p in shown if p not in joined], actor_id, about, text, notice_id, when
    )
    quiet = await _insert(
        conn,
        kind,
        [p for p in hidden if p not in joined],
        actor_id,
        about,
        text,
        notice_id,
        when,
        in_app=False,
    )
    await _queue_mail(conn, [r["id"] for r in (*opened, *quiet) if switches[r["person_id"]][1]])
    groups = [r["id"] for r in (*opened, *quiet)] + [r["id"] for r in open_rows]
    if not groups:
        return 0, 0
    await conn.execute(
        """INSERT INTO notification_sources (notification_id, notice_id, actor_id, comment_id,
                                             reaction, snippet, occurred_at)
           SELECT unnest($1::uuid[]), $2, $3, $4, $5, $6, $7
           ON CONFLICT DO NOTHING""",
        groups,
        notice_id,
        actor_id,
        about.comment_id,
        about.reaction,
        text,
        when,
    )
    if open_rows:
        ids = [r["id"] for r in open_rows]
        # The newest notice shows (a late, older one only adds to the count) and the
        # group moves up the inbox; a digest lists a group again once it grew.
        await conn.execute(
            """UPDATE notifications SET actor_id = $2, snippet = $3, comment_id = $4,
                      reaction = $5, created_at = $6
               WHERE id = ANY($1::uuid[]) AND created_at <= $6""",
            ids,
            actor_id,
            text,
            about.comment_id,
            about.reaction,
            when,
        )
        await _recount(conn, ids)
        shown_rows = [r for r in open_rows if r["in_app"]]
        if shown_rows:
            await notify_new(conn, shown_rows)
        NOTIFICATIONS_GROUPED.labels(kind).inc(len(open_rows))
    return len(opened), len(open_rows)


async def _recount(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> None:
    """actor_count from the sources; a group that gained people is due in a digest again."""
    await conn.execute(
        """UPDATE notifications n SET actor_count = s.people,
                  digested_at = CASE WHEN s.people > n.actor_count THEN NULL
                                     ELSE n.digested_at END
           FROM (SELECT notification_id, count(DISTINCT actor_id)::int AS people
                 FROM notification_sources WHERE notification_id = ANY($1::uuid[])
                 GROUP BY notification_id) AS s
           WHERE n.id = s.notification_id AND n.actor_count <> s.people""",
        list(ids),
    )


async def do_retract(
    conn: asyncpg.Connection, post_id: uuid.UUID | None, comment_id: uuid.UUID | None
) -> int:
    """The post or comment is gone: every notification about it goes (pending e-mails
    with them), and a tombstone keeps late or replayed notices about it out. A group
    loses only the retracted comment's part; one left with nothing goes."""
    removed = 0
    if comment_id is not None:
        await conn.execute(
            "INSERT INTO deleted_comments (comment_id) VALUES ($1) ON CONFLICT DO NOTHING",
            comment_id,
        )
        touched = await conn.fetch(
            """DELETE FROM notification_sources WHERE comment_id = $1
               RETURNING notification_id""",
            comment_id,
        )
        groups = list({r["notification_id"] for r in touched})
        if groups:
            status = await conn.execute(
                """DELETE FROM notifications n WHERE n.id = ANY($1::uuid[]) AND NOT EXISTS
                       (SELECT 1 FROM notification_sources s WHERE s.notification_id = n.id)""",
                groups,
            )
            removed += int(status.split()[-1])
            # What is left shows its newest remaining notice.
            await conn.execute(
                """UPDATE notifications n
                   SET (actor_id, comment_id, reaction, snippet) = (
                       SELECT s.actor_id, s.comment_id, s.reaction, s.snippet
                       FROM notification_sources s WHERE s.notification_id = n.id
                       ORDER BY s.occurred_at DESC, s.notice_id DESC LIMIT 1)
                   WHERE n.id = ANY($1::uuid[])""",
                groups,
            )
            await _recount(conn, groups)
        status = await conn.execute("DELETE FROM notifications WHERE comment_id = $1", comment_id)
        removed += int(status.split()[-1])
    if post_id is not None:
        removed += await do_forget_post(conn, post_id)
    return removed


async def do_revoke(conn: asyncpg.Connection, person_id: uuid.UUID, community_id: uuid.UUID) -> int:
    """The person may no longer read the community: their notifications about it go."""
    status = await conn.execute(
        "DELETE FROM notifications WHERE person_id = $1 AND community_id = $2",
        person_id,
        community_id,
    )
    return int(status.split()[-1])


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
        (
            "deleted_comments",
            "DELETE FROM deleted_comments WHERE deleted_at < now() - make_interval(days => $1)",
            retention_days,
        ),
    ):
        status = await pool.execute(sql, days)
        result[name] = int(status.split()[-1])
    return result


async def do_set_address(
    conn: asyncpg.Connection,
    person_id: uuid.UUID,
    email: str | None,
    version: int,
    display_name: str | None = None,
) -> None:
    """Record a person's address (None: no mail) and the name e-mails call them by
    (None: "A colleague") unless a newer version is held."""
    name = (" ".join(display_name.split())[:NAME_CHARS] or None) if display_name else None
    await conn.execute(
        """INSERT INTO email_addresses (person_id, email, version, display_name, updated_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (person_id) DO UPDATE SET email = EXCLUDED.email,
               display_name = EXCLUDED.display_name,
               version = EXCLUDED.version, updated_at = now()
           WHERE email_addresses.version < EXCLUDED.version""",
        person_id,
        email,
        version,
        name,
    )
