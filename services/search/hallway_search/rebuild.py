"""``python -m hallway_search rebuild``: a fresh index from the state topics, then a swap.

Search keeps answering from the old indices the whole time:

1. a new physical index per alias (``<alias>-v<N>-r<epoch>``);
2. the compacted state topics are read from offset 0 up to the end offsets taken at
   the start (the snapshot) and bulk-written into the new indices with the same
   external versions the live consumer uses;
3. one atomic ``_aliases`` call moves every alias to its new index;
4. a catch-up pass reads the state topics from the snapshot to their end *after*
   the swap, so a change the live consumer wrote into an old index while the
   snapshot was loading is applied to the new one too (versioned writes make the
   overlap harmless; a tombstone deletes);
5. the old indices are deleted (``--keep-old`` keeps them for a manual roll-back).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_bulk

from hallway_common.contracts import (
    COMMENT_STATE,
    COMMUNITY_STATE,
    PERSON_STATE,
    POST_STATE,
    CommentState,
    CommunityState,
    PersonState,
    PostState,
    Topic,
)
from hallway_common.kafka import Offsets, read_range
from hallway_common.runtime import Command
from hallway_search.indexing import (
    comment_document,
    community_document,
    person_document,
    post_document,
    post_version,
    versioned,
)
from hallway_search.indices import (
    IndexNames,
    SearchSettings,
    create_client,
    index_body,
    index_definitions,
    prepare,
)

# Seconds to wait after the swap before reading the catch-up end offsets: enough for
# a change the live consumer applied just before the swap to be on its state topic.
SETTLE_SECONDS = 2.0
BULK_CHUNK = 500


@dataclass
class Source:
    """One state topic feeding one alias."""

    topic: Topic
    alias: str
    # What counts as a live document of the alias (tombstones are documents too).
    live: dict[str, Any] | None = None

    def live_query(self) -> dict[str, Any]:
        return {"query": self.live or {"match_all": {}}}


def sources(names: IndexNames) -> list[Source]:
    """Every alias this service serves and the state topic it is rebuilt from."""
    return [
        Source(PERSON_STATE, names.people),
        Source(POST_STATE, names.posts, {"term": {"deleted": False}}),
        Source(COMMUNITY_STATE, names.communities, {"term": {"removed": False}}),
        Source(COMMENT_STATE, names.comments, {"term": {"deleted": False}}),
    ]


def _action(source: Source, index: str, key: str, value: bytes | None) -> dict[str, Any]:
    """The bulk action of one state record: a versioned write, or a delete."""
    if value is None:
        return {"_op_type": "delete", "_index": index, "_id": key}
    doc: dict[str, Any]
    if source.topic is PERSON_STATE:
        person = PersonState.model_validate_json(value)
        doc, version = person_document(person), person.version
    elif source.topic is COMMUNITY_STATE:
        community = CommunityState.model_validate_json(value)
        doc, version = community_document(community), versioned(community.version, removed=False)
    elif source.topic is COMMENT_STATE:
        comment = CommentState.model_validate_json(value)
        doc, version = comment_document(comment), versioned(comment.version, removed=False)
    else:
        post = PostState.model_validate_json(value)
        doc, version = post_document(post), post_version(post.version, deleted=False)
    return {
        "_op_type": "index",
        "_index": index,
        "_id": key,
        "_source": doc,
        "version": version,
        "version_type": "external",
    }


async def _load(
    client: AsyncOpenSearch,
    settings: SearchSettings,
    source: Source,
    index: str,
    start: Offsets | None,
    what: str,
) -> tuple[Offsets, int]:
    """Apply a stretch of one state topic to ``index``; returns (end offsets, count)."""
    topic = settings.kafka_topic_prefix + source.topic.name
    end, records = await read_range(settings, topic, start)
    count = 0
    started = time.monotonic()

    async def actions() -> AsyncIterator[dict[str, Any]]:
        nonlocal count
        async for record in records:
            count += 1
            if count % 5000 == 0:
                _say(f"  {what} {topic}: {count} records ({time.monotonic() - started:.0f} s)")
            yield _action(source, index, record.key.decode(), record.value)

    # 409: a newer version is already there (catch-up overlapping the live consumer);
    # 404: deleting what is not there. Both are the state we want.
    await async_bulk(
        client, actions(), chunk_size=BULK_CHUNK, raise_on_error=False, raise_on_exception=True
    )
    _say(f"  {what} {topic}: {count} records")
    return end, count


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def rebuild(settings: SearchSettings, keep_old: bool = False) -> dict[str, Any]:
    """Rebuild every search index from the state topics; returns a report."""
    client = create_client(settings)
    try:
        await prepare(client, settings)  # the aliases exist (a fresh cluster, too)
        names = IndexNames(settings.opensearch_index_prefix)
        mappings = index_definitions(names)
        stamp = int(time.time())
        todo = sources(names)
        new = {s.alias: f"{names.physical(s.alias)}-r{stamp}" for s in todo}
        old = {s.alias: sorted(await client.indices.get_alias(name=s.alias)) for s in todo}
        report: dict[str, Any] = {"indices": new, "replaced": old, "records": {}}

        snapshot = {}
        for s in todo:
            await client.indices.create(
                index=new[s.alias],
                body=index_body(mappings[s.alias], settings.opensearch_number_of_shards),
            )
            snapshot[s.alias], report["records"][s.alias] = await _load(
                client, settings, s, new[s.alias], None, "loading"
            )
            held = (await client.count(index=s.alias, body=s.live_query()))["count"]
            if held and not report["records"][s.alias]:
                await client.indices.delete(index=",".join(new.values()), ignore_unavailable=True)
                raise SystemExit(
                    f"refusing to rebuild {s.alias}: {s.topic.name} is empty but the index "
                    f"holds {held} documents; fill it first with `python -m hallway_"
                    f"{s.topic.producer} republish-state`"
                )
            await client.indices.refresh(index=new[s.alias])

        actions: list[dict[str, Any]] = []
        for s in todo:
            actions += [{"remove": {"index": i, "alias": s.alias}} for i in old[s.alias]]
            actions.append(
                {"add": {"index": new[s.alias], "alias": s.alias, "is_write_index": True}}
            )
        await client.indices.update_aliases(body={"actions": actions})
        _say(f"  swapped: {json.dumps(new)}")

        await asyncio.sleep(SETTLE_SECONDS)
        for s in todo:
            _, caught_up = await _load(
                client, settings, s, new[s.alias], snapshot[s.alias], "catching up"
            )
            report["records"][s.alias] += caught_up
        if not keep_old:
            stale = [i for indices in old.values() for i in indices]
            if stale:
                await client.indices.delete(index=",".join(stale))
            report["deleted"] = stale
        return report
    finally:
        await client.close()


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-old", action="store_true", help="keep the replaced indices (for a roll-back)"
    )


async def _run(settings: SearchSettings, args: argparse.Namespace) -> int:
    report = await rebuild(settings, keep_old=args.keep_old)
    print(json.dumps(report, indent=2))
    return 0


COMMAND = Command(
    help="rebuild the search indices from the state topics, then swap aliases (search "
    "keeps answering)",
    add_arguments=_arguments,
    run=_run,
)
