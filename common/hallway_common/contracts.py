"""Event contracts: the topics Hallway publishes and the schema of every payload.

This module is the published contract for integration teams. Rules for change:
add optional fields freely; never remove or retype a field, never make an optional
field required. A breaking change is a new topic version (``...v2``). The contract
test (tests/contract) compares these models against the checked-in JSON schemas and
fails on a breaking change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Payload(BaseModel):
    """An event's data. Every payload names its own type in ``type`` (the same value as
    the ``ce_type`` header), so a record stays self-describing where a sink drops
    headers, and no payload schema validates another type's record."""

    # Consumers ignore fields they do not know, so producers may add fields.
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    occurred_at: datetime


def _typed(event_type: str) -> Any:
    """The ``type`` field of one event type: a constant, defaulted so the producer
    never writes it twice and records from before the field existed still parse."""
    return Field(default=event_type, json_schema_extra={"const": event_type})


class PersonUpserted(Payload):
    """A person as the directory holds them. Later versions replace earlier ones."""

    person_id: UUID
    handle: str
    display_name: str
    title: str = ""
    department: str = ""
    manager_id: UUID | None = None
    email: str | None = Field(
        default=None, description="Work address, for mail from Hallway; null when unknown."
    )
    active: bool = True
    version: int = Field(ge=1, description="Increases with every change of this person.")
    occurred_at: datetime


class PersonCreated(PersonUpserted):
    """A person joined the directory."""

    type: Literal["hallway.profile.person.created"] = _typed("hallway.profile.person.created")


class PersonUpdated(PersonUpserted):
    """A person's directory entry changed (the whole entry, not a diff)."""

    type: Literal["hallway.profile.person.updated"] = _typed("hallway.profile.person.updated")


class PersonRemoved(Payload):
    """A person left the directory: deactivated (the account may come back) or erased
    (their personal data is gone for good). Consumers drop what they hold about them."""

    type: Literal["hallway.profile.person.removed"] = _typed("hallway.profile.person.removed")
    person_id: UUID
    reason: Literal["deactivated", "erased"]
    version: int = Field(ge=1, description="The person's version after the removal.")
    occurred_at: datetime


class PersonState(PersonUpserted):
    """The current entry of one active person (state topic; removed people are tombstones)."""

    type: Literal["hallway.profile.person.state"] = _typed("hallway.profile.person.state")


class FollowChanged(Payload):
    """A follow edge between two people."""

    follower_id: UUID
    followee_id: UUID
    occurred_at: datetime


class FollowCreated(FollowChanged):
    """A person started following another person."""

    type: Literal["hallway.profile.follow.created"] = _typed("hallway.profile.follow.created")


class FollowDeleted(FollowChanged):
    """A person stopped following another person (or one of them was removed)."""

    type: Literal["hallway.profile.follow.deleted"] = _typed("hallway.profile.follow.deleted")


class FollowState(FollowChanged):
    """An existing follow edge (state topic; an ended edge is a tombstone)."""

    type: Literal["hallway.profile.follow.state"] = _typed("hallway.profile.follow.state")


class PostFields(Payload):
    post_id: UUID
    author_id: UUID
    community_id: UUID | None = Field(
        default=None,
        description="The public community the post was made in; null for a personal post. "
        "Posts in private and secret communities are never on this topic.",
    )
    text: str
    mentions: list[UUID] = Field(default_factory=list, description="Mentioned person ids.")
    hashtags: list[str] = Field(default_factory=list, description="Lower-cased, without '#'.")
    visibility: Literal["public"] = "public"
    version: int = Field(ge=1)
    created_at: datetime
    occurred_at: datetime


class PostCreated(PostFields):
    """A post was published. Only public posts are published on this topic."""

    type: Literal["hallway.feed.post.created"] = _typed("hallway.feed.post.created")


class PostState(PostFields):
    """A live public post (state topic; a deleted post is a tombstone, its text gone)."""

    type: Literal["hallway.feed.post.state"] = _typed("hallway.feed.post.state")


