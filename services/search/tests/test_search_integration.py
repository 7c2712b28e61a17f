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
from hallway_common.contracts import (
    COMMENT,
    COMMUNITY,
    PERSON,
    POST,
    PostCreated,
    PostDeleted,
    model_of,
    topic_for_event,
)
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
        topic = self.prefix + topic_for_event(event.type).name
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

    async def communities(self, query: str, **kw: Any) -> pb.SearchCommunitiesResponse:
        return await self.stub.SearchCommunities(pb.SearchCommunitiesRequest(query=query, **kw))

    async def comments(self, query: str, **kw: Any) -> pb.SearchCommentsResponse:
        return await self.stub.SearchComments(pb.SearchCommentsRequest(query=query, **kw))

    async def settle(self, topic_name: str, before: float, count: int) -> None:
        """Wait until ``count`` more events of a topic were consumed, then refresh."""
        await testing.eventually(
            lambda: self.processed(topic_name) >= before + count,
            within=30,
            what=f"{count} event(s) of {topic_name} consumed",
        )
        await self.opensearch.indices.refresh(index=f"{self.index_prefix}-*")


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


# Communities, filters, comments (issue 8) ---------------------------------------------


def _ts(when: datetime) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    ts = Timestamp()
    ts.FromDatetime(when)
    return ts


def _feed_event(event_type: str, **fields: Any) -> Event:
    now = datetime.now(UTC)
    payload = model_of(event_type)(**({"occurred_at": now} | fields))
    return new_event(event_type, payload, TRACEPARENT)


def _community(community_id: uuid.UUID, version: int, name: str, **kw: Any) -> Event:
    kind = "created" if version == 1 else "updated"
    return _feed_event(
        f"hallway.feed.community.{kind}",
        community_id=community_id,
        name=name,
        version=version,
        created_by=uuid.uuid4(),
        created_at=datetime.now(UTC),
        **({"visibility": "public"} | kw),
    )


def _community_removed(community_id: uuid.UUID, version: int) -> Event:
    return _feed_event(
        "hallway.feed.community.removed",
        community_id=community_id,
        reason="hidden",
        version=version,
    )


def _comment(post: PostCreated, text: str, version: int = 1, **kw: Any) -> tuple[Any, Event]:
    kind = "created" if version == 1 else "updated"
    fields: dict[str, Any] = {
        "comment_id": uuid.uuid4(),
        "post_id": post.post_id,
        "post_author_id": post.author_id,
        "author_id": uuid.uuid4(),
        "text": text,
        "version": version,
        "created_at": datetime.now(UTC),
    } | kw
    event = _feed_event(f"hallway.feed.comment.{kind}", **fields)
    return model_of(event.type).model_validate_json(event.data), event


def _comment_deleted(comment: Any, reason: str, version: int) -> Event:
    return _feed_event(
        "hallway.feed.comment.deleted",
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        author_id=comment.author_id,
        reason=reason,
        version=version,
    )


def _post_gone(post: PostCreated, kind: str, version: int = 2) -> Event:
    extra = {"community_id": post.community_id or uuid.uuid4()} if kind == "withdrawn" else {}
    return _feed_event(
        f"hallway.feed.post.{kind}",
        post_id=post.post_id,
        author_id=post.author_id,
        version=version,
        **extra,
    )


async def _community_ids(search: Search, query: str, **kw: Any) -> list[str]:
    return [h.community_id for h in (await search.communities(query, **kw)).hits]


async def _comment_ids(search: Search, query: str, **kw: Any) -> list[str]:
    return [h.comment_id for h in (await search.comments(query, **kw)).hits]


