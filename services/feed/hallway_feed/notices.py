"""Notices on the internal notice topic: feed names who should hear of something,
choosing only people who may read it at that moment (``readers_among``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import asyncpg

from hallway_common.contracts import (
    MAX_RECIPIENTS,
    AccessRevoked,
    NoticeCreated,
    NoticeRetracted,
)
from hallway_common.events import Event, new_event
from hallway_common.tracing import current_traceparent

SNIPPET = 200


async def readers_among(
    conn: asyncpg.Connection, people: Iterable[uuid.UUID], community_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """Those of ``people`` who are active and may read content of the community (any
    for a personal post or a public community; its active members otherwise)."""
    candidates = sorted(set(people))
    if not candidates:
        return []
    rows = await conn.fetch(
        """SELECT pe.id FROM people pe
           WHERE pe.id = ANY($1::uuid[]) AND pe.active
             AND ($2::uuid IS NULL
                  OR (SELECT visibility FROM communities WHERE id = $2) = 'public'
                  OR EXISTS (SELECT 1 FROM memberships m WHERE m.community_id = $2
                             AND m.person_id = pe.id AND m.state = 'active'))
           ORDER BY pe.id""",
        candidates,
        community_id,
    )
    return [r["id"] for r in rows]


def created(
    kind: str,
    recipients: Iterable[uuid.UUID],
    actor: uuid.UUID,
    *,
    post_id: uuid.UUID | None = None,
    comment_id: uuid.UUID | None = None,
    community: asyncpg.Record | None = None,
    reaction: str | None = None,
    text: str = "",
) -> list[Event]:
    """notice.created events for the recipients (the actor left out), in chunks of
    ``MAX_RECIPIENTS``; none when nobody is left."""
    people = sorted({r for r in recipients if r != actor})
    community_id = community["id"] if community is not None else None
    scope = community_id or post_id or (people[0] if people else actor)
    events = []
    for start in range(0, len(people), MAX_RECIPIENTS):
        notice = NoticeCreated(
            notice_id=uuid.uuid4(),
            scope=scope,
            kind=kind,  # type: ignore[arg-type]
            recipients=people[start : start + MAX_RECIPIENTS],
            actor_id=actor,
            post_id=post_id,
            comment_id=comment_id,
            community_id=community_id,
            community_name=community["name"] if community is not None else "",
            reaction=reaction,  # type: ignore[arg-type]
            snippet=text[:SNIPPET],
            occurred_at=datetime.now(UTC),
        )
        events.append(new_event(notice.type, notice, current_traceparent()))
    return events


def retracted(
    scope: uuid.UUID, *, post_id: uuid.UUID | None = None, comment_id: uuid.UUID | None = None
) -> Event:
    gone = NoticeRetracted(
        scope=scope, post_id=post_id, comment_id=comment_id, occurred_at=datetime.now(UTC)
    )
    return new_event(gone.type, gone, current_traceparent())


def revoked(community_id: uuid.UUID, person_id: uuid.UUID) -> Event:
    revoke = AccessRevoked(
        scope=community_id,
        community_id=community_id,
        person_id=person_id,
        occurred_at=datetime.now(UTC),
    )
    return new_event(revoke.type, revoke, current_traceparent())
