"""What a post takes with it when it leaves the broad topics (deleted, or withdrawn
when its community stops being public): its comments and reactions there too.

Kept apart from ``posts`` and ``conversations`` so that ``communities`` (which
withdraws posts) can use it without an import cycle.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from hallway_common.contracts import CommentDeleted, ReactionDeleted
from hallway_common.events import Event, new_event, tombstone
from hallway_common.tracing import current_traceparent


def reaction_key(post_id: uuid.UUID, person_id: uuid.UUID, kind: str) -> str:
    return f"{post_id}:{person_id}:{kind}"


async def retract_conversations(
    conn: asyncpg.Connection, post_ids: list[uuid.UUID], reason: str, at: datetime
) -> list[Event]:
    """comment.deleted and reaction.deleted, each with its state tombstone, for every
    live comment and reaction of the given (formerly public) posts."""
    if not post_ids:
        return []
    trace = current_traceparent()
    events: list[Event] = []
    comments = await conn.fetch(
        """SELECT id, post_id, author_id, version FROM comments
           WHERE post_id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY created_at, id""",
        post_ids,
    )
    for c in comments:
        gone = CommentDeleted(
            comment_id=c["id"],
            post_id=c["post_id"],
            author_id=c["author_id"],
            reason=reason,  # type: ignore[arg-type]
            version=c["version"],
            occurred_at=at,
        )
        events += [
            new_event(gone.type, gone, trace),
            tombstone("hallway.feed.comment.state", str(c["id"]), at, trace),
        ]
    reactions = await conn.fetch(
        """SELECT r.post_id, p.author_id, r.person_id, r.kind FROM reactions r
           JOIN posts p ON p.id = r.post_id
           WHERE r.post_id = ANY($1::uuid[]) ORDER BY r.created_at""",
        post_ids,
    )
    for r in reactions:
        gone_r = ReactionDeleted(
            post_id=r["post_id"],
            post_author_id=r["author_id"],
            person_id=r["person_id"],
            kind=r["kind"],
            occurred_at=at,
        )
        events += [
            new_event(gone_r.type, gone_r, trace),
            tombstone(
                "hallway.feed.reaction.state",
                reaction_key(r["post_id"], r["person_id"], r["kind"]),
                at,
                trace,
            ),
        ]
    return events
