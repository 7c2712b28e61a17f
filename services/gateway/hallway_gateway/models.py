"""Request and response bodies of the REST API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

MAX_POST_CHARS = 5000


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque cursor of the next page; null on the last page."
    )


class Person(BaseModel):
    id: str
    handle: str
    display_name: str
    title: str
    department: str
    manager_id: str | None
    email: str
    created_at: str | None
    updated_at: str | None
    version: int
    follower_count: int
    following_count: int


class PersonCreate(BaseModel):
    """A new person (provisioning; admin only)."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=2, max_length=32, examples=["ada.lovelace"])
    display_name: str = Field(min_length=1, max_length=100, examples=["Ada Lovelace"])
    title: str = Field(default="", max_length=200)
    department: str = Field(default="", max_length=200)
    manager_id: str = Field(default="", max_length=64, description="Person id of the manager.")
    email: str = Field(default="", max_length=320)


class PersonUpdate(BaseModel):
    """Fields to change; absent fields stay, an empty string clears title, department or manager."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=200)
    manager_id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)


class Author(BaseModel):
    """The author as the profile service knew them when the page was served.

    ``handle`` and ``display_name`` are null when the profile service could not be
    reached in time (the posts are still served)."""

    id: str
    handle: str | None
    display_name: str | None


class Mention(BaseModel):
    person_id: str
    handle: str


class Post(BaseModel):
    id: str
    author_id: str
    author: Author
    text: str
    mentions: list[Mention]
    hashtags: list[str]
    created_at: str | None
    version: int
    community_id: str | None = Field(
        description="The community it was posted in; null for a personal post."
    )
    comment_count: int
    reaction_counts: dict[str, int] = Field(
        description="Reactions by kind (like, celebrate, insightful, support, funny); kinds "
        "with none are left out."
    )
    my_reactions: list[str] = Field(description="Your own reactions to it, by kind.")


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_POST_CHARS, examples=["Hello @ada #launch"])
    community_id: str | None = Field(
        default=None,
        max_length=64,
        description="Post in this community (you must be a member); omit for a personal post.",
    )


Visibility = Literal["public", "private", "secret"]
Posting = Literal["members", "admins"]
Role = Literal["owner", "admin", "member"]


class Membership(BaseModel):
    """The signed-in person's place in a community."""

    state: Literal["active", "requested", "invited"]
    role: Role | None = Field(description="While active; null for a request or invitation.")


class Community(BaseModel):
    id: str
    name: str
    description: str
    visibility: Visibility = Field(
        description="public: everyone reads and joins. private: listed, content for members, "
        "join by request or invitation. secret: exists only for members and invitees."
    )
    official: bool = Field(description="Created by a network admin.")
    posting: Posting = Field(description="Who may post: every member, or owners and admins.")
    created_by: str
    member_count: int
    created_at: str | None
    version: int
    membership: Membership | None = Field(description="Yours; null when you have none.")


class CommunityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["Design guild"])
    description: str = Field(default="", max_length=2000)
    visibility: Visibility = "public"
    official: bool = Field(default=False, description="Network admins only.")
    posting: Posting = "members"


class CommunityUpdate(BaseModel):
    """Fields to change; absent fields stay. Visibility can only be narrowed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    visibility: Visibility | None = None
    posting: Posting | None = None


class Member(BaseModel):
    person: Author
    state: Literal["active", "requested", "invited"]
    role: Role
    since: str | None
    notify_posts: bool = Field(
        description="Hears of every post; shown on your own membership only (else false)."
    )


class MemberAdd(BaseModel):
    """Invite a person, or approve their request to join."""

    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=64, description="Person id or handle.")


class MemberUpdate(BaseModel):
    """A role (owners, for anyone), and/or notify_posts (your own membership only)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    notify_posts: bool | None = None


class PostHit(BaseModel):
    post_id: str
    author_id: str
    author: Author
    text: str
    highlights: list[str] = Field(
        description="Fragments with <em> around matches; the rest of the fragment is "
        "not HTML-escaped, so render it as text."
    )
    hashtags: list[str]
    created_at: str | None
    score: float
    community_id: str | None = Field(
        default=None, description="The public community it was posted in; null if personal."
    )


class PersonHit(BaseModel):
    person_id: str
    handle: str
    display_name: str
    title: str
    department: str
    score: float


class SearchPage(Page[T], Generic[T]):
    total: int


class Notification(BaseModel):
    """One notification. Replies and reactions on one post are grouped while unread:
    ``actor`` is the newest of ``actor_count`` people ("Ana and 12 others reacted")."""

    id: str
    kind: Literal[
        "mention",
        "new_follower",
        "reply",
        "reaction",
        "community_invite",
        "join_request",
        "request_approved",
        "community_post",
        "unspecified",
    ]
    actor_id: str
    actor: Author
    post_id: str | None
    snippet: str
    created_at: str | None
    read: bool
    comment_id: str | None = None
    community_id: str | None = None
    community_name: str | None = None
    reaction: str | None = None
    actor_count: int = 1


class NotificationPage(Page[Notification]):
    unread_count: int


class MarkRead(BaseModel):
    """Either ``ids`` or ``all: true``."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(default_factory=list, max_length=500)
    all: bool = False


class MarkReadResult(BaseModel):
    updated: int
    unread_count: int


class FollowResult(BaseModel):
    following: bool
    changed: bool = Field(description="False when the state was already as asked.")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


ReactionKind = Literal["like", "celebrate", "insightful", "support", "funny"]


class Comment(BaseModel):
    id: str
    post_id: str
    parent_id: str | None = Field(description="The comment replied to; null at the top level.")
    author_id: str
    author: Author
    text: str
    mentions: list[Mention]
    created_at: str | None
    edited_at: str | None = Field(description="Set once edited: show an 'edited' mark.")
    version: int


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_POST_CHARS)
    parent_id: str | None = Field(
        default=None, max_length=64, description="Reply to this comment (threads are one deep)."
    )


class CommentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_POST_CHARS)


class CommentEdit(BaseModel):
    version: int
    text: str
    written_at: str | None


class CommentHistory(BaseModel):
    comment: Comment
    edits: list[CommentEdit] = Field(description="Earlier texts, oldest first.")


class ReactionSummary(BaseModel):
    reaction_counts: dict[str, int]
    my_reactions: list[str]
    comment_count: int


class Reactor(BaseModel):
    person: Author
    kind: ReactionKind
    created_at: str | None


class Topic(BaseModel):
    tag: str = Field(description="Lower-cased, without '#'.")
    follower_count: int
    following: bool


class CommunityHit(BaseModel):
    """A community found by search: its directory entry, never its content or members."""

    community_id: str
    name: str
    description: str
    visibility: Literal["public", "private"]
    official: bool
    posting: str = Field(description="Who may post: members or admins.")
    created_at: str | None
    score: float


class CommentHit(BaseModel):
    comment_id: str
    post_id: str
    parent_id: str | None = Field(description="The comment replied to; null at the top level.")
    author_id: str
    author: Author
    text: str
    highlights: list[str] = Field(
        description="Fragments with <em> around matches; the rest of the fragment is HTML-escaped."
    )
    created_at: str | None
    edited_at: str | None
    score: float
