"""How a notification reads in e-mails and digests: one sentence per kind.

Rows from the database (asyncpg records) and plain dicts both work; columns a caller
did not select read as their defaults. The actor's name comes from the person events
(``email_addresses.display_name``); without one, "A colleague".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hallway_notification.kinds import (
    COMMUNITY_INVITE,
    COMMUNITY_POST,
    JOIN_REQUEST,
    MENTION,
    NEW_FOLLOWER,
    REACTION,
    REPLY,
    REQUEST_APPROVED,
)

SOMEONE = "A colleague"
A_COMMUNITY = "a community"


def _get(row: Mapping[str, Any] | Any, key: str, default: Any = None) -> Any:
    try:
        value = row[key]
    except (KeyError, IndexError):
        return default
    return default if value is None else value


def who(name: str, count: int) -> str:
    """'Ana', 'Ana and 1 other', 'Ana and 12 others' (count: distinct people, >= 1)."""
    others = max(0, count - 1)
    if not others:
        return name
    return f"{name} and {others} other{'' if others == 1 else 's'}"


def headline(row: Mapping[str, Any] | Any) -> str:
    """One sentence saying what happened, e.g. 'Ana and 12 others reacted to your post'.
    On one line whatever the names hold (it may become an e-mail subject)."""
    return " ".join(_headline(row).split())


def _headline(row: Mapping[str, Any] | Any) -> str:
    kind = _get(row, "kind", "")
    name = str(_get(row, "actor_name", "")).strip() or SOMEONE
    count = int(_get(row, "actor_count", 1))
    community = str(_get(row, "community_name", "")) or A_COMMUNITY
    in_community = f" in {community}" if _get(row, "community_name", "") else ""
    if kind == MENTION:
        where = "a comment" if _get(row, "comment_id") else "a post"
        return f"{name} mentioned you in {where}{in_community}"
    if kind == NEW_FOLLOWER:
        return f"{name} started following you"
    if kind == REPLY:
        return f"{who(name, count)} replied in a conversation you are part of{in_community}"
    if kind == REACTION:
        return f"{who(name, count)} reacted to your post{in_community}"
    if kind == COMMUNITY_INVITE:
        return f"You are invited to {community} (by {name})"
    if kind == JOIN_REQUEST:
        return f"{name} asked to join {community}"
    if kind == REQUEST_APPROVED:
        return f"Your request to join {community} was approved"
    if kind == COMMUNITY_POST:
        return f"{name} posted in {community}"
    return "Something new happened for you"
