"""Query building: pure functions from a request to an OpenSearch search body.

Nothing here does I/O, so the rules (what a query means, who may see what, how
pages are cut) are unit-tested without a cluster. ``check_*`` validates and raises
INVALID_ARGUMENT; ``*_query`` builds the body.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hallway_common.errors import InvalidArgument
from hallway_common.pagination import decode_cursor, encode_cursor, page_size

MAX_QUERY_CHARS = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Counting every match of a broad query is expensive on a large index; past this
# the total is a lower bound ("10,000+"), which is what a results page shows anyway.
TRACK_TOTAL_HITS = 10_000
HIGHLIGHT_FRAGMENTS = 3
HIGHLIGHT_FRAGMENT_CHARS = 160

TAG = re.compile(r"^#+([\w-]{1,100})", re.UNICODE)

POST_SOURCE = ["post_id", "author_id", "community_id", "text", "hashtags", "created_at"]
PERSON_SOURCE = ["person_id", "handle", "display_name", "title", "department"]
COMMUNITY_SOURCE = [
    "community_id",
    "name",
    "description",
    "visibility",
    "official",
    "posting",
    "created_at",
]
COMMENT_SOURCE = [
    "comment_id",
    "post_id",
    "parent_id",
    "author_id",
    "text",
    "created_at",
    "edited_at",
]
VISIBILITIES = ("public", "private")


@dataclass(frozen=True)
class Filters:
    """Optional narrowing of posts or comments; an empty field filters nothing."""

    community_id: str = ""
    post_id: str = ""
    author_id: str = ""
    tag: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def __bool__(self) -> bool:
        return any(self.parts())

    def parts(self) -> list[str]:
        """The filters set, as fingerprint parts (none for an unfiltered query, so its
        page tokens are the same as before filters existed)."""
        out = [
            f"{name}={value}"
            for name, value in (
                ("community", self.community_id),
                ("post", self.post_id),
                ("author", self.author_id),
                ("tag", self.tag),
            )
            if value
        ]
        if self.since:
            out.append(f"since={self.since.isoformat()}")
        if self.until:
            out.append(f"until={self.until.isoformat()}")
        return out

    def clauses(self) -> list[dict[str, Any]]:
        """Filter clauses (exact terms, a half-open created_at range)."""
        out: list[dict[str, Any]] = []
        for name, value in (
            ("community_id", self.community_id),
            ("post_id", self.post_id),
            ("author_id", self.author_id),
            ("hashtags", self.tag),
        ):
            if value:
                out.append({"term": {name: value}})
        created: dict[str, str] = {}
        if self.since:
            created["gte"] = self.since.isoformat()
        if self.until:
            created["lt"] = self.until.isoformat()
        if created:
            out.append({"range": {"created_at": created}})
        return out


def check_filters(
    *,
    community_id: str = "",
    post_id: str = "",
    author_id: str = "",
    tag: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Filters:
    """Validated filters; INVALID_ARGUMENT for an id that is not a UUID, a tag that is
    not one, or ``since`` not before ``until``."""
    ids = {
        name: _uuid(shown, value)
        for name, shown, value in (
            ("community_id", "community_id", community_id),
            ("post_id", "post_id", post_id),
            ("author_id", "written_by", author_id),  # the request field's name
        )
    }
    normal_tag = ""
    if tag:
        raw = tag if tag.startswith("#") else f"#{tag}"
        match = TAG.match(raw)
        if not match or match.end() != len(raw):
            raise InvalidArgument(f"tag must be one #tag (letters, digits, _ and -), got {tag!r}")
        normal_tag = match.group(1).lower().strip("-_")
        if not normal_tag:
            raise InvalidArgument(f"tag has nothing to search for: {tag!r}")
    since, until = _utc(since), _utc(until)
    if since and until and since >= until:
        raise InvalidArgument("since must be before until")
    return Filters(tag=normal_tag, since=since, until=until, **ids)


def _uuid(name: str, value: str) -> str:
    if not value:
        return ""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(f"{name} must be a UUID, got {value[:64]!r}") from None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class PostsQuery:
    """A posts query as the user meant it: free words, required #tags, filters."""

    words: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def fingerprint(self) -> str:
        """Binds page tokens to the query they were cut from."""
        return _fingerprint("posts", self.text, *self.tags, *self.filters.parts())