async def test_communities_are_found_removed_and_not_resurrected(
    search: Search, unique: str
) -> None:
    word = f"orbit{unique}"
    public, private = uuid.uuid4(), uuid.uuid4()
    before = search.processed(COMMUNITY.name)
    await search.publish(
        _community(public, 1, f"Rocketry {word}", description="Model rockets on Fridays")
    )
    await search.publish(
        _community(private, 1, f"Quiet {word}", description="Gardening", visibility="private")
    )
    await search.settle(COMMUNITY.name, before, 2)

    found = await search.communities(word)
    assert {h.community_id for h in found.hits} == {str(public), str(private)}
    hit = next(h for h in found.hits if h.community_id == str(private))
    assert (hit.name, hit.visibility, hit.description) == (f"Quiet {word}", "private", "Gardening")
    # Type-ahead on the name, whole words in the description, a visibility filter.
    assert await _community_ids(search, f"rock {word}") == [str(public)]
    assert await _community_ids(search, f"gardening {word}") == [str(private)]
    assert await _community_ids(search, word, visibility="private") == [str(private)]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.communities(word, visibility="secret")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # A newer entry replaces the old one; an older one replayed does not.
    before = search.processed(COMMUNITY.name)
    await search.publish(_community(public, 3, f"Launchpad {word}", official=True))
    await search.publish(_community(public, 2, f"Rocketry {word}"))
    # Made secret: removed, and the create replayed afterwards does not bring it back.
    await search.publish(_community_removed(private, 2))
    await search.publish(_community(private, 1, f"Quiet {word}", visibility="private"))
    await search.settle(COMMUNITY.name, before, 4)
    found = await search.communities(word)
    assert [(h.community_id, h.name, h.official) for h in found.hits] == [
        (str(public), f"Launchpad {word}", True)
    ]
    assert await _community_ids(search, f"rocketry {word}") == []
    doc = await search.opensearch.get(index=f"{search.index_prefix}-communities", id=str(private))
    assert doc["_source"]["removed"] is True and "name" not in doc["_source"]