class PostDeleted(Payload):
    """A post was deleted; consumers remove every copy they hold."""

    type: Literal["hallway.feed.post.deleted"] = _typed("hallway.feed.post.deleted")
    post_id: UUID
    author_id: UUID
    version: int = Field(ge=1)
    occurred_at: datetime


class PostWithdrawn(PostDeleted):
    """A post left the public audience: its community stopped being public. For a
    consumer of this topic it is gone just as if deleted (drop every copy); it stays
    readable to the community's members in Hallway. Visibility is never widened
    again, so a withdrawn post does not come back on this topic."""

    type: Literal["hallway.feed.post.withdrawn"] = _typed(  # type: ignore[assignment]
        "hallway.feed.post.withdrawn"
    )
    community_id: UUID


Visibility = Literal["public", "private", "secret"]


class CommunityFields(Payload):
    """A community as its directory entry shows it. Only public and private
    communities are on the community topics: a secret one does not exist for anyone
    but its members."""

    community_id: UUID
    name: str
    description: str = ""
    visibility: Literal["public", "private"]
    official: bool = Field(default=False, description="Created by a network admin.")
    posting: Literal["members", "admins"] = Field(
        default="members", description="Who may post: every member, or owners and admins only."
    )
    created_by: UUID
    version: int = Field(ge=1, description="Increases with every change of this community.")
    created_at: datetime
    occurred_at: datetime


class CommunityCreated(CommunityFields):
    """A public or private community was created."""

    type: Literal["hallway.feed.community.created"] = _typed("hallway.feed.community.created")


class CommunityUpdated(CommunityFields):
    """A community's entry changed (the whole entry, not a diff)."""

    type: Literal["hallway.feed.community.updated"] = _typed("hallway.feed.community.updated")


class CommunityRemoved(Payload):
    """A community left the directory: it was made secret (``hidden``). Consumers drop
    what they hold about it."""

    type: Literal["hallway.feed.community.removed"] = _typed("hallway.feed.community.removed")
    community_id: UUID
    reason: Literal["hidden"]
    version: int = Field(ge=1)
    occurred_at: datetime


class CommunityState(CommunityFields):
    """A public or private community (state topic; a tombstone once it is secret)."""

    type: Literal["hallway.feed.community.state"] = _typed("hallway.feed.community.state")


class MembershipFields(Payload):
    """A person's membership of a public community. Memberships of private and
    secret communities are never on the membership topics (their member lists are
    for members only)."""

    community_id: UUID
    person_id: UUID
    role: Literal["owner", "admin", "member"]
    version: int = Field(ge=1, description="Increases with every change of this membership.")
    occurred_at: datetime


class MembershipCreated(MembershipFields):
    """A person became a member of a public community."""

    type: Literal["hallway.feed.membership.created"] = _typed("hallway.feed.membership.created")


class MembershipUpdated(MembershipFields):
    """A member's role changed."""

    type: Literal["hallway.feed.membership.updated"] = _typed("hallway.feed.membership.updated")


class MembershipDeleted(Payload):
    """A membership ended (the person left or was removed), or the community stopped
    being public so its member list left the topic (``withdrawn``)."""

    type: Literal["hallway.feed.membership.deleted"] = _typed("hallway.feed.membership.deleted")
    community_id: UUID
    person_id: UUID
    reason: Literal["left", "removed", "withdrawn"]
    version: int = Field(ge=1)
    occurred_at: datetime


class MembershipState(MembershipFields):
    """A current membership of a public community (state topic; tombstone when it ends)."""

    type: Literal["hallway.feed.membership.state"] = _typed("hallway.feed.membership.state")


ReactionKind = Literal["like", "celebrate", "insightful", "support", "funny"]