def check_query(query: str) -> str:
    """The trimmed query; INVALID_ARGUMENT unless it has 1-200 characters."""
    text = _check_chars(query)
    if not text:
        raise InvalidArgument("query must not be empty")
    return text


def _check_chars(query: str) -> str:
    """The query with whitespace collapsed (maybe empty); INVALID_ARGUMENT past 200 chars."""
    if "\x00" in query:
        raise InvalidArgument("query must not contain NUL characters")
    text = " ".join(query.split())  # collapse runs of whitespace
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidArgument(f"query must be at most {MAX_QUERY_CHARS} characters")
    return text


def check_viewer(viewer_id: str) -> str | None:
    """The viewer's id (None for an anonymous caller); INVALID_ARGUMENT if not a UUID."""
    if not viewer_id:
        return None
    try:
        return str(uuid.UUID(viewer_id))
    except ValueError:
        raise InvalidArgument(f"viewer_id must be a UUID, got {viewer_id!r}") from None


def check_page_size(requested: int) -> int:
    """Default 20, at most 100; negative is INVALID_ARGUMENT."""
    return page_size(requested, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def parse_posts_query(query: str, filters: Filters | None = None) -> PostsQuery:
    """Split a query into words and ``#tags``.

    "#Launch," is the tag "launch" (lower-cased like the feed stores hashtags,
    trailing punctuation dropped); "@ada" stays a word, which the text analyzer
    matches against the "@ada" in a post. A lone "#" is just a word. With filters
    set, an empty query means "everything the filters let through".
    """
    filters = filters or Filters()
    if filters and not query.split():
        _check_chars(query)
        return PostsQuery(filters=filters)
    words: list[str] = []
    tags: list[str] = []
    for token in check_query(query).split(" "):
        match = TAG.match(token)
        if match:
            tag = match.group(1).lower().strip("-_")
            if tag:
                if tag not in tags:
                    tags.append(tag)
                continue
        words.append(token)
    return PostsQuery(words=words, tags=tags, filters=filters)


def visible_to(viewer_id: str | None) -> list[dict[str, Any]]:
    """Filter clauses that trim posts to what ``viewer_id`` may see.

    Today only public posts reach the search index, so every viewer sees the
    same set; communities extend this (e.g. ``visibility: public`` OR the
    viewer's community ids) without touching the callers. Deleted posts are
    tombstones and never visible.
    """
    return [
        {"term": {"deleted": False}},
        {"term": {"visibility": "public"}},
    ]


def posts_query(
    query: PostsQuery, viewer_id: str | None, size: int, after: list[Any] | None = None
) -> dict[str, Any]:
    """The search body for one page of posts: best match first, then newest."""
    must: list[dict[str, Any]] = []
    if query.words:
        must.append({"match": {"text": {"query": query.text, "operator": "and"}}})
    filters: list[dict[str, Any]] = [{"term": {"hashtags": tag}} for tag in query.tags]
    filters += query.filters.clauses()
    filters += visible_to(viewer_id)
    body: dict[str, Any] = {
        "size": size + 1,  # one extra tells whether there is a next page
        "query": {"bool": {"must": must, "filter": filters}},
        "sort": [
            {"_score": {"order": "desc"}},
            {"created_at": {"order": "desc"}},
            {"post_id": {"order": "desc"}},
        ],
        "track_total_hits": TRACK_TOTAL_HITS,
        "_source": POST_SOURCE,
        "highlight": {
            # The html encoder escapes the post's own markup, so only our <em> is markup.
            "encoder": "html",
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "fields": {
                "text": {
                    "number_of_fragments": HIGHLIGHT_FRAGMENTS,
                    "fragment_size": HIGHLIGHT_FRAGMENT_CHARS,
                }
            },
            # Tags are filters, not scored text; still show where they occur in the post.
            "highlight_query": {
                "match": {"text": {"query": " ".join([*query.words, *query.tags])}}
            },
        },
    }
    if not (query.words or query.tags):
        del body["highlight"]  # filters only: nothing to mark
    if after is not None:
        body["search_after"] = after
    return body


# Communities ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunitiesQuery:
    """Words to find in a community's name or description; an optional visibility."""

    text: str = ""
    visibility: str = ""

    def fingerprint(self) -> str:
        return _fingerprint("communities", self.text, self.visibility)


def parse_communities_query(query: str, visibility: str) -> CommunitiesQuery:
    """Up to 200 chars (empty lists all); visibility empty, "public" or "private"."""
    if visibility and visibility not in VISIBILITIES:
        raise InvalidArgument(f"visibility must be public or private, got {visibility[:20]!r}")
    return CommunitiesQuery(text=_check_chars(query), visibility=visibility)


def communities_query(
    query: CommunitiesQuery, size: int, after: list[Any] | None = None
) -> dict[str, Any]:
    """Discoverable communities (public and private; removed ones are tombstones) whose
    name or description match every word, best first, then by name.

    Secret communities are never in the index, so nothing here needs the viewer: the
    directory entry of a private community is for everyone, its content is not.
    """
    filters: list[dict[str, Any]] = [{"term": {"removed": False}}]
    if query.visibility:
        filters.append({"term": {"visibility": query.visibility}})
    bool_query: dict[str, Any] = {"filter": filters}
    if query.text:
        bool_query["should"] = [
            {
                "multi_match": {
                    "query": query.text,
                    "type": "best_fields",
                    "fields": ["name^3", "description"],
                    "operator": "and",
                }
            },
            {
                "multi_match": {
                    "query": query.text,
                    "type": "cross_fields",
                    "fields": ["name.prefix^2", "description.prefix"],
                    "operator": "and",
                }
            },
            {"term": {"name.keyword": {"value": query.text.lower(), "boost": 10}}},
        ]
        bool_query["minimum_should_match"] = 1
    body: dict[str, Any] = {
        "size": size + 1,
        "query": {"bool": bool_query},
        "sort": [
            {"_score": {"order": "desc"}},
            {"name.keyword": {"order": "asc", "missing": "_last"}},
            {"community_id": {"order": "asc"}},
        ],
        "track_total_hits": TRACK_TOTAL_HITS,
        "_source": COMMUNITY_SOURCE,
    }
    if after is not None:
        body["search_after"] = after
    return body


def communities_page_token(query: CommunitiesQuery, sort_values: list[Any]) -> str:
    score, name, community_id = sort_values
    return encode_cursor(query.fingerprint(), score, name, community_id)


def decode_communities_token(query: CommunitiesQuery, token: str) -> list[Any] | None:
    key = decode_cursor(token, 4)
    if key is None:
        return None
    fingerprint, score, name, community_id = key
    if fingerprint != query.fingerprint():
        raise InvalidArgument("page_token belongs to a different query")
    if not (_number(score) and isinstance(name, str) and isinstance(community_id, str)):
        raise InvalidArgument("page_token is not valid")
    return [score, name, community_id]


# Comments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentsQuery:
    """Words every matching comment contains, and filters."""

    words: list[str] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def fingerprint(self) -> str:
        return _fingerprint("comments", self.text, *self.filters.parts())


def parse_comments_query(query: str, filters: Filters) -> CommentsQuery:
    """Words of a comments query; empty only when a filter is set."""
    text = _check_chars(query) if filters else check_query(query)
    return CommentsQuery(words=text.split(" ") if text else [], filters=filters)


def comments_query(
    query: CommentsQuery, viewer_id: str | None, size: int, after: list[Any] | None = None
) -> dict[str, Any]:
    """One page of comments: best match first, then newest. Only comments on public
    posts reach the index, and deleted ones (with their post, too) are tombstones."""
    must: list[dict[str, Any]] = []
    if query.words:
        must.append({"match": {"text": {"query": query.text, "operator": "and"}}})
    filters = [{"term": {"deleted": False}}, *query.filters.clauses()]
    body: dict[str, Any] = {
        "size": size + 1,
        "query": {"bool": {"must": must, "filter": filters}},
        "sort": [
            {"_score": {"order": "desc"}},
            {"created_at": {"order": "desc"}},
            {"comment_id": {"order": "desc"}},
        ],
        "track_total_hits": TRACK_TOTAL_HITS,
        "_source": COMMENT_SOURCE,
    }
    if query.words:
        body["highlight"] = {
            "encoder": "html",
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "fields": {
                "text": {
                    "number_of_fragments": HIGHLIGHT_FRAGMENTS,
                    "fragment_size": HIGHLIGHT_FRAGMENT_CHARS,
                }
            },
        }
    if after is not None:
        body["search_after"] = after
    return body


def comments_page_token(query: CommentsQuery, sort_values: list[Any]) -> str:
    score, created_at, comment_id = sort_values
    return encode_cursor(query.fingerprint(), score, created_at, comment_id)


def decode_comments_token(query: CommentsQuery, token: str) -> list[Any] | None:
    key = decode_cursor(token, 4)
    if key is None:
        return None
    fingerprint, score, created_at, comment_id = key
    if fingerprint != query.fingerprint():
        raise InvalidArgument("page_token belongs to a different query")
    if not (_number(score) and isinstance(created_at, int) and isinstance(comment_id, str)):
        raise InvalidArgument("page_token is not valid")
    return [score, created_at, comment_id]


def people_text(query: str) -> str:
    """A people query without the "@" people type in front of handles."""
    text = " ".join(t.lstrip("@") for t in check_query(query).split(" ") if t.lstrip("@"))
    if not text:
        raise InvalidArgument("query has nothing to search for")
    return text


def people_query(text: str, size: int, after: list[Any] | None = None) -> dict[str, Any]:
    """Type-ahead people search over handle, name, title and department, best first.

    Whole words score above prefixes ("ada" beats "adam" for "ada"), an exact
    handle above everything; every word must match some field. Deactivated people
    are not found.
    """
    should: list[dict[str, Any]] = [
        {
            "multi_match": {
                "query": text,
                "type": "best_fields",
                "fields": ["handle^4", "display_name^3", "title", "department"],
                "operator": "and",
            }
        },
        {
            "multi_match": {
                "query": text,
                "type": "cross_fields",
                "fields": [
                    "handle.prefix^2",
                    "display_name.prefix^2",
                    "title.prefix",
                    "department.prefix",
                ],
                "operator": "and",
            }
        },
        {"term": {"handle.keyword": {"value": text.lower(), "boost": 10}}},
    ]
    body: dict[str, Any] = {
        "size": size + 1,
        "query": {
            "bool": {
                "should": should,
                "minimum_should_match": 1,
                "filter": [{"term": {"active": True}}],
            }
        },
        "sort": [{"_score": {"order": "desc"}}, {"handle.keyword": {"order": "asc"}}],
        "track_total_hits": TRACK_TOTAL_HITS,
        "_source": PERSON_SOURCE,
    }
    if after is not None:
        body["search_after"] = after
    return body


# Page tokens: opaque keyset cursors over the sort values (never from/offset), with a
# fingerprint so a token cannot be replayed against a different query.


def posts_page_token(query: PostsQuery, sort_values: list[Any]) -> str:
    score, created_at, post_id = sort_values
    return encode_cursor(query.fingerprint(), score, created_at, post_id)


def decode_posts_token(query: PostsQuery, token: str) -> list[Any] | None:
    """search_after values of a posts page token (None for the first page)."""
    key = decode_cursor(token, 4)
    if key is None:
        return None
    fingerprint, score, created_at, post_id = key
    if fingerprint != query.fingerprint():
        raise InvalidArgument("page_token belongs to a different query")
    if not (_number(score) and isinstance(created_at, int) and isinstance(post_id, str)):
        raise InvalidArgument("page_token is not valid")
    return [score, created_at, post_id]


def people_page_token(text: str, sort_values: list[Any]) -> str:
    score, handle = sort_values
    return encode_cursor(_fingerprint("people", text), score, handle)


def decode_people_token(text: str, token: str) -> list[Any] | None:
    key = decode_cursor(token, 3)
    if key is None:
        return None
    fingerprint, score, handle = key
    if fingerprint != _fingerprint("people", text):
        raise InvalidArgument("page_token belongs to a different query")
    if not (_number(score) and isinstance(handle, str)):
        raise InvalidArgument("page_token is not valid")
    return [score, handle]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]