async def test_post_filters_community_author_tag_and_dates(search: Search, unique: str) -> None:
    word, tag = f"filt{unique}", f"tagf{unique}"
    community, author = uuid.uuid4(), uuid.uuid4()
    day = datetime(2024, 5, 1, 12, tzinfo=UTC)
    in_community = _post(f"{word} one", [tag], community_id=community, created_at=day)
    by_author = _post(f"{word} two", author_id=author, created_at=day + timedelta(days=2))
    plain = _post(f"{word} three", [tag], created_at=day + timedelta(days=4))
    before = search.processed(POST.name)
    for post in (in_community, by_author, plain):
        await search.publish(_created(post))
    await search.settle(POST.name, before, 3)

    async def ids(query: str = word, **kw: Any) -> list[str]:
        return [h.post_id for h in (await search.posts(query, **kw)).hits]

    one, two, three = (str(p.post_id) for p in (in_community, by_author, plain))
    assert set(await ids()) == {one, two, three}
    assert await ids(community_id=str(community)) == [one]
    assert await ids("", community_id=str(community)) == [one]  # filters alone
    assert (await search.posts(word, community_id=str(community))).hits[0].community_id == str(
        community
    )
    assert await ids(written_by=str(author)) == [two]
    assert await ids(tag=f"#{tag.upper()}") == [three, one]  # newest first
    assert await ids(since=_ts(day + timedelta(days=1))) == [three, two]
    assert await ids(until=_ts(day + timedelta(days=1))) == [one]
    assert (await ids(since=_ts(day + timedelta(days=1)), until=_ts(day + timedelta(days=3)))) == [
        two
    ]
    assert await ids(community_id=str(uuid.uuid4())) == []

    # A page token is bound to its filters as well as its words.
    first = await search.posts(word, page_size=1, tag=tag)
    assert first.next_page_token
    second = await search.posts(word, page_size=1, tag=tag, page_token=first.next_page_token)
    assert [h.post_id for h in second.hits] == [one]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.posts(word, page_size=1, page_token=first.next_page_token)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    bad: list[dict[str, Any]] = [
        {"community_id": "nope"},
        {"written_by": "x"},
        {"tag": "two words"},
        {"since": _ts(day), "until": _ts(day)},
    ]
    for kw in bad:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await search.posts(word, **kw)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, kw
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.posts("")  # no words and no filter
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.people(word, written_by=str(author))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_comments_are_found_edited_deleted_and_filtered(search: Search, unique: str) -> None:
    word = f"remark{unique}"
    post, other = _post(f"host{unique}"), _post(f"other{unique}")
    before = search.processed(POST.name)
    await search.publish(_created(post))
    await search.publish(_created(other))
    await search.settle(POST.name, before, 2)
    first, created = _comment(post, f"Great {word} about launch")
    reply, reply_created = _comment(post, f"{word} reply", parent_id=first.comment_id)
    elsewhere, elsewhere_created = _comment(other, f"{word} elsewhere")
    before = search.processed(COMMENT.name)
    for event in (created, reply_created, elsewhere_created):
        await search.publish(event)
    await search.settle(COMMENT.name, before, 3)

    found = await search.comments(word)
    assert {h.comment_id for h in found.hits} == {
        str(c.comment_id) for c in (first, reply, elsewhere)
    }
    hit = next(h for h in found.hits if h.comment_id == str(reply.comment_id))
    assert (hit.post_id, hit.parent_id) == (str(post.post_id), str(first.comment_id))
    assert any(f"<em>{word}</em>" in h for h in hit.highlights)
    assert set(await _comment_ids(search, "", post_id=str(post.post_id))) == {
        str(first.comment_id),
        str(reply.comment_id),
    }
    assert await _comment_ids(search, word, written_by=str(elsewhere.author_id)) == [
        str(elsewhere.comment_id)
    ]
    future = datetime.now(UTC) + timedelta(days=1)
    assert await _comment_ids(search, word, since=_ts(future)) == []

    # Edited: the new words are found, the old are not; an older edit replayed loses.
    _, edit = _comment(
        post,
        f"{word} rewritten",
        version=3,
        comment_id=first.comment_id,
        author_id=first.author_id,
        created_at=first.created_at,
        edited_at=datetime.now(UTC),
    )
    _, stale = _comment(
        post, f"{word} stale", version=2, comment_id=first.comment_id, author_id=first.author_id
    )
    before = search.processed(COMMENT.name)
    await search.publish(edit)
    await search.publish(stale)
    await search.settle(COMMENT.name, before, 2)
    assert await _comment_ids(search, f"{word} rewritten") == [str(first.comment_id)]
    assert await _comment_ids(search, f"{word} launch") == []
    assert await _comment_ids(search, f"{word} stale") == []
    edited_hit = (await search.comments(f"{word} rewritten")).hits[0]
    assert edited_hit.HasField("edited_at")

    # Deleted by its author: gone, and the create replayed does not bring it back.
    before = search.processed(COMMENT.name)
    await search.publish(_comment_deleted(reply, "deleted", 2))
    await search.publish(reply_created)
    await search.settle(COMMENT.name, before, 2)
    assert str(reply.comment_id) not in await _comment_ids(search, word)
    doc = await search.opensearch.get(
        index=f"{search.index_prefix}-comments", id=str(reply.comment_id)
    )
    assert doc["_source"]["deleted"] is True and "text" not in doc["_source"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await search.comments("")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_withdrawn_post_goes_with_its_comments(search: Search, unique: str) -> None:
    word = f"wdraw{unique}"
    community = uuid.uuid4()
    post = _post(f"{word} in a community", community_id=community)
    comment, created = _comment(post, f"{word} comment")
    before = (search.processed(POST.name), search.processed(COMMENT.name))
    await search.publish(_created(post))
    await search.publish(created)
    await search.settle(POST.name, before[0], 1)
    await search.settle(COMMENT.name, before[1], 1)
    assert await _ids(search, word) == [str(post.post_id)]
    assert await _comment_ids(search, word) == [str(comment.comment_id)]

    # Only the withdrawal: the comment.deleted that feed also sends is not needed.
    retired = testing.metric(search.proc.metrics_port, "hallway_search_retired_total")
    before_post = search.processed(POST.name)
    await search.publish(_post_gone(post, "withdrawn"))
    await search.settle(POST.name, before_post, 1)
    assert await _ids(search, word) == []
    assert await _comment_ids(search, word) == []
    assert testing.metric(search.proc.metrics_port, "hallway_search_retired_total") > retired

    # Late edits of that comment (another key, so any order is possible) stay gone, and
    # feed's own comment.deleted (post_withdrawn) is just applied again.
    _, late = _comment(post, f"{word} late edit", version=2, comment_id=comment.comment_id)
    before_comment = search.processed(COMMENT.name)
    await search.publish(late)
    await search.publish(_comment_deleted(comment, "post_withdrawn", 3))
    await search.settle(COMMENT.name, before_comment, 2)
    assert await _comment_ids(search, word) == []


async def test_comments_of_a_deleted_post_vanish_in_any_order(search: Search, unique: str) -> None:
    word = f"ooo{unique}"
    # The post's delete is consumed before its comment ever arrives.
    early = _post(f"{word} early")
    before = search.processed(POST.name)
    await search.publish(_post_gone(early, "deleted"))
    await search.settle(POST.name, before, 1)
    _, late_created = _comment(early, f"{word} after the delete")
    before = search.processed(COMMENT.name)
    await search.publish(late_created)
    await search.settle(COMMENT.name, before, 1)
    assert await _comment_ids(search, word) == []

    # Comments first, then the post's delete: they go with it, replies included.
    later = _post(f"{word} later")
    comments = [_comment(later, f"{word} number {i}") for i in range(3)]
    before = (search.processed(POST.name), search.processed(COMMENT.name))
    await search.publish(_created(later))
    for _, event in comments:
        await search.publish(event)
    await search.settle(COMMENT.name, before[1], 3)
    await search.settle(POST.name, before[0], 1)
    assert len(await _comment_ids(search, word)) == 3
    before = search.processed(POST.name)
    await search.publish(_post_gone(later, "deleted"))
    await search.settle(POST.name, before, 1)
    assert await _comment_ids(search, word) == []
    assert await _ids(search, word) == []


async def test_a_community_that_stops_being_public_takes_its_posts(
    search: Search, unique: str
) -> None:
    word = f"narrow{unique}"
    community = uuid.uuid4()
    post = _post(f"{word} before", community_id=community)
    _, created = _comment(post, f"{word} comment")
    before = [search.processed(t) for t in (COMMUNITY.name, POST.name, COMMENT.name)]
    await search.publish(_community(community, 1, f"Open {word}"))
    await search.publish(_created(post))
    await search.publish(created)
    for topic, seen in zip((COMMUNITY.name, POST.name, COMMENT.name), before, strict=True):
        await search.settle(topic, seen, 1)
    assert await _ids(search, word) == [str(post.post_id)]

    # Turned private: still discoverable, but its posts and their comments go at once,
    # before feed's withdrawals arrive; a post of it arriving late is not shown either.
    before = search.processed(COMMUNITY.name)
    await search.publish(_community(community, 2, f"Open {word}", visibility="private"))
    await search.settle(COMMUNITY.name, before, 1)
    assert await _ids(search, word) == []
    assert await _comment_ids(search, word) == []
    assert await _community_ids(search, word) == [str(community)]
    straggler = _post(f"{word} straggler", community_id=community)
    before = search.processed(POST.name)
    await search.publish(_created(straggler))
    await search.settle(POST.name, before, 1)
    assert await _ids(search, word) == []

    assert (
        testing.metric(
            search.proc.metrics_port, "hallway_search_indexed_total", index="communities"
        )
        > 0
    )
    assert (
        testing.metric(search.proc.metrics_port, "hallway_search_indexed_total", index="comments")
        > 0
    )