class CommentFields(Payload):
    """A comment on a public post (comments on posts in private and secret communities
    are never on these topics). ``parent_id`` is the comment it replies to (one level)."""

    comment_id: UUID
    post_id: UUID
    post_author_id: UUID = Field(description="The author of the post commented on.")
    parent_id: UUID | None = Field(default=None, description="The comment replied to.")
    parent_author_id: UUID | None = Field(
        default=None, description="The author of the comment replied to."
    )
    author_id: UUID
    text: str
    mentions: list[UUID] = Field(default_factory=list, description="Mentioned person ids.")
    version: int = Field(ge=1, description="Increases with every edit.")
    created_at: datetime
    edited_at: datetime | None = Field(default=None, description="Set once edited.")
    occurred_at: datetime


class CommentCreated(CommentFields):
    """A comment or reply was written."""

    type: Literal["hallway.feed.comment.created"] = _typed("hallway.feed.comment.created")


class CommentUpdated(CommentFields):
    """A comment was edited (the whole comment, not a diff)."""

    type: Literal["hallway.feed.comment.updated"] = _typed("hallway.feed.comment.updated")


class CommentDeleted(Payload):
    """A comment is gone: deleted by its author, or with its post (deleted or withdrawn
    from the public audience). Consumers remove every copy they hold."""

    type: Literal["hallway.feed.comment.deleted"] = _typed("hallway.feed.comment.deleted")
    comment_id: UUID
    post_id: UUID
    author_id: UUID
    reason: Literal["deleted", "post_deleted", "post_withdrawn"]
    version: int = Field(ge=1)
    occurred_at: datetime


class CommentState(CommentFields):
    """A live comment on a public post (state topic; a tombstone once gone)."""

    type: Literal["hallway.feed.comment.state"] = _typed("hallway.feed.comment.state")


class ReactionFields(Payload):
    """One person's reaction of one kind to a public post."""

    post_id: UUID
    post_author_id: UUID
    person_id: UUID
    kind: ReactionKind
    occurred_at: datetime


class ReactionCreated(ReactionFields):
    """A person reacted to a post."""

    type: Literal["hallway.feed.reaction.created"] = _typed("hallway.feed.reaction.created")


class ReactionDeleted(ReactionFields):
    """A reaction was taken back, or went with its post (deleted or withdrawn)."""

    type: Literal["hallway.feed.reaction.deleted"] = _typed("hallway.feed.reaction.deleted")


class ReactionState(ReactionFields):
    """A current reaction to a public post (state topic; a tombstone once gone)."""

    type: Literal["hallway.feed.reaction.state"] = _typed("hallway.feed.reaction.state")


NoticeKind = Literal[
    "mention",
    "reply",
    "reaction",
    "community_invite",
    "join_request",
    "request_approved",
    "community_post",
]
MAX_RECIPIENTS = 1000


class NoticeCreated(Payload):
    """Something happened that named people should hear of. Feed, which decides who may
    read what, chooses the recipients when it happens: only people who may read the
    post, comment or community it is about. Large audiences come as several notices of
    up to ``MAX_RECIPIENTS`` each. Internal: it names private and secret content."""

    type: Literal["hallway.feed.notice.created"] = _typed("hallway.feed.notice.created")
    notice_id: UUID
    scope: UUID = Field(
        description="The record key: the community it is about, else the post, else the "
        "first recipient; notices and revocations of one community stay in order."
    )
    kind: NoticeKind
    recipients: list[UUID] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    actor_id: UUID = Field(description="Who did it.")
    post_id: UUID | None = None
    comment_id: UUID | None = None
    community_id: UUID | None = None
    community_name: str = ""
    reaction: ReactionKind | None = Field(default=None, description="For kind reaction.")
    snippet: str = Field(default="", max_length=200, description="The start of the text.")
    occurred_at: datetime


class NoticeRetracted(Payload):
    """The post or comment a notice was about is gone (deleted, or a comment's thread
    deleted): drop every notice about it. Internal."""

    type: Literal["hallway.feed.notice.retracted"] = _typed("hallway.feed.notice.retracted")
    scope: UUID
    post_id: UUID | None = None
    comment_id: UUID | None = None
    occurred_at: datetime


