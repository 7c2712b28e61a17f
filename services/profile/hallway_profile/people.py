"""The directory and follow graph: ``check_*`` validates, ``do_*`` writes + enqueues events.

Every ``do_*`` runs in one transaction with the outbox rows it causes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from email_validator import EmailNotValidError, validate_email

from hallway_common.contracts import (
    FollowCreated,
    FollowDeleted,
    FollowState,
    PersonCreated,
    PersonRemoved,
    PersonState,
    PersonUpdated,
)
from hallway_common.errors import AlreadyExists, InvalidArgument, NotFound
from hallway_common.events import Event, new_event, tombstone
from hallway_common.outbox import enqueue
from hallway_common.pagination import decode_cursor, decode_time_cursor, encode_cursor
from hallway_common.tracing import current_traceparent

HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# Handles of erased people; nobody may take one.
ERASED_PREFIX = "erased-"
EMAIL_INDEX = "people_email_unique"
TEXT_LIMITS = {"display_name": 100, "title": 100, "department": 100, "email": 254}
# What a person's state record needs (no joins: state is republished FOR SHARE).
STATE_COLUMNS = (
    "id, handle, display_name, title, department, manager_id, email, active, version, updated_at"
)
PERSON_COLUMNS = """p.id, p.handle, p.display_name, p.title, p.department, p.manager_id, p.email,
    p.active, p.version, p.created_at, p.updated_at,
    (SELECT count(*) FROM follows f WHERE f.followee_id = p.id) AS follower_count,
    (SELECT count(*) FROM follows f WHERE f.follower_id = p.id) AS following_count"""


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    next_token: str


def check_handle(handle: str) -> str:
    if not HANDLE.match(handle):
        raise InvalidArgument(
            "handle must be 2-32 characters of a-z, 0-9, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    if handle.startswith(ERASED_PREFIX):
        raise InvalidArgument(f"handles starting with {ERASED_PREFIX!r} are reserved")
    return handle


def check_email(value: str) -> str:
    """A well-formed address in its normal form (domain lower-cased, IDNA); no DNS lookup."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidArgument(f"email is not an e-mail address: {exc}") from None


def _taken(exc: asyncpg.UniqueViolationError, fields: dict[str, Any]) -> AlreadyExists:
    if exc.constraint_name == EMAIL_INDEX:
        return AlreadyExists("that e-mail address belongs to someone else")
    return AlreadyExists(f"handle {fields.get('handle')!r} is taken")


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Trim and bound the free-text fields; raise INVALID_ARGUMENT naming the field."""
    out = {}
    for name, value in fields.items():
        if value is None or name not in TEXT_LIMITS:
            out[name] = value
            continue
        value = value.strip()
        if len(value) > TEXT_LIMITS[name]:
            raise InvalidArgument(f"{name} is longer than {TEXT_LIMITS[name]} characters")
        if name == "display_name" and not value:
            raise InvalidArgument("display_name must not be empty")
        if name == "email" and value:
            value = check_email(value)
        out[name] = value
    return out


async def check_manager(
    conn: asyncpg.Connection, person_id: uuid.UUID, manager_id: uuid.UUID
) -> None:
    """The manager exists and the chain above them does not lead back to the person."""
    if manager_id == person_id:
        raise InvalidArgument("a person cannot be their own manager")
    cycle = await conn.fetchval(
        """WITH RECURSIVE chain(id, depth) AS (
               SELECT id, 0 FROM people WHERE id = $1
               UNION ALL
               SELECT p.manager_id, c.depth + 1 FROM people p JOIN chain c ON p.id = c.id
               WHERE p.manager_id IS NOT NULL AND c.depth < 1000)
           SELECT count(*) FILTER (WHERE id = $2) FROM chain""",
        manager_id,
        person_id,
    )
    if cycle is None:
        raise InvalidArgument(f"manager {manager_id} does not exist")
    if cycle:
        raise InvalidArgument("that manager would make the reporting line a cycle")
    if not await conn.fetchval("SELECT true FROM people WHERE id = $1", manager_id):
        raise InvalidArgument(f"manager {manager_id} does not exist")


def _person_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "person_id": row["id"],
        "handle": row["handle"],
        "display_name": row["display_name"],
        "title": row["title"],
        "department": row["department"],
        "manager_id": row["manager_id"],
        "email": row["email"],
        "active": row["active"],
        "version": row["version"],
        "occurred_at": row["updated_at"],
    }


def _person_events(kind: str, row: asyncpg.Record) -> list[Event]:
    """The change event and the person's new state (one transaction, one outbox batch)."""
    model = PersonCreated if kind == "created" else PersonUpdated
    change = model(**_person_fields(row))
    return [new_event(change.type, change, current_traceparent()), person_state(row)]


