"""The feed service as a process, fed by the real profile service, on real PostgreSQL + Kafka.

People and follows are created over profile's gRPC API; their events reach feed's
replicas through Kafka, exactly as in production.
"""

from __future__ import annotations

import asyncio
import urllib.request
import uuid

import asyncpg
import grpc
import orjson
import pytest

from hallway.feed.v1 import feed_pb2 as fpb
from hallway.feed.v1 import feed_pb2_grpc as fpb_grpc
from hallway.profile.v1 import profile_pb2 as ppb
from hallway.profile.v1 import profile_pb2_grpc as ppb_grpc
from hallway_dev import testing
from hallway_dev.testing import eventually

pytestmark = pytest.mark.integration

# Small enough that the large-author test can cross it with a few people.
FANOUT_MAX_FOLLOWERS = 2


class Stack:
    def __init__(self, profile, feed, feed_db: asyncpg.Pool, feed_proc, topic_prefix: str):
        self.profile = profile
        self.feed = feed
        self.db = feed_db
        self.feed_proc = feed_proc
        self.post_topic = f"{topic_prefix}hallway.feed.post.v1"

    async def person(self, handle: str) -> ppb.Person:
        """A person created in profile, once feed's replica has them."""
        p = await self.profile.CreatePerson(
            ppb.CreatePersonRequest(handle=handle, display_name=handle.title())
        )
        await eventually(
            lambda: self.db.fetchval("SELECT true FROM people WHERE id = $1", uuid.UUID(p.id)),
            what=f"{handle} in feed's people replica",
        )
        return p

    async def follow(self, follower: ppb.Person, followee: ppb.Person, follow: bool = True) -> None:
        req = ppb.FollowRequest(followee_id=followee.id)
        call = self.profile.Follow if follow else self.profile.Unfollow
        await call(req, metadata=testing.as_person(follower.id))

        async def applied() -> bool:
            found = await self.db.fetchval(
                "SELECT count(*) FROM follows WHERE follower_id = $1 AND followee_id = $2",
                uuid.UUID(follower.id),
                uuid.UUID(followee.id),
            )
            return found == (1 if follow else 0)

        await eventually(applied, what="follow edge in feed's replica")

    async def post(self, author: ppb.Person, text: str, key: str = "") -> fpb.Post:
        return await self.feed.CreatePost(
            fpb.CreatePostRequest(text=text, idempotency_key=key),
            metadata=testing.as_person(author.id),
        )

    async def home(self, person: ppb.Person, size: int = 0, token: str = ""):
        return await self.feed.ListHomeTimeline(
            fpb.ListHomeTimelineRequest(page_size=size, page_token=token),
            metadata=testing.as_person(person.id),
        )

    async def home_ids(self, person: ppb.Person) -> list[str]:
        return [p.id for p in (await self.home(person, 100)).posts]

    async def home_rows(self, post_id: str) -> int:
        return await self.db.fetchval(
            "SELECT count(*) FROM home_timeline WHERE post_id = $1", uuid.UUID(post_id)
        )


@pytest.fixture(scope="module")
async def system(topic_prefix: str):
    profile_dsn = await testing.migrated_database("profile", ["hallway_profile"])
    feed_dsn = await testing.migrated_database("feed", ["hallway_feed"])
    profile = testing.service_process("profile", topic_prefix, database_url=profile_dsn).start()
    feed = testing.service_process(
        "feed",
        topic_prefix,
        database_url=feed_dsn,
        feed_fanout_max_followers=str(FANOUT_MAX_FOLLOWERS),
    )
    try:
        feed.start()
    except Exception:
        profile.stop()
        raise
    pch, fch = (
        testing.service_channel(profile.grpc_address),
        testing.service_channel(feed.grpc_address),
    )
    db = await asyncpg.create_pool(feed_dsn, min_size=1, max_size=2)
    stack = Stack(
        ppb_grpc.ProfileServiceStub(pch), fpb_grpc.FeedServiceStub(fch), db, feed, topic_prefix
    )
    stack.channel = fch  # for the other services feed hosts (CommunityService)
    yield stack
    await db.close()
    await pch.close()
    await fch.close()
    feed.stop()
    profile.stop()


async def _error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value