class AccessRevoked(Payload):
    """A person may no longer read a private or secret community's content (they left
    or were removed, or it turned secret without them): drop what is held for them
    about it. Internal."""

    type: Literal["hallway.feed.notice.revoked"] = _typed("hallway.feed.notice.revoked")
    scope: UUID = Field(description="The community (the record key).")
    community_id: UUID
    person_id: UUID
    occurred_at: datetime


@dataclass(frozen=True)
class Topic:
    """One topic per entity stream, keyed by the aggregate id.

    A *change* topic carries events and keeps them for a retention period. A *state*
    topic is compacted: the newest record per key is the entity's current state and
    a null value (tombstone) says it is gone, so a new consumer reading it from
    offset 0 loads everything that exists now.
    """

    name: str
    key: tuple[str, ...]
    producer: str
    description: str
    events: dict[str, type[Payload]] = field(default_factory=dict)
    compacted: bool = False

    def key_of(self, payload: Payload) -> str:
        """The record key: the key fields' values joined by ':'."""
        return ":".join(str(getattr(payload, name)) for name in self.key)


def _topic(
    name: str,
    key: tuple[str, ...],
    producer: str,
    description: str,
    *models: type[Payload],
    compacted: bool = False,
) -> Topic:
    events = {m.model_fields["type"].default: m for m in models}
    return Topic(name, key, producer, description, events, compacted)


PERSON = _topic(
    "hallway.profile.person.v1",
    ("person_id",),
    "profile",
    "People in the directory: created, updated and removed. Keyed by person_id.",
    PersonCreated,
    PersonUpdated,
    PersonRemoved,
)
FOLLOW = _topic(
    "hallway.profile.follow.v1",
    ("follower_id",),
    "profile",
    "Follow edges between people, created and deleted. Keyed by the follower.",
    FollowCreated,
    FollowDeleted,
)
POST = _topic(
    "hallway.feed.post.v1",
    ("post_id",),
    "feed",
    "Public posts (personal, or in a public community): created, deleted, and "
    "withdrawn when their community stops being public. Keyed by post_id.",
    PostCreated,
    PostDeleted,
    PostWithdrawn,
)
PERSON_STATE = _topic(
    "hallway.profile.person.state.v1",
    ("person_id",),
    "profile",
    "Compacted: the current entry of every active person, keyed by person_id; a "
    "tombstone (null value) when the person is deactivated or erased.",
    PersonState,
    compacted=True,
)
FOLLOW_STATE = _topic(
    "hallway.profile.follow.state.v1",
    ("follower_id", "followee_id"),
    "profile",
    "Compacted: every existing follow edge, keyed by '<follower_id>:<followee_id>'; a "
    "tombstone when the edge ends.",
    FollowState,
    compacted=True,
)
POST_STATE = _topic(
    "hallway.feed.post.state.v1",
    ("post_id",),
    "feed",
    "Compacted: every live public post, keyed by post_id; a tombstone when it is "
    "deleted or withdrawn, so its text does not survive compaction.",
    PostState,
    compacted=True,
)
COMMUNITY = _topic(
    "hallway.feed.community.v1",
    ("community_id",),
    "feed",
    "Public and private communities: created, updated, and removed when made secret. "
    "Keyed by community_id. Secret communities are never on this topic.",
    CommunityCreated,
    CommunityUpdated,
    CommunityRemoved,
)
COMMUNITY_STATE = _topic(
    "hallway.feed.community.state.v1",
    ("community_id",),
    "feed",
    "Compacted: every public and private community, keyed by community_id; a tombstone "
    "when it is made secret.",
    CommunityState,
    compacted=True,
)
MEMBERSHIP = _topic(
    "hallway.feed.membership.v1",
    ("community_id", "person_id"),
    "feed",
    "Memberships of public communities: created, role updated, deleted. Keyed by "
    "'<community_id>:<person_id>'. Private and secret member lists are never here.",
    MembershipCreated,
    MembershipUpdated,
    MembershipDeleted,
)
MEMBERSHIP_STATE = _topic(
    "hallway.feed.membership.state.v1",
    ("community_id", "person_id"),
    "feed",
    "Compacted: every membership of a public community, keyed by "
    "'<community_id>:<person_id>'; a tombstone when it ends or the community stops "
    "being public.",
    MembershipState,
    compacted=True,
)
COMMENT = _topic(
    "hallway.feed.comment.v1",
    ("comment_id",),
    "feed",
    "Comments on public posts: created, edited, deleted (also when their post is "
    "deleted or withdrawn). Keyed by comment_id.",
    CommentCreated,
    CommentUpdated,
    CommentDeleted,
)
COMMENT_STATE = _topic(
    "hallway.feed.comment.state.v1",
    ("comment_id",),
    "feed",
    "Compacted: every live comment on a public post, keyed by comment_id; a tombstone "
    "when it is deleted or its post is deleted or withdrawn.",
    CommentState,
    compacted=True,
)
REACTION = _topic(
    "hallway.feed.reaction.v1",
    ("post_id", "person_id", "kind"),
    "feed",
    "Reactions to public posts: created and deleted (also when their post is deleted "
    "or withdrawn). Keyed by '<post_id>:<person_id>:<kind>'.",
    ReactionCreated,
    ReactionDeleted,
)
REACTION_STATE = _topic(
    "hallway.feed.reaction.state.v1",
    ("post_id", "person_id", "kind"),
    "feed",
    "Compacted: every current reaction to a public post, keyed by "
    "'<post_id>:<person_id>:<kind>'; a tombstone when it is taken back or its post goes.",
    ReactionState,
    compacted=True,
)
NOTICE = _topic(
    "hallway.feed.notice.v1",
    ("scope",),
    "feed",
    "INTERNAL (Hallway's services only; never grant it to an integration): notices for "
    "named recipients, chosen by feed among those who may read what they are about, "
    "including private and secret content; retractions; revoked access. Keyed by "
    "scope (a community, else a post). No state topic: notices are not entities.",
    NoticeCreated,
    NoticeRetracted,
    AccessRevoked,
)

