"""Communities and memberships: who may see a community, read its posts, post in it.

This module is the one place that answers "may this person see that?" for community
content (``Access``); posts and timelines ask it. Every ``do_*`` runs in one
transaction with the outbox rows it causes, so a leave or removal takes effect in
feed the moment it commits.

What is published follows the privacy rule of the contracts: public and private
communities on the community topics, memberships of public communities only on the
membership topics, and nothing about a secret community at all. Visibility is only
ever narrowed; narrowing withdraws what the broad topics held (memberships, posts)
and, for secret, the community itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from hallway_common.contracts import (
    CommunityCreated,
    CommunityRemoved,
    CommunityState,
    CommunityUpdated,
    MembershipCreated,
    MembershipDeleted,
    MembershipState,
    MembershipUpdated,
    PostWithdrawn,
)
from hallway_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from hallway_common.events import Event, new_event, tombstone
from hallway_common.outbox import enqueue
from hallway_common.pagination import (
    decode_cursor,
    decode_time_cursor,
    encode_cursor,
    encode_time_cursor,
)
from hallway_common.tracing import current_traceparent
from hallway_feed import notices
from hallway_feed.metrics import MEMBERSHIP_CHANGES
from hallway_feed.retraction import retract_conversations

VISIBILITIES = ("public", "private", "secret")
# Narrowing order: a community may move right, never left.
RANK = {v: i for i, v in enumerate(VISIBILITIES)}
POSTING = ("members", "admins")
ROLES = ("owner", "admin", "member")
MANAGERS = ("owner", "admin")
MAX_NAME = 100
MAX_DESCRIPTION = 2000

COMMUNITY_COLUMNS = (
    "c.id, c.name, c.description, c.visibility, c.official, c.posting, c.created_by, "
    "c.member_count, c.version, c.created_at, c.updated_at"
)
MEMBER_COLUMNS = (
    "m.community_id, m.person_id, m.state, m.role, m.version, m.created_at, m.notify_posts"
)
# The same words for "does not exist" and "you may not know it exists".
NOT_FOUND = "community not found"


@dataclass(frozen=True)
class Access:
    """A community and the caller's relationship to it."""

    community: asyncpg.Record
    membership: asyncpg.Record | None

    @property
    def state(self) -> str:
        return self.membership["state"] if self.membership else ""

    @property
    def member(self) -> bool:
        return self.state == "active"

    @property
    def role(self) -> str:
        return self.membership["role"] if self.member else ""

    @property
    def manager(self) -> bool:
        return self.role in MANAGERS

    @property
    def can_read(self) -> bool:
        """Posts, comments, reactions and the member list."""
        return self.community["visibility"] == "public" or self.member

    @property
    def can_post(self) -> bool:
        return self.member and (self.community["posting"] == "members" or self.manager)


def visible(community: asyncpg.Record, membership: asyncpg.Record | None) -> bool:
    """Whether the community exists for the caller: a secret one only for its members
    and the people invited to it."""
    return community["visibility"] != "secret" or (
        membership is not None and membership["state"] in ("active", "invited")
    )


