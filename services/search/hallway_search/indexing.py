"""Kafka -> OpenSearch: people, posts, communities and comments, by versioned upserts.

The search service has no database to remember which events it applied, so every
write carries the source's version with OpenSearch *external* versioning: a replayed
or out-of-order older event is rejected by OpenSearch (409) and treated as "already
applied". A deleted post becomes a tombstone (``deleted: true``, text dropped) whose
version is above any create of the same or an earlier version, so replaying the
create after the delete cannot bring the post back. Communities (removed when made
secret) and comments follow the same rule.

What depends on another entity is retired with it, whatever order the topics are
read in (Kafka orders per key only): a deleted or withdrawn post takes its comments,
a community that stops being public takes its posts and their comments. Those
cascaded tombstones carry ``FINAL_VERSION``, above any version a producer sends, so
nothing brings them back. Both sides write first and look second (a post's tombstone,
then its comments; a comment, then its post's tombstone), so however two consumers
interleave, one of them sees the other's write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError, TransportError
from opensearchpy.helpers import async_bulk, async_scan

from hallway_common.contracts import (
    CommentDeleted,
    CommentFields,
    CommunityFields,
    CommunityRemoved,
    Payload,
    PersonUpserted,
    PostCreated,
    PostDeleted,
    PostFields,
)
from hallway_common.events import Event
from hallway_common.logs import get_logger
from hallway_search.indices import IndexNames
from hallway_search.metrics import INDEXED, INDEXING_LAG, RETIRED

log = get_logger(__name__)

# Statuses that mean "OpenSearch is busy or restarting", never "this event is bad".
BUSY_STATUSES = frozenset({429, 502, 503, 504})
# The version conflict of external versioning: an equal or newer version is indexed.
CONFLICT = 409


# External version of a tombstone that nothing may overwrite: a comment of a deleted
# post, a post of a community that stopped being public. Below OpenSearch's limit
# (2^63 - 1) and far above any doubled producer version.
FINAL_VERSION = 2**62
# Comment deletions that are final: the post went, and a post never comes back.
POST_GONE = frozenset({"post_deleted", "post_withdrawn"})
CASCADE_CHUNK = 500


class OpenSearchBusy(Exception):
    """OpenSearch pushed back; the consumer retries without dead-lettering."""


def post_version(version: int, *, deleted: bool) -> int:
    """External version of a post document.

    Doubling keeps the source's order between versions and puts a delete above a
    create (or edit) of the same version, whatever numbering the producer uses.
    """
    return version * 2 + (1 if deleted else 0)


def versioned(version: int, *, removed: bool) -> int:
    """External version of a community or comment document (same rule as posts)."""
    return post_version(version, deleted=removed)


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
        "community_id": str(p.community_id) if p.community_id else None,
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


def community_document(c: CommunityFields) -> dict[str, Any]:
    return {
        "community_id": str(c.community_id),
        "name": c.name,
        "description": c.description,
        "visibility": c.visibility,
        "official": c.official,
        "posting": c.posting,
        "created_by": str(c.created_by),
        "created_at": c.created_at.isoformat(),
        "removed": False,
        "version": c.version,
        "indexed_at": _now().isoformat(),
    }


def community_tombstone(c: CommunityRemoved) -> dict[str, Any]:
    """What remains of a community made secret: its id and the fact, never its name."""
    return {
        "community_id": str(c.community_id),
        "removed": True,
        "removed_at": c.occurred_at.isoformat(),
        "version": c.version,
        "indexed_at": _now().isoformat(),
    }


def comment_document(c: CommentFields) -> dict[str, Any]:
    return {
        "comment_id": str(c.comment_id),
        "post_id": str(c.post_id),
        "parent_id": str(c.parent_id) if c.parent_id else None,
        "author_id": str(c.author_id),
        "text": c.text,
        "mentions": [str(m) for m in c.mentions],
        "created_at": c.created_at.isoformat(),
        "edited_at": c.edited_at.isoformat() if c.edited_at else None,
        "deleted": False,
        "version": c.version,
        "indexed_at": _now().isoformat(),
    }


def comment_tombstone(
    comment_id: str,
    post_id: str,
    author_id: str,
    reason: str,
    version: int,
    at: datetime,
) -> dict[str, Any]:
    """What remains of a deleted comment: ids, the reason, never its text."""
    return {
        "comment_id": comment_id,
        "post_id": post_id,
        "author_id": author_id,
        "deleted": True,
        "deleted_at": at.isoformat(),
        "deleted_reason": reason,
        "version": version,
        "indexed_at": _now().isoformat(),
    }


def _now() -> datetime:
    return datetime.now(UTC)


def _gone_reason(payload: PostDeleted) -> str:
    return "post_withdrawn" if payload.type == "hallway.feed.post.withdrawn" else "post_deleted"


def _status(error: dict[str, Any]) -> int:
    """The HTTP status of one failed bulk item."""
    for item in error.values():
        if isinstance(item, dict) and isinstance(item.get("status"), int):
            return int(item["status"])
    return 0


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
        """A post created (document) or deleted/withdrawn (tombstone, taking its comments
        with it); False when already applied."""
        post_id = str(payload.post_id)
        if isinstance(payload, PostDeleted):  # post.withdrawn too: gone for this topic
            body = post_tombstone(payload)
            version = post_version(payload.version, deleted=True)
            applied = await self._write(
                "posts", self.names.posts, post_id, body, version, payload.occurred_at
            )
            # Also on a replay: the comments may have arrived after the first time.
            await self.retire_comments([post_id], _gone_reason(payload), payload.occurred_at)
            return applied
        body = post_document(payload)
        version = post_version(payload.version, deleted=False)
        applied = await self._write(
            "posts", self.names.posts, post_id, body, version, payload.occurred_at
        )
        if payload.community_id and await self._community_closed(str(payload.community_id)):
            # The community stopped being public before this post reached us.
            await self.retire_posts({"ids": {"values": [post_id]}}, payload.occurred_at)
        return applied

    async def on_community(
        self,
        event: Event,
        payload: CommunityFields | CommunityRemoved,
        conn: asyncpg.Connection | None,
    ) -> bool:
        """A community created or updated (document) or made secret (tombstone).

        Once it is no longer public, whatever of its posts the index holds goes with
        their comments (feed withdraws them one by one too; this does not wait).
        """
        community_id = str(payload.community_id)
        if isinstance(payload, CommunityRemoved):
            body = community_tombstone(payload)
            version = versioned(payload.version, removed=True)
        else:
            body = community_document(payload)
            version = versioned(payload.version, removed=False)
        applied = await self._write(
            "communities", self.names.communities, community_id, body, version, payload.occurred_at
        )
        if isinstance(payload, CommunityRemoved) or payload.visibility != "public":
            await self.retire_posts({"term": {"community_id": community_id}}, payload.occurred_at)
        return applied

    async def on_comment(
        self,
        event: Event,
        payload: CommentFields | CommentDeleted,
        conn: asyncpg.Connection | None,
    ) -> bool:
        """A comment written or edited (document) or deleted (tombstone)."""
        comment_id, post_id = str(payload.comment_id), str(payload.post_id)
        if isinstance(payload, CommentDeleted):
            final = payload.reason in POST_GONE
            body = comment_tombstone(
                comment_id,
                post_id,
                str(payload.author_id),
                payload.reason,
                payload.version,
                payload.occurred_at,
            )
            version = FINAL_VERSION if final else versioned(payload.version, removed=True)
            return await self._write(
                "comments", self.names.comments, comment_id, body, version, payload.occurred_at
            )
        body = comment_document(payload)
        version = versioned(payload.version, removed=False)
        applied = await self._write(
            "comments", self.names.comments, comment_id, body, version, payload.occurred_at
        )
        # Written first, looked second: a post tombstone written meanwhile sees this
        # comment in its cascade, or this look sees the tombstone.
        reason = await self._post_gone(post_id)
        if reason:
            await self.retire_comments([post_id], reason, payload.occurred_at)
        return applied

    async def _post_gone(self, post_id: str) -> str | None:
        """The reason ``post_deleted`` when the index holds the post's tombstone (real-time get)."""
        source = await self._source(self.names.posts, post_id, ["deleted"])
        return "post_deleted" if source and source.get("deleted") else None

    async def _community_closed(self, community_id: str) -> bool:
        """True when the community is known to be private or removed (never widened)."""
        source = await self._source(self.names.communities, community_id, ["visibility", "removed"])
        return bool(source) and (source.get("removed") or source.get("visibility") != "public")

    async def _source(self, alias: str, doc_id: str, fields: list[str]) -> dict[str, Any] | None:
        try:
            doc = await self.client.get(index=alias, id=doc_id, _source_includes=fields)
        except NotFoundError:
            return None
        except TransportError as exc:
            if isinstance(exc.status_code, int) and exc.status_code in BUSY_STATUSES:
                raise OpenSearchBusy(f"OpenSearch answered {exc.status_code}") from exc
            raise
        return doc.get("_source") if doc.get("found") else None

    async def retire_posts(self, which: dict[str, Any], at: datetime) -> int:
        """Final tombstones for the live posts matching ``which``, and their comments."""
        retired = await self._retire(
            "posts",
            self.names.posts,
            which,
            ["post_id", "author_id"],
            lambda src: {
                "post_id": src["post_id"],
                "author_id": src["author_id"],
                "deleted": True,
                "deleted_at": at.isoformat(),
                "version": FINAL_VERSION,
                "indexed_at": _now().isoformat(),
            },
        )
        if retired:
            for start in range(0, len(retired), CASCADE_CHUNK):
                await self.retire_comments(
                    retired[start : start + CASCADE_CHUNK], "post_withdrawn", at
                )
        return len(retired)

    async def retire_comments(self, post_ids: list[str], reason: str, at: datetime) -> int:
        """Final tombstones for the live comments of these posts."""
        retired = await self._retire(
            "comments",
            self.names.comments,
            {"terms": {"post_id": post_ids}},
            ["comment_id", "post_id", "author_id"],
            lambda src: comment_tombstone(
                src["comment_id"], src["post_id"], src["author_id"], reason, FINAL_VERSION, at
            ),
        )
        return len(retired)

    async def _retire(
        self,
        index_label: str,
        alias: str,
        which: dict[str, Any],
        fields: list[str],
        tombstone: Any,
    ) -> list[str]:
        """Bulk-write final tombstones over the live documents matching ``which``.

        A refresh first, so the scan also sees documents written within the last
        refresh interval (cascades are rare: a deleted post, a narrowed community).
        Returns the ids retired.
        """
        try:
            await self.client.indices.refresh(index=alias)
            ids: list[str] = []
            actions: list[dict[str, Any]] = []
            query = {"query": {"bool": {"filter": [which, {"term": {"deleted": False}}]}}}
            async for hit in async_scan(self.client, index=alias, query=query, _source=fields):
                ids.append(hit["_id"])
                actions.append(
                    {
                        "_op_type": "index",
                        "_index": hit["_index"],
                        "_id": hit["_id"],
                        "_source": tombstone(hit["_source"]),
                        "version": FINAL_VERSION,
                        "version_type": "external",
                    }
                )
            if not actions:
                return []
            done, errors = await async_bulk(
                self.client, actions, raise_on_error=False, raise_on_exception=True
            )
        except TransportError as exc:
            if isinstance(exc.status_code, int) and exc.status_code in BUSY_STATUSES:
                raise OpenSearchBusy(f"OpenSearch answered {exc.status_code}") from exc
            raise
        busy = [e for e in errors if _status(e) in BUSY_STATUSES]
        if busy:  # retried as a whole: tombstones already written just conflict (409)
            raise OpenSearchBusy(f"OpenSearch pushed back on {len(busy)} tombstones")
        failed = [e for e in errors if _status(e) != CONFLICT]
        if failed:
            raise RuntimeError(f"retiring {index_label} failed: {failed[:3]}")
        INDEXED.labels(index_label).inc(done)
        RETIRED.labels(index_label).inc(done)
        log.info("retired", index=index_label, count=done, matching=which)
        return ids

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