async def test_post_reaches_followers_and_leaves_on_delete(system: Stack, unique: str) -> None:
    ada, bob, cy = [await system.person(f"{n}{unique}") for n in ("ada", "bob", "cy")]
    await system.follow(bob, ada)

    post = await system.post(
        ada, f"  Launch day! cc @{bob.handle} and @nobody{unique} #Launch #launch #q3  "
    )
    assert post.text.startswith("Launch day!") and post.text.endswith("#q3")
    assert [(m.person_id, m.handle) for m in post.mentions] == [(bob.id, bob.handle)]
    assert list(post.hashtags) == ["launch", "q3"] and post.version == 1

    await eventually(lambda: system.home_ids(bob), what="post in the follower's home timeline")
    assert await system.home_ids(bob) == [post.id]
    assert await system.home_ids(ada) == [post.id]  # the author sees their own post
    assert await system.home_ids(cy) == []  # not a follower
    person = await system.feed.ListPersonTimeline(fpb.ListTimelineRequest(person_id=ada.id))
    assert [p.id for p in person.posts] == [post.id]
    assert (await system.feed.GetPost(fpb.GetPostRequest(post_id=post.id))).text == post.text

    denied = await _error(
        system.feed.DeletePost(
            fpb.DeletePostRequest(post_id=post.id), metadata=testing.as_person(cy.id)
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED

    await system.feed.DeletePost(
        fpb.DeletePostRequest(post_id=post.id), metadata=testing.as_person(ada.id)
    )
    gone = await _error(system.feed.GetPost(fpb.GetPostRequest(post_id=post.id)))
    assert gone.code() == grpc.StatusCode.NOT_FOUND
    assert await system.home_ids(bob) == []  # never served, even before the rows are removed
    person = await system.feed.ListPersonTimeline(fpb.ListTimelineRequest(person_id=ada.id))
    assert list(person.posts) == []

    async def rows_removed() -> bool:
        return await system.home_rows(post.id) == 0

    await eventually(rows_removed, what="home timeline rows of the deleted post removed")
    # Tombstone only: the content is gone from the database.
    row = await system.db.fetchrow(
        "SELECT text, hashtags FROM posts WHERE id = $1", uuid.UUID(post.id)
    )
    assert row["text"] == "" and row["hashtags"] == []
    again = await _error(
        system.feed.DeletePost(
            fpb.DeletePostRequest(post_id=post.id), metadata=testing.as_person(ada.id)
        )
    )
    assert again.code() == grpc.StatusCode.NOT_FOUND


async def test_idempotent_create_publishes_one_event(system: Stack, unique: str) -> None:
    ada, bob = await system.person(f"ida{unique}"), await system.person(f"idb{unique}")
    key = f"req-{unique}"
    first = await system.post(ada, f"hello @{bob.handle} #once", key=key)
    retry = await system.post(ada, f"hello @{bob.handle} #once", key=key)
    assert retry.id == first.id and retry.created_at == first.created_at

    other = await _error(system.post(ada, "something else", key=key))
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS
    # Keys are per author: bob may use the same one.
    assert (await system.post(bob, "mine", key=key)).id != first.id
    count = await system.db.fetchval(
        "SELECT count(*) FROM posts WHERE author_id = $1", uuid.UUID(ada.id)
    )
    assert count == 1

    # Exactly one created event for the post, with the CloudEvents binding headers.
    await eventually(
        lambda: system.db.fetchval("SELECT count(*) = 0 FROM outbox"), what="outbox drained"
    )
    records = [
        r for r in await testing.topic_records(system.post_topic) if r.key == first.id.encode()
    ]
    assert len(records) == 1
    headers = {k: v.decode() for k, v in records[0].headers}
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "hallway.feed.post.created"
    assert headers["ce_source"] == "urn:hallway:feed"  # the default base, absolute
    assert headers["content-type"] == "application/json"
    assert headers["traceparent"].startswith("00-")
    uuid.UUID(headers["ce_id"])
    body = orjson.loads(records[0].value)
    assert body["post_id"] == first.id and body["author_id"] == ada.id
    assert body["mentions"] == [bob.id] and body["hashtags"] == ["once"]
    assert body["visibility"] == "public" and body["version"] == 1

    # Deleting the post makes a retry of its create a precondition failure, not a copy.
    await system.feed.DeletePost(
        fpb.DeletePostRequest(post_id=first.id), metadata=testing.as_person(ada.id)
    )
    deleted = await _error(system.post(ada, f"hello @{bob.handle} #once", key=key))
    assert deleted.code() == grpc.StatusCode.FAILED_PRECONDITION

    url = f"http://127.0.0.1:{system.feed_proc.metrics_port}/metrics"
    metrics = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    for name in (
        b"hallway_feed_posts_created_total",
        b"hallway_feed_fanout_rows_total",
        b"hallway_feed_fanout_seconds_bucket",
    ):
        assert name in metrics


async def test_invalid_input_is_rejected_and_writes_nothing(system: Stack, unique: str) -> None:
    ada = await system.person(f"inv{unique}")
    before = await system.db.fetchval("SELECT count(*) FROM posts")
    as_ada = testing.as_person(ada.id)
    cases = [
        (fpb.CreatePostRequest(text="   "), "text must not be empty"),
        (fpb.CreatePostRequest(text="x" * 5001), "longer than 5000"),
        (fpb.CreatePostRequest(text="hi", idempotency_key="k" * 201), "idempotency_key"),
        (fpb.CreatePostRequest(text=" ".join(f"#t{i}" for i in range(31))), "hashtags"),
    ]
    for request, reason in cases:
        err = await _error(system.feed.CreatePost(request, metadata=as_ada))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, reason
        assert reason in err.details()

    unknown = await _error(
        system.feed.CreatePost(
            fpb.CreatePostRequest(text="hi"), metadata=testing.as_person(str(uuid.uuid4()))
        )
    )
    assert unknown.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "not a known person" in unknown.details()
    as_gateway = testing.signer().metadata("service:gateway")  # acting for nobody
    denied = await _error(
        system.feed.CreatePost(fpb.CreatePostRequest(text="hi"), metadata=as_gateway)
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await system.db.fetchval("SELECT count(*) FROM posts") == before

    for bad in (
        system.feed.GetPost(fpb.GetPostRequest(post_id="x")),
        system.feed.DeletePost(fpb.DeletePostRequest(post_id="x"), metadata=as_ada),
        system.feed.ListHomeTimeline(fpb.ListHomeTimelineRequest(page_token="!!"), metadata=as_ada),
        system.feed.ListHomeTimeline(fpb.ListHomeTimelineRequest(page_size=-1), metadata=as_ada),
        system.feed.ListPersonTimeline(fpb.ListTimelineRequest(person_id="")),
    ):
        assert (await _error(bad)).code() == grpc.StatusCode.INVALID_ARGUMENT
    missing = await _error(system.feed.GetPost(fpb.GetPostRequest(post_id=str(uuid.uuid4()))))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_unfollow_removes_and_follow_backfills(system: Stack, unique: str) -> None:
    ada, bob = await system.person(f"una{unique}"), await system.person(f"unb{unique}")
    await system.follow(bob, ada)
    post = await system.post(ada, "before the unfollow")
    await eventually(lambda: system.home_ids(bob), what="post in bob's home timeline")

    await system.follow(bob, ada, follow=False)
    assert await system.home_ids(bob) == []
    remaining = system.db.fetchval(
        "SELECT count(*) FROM home_timeline WHERE owner_id = $1", uuid.UUID(bob.id)
    )
    assert await remaining == 0

    # Following again brings the followee's recent posts back (bounded backfill).
    await system.follow(bob, ada)
    assert await system.home_ids(bob) == [post.id]


async def test_home_timeline_pages_and_merges_large_authors(system: Stack, unique: str) -> None:
    star = await system.person(f"star{unique}")
    fans = [await system.person(f"fan{i}{unique}") for i in range(FANOUT_MAX_FOLLOWERS + 1)]
    friend = await system.person(f"friend{unique}")
    for fan in fans:
        await system.follow(fan, star)
    await system.follow(fans[0], friend)

    created = []
    for i in range(6):  # interleave a large and a regular author
        created.append(await system.post(star if i % 2 else friend, f"post {i}"))
    newest_first = [p.id for p in reversed(created)]

    async def all_visible() -> bool:
        return await system.home_ids(fans[0]) == newest_first

    await eventually(all_visible, what="merged home timeline of a fan")
    # The star's posts were not fanned out: only the star's own row exists.
    star_posts = [p.id for p in created if p.author_id == star.id]
    await eventually(lambda: system.home_ids(star), what="star sees own posts")
    for post_id in star_posts:
        assert await system.home_rows(post_id) == 1
    assert await system.home_ids(fans[1]) == [p for p in newest_first if p in star_posts]
    assert await system.home_ids(star) == [p for p in newest_first if p in star_posts]

    # Keyset pages of 4 walk the merged timeline without gaps or repeats.
    seen, token = [], ""
    while True:
        page = await system.home(fans[0], size=4, token=token)
        assert len(page.posts) <= 4
        seen += [p.id for p in page.posts]
        token = page.next_page_token
        if not token:
            break
    assert seen == newest_first

    # A deleted large-author post disappears from the merge too.
    await system.feed.DeletePost(
        fpb.DeletePostRequest(post_id=star_posts[0]), metadata=testing.as_person(star.id)
    )
    assert star_posts[0] not in await system.home_ids(fans[0])


async def test_person_timeline_pages(system: Stack, unique: str) -> None:
    ada = await system.person(f"pt{unique}")
    ids = [(await system.post(ada, f"n{i}")).id for i in range(5)]
    seen, token = [], ""
    for _ in range(5):
        page = await system.feed.ListPersonTimeline(
            fpb.ListTimelineRequest(person_id=ada.id, page_size=2, page_token=token)
        )
        seen += [p.id for p in page.posts]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids[::-1]
