"""Crash tests: a service dies between accepting a write and publishing its event.

Exactly once downstream means: the event is not lost (it reaches Kafka after the
restart) and its effect is applied once (notification consumer dedups by event id),
even when the relay crashed after Kafka had the event but before it could record so.
"""

from __future__ import annotations

import asyncpg
import pytest

from hallway.feed.v1 import feed_pb2, feed_pb2_grpc
from hallway.profile.v1 import profile_pb2, profile_pb2_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
async def crash_system(topic_prefix: str, index_prefix: str, unique: str):
    sys = System(f"{topic_prefix}crash{unique}.", f"{index_prefix}-crash{unique}")
    await sys.start("profile", "notification")
    await sys.prepare("feed")
    yield sys
    sys.stop()


async def _people(sys: System, unique: str) -> tuple[profile_pb2.Person, profile_pb2.Person]:
    async with testing.service_channel(sys.processes["profile"].grpc_address) as ch:
        stub = profile_pb2_grpc.ProfileServiceStub(ch)
        author = await stub.CreatePerson(
            profile_pb2.CreatePersonRequest(handle=f"w{unique}", display_name="Writer")
        )
        reader = await stub.CreatePerson(
            profile_pb2.CreatePersonRequest(handle=f"r{unique}", display_name="Reader")
        )
    return author, reader


async def _feed_knows(sys: System, *handles: str) -> bool:
    conn = await asyncpg.connect(sys.dsns["feed"])
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM people WHERE handle = ANY($1::text[])", list(handles)
        )
        return n == len(handles)
    finally:
        await conn.close()


async def _count(dsn: str, sql: str, *args: object) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def _copies_on_topic(topic: str, post_id: str) -> list[str]:
    """ce_id of every record on the topic whose key is the post id."""
    records = await testing.topic_records(topic)
    return [dict(r.headers)["ce_id"].decode() for r in records if r.key == post_id.encode()]


async def _post_after_crash(sys: System, unique: str, fault_env: dict[str, str]) -> str:
    """Accept a post on a feed process set up to die before its event is recorded sent."""
    author, reader = await _people(sys, unique)
    feed = sys.processes["feed"]
    feed.start(extra_env={"HALLWAY_OUTBOX_RELAY_ENABLED": "false"})
    await eventually(
        lambda: _feed_knows(sys, author.handle, reader.handle),
        within=60,
        what="feed replicated the people",
    )
    async with testing.service_channel(feed.grpc_address) as ch:
        post = await feed_pb2_grpc.FeedServiceStub(ch).CreatePost(
            feed_pb2.CreatePostRequest(text=f"hi @{reader.handle}"),
            metadata=testing.as_person(author.id),
        )
    assert await _count(sys.dsns["feed"], "SELECT count(*) FROM outbox") >= 1
    feed.kill()  # the write is committed; its event has not left the building

    if fault_env:
        exit_code = feed.run_until_exit(fault_env)
        assert exit_code == 86, f"the fault point was not reached (exit {exit_code})"
    feed.start()
    return post.id


async def test_event_survives_crash_before_publish(crash_system: System, unique: str) -> None:
    sys = crash_system
    post_id = await _post_after_crash(sys, unique, fault_env={})
    notes = sys.dsns["notification"]
    await eventually(
        lambda: _count(
            notes, "SELECT count(*) FROM notifications WHERE post_id = $1::uuid", post_id
        ),
        within=60,
        what="mention notification after restart",
    )
    copies = await _copies_on_topic(f"{sys.topic_prefix}hallway.feed.post.v1", post_id)
    assert len(copies) == 1
    assert await _count(sys.dsns["feed"], "SELECT count(*) FROM outbox") == 0
    assert (
        await _count(notes, "SELECT count(*) FROM notifications WHERE post_id = $1::uuid", post_id)
        == 1
    )


async def test_event_published_twice_is_applied_once(crash_system: System, unique: str) -> None:
    sys = crash_system
    post_id = await _post_after_crash(
        sys, unique, fault_env={"HALLWAY_FAULT": "outbox.after_publish"}
    )
    notes = sys.dsns["notification"]
    topic = f"{sys.topic_prefix}hallway.feed.post.v1"

    async def outbox_drained() -> bool:
        return await _count(sys.dsns["feed"], "SELECT count(*) FROM outbox") == 0

    await eventually(outbox_drained, within=60, what="outbox drained after restart")
    copies = await _copies_on_topic(topic, post_id)
    assert len(copies) == 2 and len(set(copies)) == 1, copies  # same event, delivered twice
    group = f"{sys.topic_prefix}hallway-notification"
    await eventually(
        lambda: _count(
            notes,
            "SELECT count(*) FROM processed_events WHERE consumer_group = $1 "
            "AND event_id = $2::uuid",
            group,
            copies[0],
        ),
        within=60,
        what="notification consumer saw the event",
    )
    # The second copy reached the consumer and was recognised as a duplicate.
    notification = sys.processes["notification"]
    await eventually(
        lambda: (
            testing.metric(
                notification.metrics_port, "hallway_consumer_duplicates_total", topic=topic
            )
            >= 1
        ),
        within=60,
        what="duplicate copy seen by the notification consumer",
    )
    assert (
        await _count(notes, "SELECT count(*) FROM notifications WHERE post_id = $1::uuid", post_id)
        == 1
    )
