"""Kafka -> OpenSearch: people and posts documents, applied by versioned upserts.

The search service has no database to remember which events it applied, so every
write carries the source's version with OpenSearch *external* versioning: a replayed
or out-of-order older event is rejected by OpenSearch (409) and treated as "already
applied". A deleted post becomes a tombstone (``deleted: true``, text dropped) whose
version is above any create of the same or an earlier version, so replaying the
create after the delete cannot bring the post back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConflictError, TransportError

from hallway_common.contracts import Payload, PersonUpserted, PostCreated, PostDeleted, PostFields
from hallway_common.events import Event
from hallway_common.logs import get_logger
from hallway_search.indices import IndexNames
from hallway_search.metrics import INDEXED, INDEXING_LAG

log = get_logger(__name__)

# Statuses that mean "OpenSearch is busy or restarting", never "this event is bad".
BUSY_STATUSES = frozenset({429, 502, 503, 504})
# The version conflict of external versioning: an equal or newer version is indexed.
CONFLICT = 409


class OpenSearchBusy(Exception):
    """OpenSearch pushed back; the consumer retries without dead-lettering."""


def post_version(version: int, *, deleted: bool) -> int:
    """External version of a post document.

    Doubling keeps the source's order between versions and puts a delete above a
    create (or edit) of the same version, whatever numbering the producer uses.
    """
    return version * 2 + (1 if deleted else 0)


def person_document(p: PersonUpserted) -> dict[str, Any]:
    return {
        "person_id": str(p.person_id),
        "handle": p.handle,
        "display_name": p.display_name,
        "title": p.title,
        "department": p.department,
        "manager_id": str(p.manager_id) if p.manager_id else None,
        "active": p.active,
        "version": p.version,
        "updated_at": p.occurred_at.isoformat(),
        "indexed_at": _now().isoformat(),
    }


def post_document(p: PostFields) -> dict[str, Any]:
    return {
        "post_id": str(p.post_id),
        "author_id": str(p.author_id),
        "text": p.text,
        "hashtags": [t.lower().lstrip("#") for t in p.hashtags],
        "mentions": [str(m) for m in p.mentions],
        "visibility": p.visibility,
        "created_at": p.created_at.isoformat(),
        "deleted": False,
        "version": p.version,
        "indexed_at": _now().isoformat(),
    }


def post_tombstone(p: PostDeleted) -> dict[str, Any]:
    """What remains of a deleted post: ids and the fact, never its text."""
    return {
        "post_id": str(p.post_id),
        "author_id": str(p.author_id),
        "deleted": True,
        "deleted_at": p.occurred_at.isoformat(),
        "version": p.version,
        "indexed_at": _now().isoformat(),
    }


def _now() -> datetime:
    return datetime.now(UTC)


class Indexer:
    """Consumer handlers of group ``hallway-search``: one versioned write per event."""

    def __init__(self, client: AsyncOpenSearch, names: IndexNames) -> None:
        self.client = client
        self.names = names

    async def on_person(
        self, event: Event, payload: Payload, conn: asyncpg.Connection | None
    ) -> bool:
        """A person created or updated: replace the document unless a newer one is there.

        person.removed is skipped: the person.updated of the same version already
        replaced the document with the inactive (or scrubbed) entry.
        """
        if not isinstance(payload, PersonUpserted):
            return False
        return await self._write(
            "people",
            self.names.people,
            str(payload.person_id),
            person_document(payload),
            payload.version,
            payload.occurred_at,
        )

    async def on_post(
        self,
        event: Event,
        payload: PostCreated | PostDeleted,
        conn: asyncpg.Connection | None,
    ) -> bool:
        """A post created (document) or deleted (tombstone); False when already applied."""
        if isinstance(payload, PostDeleted):
            body = post_tombstone(payload)
            version = post_version(payload.version, deleted=True)
        else:
            body = post_document(payload)
            version = post_version(payload.version, deleted=False)
        return await self._write(
            "posts", self.names.posts, str(payload.post_id), body, version, payload.occurred_at
        )

    async def _write(
        self,
        index_label: str,
        alias: str,
        doc_id: str,
        body: dict[str, Any],
        version: int,
        occurred_at: datetime,
    ) -> bool:
        """Index ``body`` at ``version``; False when an equal or newer version is there."""
        try:
            # No refresh: the index's refresh interval makes it searchable within a second,
            # and a refresh per event would cost the cluster far more than that.
            result = await self.client.index(
                index=alias,
                id=doc_id,
                body=body,
                version=version,
                version_type="external",
                ignore=CONFLICT,  # expected on replays: no client-side warning per event
            )
        except ConflictError:
            result = {"status": CONFLICT}
        except TransportError as exc:
            if isinstance(exc.status_code, int) and exc.status_code in BUSY_STATUSES:
                raise OpenSearchBusy(f"OpenSearch answered {exc.status_code}") from exc
            raise
        if result.get("status") == CONFLICT:
            log.info("already applied", index=index_label, id=doc_id, version=version)
            return False
        INDEXED.labels(index_label).inc()
        if occurred_at.tzinfo is None:  # producers send UTC; be lenient with a naive stamp
            occurred_at = occurred_at.replace(tzinfo=UTC)
        INDEXING_LAG.observe(max(0.0, (_now() - occurred_at).total_seconds()))
        return True
