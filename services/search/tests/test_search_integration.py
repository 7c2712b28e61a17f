"""The search service as a process against the real Kafka and OpenSearch.

Events are published the way the outbox relay publishes them (CloudEvents headers,
keyed by the aggregate id), and results are read over gRPC with bounded waits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from opensearchpy import AsyncOpenSearch

from hallway.search.v1 import search_pb2 as pb
from hallway.search.v1 import search_pb2_grpc as pb_grpc
from hallway_common.contracts import PERSON, POST, PostCreated, PostDeleted, model_of
from hallway_common.events import Event, new_event
from hallway_dev import testing

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Search:
    """The running service, a stub on it, and a producer for its input topics."""

    def __init__(
        self,
        proc: testing.ServiceProcess,
        stub: pb_grpc.SearchServiceStub,
        producer: AIOKafkaProducer,
        topic_prefix: str,
        opensearch: AsyncOpenSearch,
        index_prefix: str,
    ) -> None:
        self.proc = proc
        self.stub = stub
        self.producer = producer
        self.prefix = topic_prefix
        self.opensearch = opensearch
        self.index_prefix = index_prefix

    async def publish(self, event: Event) -> None:
        topic = self.prefix + (POST.name if event.type.startswith("hallway.feed") else PERSON.name)
        await self.producer.send_and_wait(
            topic,
            value=event.data,
            key=event.key.encode(),
            headers=[(k, v.encode()) for k, v in event.headers().items()],
        )

    def processed(self, topic_name: str) -> float:
        """Events the consumer finished (applied or found already applied)."""
        labels = {"topic": self.prefix + topic_name, "group": self.prefix + "hallway-search"}
        return sum(
            testing.metric(self.proc.metrics_port, name, **labels)
            for name in ("hallway_consumer_processed_total", "hallway_consumer_duplicates_total")
        )

    async def posts(self, query: str, **kw: Any) -> pb.SearchPostsResponse:
        return await self.stub.SearchPosts(pb.SearchRequest(query=query, **kw))

    async def people(self, query: str, **kw: Any) -> pb.SearchPeopleResponse:
        return await self.stub.SearchPeople(pb.SearchRequest(query=query, **kw))


@pytest.fixture(scope="module")
async def search(topic_prefix: str, index_prefix: str) -> AsyncIterator[Search]:
    proc = testing.service_process(
        "search",
        topic_prefix,
        opensearch_url=testing.OPENSEARCH,
        opensearch_index_prefix=index_prefix,
    ).start()
    ch = testing.service_channel(proc.grpc_address)
    producer = AIOKafkaProducer(
        bootstrap_servers=testing.KAFKA, acks="all", enable_idempotence=True
    )
    await producer.start()
    opensearch = AsyncOpenSearch(hosts=[testing.OPENSEARCH])
    try:
        yield Search(
            proc, pb_grpc.SearchServiceStub(ch), producer, topic_prefix, opensearch, index_prefix
        )
    finally:
        await producer.stop()
        await ch.close()
        proc.stop()
        await opensearch.indices.delete(index=f"{index_prefix}*", expand_wildcards="all")
        await opensearch.close()


def _post(text: str, hashtags: list[str] | None = None, **kw: Any) -> PostCreated:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "post_id": uuid.uuid4(),
        "author_id": uuid.uuid4(),
        "text": text,
        "hashtags": hashtags or [],
        "version": 1,
        "created_at": now,
        "occurred_at": now,
    } | kw
    return PostCreated(**fields)


def _created(post: PostCreated) -> Event:
    return new_event("hallway.feed.post.created", post, TRACEPARENT)


def _person(person_id: uuid.UUID, handle: str, version: int, **kw: Any) -> Event:
    event_type = f"hallway.profile.person.{'created' if version == 1 else 'updated'}"
    payload = model_of(event_type)(
        person_id=person_id,
        handle=handle,
        version=version,
        occurred_at=datetime.now(UTC),
        **({"display_name": handle.title()} | kw),
    )
    return new_event(event_type, payload, TRACEPARENT)


async def _hits(search: Search, query: str) -> pb.SearchPostsResponse | None:
    """The response when it has hits (a proto message is always truthy)."""
    result = await search.posts(query)
    return result if result.hits else None


async def _ids(search: Search, query: str) -> list[str]:
    return [h.post_id for h in (await search.posts(query)).hits]


async def test_post_is_found_deleted_and_not_resurrected(search: Search, unique: str) -> None:
    word, tag = f"zeb{unique}", f"rollout{unique}"
    post = _post(f"Quarterly {word} update, now live for @ada #{tag}", [tag])
    created = _created(post)
    await search.publish(created)

    found = await testing.eventually(
        lambda: _hits(search, word), within=30, what="post searchable by a word"
    )
    hit = found.hits[0]
    assert len(found.hits) == 1 and found.total == 1
    assert hit.post_id == str(post.post_id) and hit.author_id == str(post.author_id)
    assert hit.hashtags == [tag]
    assert any(f"<em>{word}</em>" in h for h in hit.highlights)
    assert hit.created_at.ToDatetime(tzinfo=UTC) == post.created_at
    assert await _ids(search, f"#{tag}") == [str(post.post_id)]
    assert await _ids(search, f"#{tag.upper()} {word}") == [str(post.post_id)]
    assert await _ids(search, f"#nothing{unique}") == []

    deleted = PostDeleted(
        post_id=post.post_id, author_id=post.author_id, version=2, occurred_at=datetime.now(UTC)
    )
    await search.publish(new_event("hallway.feed.post.deleted", deleted, TRACEPARENT))

    async def gone() -> bool:
        return await _ids(search, word) == [] and await _ids(search, f"#{tag}") == []

    await testing.eventually(gone, within=30, what="deleted post disappears")

    # The created event again (same event id, as a redelivery would be): no resurrection.
    before = search.processed(POST.name)
    await search.publish(created)
    await testing.eventually(
        lambda: search.processed(POST.name) >= before + 1, within=30, what="replay consumed"
    )
    await search.opensearch.indices.refresh(index=f"{search.index_prefix}-posts")
    assert await _ids(search, word) == []
    doc = await search.opensearch.get(index=f"{search.index_prefix}-posts", id=str(post.post_id))
    assert doc["_source"]["deleted"] is True and "text" not in doc["_source"]


async def test_posts_page_newest_first_with_keyset_tokens(search: Search, unique: str) -> None:
    word = f"page{unique}"
    base = datetime.now(UTC) - timedelta(hours=1)
    posts = [_post(f"{word} status", created_at=base + timedelta(minutes=i)) for i in range(5)]
    for post in posts:
        await search.publish(_created(post))

    async def all_indexed() -> pb.SearchPostsResponse | None:
        first = await search.posts(word, page_size=2)
        return first if first.total == 5 else None

    first = await testing.eventually(all_indexed, within=30, what="5 posts indexed")
    seen = [h.post_id for h in first.hits]
    token = first.next_page_token
    while token:
        page = await search.posts(word, page_size=2, page_token=token)
        assert len(page.hits) <= 2 and page.total == 5
        seen += [h.post_id for h in page.hits]
        token = page.next_page_token
    # Same text, same score: the newest post comes first.
    assert seen == [str(p.post_id) for p in reversed(posts)]

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.posts(f"other{unique}", page_size=2, page_token=first.next_page_token)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_older_person_version_never_overwrites_newer(search: Search, unique: str) -> None:
    person_id = uuid.uuid4()
    handle = f"grace.{unique}"
    before = search.processed(PERSON.name)
    await search.publish(
        _person(person_id, handle, 2, display_name="Grace Hopper", title="Rear Admiral")
    )
    await search.publish(_person(person_id, handle, 1, display_name="Grace Hopper", title="Intern"))
    await testing.eventually(
        lambda: search.processed(PERSON.name) >= before + 2, within=30, what="both consumed"
    )

    async def found() -> pb.SearchPeopleResponse | None:
        result = await search.people(f"@{handle}")
        return result if result.hits else None

    result = await testing.eventually(found, within=30, what="person searchable by handle")
    assert [(h.person_id, h.title) for h in result.hits] == [(str(person_id), "Rear Admiral")]

    # Prefix-friendly: the start of a handle part or a name finds the person.
    assert str(person_id) in [h.person_id for h in (await search.people(unique[:5])).hits]
    both = await search.people(f"grac {unique}")
    assert both.hits and both.hits[0].person_id == str(person_id)

    # Deactivation (a newer version) removes them from directory search.
    await search.publish(
        _person(person_id, handle, 3, display_name="Grace Hopper", title="Retired", active=False)
    )

    async def hidden() -> bool:
        return not (await search.people(f"@{handle}")).hits

    await testing.eventually(hidden, within=30, what="deactivated person hidden")


async def test_bad_requests_are_invalid_argument(search: Search) -> None:
    bad: list[tuple[str, dict[str, Any]]] = [
        ("", {}),
        ("   ", {}),
        ("x" * 201, {}),
        ("ok", {"page_size": -1}),
        ("ok", {"page_token": "garbage!"}),
    ]
    for query, kw in bad:
        for call in (search.posts, search.people):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call(query, **kw)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (query, kw)
            assert err.value.details()


async def test_indexing_metrics_are_exported(search: Search, unique: str) -> None:
    word = f"metric{unique}"
    await search.publish(_created(_post(word)))
    await testing.eventually(lambda: _ids(search, word), within=30, what="post indexed")
    port = search.proc.metrics_port
    assert testing.metric(port, "hallway_search_indexing_lag_seconds_count") > 0
    assert testing.metric(port, "hallway_search_indexed_total", index="posts") > 0
    assert testing.metric(port, "grpc_server_handled_total", grpc_method="SearchPosts") > 0


def test_migrate_is_idempotent(search: Search) -> None:
    """The Helm migration Job's command: indices already there, nothing to do, exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "hallway_search", "migrate"],
        env={**os.environ, **search.proc.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "0 migration(s) applied" in result.stdout


async def test_poison_message_is_parked_and_the_partition_moves_on(
    search: Search, unique: str
) -> None:
    post = _post(f"after{unique} poison")
    good = _created(post)
    # Same key, so the same partition: the poison is strictly before the good event.
    poison = Event(**{**good.__dict__, "id": str(uuid.uuid4()), "data": b'{"post_id": "nope"}'})
    await search.publish(poison)
    await search.publish(good)
    await testing.eventually(lambda: _ids(search, f"after{unique}"), within=30, what="good indexed")
    dlq = f"{search.prefix}hallway.dlq.hallway-search"
    parked = await testing.first_record(
        dlq, lambda r: dict(r.headers).get("ce_id") == poison.id.encode()
    )
    headers = dict(parked.headers)
    assert headers["dlq_original_topic"] == f"{search.prefix}{POST.name}".encode()
    assert b"PostCreated" in headers["dlq_error"]


async def test_events_published_while_down_are_indexed_after_restart(
    search: Search, unique: str
) -> None:
    search.proc.kill()  # no graceful shutdown, like a node dying
    post = _post(f"restart{unique} survives")
    await search.publish(_created(post))
    search.proc.start()
    ids = await testing.eventually(
        lambda: _ids(search, f"restart{unique}"), within=60, what="indexed after restart"
    )
    assert ids == [str(post.post_id)]
