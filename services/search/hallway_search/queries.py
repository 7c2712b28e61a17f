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

POST_SOURCE = ["post_id", "author_id", "text", "hashtags", "created_at"]
PERSON_SOURCE = ["person_id", "handle", "display_name", "title", "department"]


@dataclass(frozen=True)
class PostsQuery:
    """A posts query as the user meant it: free words and required #tags."""

    words: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def fingerprint(self) -> str:
        """Binds page tokens to the query they were cut from."""
        return _fingerprint("posts", self.text, *self.tags)


def check_query(query: str) -> str:
    """The trimmed query; INVALID_ARGUMENT unless it has 1-200 characters."""
    if "\x00" in query:
        raise InvalidArgument("query must not contain NUL characters")
    text = " ".join(query.split())  # collapse runs of whitespace
    if not text:
        raise InvalidArgument("query must not be empty")
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


def parse_posts_query(query: str) -> PostsQuery:
    """Split a query into words and ``#tags``.

    "#Launch," is the tag "launch" (lower-cased like the feed stores hashtags,
    trailing punctuation dropped); "@ada" stays a word, which the text analyzer
    matches against the "@ada" in a post. A lone "#" is just a word.
    """
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
    return PostsQuery(words=words, tags=tags)


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
    if after is not None:
        body["search_after"] = after
    return body


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
