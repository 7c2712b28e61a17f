"""Event handlers of the ``hallway-notification`` consumer group.

Each runs inside the consumer base's transaction (``conn``), which also records
the event id: the effect happens exactly once or is retried as a whole.
"""

from __future__ import annotations

import asyncpg

from hallway_common.contracts import (
    FOLLOW,
    PERSON,
    POST,
    FollowChanged,
    Payload,
    PersonUpserted,
    PostCreated,
    PostDeleted,
)
from hallway_common.events import Event
from hallway_common.logs import get_logger
from hallway_common.runtime import Runtime
from hallway_notification import inbox, prefs

log = get_logger(__name__)

GROUP = "hallway-notification"


async def on_post(event: Event, payload: Payload, conn: asyncpg.Connection | None) -> None:
    """post.created -> MENTION per mentioned person; post.deleted -> remove them."""
    assert conn is not None
    if isinstance(payload, PostCreated):
        await inbox.do_notify_mentions(
            conn,
            event.id,
            payload.post_id,
            payload.author_id,
            payload.text,
            payload.mentions,
            payload.occurred_at,
        )
    elif isinstance(payload, PostDeleted):
        removed = await inbox.do_forget_post(conn, payload.post_id)
        if removed:
            log.info(
                "removed notifications of deleted post", post_id=str(payload.post_id), count=removed
            )


async def on_follow(event: Event, payload: Payload, conn: asyncpg.Connection | None) -> None:
    """follow.created -> NEW_FOLLOWER for the followee.

    follow.deleted changes nothing: the follow did happen, and withdrawing an
    already seen notification would only confuse. (A later unread-only cleanup
    could go here.)
    """
    assert conn is not None
    if event.type == "hallway.profile.follow.created" and isinstance(payload, FollowChanged):
        await inbox.do_notify_follower(
            conn, event.id, payload.follower_id, payload.followee_id, payload.occurred_at
        )


async def on_person(event: Event, payload: Payload, conn: asyncpg.Connection | None) -> None:
    """Keep the address mail goes to: the person's e-mail while they are active, none
    once they are removed (person.removed follows a person.updated of the same
    version, which already cleared it). A removed person's preferences and digest
    schedule go too (a person provisioned again starts from the defaults)."""
    assert conn is not None
    if isinstance(payload, PersonUpserted):
        await inbox.do_set_address(
            conn, payload.person_id, payload.email if payload.active else None, payload.version
        )
        if not payload.active:
            await prefs.do_forget_person(conn, payload.person_id)


def register(rt: Runtime) -> None:
    consumer = rt.consumer(GROUP)
    # Mentions become notifications; deleted posts leave inboxes.
    consumer.on(POST, on_post)
    # New followers become notifications.
    consumer.on(FOLLOW, on_follow)
    # E-mail addresses of people, for mail about mentions.
    consumer.on(PERSON, on_person)
