"""Protobuf messages -> REST models, and author hydration (one BatchGetPeople per page)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from hallway.notification.v1 import notification_pb2
from hallway.profile.v1 import profile_pb2
from hallway_common.logs import get_logger
from hallway_gateway import models
from hallway_gateway.backends import Backends
from hallway_gateway.problems import Problem

log = get_logger(__name__)

MAX_BATCH = 500  # BatchGetPeople's limit


def ts(value: Timestamp, present: bool = True) -> str | None:
    if not present or (value.seconds == 0 and value.nanos == 0):
        return None
    return value.ToJsonString()


def next_cursor(token: str) -> str | None:
    return token or None


def person(p: profile_pb2.Person) -> models.Person:
    return models.Person(
        id=p.id,
        handle=p.handle,
        display_name=p.display_name,
        title=p.title,
        department=p.department,
        manager_id=p.manager_id or None,
        email=p.email,
        created_at=ts(p.created_at, p.HasField("created_at")),
        updated_at=ts(p.updated_at, p.HasField("updated_at")),
        version=p.version,
        follower_count=p.follower_count,
        following_count=p.following_count,
    )


async def people_by_id(backends: Backends, ids: Iterable[str]) -> dict[str, profile_pb2.Person]:
    """People for hydration. Degrades to {} when profile is slow or down: a page of posts
    without display names beats no page (the client falls back to the id)."""
    wanted = list(dict.fromkeys(i for i in ids if i))[:MAX_BATCH]
    if not wanted:
        return {}
    try:
        resp = await backends.profile.BatchGetPeople(profile_pb2.BatchGetPeopleRequest(ids=wanted))
    except Problem as exc:
        log.warning("author hydration skipped", reason=exc.detail)
        return {}
    return {p.id: p for p in resp.people}


def author(person_id: str, known: dict[str, profile_pb2.Person]) -> models.Author:
    p = known.get(person_id)
    return models.Author(
        id=person_id,
        handle=p.handle if p else None,
        display_name=p.display_name if p else None,
    )


def post(p: Any, known: dict[str, profile_pb2.Person]) -> models.Post:
    return models.Post(
        id=p.id,
        author_id=p.author_id,
        author=author(p.author_id, known),
        text=p.text,
        mentions=[models.Mention(person_id=m.person_id, handle=m.handle) for m in p.mentions],
        hashtags=list(p.hashtags),
        created_at=ts(p.created_at, p.HasField("created_at")),
        version=p.version,
        community_id=p.community_id or None,
        comment_count=p.comment_count,
        reaction_counts=dict(p.reaction_counts),
        my_reactions=list(p.my_reactions),
    )


async def posts(backends: Backends, items: Iterable[Any]) -> list[models.Post]:
    items = list(items)
    known = await people_by_id(backends, (p.author_id for p in items))
    return [post(p, known) for p in items]


async def post_hits(backends: Backends, hits: Iterable[Any]) -> list[models.PostHit]:
    hits = list(hits)
    known = await people_by_id(backends, (h.author_id for h in hits))
    return [
        models.PostHit(
            post_id=h.post_id,
            author_id=h.author_id,
            author=author(h.author_id, known),
            text=h.text,
            highlights=list(h.highlights),
            hashtags=list(h.hashtags),
            created_at=ts(h.created_at, h.HasField("created_at")),
            score=h.score,
            community_id=h.community_id or None,
        )
        for h in hits
    ]


def person_hit(h: Any) -> models.PersonHit:
    return models.PersonHit(
        person_id=h.person_id,
        handle=h.handle,
        display_name=h.display_name,
        title=h.title,
        department=h.department,
        score=h.score,
    )


_KINDS = {
    notification_pb2.NOTIFICATION_KIND_MENTION: "mention",
    notification_pb2.NOTIFICATION_KIND_NEW_FOLLOWER: "new_follower",
    notification_pb2.NOTIFICATION_KIND_REPLY: "reply",
    notification_pb2.NOTIFICATION_KIND_REACTION: "reaction",
    notification_pb2.NOTIFICATION_KIND_COMMUNITY_INVITE: "community_invite",
    notification_pb2.NOTIFICATION_KIND_JOIN_REQUEST: "join_request",
    notification_pb2.NOTIFICATION_KIND_REQUEST_APPROVED: "request_approved",
    notification_pb2.NOTIFICATION_KIND_COMMUNITY_POST: "community_post",
}


def notification(n: Any, known: dict[str, profile_pb2.Person]) -> models.Notification:
    return models.Notification(
        id=n.id,
        kind=_KINDS.get(n.kind, "unspecified"),  # type: ignore[arg-type]
        actor_id=n.actor_id,
        actor=author(n.actor_id, known),
        post_id=n.post_id or None,
        snippet=n.snippet,
        created_at=ts(n.created_at, n.HasField("created_at")),
        read=n.read,
        comment_id=n.comment_id or None,
        community_id=n.community_id or None,
        community_name=n.community_name or None,
        reaction=n.reaction or None,
        actor_count=max(1, n.actor_count),
    )


async def notifications(backends: Backends, items: Iterable[Any]) -> list[models.Notification]:
    items = list(items)
    known = await people_by_id(backends, (n.actor_id for n in items))
    return [notification(n, known) for n in items]


def community(c: Any) -> models.Community:
    membership = None
    if c.my_state:
        membership = models.Membership(state=c.my_state, role=c.my_role or None)
    return models.Community(
        id=c.id,
        name=c.name,
        description=c.description,
        visibility=c.visibility,
        official=c.official,
        posting=c.posting,
        created_by=c.created_by,
        member_count=c.member_count,
        created_at=ts(c.created_at, c.HasField("created_at")),
        version=c.version,
        membership=membership,
    )


async def members(backends: Backends, items: Iterable[Any]) -> list[models.Member]:
    items = list(items)
    known = await people_by_id(backends, (m.person_id for m in items))
    return [
        models.Member(
            person=author(m.person_id, known),
            state=m.state,
            role=m.role,
            since=ts(m.created_at, m.HasField("created_at")),
            notify_posts=m.notify_posts,
        )
        for m in items
    ]


def comment(c: Any, known: dict[str, profile_pb2.Person]) -> models.Comment:
    return models.Comment(
        id=c.id,
        post_id=c.post_id,
        parent_id=c.parent_id or None,
        author_id=c.author_id,
        author=author(c.author_id, known),
        text=c.text,
        mentions=[models.Mention(person_id=m.person_id, handle=m.handle) for m in c.mentions],
        created_at=ts(c.created_at, c.HasField("created_at")),
        edited_at=ts(c.edited_at, c.HasField("edited_at")),
        version=c.version,
    )


async def comments(backends: Backends, items: Iterable[Any]) -> list[models.Comment]:
    items = list(items)
    known = await people_by_id(backends, (c.author_id for c in items))
    return [comment(c, known) for c in items]


def reaction_summary(s: Any) -> models.ReactionSummary:
    return models.ReactionSummary(
        reaction_counts=dict(s.reaction_counts),
        my_reactions=list(s.my_reactions),
        comment_count=s.comment_count,
    )


async def reactors(backends: Backends, items: Iterable[Any]) -> list[models.Reactor]:
    items = list(items)
    known = await people_by_id(backends, (r.person_id for r in items))
    return [
        models.Reactor(
            person=author(r.person_id, known),
            kind=r.kind,
            created_at=ts(r.created_at, r.HasField("created_at")),
        )
        for r in items
    ]


def community_hit(h: Any) -> models.CommunityHit:
    return models.CommunityHit(
        community_id=h.community_id,
        name=h.name,
        description=h.description,
        visibility=h.visibility if h.visibility == "private" else "public",
        official=h.official,
        posting=h.posting,
        created_at=ts(h.created_at, h.HasField("created_at")),
        score=h.score,
    )


async def comment_hits(backends: Backends, hits: Iterable[Any]) -> list[models.CommentHit]:
    hits = list(hits)
    known = await people_by_id(backends, (h.author_id for h in hits))
    return [
        models.CommentHit(
            comment_id=h.comment_id,
            post_id=h.post_id,
            parent_id=h.parent_id or None,
            author_id=h.author_id,
            author=author(h.author_id, known),
            text=h.text,
            highlights=list(h.highlights),
            created_at=ts(h.created_at, h.HasField("created_at")),
            edited_at=ts(h.edited_at, h.HasField("edited_at")),
            score=h.score,
        )
        for h in hits
    ]