async def access(
    conn: asyncpg.Connection,
    community_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    lock: bool = False,
    share: bool = False,
) -> Access:
    """The caller's view of a community; NOT_FOUND when it does not exist for them.

    ``lock`` holds the community row for a change of it or its memberships; ``share``
    for a post written into it (so a concurrent narrowing waits and sees the post)."""
    locking = " FOR UPDATE" if lock else " FOR SHARE" if share else ""
    community = await conn.fetchrow(
        f"SELECT {COMMUNITY_COLUMNS} FROM communities c WHERE c.id = $1{locking}",
        community_id,
    )
    if community is None:
        raise NotFound(NOT_FOUND)
    membership = await conn.fetchrow(
        f"SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.community_id = $1 AND m.person_id = $2",
        community_id,
        person_id,
    )
    if not visible(community, membership):
        raise NotFound(NOT_FOUND)
    return Access(community, membership)


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidArgument("name must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidArgument(f"name is longer than {MAX_NAME} characters")
    return name


def check_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgument(f"description is longer than {MAX_DESCRIPTION} characters")
    return description


def _choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise InvalidArgument(f"{field} must be one of {', '.join(allowed)}")
    return value


# Events --------------------------------------------------------------------------------


def _community_fields(row: asyncpg.Record, at: datetime) -> dict[str, Any]:
    return {
        "community_id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "visibility": row["visibility"],
        "official": row["official"],
        "posting": row["posting"],
        "created_by": row["created_by"],
        "version": row["version"],
        "created_at": row["created_at"],
        "occurred_at": at,
    }


def community_state(row: asyncpg.Record) -> Event:
    """The community's record on its state topic: the entry, or a tombstone when secret."""
    if row["visibility"] == "secret":
        return tombstone(
            "hallway.feed.community.state", str(row["id"]), row["updated_at"], current_traceparent()
        )
    state = CommunityState(**_community_fields(row, row["updated_at"]))
    return new_event(state.type, state, current_traceparent())


def public_community_record(row: asyncpg.Record) -> Event | None:
    """republish-state: a public or private community's state; none for a secret one
    (its id stays off the broad topic)."""
    return None if row["visibility"] == "secret" else community_state(row)


def public_membership_record(row: asyncpg.Record) -> Event | None:
    """republish-state: the state of an active membership of a public community; none
    for any other (private member lists stay off the broad topic)."""
    if row["visibility"] != "public" or row["state"] != "active":
        return None
    return membership_state(row, True)


def _community_events(row: asyncpg.Record, before: str | None) -> list[Event]:
    """What one change of a community publishes, given its visibility before (None: new)."""
    trace = current_traceparent()
    at = row["updated_at"]
    if row["visibility"] == "secret":
        if before in (None, "secret"):
            return []  # a secret community is never on a broad topic
        removed = CommunityRemoved(
            community_id=row["id"], reason="hidden", version=row["version"], occurred_at=at
        )
        return [new_event(removed.type, removed, trace), community_state(row)]
    model = CommunityCreated if before is None else CommunityUpdated
    change = model(**_community_fields(row, at))
    return [new_event(change.type, change, trace), community_state(row)]


def _membership_key(community_id: uuid.UUID, person_id: uuid.UUID) -> str:
    return f"{community_id}:{person_id}"


def membership_state(row: asyncpg.Record, public: bool) -> Event:
    """A membership's record on its state topic; a tombstone unless it is an active
    membership of a public community."""
    if not public or row["state"] != "active":
        return tombstone(
            "hallway.feed.membership.state",
            _membership_key(row["community_id"], row["person_id"]),
            row["updated_at"],
            current_traceparent(),
        )
    state = MembershipState(
        community_id=row["community_id"],
        person_id=row["person_id"],
        role=row["role"],
        version=row["version"],
        occurred_at=row["updated_at"],
    )
    return new_event(state.type, state, current_traceparent())


def _membership_ended(
    community_id: uuid.UUID, person_id: uuid.UUID, reason: str, version: int, at: datetime
) -> list[Event]:
    trace = current_traceparent()
    deleted = MembershipDeleted(
        community_id=community_id,
        person_id=person_id,
        reason=reason,  # type: ignore[arg-type]
        version=version,
        occurred_at=at,
    )
    return [
        new_event(deleted.type, deleted, trace),
        tombstone(
            "hallway.feed.membership.state", _membership_key(community_id, person_id), at, trace
        ),
    ]


async def _next_version(
    conn: asyncpg.Connection, community_id: uuid.UUID, person: uuid.UUID
) -> int:
    """The next version of a (community, person) pair; it survives the membership row,
    so a member who leaves and comes back is published with a higher version."""
    return await conn.fetchval(
        """INSERT INTO membership_versions (community_id, person_id, version) VALUES ($1, $2, 1)
           ON CONFLICT (community_id, person_id)
           DO UPDATE SET version = membership_versions.version + 1
           RETURNING version""",
        community_id,
        person,
    )


async def _write_membership(
    conn: asyncpg.Connection,
    community: asyncpg.Record,
    person_id: uuid.UUID,
    state: str,
    role: str,
    invited_by: uuid.UUID | None,
    before: asyncpg.Record | None,
) -> tuple[asyncpg.Record, list[Event]]:
    """Insert or change a membership row and keep member_count; returns the row and
    what to publish about it."""
    now = datetime.now(UTC)
    version = await _next_version(conn, community["id"], person_id)
    row = await conn.fetchrow(
        """INSERT INTO memberships AS m (community_id, person_id, state, role, invited_by,
                                         version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           ON CONFLICT (community_id, person_id) DO UPDATE SET state = EXCLUDED.state,
               role = EXCLUDED.role, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
           RETURNING m.community_id, m.person_id, m.state, m.role, m.version, m.created_at,
                     m.updated_at, m.notify_posts""",
        community["id"],
        person_id,
        state,
        role,
        invited_by,
        version,
        now,
    )
    was_active = before is not None and before["state"] == "active"
    if state == "active" and not was_active:
        await conn.execute(
            "UPDATE communities SET member_count = member_count + 1 WHERE id = $1", community["id"]
        )
        MEMBERSHIP_CHANGES.labels("joined").inc()
    if state != "active" or community["visibility"] != "public":
        return row, []
    model = MembershipUpdated if was_active else MembershipCreated
    change = model(
        community_id=row["community_id"],
        person_id=row["person_id"],
        role=row["role"],
        version=row["version"],
        occurred_at=now,
    )
    return row, [new_event(change.type, change, current_traceparent()), membership_state(row, True)]


async def _end_membership(
    conn: asyncpg.Connection, community: asyncpg.Record, before: asyncpg.Record, reason: str
) -> list[Event]:
    """Delete a membership row and keep member_count; returns what to publish."""
    await conn.execute(
        "DELETE FROM memberships WHERE community_id = $1 AND person_id = $2",
        community["id"],
        before["person_id"],
    )
    version = await _next_version(conn, community["id"], before["person_id"])
    if before["state"] != "active":
        return []  # a request or invitation was never published
    await conn.execute(
        "UPDATE communities SET member_count = member_count - 1 WHERE id = $1", community["id"]
    )
    MEMBERSHIP_CHANGES.labels(reason).inc()
    if community["visibility"] != "public":  # what they were told of is no longer theirs
        return [notices.revoked(community["id"], before["person_id"])]
    now = datetime.now(UTC)
    return _membership_ended(community["id"], before["person_id"], reason, version, now)


# Commands ------------------------------------------------------------------------------


async def do_create(
    pool: asyncpg.Pool,
    prefix: str,
    actor: uuid.UUID,
    actor_is_admin: bool,
    *,
    name: str,
    description: str = "",
    visibility: str = "public",
    official: bool = False,
    posting: str = "members",
) -> Access:
    """Create a community; the creator is its first owner. Official ones are created by
    network admins only. ALREADY_EXISTS when the name (any case) is taken."""
    name = check_name(name)
    description = check_description(description)
    _choice(visibility, VISIBILITIES, "visibility")
    _choice(posting, POSTING, "posting")
    if official and not actor_is_admin:
        raise PermissionDenied("official communities are created by network admins")
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        community = await conn.fetchrow(
            f"""INSERT INTO communities AS c (id, name, description, visibility, official,
                                              posting, created_by, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                ON CONFLICT (lower(name)) DO NOTHING
                RETURNING {COMMUNITY_COLUMNS}""",
            uuid.uuid4(),
            name,
            description,
            visibility,
            official,
            posting,
            actor,
            now,
        )
        if community is None:
            # Secret names are taken too; saying so reveals only that a name is used.
            raise AlreadyExists("a community with this name already exists")
        _, joined = await _write_membership(conn, community, actor, "active", "owner", None, None)
        await enqueue(conn, _community_events(community, None) + joined, prefix)
        return await access(conn, community["id"], actor)


async def get(pool: asyncpg.Pool, community_id: uuid.UUID, actor: uuid.UUID) -> Access:
    async with pool.acquire() as conn:
        return await access(conn, community_id, actor)


async def do_update(
    pool: asyncpg.Pool,
    prefix: str,
    community_id: uuid.UUID,
    actor: uuid.UUID,
    *,
    name: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    posting: str | None = None,
) -> Access:
    """Change a community (its owners and admins). Visibility may only be narrowed:
    FAILED_PRECONDITION for public <- private <- secret."""
    async with pool.acquire() as conn, conn.transaction():
        a = await access(conn, community_id, actor, lock=True)
        if not a.manager:
            raise PermissionDenied("only the community's owners and admins may change it")
        c = a.community
        new = {
            "name": check_name(name) if name is not None else c["name"],
            "description": check_description(description)
            if description is not None
            else c["description"],
            "visibility": _choice(visibility, VISIBILITIES, "visibility")
            if visibility is not None
            else c["visibility"],
            "posting": _choice(posting, POSTING, "posting")
            if posting is not None
            else c["posting"],
        }
        if RANK[new["visibility"]] < RANK[c["visibility"]]:
            raise FailedPrecondition(
                "a community's visibility can only be narrowed (public -> private -> secret): "
                "widening would show members' past posts to people they were not written for"
            )
        if all(new[k] == c[k] for k in new):
            return a
        if new["name"].lower() != c["name"].lower() and await conn.fetchval(
            "SELECT 1 FROM communities WHERE lower(name) = lower($1)", new["name"]
        ):
            raise AlreadyExists("a community with this name already exists")
        row = await conn.fetchrow(
            f"""UPDATE communities c SET name = $2, description = $3, visibility = $4,
                    posting = $5, version = version + 1, updated_at = $6
                WHERE id = $1 RETURNING {COMMUNITY_COLUMNS}""",
            community_id,
            new["name"],
            new["description"],
            new["visibility"],
            new["posting"],
            datetime.now(UTC),
        )
        events = []
        if c["visibility"] == "public" and row["visibility"] != "public":
            events += await _withdraw_public(conn, row)
        await enqueue(conn, events + _community_events(row, c["visibility"]), prefix)
        return await access(conn, community_id, actor)


async def _withdraw_public(conn: asyncpg.Connection, community: asyncpg.Record) -> list[Event]:
    """The community stopped being public: its member list and posts leave the broad
    topics (a membership.deleted / post.withdrawn and a tombstone each)."""
    now = datetime.now(UTC)
    # Every active membership's next version in one statement (as _next_version does
    # for one pair), however many members the community has.
    members = await conn.fetch(
        """WITH bumped AS (
               INSERT INTO membership_versions (community_id, person_id, version)
               SELECT community_id, person_id, 1 FROM memberships
               WHERE community_id = $1 AND state = 'active'
               ON CONFLICT (community_id, person_id)
               DO UPDATE SET version = membership_versions.version + 1
               RETURNING person_id, version)
           UPDATE memberships m SET version = b.version FROM bumped b
           WHERE m.community_id = $1 AND m.person_id = b.person_id
           RETURNING m.person_id, m.version""",
        community["id"],
    )
    events: list[Event] = []
    for m in sorted(members, key=lambda m: m["person_id"]):
        events += _membership_ended(community["id"], m["person_id"], "withdrawn", m["version"], now)
    posts = await conn.fetch(
        """UPDATE posts SET version = version + 1
           WHERE community_id = $1 AND deleted_at IS NULL
           RETURNING id, author_id, version""",
        community["id"],
    )
    trace = current_traceparent()
    for p in posts:
        withdrawn = PostWithdrawn(
            post_id=p["id"],
            author_id=p["author_id"],
            community_id=community["id"],
            version=p["version"],
            occurred_at=now,
        )
        events += [
            new_event(withdrawn.type, withdrawn, trace),
            tombstone("hallway.feed.post.state", str(p["id"]), now, trace),
        ]
    ids = [p["id"] for p in posts]
    return events + await retract_conversations(conn, ids, "post_withdrawn", now)


async def do_join(
    pool: asyncpg.Pool, prefix: str, community_id: uuid.UUID, actor: uuid.UUID
) -> Access:
    """Join a public community, ask to join a private one, or accept an invitation.
    Joining again is not an error."""
    async with pool.acquire() as conn, conn.transaction():
        a = await access(conn, community_id, actor, lock=True)
        c = a.community
        if a.member or a.state == "requested":
            return a
        if a.state == "invited" or c["visibility"] == "public":
            role = a.membership["role"] if a.membership else "member"
            _, events = await _write_membership(conn, c, actor, "active", role, None, a.membership)
            await enqueue(conn, events, prefix)
        elif c["visibility"] == "private":
            await _write_membership(conn, c, actor, "requested", "member", None, None)
            MEMBERSHIP_CHANGES.labels("requested").inc()
            managers = await conn.fetch(
                """SELECT person_id FROM memberships WHERE community_id = $1
                   AND state = 'active' AND role IN ('owner', 'admin')""",
                community_id,
            )
            await enqueue(
                conn,
                notices.created(
                    "join_request", [m["person_id"] for m in managers], actor, community=c
                ),
                prefix,
            )
        # secret and not invited: access() already answered NOT_FOUND
        return await access(conn, community_id, actor)


async def _person_known(conn: asyncpg.Connection, person_id: uuid.UUID) -> None:
    if not await conn.fetchval("SELECT active FROM people WHERE id = $1", person_id):
        raise NotFound(f"person {person_id} not found")


async def do_add_member(
    pool: asyncpg.Pool,
    prefix: str,
    community_id: uuid.UUID,
    actor: uuid.UUID,
    person_id: uuid.UUID,
) -> asyncpg.Record:
    """A manager invites a person, or approves their request to join. Returns the
    membership; adding an active member or re-inviting is not an error."""
    async with pool.acquire() as conn, conn.transaction():
        a = await access(conn, community_id, actor, lock=True)
        if not a.manager:
            raise PermissionDenied("only the community's owners and admins may add members")
        await _person_known(conn, person_id)
        before = await conn.fetchrow(
            f"""SELECT {MEMBER_COLUMNS} FROM memberships m
                WHERE m.community_id = $1 AND m.person_id = $2""",
            community_id,
            person_id,
        )
        if before is not None and before["state"] in ("active", "invited"):
            return before
        if before is not None:  # a request: approve it
            MEMBERSHIP_CHANGES.labels("approved").inc()
            row, events = await _write_membership(
                conn, a.community, person_id, "active", "member", actor, before
            )
            approved = notices.created(
                "request_approved", [person_id], actor, community=a.community
            )
            await enqueue(conn, events + approved, prefix)
            return row
        MEMBERSHIP_CHANGES.labels("invited").inc()
        row, _ = await _write_membership(
            conn, a.community, person_id, "invited", "member", actor, None
        )
        invited = notices.created("community_invite", [person_id], actor, community=a.community)
        await enqueue(conn, invited, prefix)
        return row


async def do_remove_member(
    pool: asyncpg.Pool,
    prefix: str,
    community_id: uuid.UUID,
    actor: uuid.UUID,
    person_id: uuid.UUID,
) -> None:
    """Leave (yourself: also withdraws a request or declines an invitation), or remove
    someone (managers; only owners remove owners and admins; a request removed is a
    request denied). The last owner cannot leave. Removing a non-member is NOT_FOUND."""
    async with pool.acquire() as conn, conn.transaction():
        a = await access(conn, community_id, actor, lock=True)
        if person_id == actor:
            if a.membership is None:
                raise NotFound("you are not a member of this community")
            await _guard_last_owner(conn, a.community, a.membership)
            events = await _end_membership(conn, a.community, a.membership, "left")
            await enqueue(conn, events, prefix)
            return
        if not a.manager:
            raise PermissionDenied("only the community's owners and admins may remove members")
        before = await conn.fetchrow(
            f"""SELECT {MEMBER_COLUMNS} FROM memberships m
                WHERE m.community_id = $1 AND m.person_id = $2""",
            community_id,
            person_id,
        )
        if before is None:
            raise NotFound(f"person {person_id} is not a member of this community")
        if before["state"] == "active" and before["role"] in MANAGERS and a.role != "owner":
            raise PermissionDenied("only owners may remove owners and admins")
        await _guard_last_owner(conn, a.community, before)
        events = await _end_membership(conn, a.community, before, "removed")
        await enqueue(conn, events, prefix)


async def _guard_last_owner(
    conn: asyncpg.Connection, community: asyncpg.Record, membership: asyncpg.Record
) -> None:
    if membership["state"] != "active" or membership["role"] != "owner":
        return
    owners = await conn.fetchval(
        """SELECT count(*) FROM memberships
           WHERE community_id = $1 AND state = 'active' AND role = 'owner'""",
        community["id"],
    )
    if owners <= 1:
        raise FailedPrecondition("a community keeps at least one owner: make someone else owner")


async def do_set_role(
    pool: asyncpg.Pool,
    prefix: str,
    community_id: uuid.UUID,
    actor: uuid.UUID,
    person_id: uuid.UUID,
    role: str,
) -> asyncpg.Record:
    """An owner changes an active member's role. The last owner cannot step down."""
    _choice(role, ROLES, "role")
    async with pool.acquire() as conn, conn.transaction():
        a = await access(conn, community_id, actor, lock=True)
        if a.role != "owner":
            raise PermissionDenied("only the community's owners may change roles")
        before = await conn.fetchrow(
            f"""SELECT {MEMBER_COLUMNS} FROM memberships m
                WHERE m.community_id = $1 AND m.person_id = $2 AND m.state = 'active'""",
            community_id,
            person_id,
        )
        if before is None:
            raise NotFound(f"person {person_id} is not a member of this community")
        if before["role"] == role:
            return before
        if role != "owner":
            await _guard_last_owner(conn, a.community, before)
        row, events = await _write_membership(
            conn, a.community, person_id, "active", role, None, before
        )
        await enqueue(conn, events, prefix)
        return row


async def do_set_notify(
    pool: asyncpg.Pool, community_id: uuid.UUID, actor: uuid.UUID, on: bool
) -> asyncpg.Record:
    """A member chooses whether to hear of every post in the community."""
    async with pool.acquire() as conn, conn.transaction():
        a = await access(conn, community_id, actor)
        if not a.member:
            raise NotFound("you are not a member of this community")
        return await conn.fetchrow(
            f"""UPDATE memberships m SET notify_posts = $3
                WHERE community_id = $1 AND person_id = $2 RETURNING {MEMBER_COLUMNS}""",
            community_id,
            actor,
            on,
        )


async def end_memberships_of(conn: asyncpg.Connection, person_id: uuid.UUID) -> list[Event]:
    """Every membership, request and invitation of a person ends (their erasure): in
    the caller's transaction; returns what to publish."""
    events: list[Event] = []
    rows = await conn.fetch(
        f"""SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.person_id = $1
            ORDER BY m.community_id""",
        person_id,
    )
    for row in rows:
        community = await conn.fetchrow(
            f"SELECT {COMMUNITY_COLUMNS} FROM communities c WHERE c.id = $1 FOR UPDATE",
            row["community_id"],
        )
        events += await _end_membership(conn, community, row, "removed")
    return events


# Reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    next_token: str


async def list_directory(
    pool: asyncpg.Pool,
    actor: uuid.UUID,
    query: str,
    mine: bool,
    size: int,
    token: str,
) -> Page:
    """Communities by name: every public and private one, and the secret ones the
    caller belongs to or is invited to. ``query`` matches anywhere in the name;
    ``mine`` keeps the caller's own (active) communities."""
    after = decode_cursor(token, 2)
    try:
        after_name, after_id = (after[0], uuid.UUID(after[1])) if after else (None, None)
    except (TypeError, ValueError, AttributeError):
        raise InvalidArgument("page_token is not valid") from None
    pattern = (
        "%"
        + query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        + "%"
    )
    rows = await pool.fetch(
        f"""SELECT {COMMUNITY_COLUMNS}, m.state AS my_state, m.role AS my_role
            FROM communities c
            LEFT JOIN memberships m ON m.community_id = c.id AND m.person_id = $1
            WHERE (c.visibility <> 'secret' OR m.state IN ('active', 'invited'))
              AND (NOT $2::boolean OR m.state = 'active')
              AND lower(c.name) LIKE $3
              AND ($4::text IS NULL OR (lower(c.name), c.id) > ($4, $5::uuid))
            ORDER BY lower(c.name), c.id LIMIT $6""",
        actor,
        mine,
        pattern,
        after_name,
        after_id,
        size + 1,
    )
    more = len(rows) > size
    rows = rows[:size]
    next_token = encode_cursor(rows[-1]["name"].lower(), str(rows[-1]["id"])) if more else ""
    return Page(rows, next_token)


async def list_members(
    pool: asyncpg.Pool,
    community_id: uuid.UUID,
    actor: uuid.UUID,
    state: str,
    size: int,
    token: str,
) -> Page:
    """Members (anyone who may read the community), or pending requests and invitations
    (its managers only), newest first."""
    _choice(state, ("active", "requested", "invited"), "state")
    async with pool.acquire() as conn:
        a = await access(conn, community_id, actor)
        if state == "active" and not a.can_read:
            raise PermissionDenied("the member list of a private community is for its members")
        if state != "active" and not a.manager:
            raise PermissionDenied("requests and invitations are for the community's managers")
        after = decode_time_cursor(token)
        rows = await conn.fetch(
            f"""SELECT {MEMBER_COLUMNS} FROM memberships m
                WHERE m.community_id = $1 AND m.state = $2
                  AND ($3::timestamptz IS NULL OR (m.created_at, m.person_id) < ($3, $4::uuid))
                ORDER BY m.created_at DESC, m.person_id DESC LIMIT $5""",
            community_id,
            state,
            after[0] if after else None,
            after[1] if after else None,
            size + 1,
        )
    more = len(rows) > size
    rows = rows[:size]
    next_token = (
        encode_time_cursor(rows[-1]["created_at"], rows[-1]["person_id"]) if more and rows else ""
    )
    return Page(rows, next_token)