TOPICS: tuple[Topic, ...] = (
    PERSON,
    FOLLOW,
    POST,
    COMMUNITY,
    MEMBERSHIP,
    COMMENT,
    REACTION,
    NOTICE,
    PERSON_STATE,
    FOLLOW_STATE,
    POST_STATE,
    COMMUNITY_STATE,
    MEMBERSHIP_STATE,
    COMMENT_STATE,
    REACTION_STATE,
)


# Who consumes what, as consumer group -> (service, topics). The consumer base
# refuses subscriptions missing here, so the generated AsyncAPI documents (built
# from this table) cannot drift from what the services really consume.
CONSUMERS: dict[str, tuple[str, tuple[Topic, ...]]] = {
    "hallway-feed": ("feed", (PERSON, FOLLOW)),
    "hallway-feed-fanout": ("feed", (POST,)),
    "hallway-search": ("search", (PERSON, POST, COMMUNITY, COMMENT)),
    "hallway-notification": ("notification", (POST, FOLLOW, PERSON, NOTICE)),
}


def model_of(event_type: str) -> type[Payload]:
    """The payload model of an event type (KeyError for an unknown type)."""
    return topic_for_event(event_type).events[event_type]


def produced_by(service: str) -> list[Topic]:
    """The topics one service publishes (its change topics and their state topics)."""
    return [t for t in TOPICS if t.producer == service]


def topic_for_event(event_type: str) -> Topic:
    """The topic an event type belongs to (KeyError for an unknown type)."""
    for topic in TOPICS:
        if event_type in topic.events:
            return topic
    raise KeyError(event_type)


def dataschema(event_type: str) -> str:
    """The ``$id`` of an event type's payload schema, sent as ``ce_dataschema``.

    A URN: it names the schema (checked in as contracts/events/<type>.schema.json)
    without depending on a host; the version is the topic's major version.
    """
    version = topic_for_event(event_type).name.rsplit(".", 1)[-1]
    return f"urn:hallway:schema:{event_type}:{version}"


def dlq_topic(group: str) -> str:
    """Dead-letter topic of one consumer group."""
    return f"hallway.dlq.{group}"
