"""The search service's OpenSearch indices: client, names, mappings and migration.

Each logical index (``posts``, ``people``, ``communities``, ``comments``) is a versioned physical index
(``<prefix>-posts-v1``) behind an alias (``<prefix>-posts``). Reads and writes go
through the alias, so a later mapping change is a reindex into ``-v2`` plus an
atomic alias swap, with no client change.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import RequestError, TransportError
from pydantic import Field

from hallway_common.config import ServiceSettings
from hallway_common.logs import get_logger

log = get_logger(__name__)

MAPPING_VERSION = 1


class SearchSettings(ServiceSettings):
    """Settings of the search service (no PostgreSQL: it owns only OpenSearch)."""

    opensearch_url: str = "http://localhost:9201"
    opensearch_username: str = ""
    opensearch_password: str = ""
    opensearch_verify_certs: bool = True
    opensearch_index_prefix: str = Field(default="hallway", pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
    # Applied only when an index is created; a change needs a reindex.
    opensearch_number_of_shards: int = Field(default=1, ge=1, le=64)
    opensearch_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long start-up and migrate wait for OpenSearch to answer before giving up.
    opensearch_startup_timeout_seconds: float = Field(default=60.0, ge=0)


@dataclass(frozen=True)
class IndexNames:
    """Aliases (what reads and writes use) and the physical indices behind them."""

    prefix: str

    @property
    def posts(self) -> str:
        return f"{self.prefix}-posts"

    @property
    def people(self) -> str:
        return f"{self.prefix}-people"

    @property
    def communities(self) -> str:
        return f"{self.prefix}-communities"

    @property
    def comments(self) -> str:
        return f"{self.prefix}-comments"

    def physical(self, alias: str) -> str:
        return f"{alias}-v{MAPPING_VERSION}"


def create_client(settings: SearchSettings) -> AsyncOpenSearch:
    """An async client; credentials only when configured (the local node has no security)."""
    auth = (
        (settings.opensearch_username, settings.opensearch_password)
        if settings.opensearch_username
        else None
    )
    return AsyncOpenSearch(
        hosts=[settings.opensearch_url],
        http_auth=auth,
        verify_certs=settings.opensearch_verify_certs,
        ssl_show_warn=settings.opensearch_verify_certs,
        timeout=settings.opensearch_timeout_seconds,
        max_retries=2,
        retry_on_timeout=True,
    )


# Analysis shared by both indices. ``prefix_index`` turns "Lovelace" into l, lo, lov...
# at index time so type-ahead people search is a plain term match at query time.
ANALYSIS: dict[str, Any] = {
    "filter": {
        "prefix_edge": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
    },
    "tokenizer": {
        # Handles such as "ada.lovelace" or "j_doe-2" are searched by their parts.
        "handle_parts": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"},
    },
    "analyzer": {
        "name_text": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding"],
        },
        "prefix_index": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "asciifolding", "prefix_edge"],
        },
        "handle_text": {
            "type": "custom",
            "tokenizer": "handle_parts",
            "filter": ["lowercase", "asciifolding"],
        },
        "handle_prefix_index": {
            "type": "custom",
            "tokenizer": "handle_parts",
            "filter": ["lowercase", "asciifolding", "prefix_edge"],
        },
    },
    "normalizer": {
        "lower": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
    },
}


def _name_field() -> dict[str, Any]:
    """A person's free-text field: words, prefixes for type-ahead, exact keyword."""
    return {
        "type": "text",
        "analyzer": "name_text",
        "fields": {
            "prefix": {
                "type": "text",
                "analyzer": "prefix_index",
                "search_analyzer": "name_text",
            },
            "keyword": {"type": "keyword", "normalizer": "lower", "ignore_above": 256},
        },
    }


POSTS_MAPPING: dict[str, Any] = {
    # Strict: a field nobody declared is a bug upstream, not something to guess a type for.
    "dynamic": "strict",
    "properties": {
        "post_id": {"type": "keyword"},
        "author_id": {"type": "keyword"},
        # The public community the post was made in (absent for a personal post).
        "community_id": {"type": "keyword"},
        "text": {
            "type": "text",
            "analyzer": "english",
            # Offsets make highlighting cheap on long posts.
            "index_options": "offsets",
            "fields": {"exact": {"type": "text", "analyzer": "standard"}},
        },
        "hashtags": {"type": "keyword", "normalizer": "lower"},
        "mentions": {"type": "keyword"},
        "visibility": {"type": "keyword"},
        "created_at": {"type": "date"},
        "deleted": {"type": "boolean"},
        "deleted_at": {"type": "date"},
        "version": {"type": "long"},
        "indexed_at": {"type": "date"},
    },
}

PEOPLE_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "person_id": {"type": "keyword"},
        "handle": {
            "type": "text",
            "analyzer": "handle_text",
            "fields": {
                "prefix": {
                    "type": "text",
                    "analyzer": "handle_prefix_index",
                    "search_analyzer": "handle_text",
                },
                "keyword": {"type": "keyword", "normalizer": "lower", "ignore_above": 64},
            },
        },
        "display_name": _name_field(),
        "title": _name_field(),
        "department": _name_field(),
        "manager_id": {"type": "keyword"},
        "active": {"type": "boolean"},
        "version": {"type": "long"},
        "updated_at": {"type": "date"},
        "indexed_at": {"type": "date"},
    },
}