def person_state(row: asyncpg.Record) -> Event:
    """The person's record on the state topic: the entry, or a tombstone once removed."""
    trace = current_traceparent()
    if not row["active"]:  # a removed person stays a tombstone whatever else changes
        return tombstone("hallway.profile.person.state", str(row["id"]), row["updated_at"], trace)
    state = PersonState(**_person_fields(row))
    return new_event(state.type, state, trace)


def follow_state(row: asyncpg.Record) -> Event:
    """An existing edge's record on the state topic."""
    state = FollowState(
        follower_id=row["follower_id"],
        followee_id=row["followee_id"],
        occurred_at=row["created_at"],
    )
    return new_event(state.type, state, current_traceparent())


def _follow_events(follower: uuid.UUID, followee: uuid.UUID, follow: bool) -> list[Event]:
    """follow.created + the edge's state, or follow.deleted + the edge's tombstone."""
    now = datetime.now(UTC)
    trace = current_traceparent()
    edge = {"follower_id": follower, "followee_id": followee, "occurred_at": now}
    if follow:
        return [
            new_event("hallway.profile.follow.created", FollowCreated(**edge), trace),
            new_event("hallway.profile.follow.state", FollowState(**edge), trace),
        ]
    return [
        new_event("hallway.profile.follow.deleted", FollowDeleted(**edge), trace),
        tombstone("hallway.profile.follow.state", f"{follower}:{followee}", now, trace),
    ]


async def get_person(
    pool: asyncpg.Pool, *, person_id: uuid.UUID | None = None, handle: str | None = None
) -> asyncpg.Record:
    if person_id is not None:
        row = await pool.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1", person_id
        )
    else:
        row = await pool.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.handle = $1", handle
        )
    if row is None:
        raise NotFound(f"person {person_id or handle} not found")
    return row


