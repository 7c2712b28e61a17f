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
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Payload(BaseModel):
    # Consumers ignore fields they do not know, so producers may add fields.
    model_config = ConfigDict(extra="ignore", frozen=True)


class PersonUpserted(Payload):
    """A person was created or changed. Later versions replace earlier ones."""

    person_id: UUID
    handle: str
    display_name: str
    title: str = ""
    department: str = ""
    manager_id: UUID | None = None
    active: bool = True
    version: int = Field(ge=1, description="Increases with every change of this person.")
    occurred_at: datetime


class FollowChanged(Payload):
    """A person started or stopped following another person."""

    follower_id: UUID
    followee_id: UUID
    occurred_at: datetime


class PostCreated(Payload):
    """A post was published. Only public posts are published on this topic."""

    post_id: UUID
    author_id: UUID
    text: str
    mentions: list[UUID] = Field(default_factory=list, description="Mentioned person ids.")
    hashtags: list[str] = Field(default_factory=list, description="Lower-cased, without '#'.")
    visibility: Literal["public"] = "public"
    version: int = Field(ge=1)
    created_at: datetime
    occurred_at: datetime


class PostDeleted(Payload):
    """A post was deleted; consumers remove every copy they hold."""

    post_id: UUID
    author_id: UUID
    version: int = Field(ge=1)
    occurred_at: datetime


@dataclass(frozen=True)
class Topic:
    """One topic per entity stream, keyed by the aggregate id."""

    name: str
    key: str
    producer: str
    description: str
    events: dict[str, type[Payload]] = field(default_factory=dict)


PERSON = Topic(
    name="hallway.profile.person.v1",
    key="person_id",
    producer="profile",
    description="People in the directory: created and updated.",
    events={
        "hallway.profile.person.created": PersonUpserted,
        "hallway.profile.person.updated": PersonUpserted,
    },
)
FOLLOW = Topic(
    name="hallway.profile.follow.v1",
    key="follower_id",
    producer="profile",
    description="Follow edges between people, keyed by the follower.",
    events={
        "hallway.profile.follow.created": FollowChanged,
        "hallway.profile.follow.deleted": FollowChanged,
    },
)
POST = Topic(
    name="hallway.feed.post.v1",
    key="post_id",
    producer="feed",
    description="Public posts: created and deleted.",
    events={
        "hallway.feed.post.created": PostCreated,
        "hallway.feed.post.deleted": PostDeleted,
    },
)

TOPICS: tuple[Topic, ...] = (PERSON, FOLLOW, POST)


# Who consumes what, as consumer group -> (service, topics). The consumer base
# refuses subscriptions missing here, so the generated AsyncAPI documents (built
# from this table) cannot drift from what the services really consume.
CONSUMERS: dict[str, tuple[str, tuple[Topic, ...]]] = {
    "hallway-feed": ("feed", (PERSON, FOLLOW)),
    "hallway-feed-fanout": ("feed", (POST,)),
    "hallway-search": ("search", (PERSON, POST)),
    "hallway-notification": ("notification", (POST, FOLLOW)),
}


def topic_for_event(event_type: str) -> Topic:
    """The topic an event type belongs to (KeyError for an unknown type)."""
    for topic in TOPICS:
        if event_type in topic.events:
            return topic
    raise KeyError(event_type)


def dlq_topic(group: str) -> str:
    """Dead-letter topic of one consumer group."""
    return f"hallway.dlq.{group}"