COMMUNITIES_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "community_id": {"type": "keyword"},
        "name": _name_field(),
        "description": {
            "type": "text",
            "analyzer": "english",
            "index_options": "offsets",
            "fields": {
                "prefix": {
                    "type": "text",
                    "analyzer": "prefix_index",
                    "search_analyzer": "name_text",
                }
            },
        },
        "visibility": {"type": "keyword"},
        "official": {"type": "boolean"},
        "posting": {"type": "keyword"},
        "created_by": {"type": "keyword"},
        "created_at": {"type": "date"},
        # A removal (the community was made secret) leaves a tombstone: ids, no words.
        "removed": {"type": "boolean"},
        "removed_at": {"type": "date"},
        "version": {"type": "long"},
        "indexed_at": {"type": "date"},
    },
}

COMMENTS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "comment_id": {"type": "keyword"},
        "post_id": {"type": "keyword"},
        "parent_id": {"type": "keyword"},
        "author_id": {"type": "keyword"},
        "text": {
            "type": "text",
            "analyzer": "english",
            "index_options": "offsets",
            "fields": {"exact": {"type": "text", "analyzer": "standard"}},
        },
        "mentions": {"type": "keyword"},
        "created_at": {"type": "date"},
        "edited_at": {"type": "date"},
        "deleted": {"type": "boolean"},
        "deleted_at": {"type": "date"},
        # Why it went: deleted, post_deleted, post_withdrawn.
        "deleted_reason": {"type": "keyword"},
        "version": {"type": "long"},
        "indexed_at": {"type": "date"},
    },
}


def index_body(mapping: dict[str, Any], shards: int) -> dict[str, Any]:
    """Settings and mapping of a new physical index."""
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                # One replica wherever there is a second node; a lone dev node stays green.
                "auto_expand_replicas": "0-1",
            },
            "analysis": ANALYSIS,
        },
        "mappings": mapping,
    }


def index_definitions(names: IndexNames) -> dict[str, dict[str, Any]]:
    """Alias -> mapping of every index this service owns."""
    return {
        names.posts: POSTS_MAPPING,
        names.people: PEOPLE_MAPPING,
        names.communities: COMMUNITIES_MAPPING,
        names.comments: COMMENTS_MAPPING,
    }


async def ensure_indices(client: AsyncOpenSearch, names: IndexNames, shards: int = 1) -> list[str]:
    """Create missing indices and aliases; apply additive mapping changes. Idempotent.

    Returns what changed (empty when everything was already in place). An
    incompatible mapping change fails here: it needs a new ``-vN`` index and a reindex.
    """
    changed: list[str] = []
    for alias, mapping in index_definitions(names).items():
        physical = names.physical(alias)
        if await client.indices.exists_alias(name=alias):
            # Serving from some physical index (the first one, or a rebuild's): keep it.
            physical = alias
        if not await client.indices.exists(index=physical):
            try:
                await client.indices.create(index=physical, body=index_body(mapping, shards))
                changed.append(f"created index {physical}")
            except RequestError as exc:
                # Another replica created it first: that is the state we wanted.
                if exc.error != "resource_already_exists_exception":
                    raise
        else:
            try:
                await client.indices.put_mapping(index=physical, body=mapping)
            except RequestError as exc:
                raise RuntimeError(
                    f"the mapping of {physical} cannot change in place ({exc.error}: {exc.info}); "
                    f"create {alias}-v{MAPPING_VERSION + 1}, reindex, and swap the alias"
                ) from exc
        if not await client.indices.exists_alias(name=alias):
            try:
                await client.indices.put_alias(
                    index=physical, name=alias, body={"is_write_index": True}
                )
                changed.append(f"created alias {alias} -> {physical}")
            except RequestError as exc:
                # An index named like the alias would shadow it; say so plainly.
                raise RuntimeError(f"cannot create alias {alias}: {exc.error}") from exc
    return changed


async def wait_until_reachable(client: AsyncOpenSearch, settings: SearchSettings) -> None:
    """Wait (bounded) for OpenSearch to answer; raise an OSError naming it otherwise.

    OSError is what the process runner reports as a one-line operator problem, and
    the wait lets the service start alongside OpenSearch (compose, a fresh cluster).
    """
    deadline = time.monotonic() + settings.opensearch_startup_timeout_seconds
    while True:
        try:
            await client.info()
            return
        except (OpenSearchConnectionError, TransportError) as exc:
            if time.monotonic() >= deadline:
                raise OSError(
                    f"OpenSearch at {settings.opensearch_url} is not reachable: {exc}"
                ) from None
            log.warning("waiting for OpenSearch", url=settings.opensearch_url, error=str(exc))
            await asyncio.sleep(1.0)


async def prepare(client: AsyncOpenSearch, settings: SearchSettings) -> list[str]:
    """Wait for OpenSearch, then make sure the indices and aliases exist (serve and migrate)."""
    await wait_until_reachable(client, settings)
    return await ensure_indices(
        client, IndexNames(settings.opensearch_index_prefix), settings.opensearch_number_of_shards
    )


async def migrate(settings: SearchSettings) -> list[str]:
    """``python -m hallway_search migrate``: create or update the indices and aliases."""
    client = create_client(settings)
    try:
        return await prepare(client, settings)
    finally:
        await client.close()
