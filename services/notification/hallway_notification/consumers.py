"""Event handlers of the ``hallway-notification`` consumer group.

Each runs inside the consumer base's transaction (``conn``), which also records
the event id: the effect happens exactly once or is retried as a whole.
"""

from __future__ import annotations

import asyncpg

from hallway_common.contracts import (
    FOLLOW,
    NOTICE,
    PERSON,
    POST,
    AccessRevoked,
    FollowChanged,
    NoticeCreated,
    NoticeRetracted,
    Payload,
    PersonUpserted,
    PostCreated,
    PostDeleted,
    PostWithdrawn,
)
from hallway_common.events import Event
from hallway_common.logs import get_logger
from hallway_common.runtime import Runtime
from hallway_notification import inbox, prefs

log = get_logger(__name__)

GROUP = "hallway-notification"


async def on_post(event: Event, payload: Payload, conn: asyncpg.Connection | None) -> None:
    """post.created -> MENTION per mentioned person; post.deleted (and withdrawn) ->
    remove every notification about the post."""
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
            payload.community_id,
        )
    elif isinstance(payload, PostDeleted):
        # Withdrawn (its community stopped being public): what the public path made
        # goes, but the post lives on for members, so notices about it still count.
        removed = await inbox.do_forget_post(
            conn, payload.post_id, tombstone=not isinstance(payload, PostWithdrawn)
        )
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
            conn,
            payload.person_id,
            payload.email if payload.active else None,
            payload.version,
            payload.display_name if payload.active else None,
        )
        if not payload.active:
            await prefs.do_forget_person(conn, payload.person_id)


async def on_notice(event: Event, payload: Payload, conn: asyncpg.Connection | None) -> None:
    """Feed's internal notices: it chose the recipients among those who may read what a
    notice is about. Created -> notifications (grouped for replies and reactions);
    retracted -> every notification about the post or comment goes; revoked -> the
    person's notifications about the community go."""
    assert conn is not None
    if isinstance(payload, NoticeCreated):
        about = inbox.About(
            post_id=payload.post_id,
            comment_id=payload.comment_id,
            community_id=payload.community_id,
            community_name=payload.community_name,
            reaction=payload.reaction if payload.kind == "reaction" else None,
        )
        await inbox.do_notice(
            conn,
            inbox.Notice(
                notice_id=payload.notice_id,
                kind=payload.kind,
                recipients=payload.recipients,
                actor_id=payload.actor_id,
                about=about,
                snippet=payload.snippet,
                occurred_at=payload.occurred_at,
            ),
        )
    elif isinstance(payload, NoticeRetracted):
        removed = await inbox.do_retract(conn, payload.post_id, payload.comment_id)
        if removed:
            log.info("removed notifications of retracted content", count=removed)
    elif isinstance(payload, AccessRevoked):
        removed = await inbox.do_revoke(conn, payload.person_id, payload.community_id)
        if removed:
            log.info("removed notifications after revoked access", count=removed)


def register(rt: Runtime) -> None:
    consumer = rt.consumer(GROUP)
    # Mentions become notifications; deleted posts leave inboxes.
    consumer.on(POST, on_post)
    # New followers become notifications.
    consumer.on(FOLLOW, on_follow)
    # E-mail addresses and names of people, for mail.
    consumer.on(PERSON, on_person)
    # Replies, reactions, mentions in comments and restricted posts, community
    # invitations, join requests, approvals, community posts; retractions, revocations.
    consumer.on(NOTICE, on_notice)
