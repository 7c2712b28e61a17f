"""Notification kinds and delivery channels: the one list, and the defaults.

A kind here is known everywhere at once: preferences accept it, GetPreferences lists
it, unsubscribe tokens may name it. Preferences are stored without a CHECK on kind,
so adding one needs no migration (the ``notifications`` table still constrains what
it holds: a kind that makes notifications brings its own migration there).
"""

from __future__ import annotations

MENTION = "mention"
NEW_FOLLOWER = "new_follower"
REPLY = "reply"
REACTION = "reaction"
COMMUNITY_INVITE = "community_invite"
JOIN_REQUEST = "join_request"
REQUEST_APPROVED = "request_approved"
COMMUNITY_POST = "community_post"
KINDS = (
    MENTION,
    NEW_FOLLOWER,
    REPLY,
    REACTION,
    COMMUNITY_INVITE,
    JOIN_REQUEST,
    REQUEST_APPROVED,
    COMMUNITY_POST,
)

# Grouped per person and post while unread: one notification that counts the people.
GROUPED = (REPLY, REACTION)

IN_APP = "in_app"
EMAIL = "email"
CHANNELS = (IN_APP, EMAIL)


def default(kind: str, channel: str) -> bool:
    """In-app on for every kind; e-mail on for mentions only."""
    return channel == IN_APP or kind == MENTION