async def batch_get(pool: asyncpg.Pool, ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    if len(ids) > 500:
        raise InvalidArgument("at most 500 ids per call")
    rows = await pool.fetch(
        f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = ANY($1::uuid[])", ids
    )
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


async def do_create_person(
    pool: asyncpg.Pool, topic_prefix: str, fields: dict[str, Any]
) -> asyncpg.Record:
    fields = check_fields(fields)
    check_handle(fields["handle"])
    person_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        if fields.get("manager_id"):
            if not await conn.fetchval(
                "SELECT true FROM people WHERE id = $1", fields["manager_id"]
            ):
                raise InvalidArgument(f"manager {fields['manager_id']} does not exist")
        try:
            await conn.execute(
                """INSERT INTO people (id, handle, display_name, title, department, manager_id, email)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                person_id,
                fields["handle"],
                fields["display_name"],
                fields.get("title") or "",
                fields.get("department") or "",
                fields.get("manager_id"),
                fields.get("email") or None,
            )
        except asyncpg.UniqueViolationError as exc:
            raise _taken(exc, fields) from None
        row = await conn.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1", person_id
        )
        await enqueue(conn, _person_events("created", row), topic_prefix)
    return row


async def do_update_person(
    pool: asyncpg.Pool, topic_prefix: str, person_id: uuid.UUID, changes: dict[str, Any]
) -> asyncpg.Record:
    changes = check_fields(changes)
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow("SELECT * FROM people WHERE id = $1 FOR UPDATE", person_id)
        if current is None:
            raise NotFound(f"person {person_id} not found")
        if changes.get("manager_id") is not None:
            await check_manager(conn, person_id, changes["manager_id"])
        updates = {
            k: v for k, v in changes.items() if current[k] != (v if k != "email" else v or None)
        }
        if "email" in updates:
            updates["email"] = updates["email"] or None
        if updates:
            sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(updates))
            try:
                await conn.execute(
                    f"UPDATE people SET {sets}, version = version + 1, updated_at = now() "
                    "WHERE id = $1",
                    person_id,
                    *updates.values(),
                )
            except asyncpg.UniqueViolationError as exc:
                raise _taken(exc, updates) from None
        row = await conn.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1", person_id
        )
        if updates:
            await enqueue(conn, _person_events("updated", row), topic_prefix)
    return row


async def list_people(pool: asyncpg.Pool, size: int, token: str) -> Page:
    after = decode_cursor(token, 1)
    rows = await pool.fetch(
        f"SELECT {PERSON_COLUMNS} FROM people p "
        "WHERE p.active AND ($1::text IS NULL OR p.handle > $1) ORDER BY p.handle LIMIT $2",
        after[0] if after else None,
        size + 1,
    )
    return _page(rows, size, lambda r: (r["handle"],))


async def do_follow(
    pool: asyncpg.Pool, topic_prefix: str, follower: uuid.UUID, followee: uuid.UUID, follow: bool
) -> bool:
    """Follow or unfollow; True when something changed (events only then)."""
    if follower == followee:
        raise InvalidArgument("a person cannot follow themselves")
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetchval(
            "SELECT count(*) FROM people WHERE id = ANY($1::uuid[])", [follower, followee]
        )
        if found != 2:
            raise NotFound("follower or followee not found")
        if follow:
            status = await conn.execute(
                "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                follower,
                followee,
            )
        else:
            status = await conn.execute(
                "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2",
                follower,
                followee,
            )
        changed = status.split()[-1] == "1"
        if changed:
            await enqueue(conn, _follow_events(follower, followee, follow), topic_prefix)
    return changed


async def do_remove_person(
    pool: asyncpg.Pool, topic_prefix: str, person_id: uuid.UUID, *, erase: bool
) -> asyncpg.Record:
    """Deactivate a person, or erase them: scrub their personal data and end their follows.

    Publishes person.updated (the inactive entry), person.removed and a tombstone on
    the person state topic (and, when erasing, follow.deleted plus a tombstone for
    each edge), so replicas and compacting sinks drop them too. Repeating a removal
    changes nothing and publishes nothing.
    """
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(
            f"SELECT active, handle LIKE '{ERASED_PREFIX}%' AS erased FROM people "
            "WHERE id = $1 FOR UPDATE",
            person_id,
        )
        if current is None:
            raise NotFound(f"person {person_id} not found")
        if current["erased"] or (not erase and not current["active"]):
            return await conn.fetchrow(
                f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1", person_id
            )
        events: list[Event] = []
        if erase:
            edges = await conn.fetch(
                """DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1
                   RETURNING follower_id, followee_id""",
                person_id,
            )
            for edge in edges:
                events += _follow_events(edge["follower_id"], edge["followee_id"], follow=False)
            # Their reports lose a manager: a change of each report, published as such.
            reports = await conn.fetch(
                f"""UPDATE people SET manager_id = NULL, version = version + 1, updated_at = now()
                    WHERE manager_id = $1 RETURNING {STATE_COLUMNS}""",
                person_id,
            )
            for report in reports:
                events += _person_events("updated", report)
            await conn.execute(
                f"""UPDATE people SET handle = '{ERASED_PREFIX}' || left(replace(id::text, '-', ''), 24),
                       display_name = 'Erased person', title = '', department = '',
                       manager_id = NULL, email = NULL, active = false,
                       version = version + 1, updated_at = now()
                   WHERE id = $1""",
                person_id,
            )
        else:
            await conn.execute(
                """UPDATE people SET active = false, version = version + 1, updated_at = now()
                   WHERE id = $1""",
                person_id,
            )
        row = await conn.fetchrow(
            f"SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1", person_id
        )
        removed = PersonRemoved(
            person_id=person_id,
            reason="erased" if erase else "deactivated",
            version=row["version"],
            occurred_at=row["updated_at"],
        )
        # person.updated carries the (scrubbed, inactive) entry to every replica and
        # tombstones the state; person.removed says why, at the same version.
        events += _person_events("updated", row)
        events.append(new_event(removed.type, removed, current_traceparent()))
        await enqueue(conn, events, topic_prefix)
    return row


async def list_follows(
    pool: asyncpg.Pool, person_id: uuid.UUID, direction: str, size: int, token: str
) -> Page:
    """Followers (direction='followers') or followees, newest first."""
    await get_person(pool, person_id=person_id)
    mine, other = (
        ("followee_id", "follower_id")
        if direction == "followers"
        else ("follower_id", "followee_id")
    )
    after = decode_time_cursor(token)
    rows = await pool.fetch(
        f"""SELECT {PERSON_COLUMNS}, f.created_at AS followed_at FROM follows f
            JOIN people p ON p.id = f.{other}
            WHERE f.{mine} = $1
              AND ($2::timestamptz IS NULL OR (f.created_at, f.{other}) < ($2, $3::uuid))
            ORDER BY f.created_at DESC, f.{other} DESC LIMIT $4""",
        person_id,
        after[0] if after else None,
        after[1] if after else None,
        size + 1,
    )
    return _page(rows, size, lambda r: (r["followed_at"].isoformat(), str(r["id"])))


def _page(rows: list[asyncpg.Record], size: int, key: Any) -> Page:
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(*key(rows[-1])) if more and rows else "")
