"""Small in-process fakes of the four gRPC services, for the gateway's unit tests only.

They answer with real protobuf messages and fail with real ``AioRpcError``s, so the
gateway's translation and error mapping run exactly as against the real services.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc
from fastapi.testclient import TestClient
from google.protobuf.timestamp_pb2 import Timestamp

from hallway.feed.v1 import feed_pb2
from hallway.notification.v1 import notification_pb2
from hallway.profile.v1 import profile_pb2
from hallway.search.v1 import search_pb2
from hallway_common.identity import METADATA_KEY as IDENTITY_KEY
from hallway_gateway.app import create_app
from hallway_gateway.auth import mint_token
from hallway_gateway.backends import Backends, Guarded
from hallway_gateway.ratelimit import TokenBucketLimiter
from hallway_gateway.settings import GatewaySettings

SECRET = "unit-test-secret-0123456789abcdef"
ISSUER = "hallway"


def rpc_error(code: grpc.StatusCode, details: str = "") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


def now_ts() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    return ts


class Fake:
    """Records calls; ``fail[method] = (code, details)`` makes a method raise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.actors: list[str] = []  # who each call acted for (the identity's subject)
        self.actor = ""
        self.fail: dict[str, tuple[grpc.StatusCode, str]] = {}

    def _enter(self, method: str, request: Any, metadata: Any = None) -> None:
        # Without a signer the gateway sends the bare subject (unit tests only).
        self.actor = dict(metadata or ()).get(IDENTITY_KEY, "")
        self.actors.append(self.actor)
        self.calls.append((method, request))
        if method in self.fail:
            code, details = self.fail[method]
            raise rpc_error(code, details)

    def called(self, method: str) -> list[Any]:
        return [r for m, r in self.calls if m == method]


class FakeProfile(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.people: dict[str, profile_pb2.Person] = {}
        self.follows: set[tuple[str, str]] = set()

    def add(self, handle: str, display_name: str | None = None) -> profile_pb2.Person:
        p = profile_pb2.Person(
            id=str(uuid.uuid4()),
            handle=handle,
            display_name=display_name or handle.title(),
            created_at=now_ts(),
            updated_at=now_ts(),
            version=1,
            active=True,
        )
        self.people[p.id] = p
        return p

    async def GetPerson(
        self, req: profile_pb2.GetPersonRequest, metadata: Any = None
    ) -> profile_pb2.Person:
        self._enter("GetPerson", req, metadata)
        for p in self.people.values():
            if (req.WhichOneof("key") == "handle" and p.handle == req.handle) or p.id == req.id:
                return p
        raise rpc_error(grpc.StatusCode.NOT_FOUND, "person not found")

    async def BatchGetPeople(
        self, req: Any, metadata: Any = None
    ) -> profile_pb2.BatchGetPeopleResponse:
        self._enter("BatchGetPeople", req, metadata)
        return profile_pb2.BatchGetPeopleResponse(
            people=[self.people[i] for i in req.ids if i in self.people]
        )

    async def CreatePerson(
        self, req: profile_pb2.CreatePersonRequest, metadata: Any = None
    ) -> profile_pb2.Person:
        self._enter("CreatePerson", req, metadata)
        if any(p.handle == req.handle for p in self.people.values()):
            raise rpc_error(grpc.StatusCode.ALREADY_EXISTS, "handle taken")
        return self.add(req.handle, req.display_name)

    async def UpdatePerson(
        self, req: profile_pb2.UpdatePersonRequest, metadata: Any = None
    ) -> profile_pb2.Person:
        self._enter("UpdatePerson", req, metadata)
        p = self.people[req.id]
        if req.HasField("display_name"):
            p.display_name = req.display_name
        if req.HasField("title"):
            p.title = req.title
        return p

    async def RemovePerson(
        self, req: profile_pb2.RemovePersonRequest, metadata: Any = None
    ) -> profile_pb2.Person:
        self._enter("RemovePerson", req, metadata)
        if req.id not in self.people:
            raise rpc_error(grpc.StatusCode.NOT_FOUND, "person not found")
        self.people[req.id].active = False
        return self.people[req.id]

    async def ListPeople(self, req: profile_pb2.ListPeopleRequest, metadata: Any = None) -> Any:
        self._enter("ListPeople", req, metadata)
        ordered = sorted(self.people.values(), key=lambda p: p.handle)
        start = int(req.page_token or 0)
        size = req.page_size or 50
        page = ordered[start : start + size]
        more = start + size < len(ordered)
        return profile_pb2.ListPeopleResponse(
            people=page, next_page_token=str(start + size) if more else ""
        )

    async def Follow(
        self, req: profile_pb2.FollowRequest, metadata: Any = None
    ) -> profile_pb2.FollowResponse:
        self._enter("Follow", req, metadata)
        key = (self.actor, req.followee_id)
        changed = key not in self.follows
        self.follows.add(key)
        return profile_pb2.FollowResponse(changed=changed)

    async def Unfollow(
        self, req: profile_pb2.FollowRequest, metadata: Any = None
    ) -> profile_pb2.FollowResponse:
        self._enter("Unfollow", req, metadata)
        key = (self.actor, req.followee_id)
        changed = key in self.follows
        self.follows.discard(key)
        return profile_pb2.FollowResponse(changed=changed)

    async def ListFollowing(self, req: profile_pb2.ListFollowsRequest, metadata: Any = None) -> Any:
        self._enter("ListFollowing", req, metadata)
        ids = [b for a, b in self.follows if a == req.person_id]
        return profile_pb2.ListPeopleResponse(people=[self.people[i] for i in ids])

    async def ListFollowers(self, req: profile_pb2.ListFollowsRequest, metadata: Any = None) -> Any:
        self._enter("ListFollowers", req, metadata)
        ids = [a for a, b in self.follows if b == req.person_id]
        return profile_pb2.ListPeopleResponse(people=[self.people[i] for i in ids])


class FakeFeed(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.posts: list[feed_pb2.Post] = []  # newest first
        self.by_key: dict[tuple[str, str], feed_pb2.Post] = {}

    def add(self, author_id: str, text: str) -> feed_pb2.Post:
        post = feed_pb2.Post(
            id=str(uuid.uuid4()), author_id=author_id, text=text, created_at=now_ts(), version=1
        )
        self.posts.insert(0, post)
        return post

    async def CreatePost(
        self, req: feed_pb2.CreatePostRequest, metadata: Any = None
    ) -> feed_pb2.Post:
        self._enter("CreatePost", req, metadata)
        if req.idempotency_key and (self.actor, req.idempotency_key) in self.by_key:
            return self.by_key[(self.actor, req.idempotency_key)]
        post = self.add(self.actor, req.text)
        if req.idempotency_key:
            self.by_key[(self.actor, req.idempotency_key)] = post
        return post

    async def GetPost(self, req: feed_pb2.GetPostRequest, metadata: Any = None) -> feed_pb2.Post:
        self._enter("GetPost", req, metadata)
        for p in self.posts:
            if p.id == req.post_id:
                return p
        raise rpc_error(grpc.StatusCode.NOT_FOUND, "post not found")

    async def DeletePost(
        self, req: feed_pb2.DeletePostRequest, metadata: Any = None
    ) -> feed_pb2.DeletePostResponse:
        self._enter("DeletePost", req, metadata)
        actor = self.actor
        post = await self.GetPost(feed_pb2.GetPostRequest(post_id=req.post_id), metadata)
        if post.author_id != actor:
            raise rpc_error(grpc.StatusCode.PERMISSION_DENIED, "not your post")
        self.posts.remove(post)
        return feed_pb2.DeletePostResponse()

    def _page(self, posts: list[feed_pb2.Post], req: feed_pb2.ListTimelineRequest) -> Any:
        start = int(req.page_token or 0)
        size = req.page_size or 20
        more = start + size < len(posts)
        return feed_pb2.ListTimelineResponse(
            posts=posts[start : start + size], next_page_token=str(start + size) if more else ""
        )

    async def ListHomeTimeline(
        self, req: feed_pb2.ListHomeTimelineRequest, metadata: Any = None
    ) -> Any:
        self._enter("ListHomeTimeline", req, metadata)
        return self._page(self.posts, req)

    async def ListPersonTimeline(
        self, req: feed_pb2.ListTimelineRequest, metadata: Any = None
    ) -> Any:
        self._enter("ListPersonTimeline", req, metadata)
        return self._page([p for p in self.posts if p.author_id == req.person_id], req)


class FakeSearch(Fake):
    def __init__(self, feed: FakeFeed, profile: FakeProfile) -> None:
        super().__init__()
        self.feed = feed
        self.profile = profile

    async def SearchPosts(self, req: search_pb2.SearchRequest, metadata: Any = None) -> Any:
        self._enter("SearchPosts", req, metadata)
        hits = [
            search_pb2.PostHit(
                post_id=p.id,
                author_id=p.author_id,
                text=p.text,
                highlights=[p.text.replace(req.query, f"<em>{req.query}</em>")],
                created_at=p.created_at,
                score=1.0,
            )
            for p in self.feed.posts
            if req.query in p.text
        ]
        return search_pb2.SearchPostsResponse(hits=hits, total=len(hits))

    async def SearchPeople(self, req: search_pb2.SearchRequest, metadata: Any = None) -> Any:
        self._enter("SearchPeople", req, metadata)
        hits = [
            search_pb2.PersonHit(person_id=p.id, handle=p.handle, display_name=p.display_name)
            for p in self.profile.people.values()
            if req.query in p.handle
        ]
        return search_pb2.SearchPeopleResponse(hits=hits, total=len(hits))

    async def SearchCommunities(
        self, req: search_pb2.SearchCommunitiesRequest, metadata: Any = None
    ) -> Any:
        self._enter("SearchCommunities", req, metadata)
        hit = search_pb2.CommunityHit(
            community_id=str(uuid.uuid4()),
            name=f"About {req.query}",
            visibility=req.visibility or "private",
            posting="members",
            created_at=now_ts(),
            score=1.0,
        )
        return search_pb2.SearchCommunitiesResponse(hits=[hit], total=1)

    async def SearchComments(
        self, req: search_pb2.SearchCommentsRequest, metadata: Any = None
    ) -> Any:
        self._enter("SearchComments", req, metadata)
        hit = search_pb2.CommentHit(
            comment_id=str(uuid.uuid4()),
            post_id=req.post_id or str(uuid.uuid4()),
            author_id=req.written_by or str(uuid.uuid4()),
            text=f"said {req.query}",
            highlights=[f"said <em>{req.query}</em>"],
            created_at=now_ts(),
            score=1.0,
        )
        return search_pb2.SearchCommentsResponse(hits=[hit], next_page_token="next", total=1)


class FakeStream:
    """A server-streaming call: ``read()`` returns queued messages, then EOF."""

    def __init__(self, messages: list[Any], delay: float = 0.0) -> None:
        self.messages = list(messages)
        self.delay = delay
        self.cancelled = False

    async def read(self) -> Any:
        if not self.messages:
            await asyncio.sleep(self.delay)
            return grpc.aio.EOF
        message = self.messages.pop(0)
        if isinstance(message, Exception):
            raise message
        return message

    def cancel(self) -> bool:
        self.cancelled = True
        return True


class FakeNotification(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[notification_pb2.Notification] = []
        self.stream_messages: list[Any] = []
        self.stream_delay = 0.0
        self.streams: list[FakeStream] = []

    async def ListNotifications(self, req: Any, metadata: Any = None) -> Any:
        self._enter("ListNotifications", req, metadata)
        items = [n for n in self.items if n.person_id == self.actor]
        return notification_pb2.ListNotificationsResponse(
            notifications=items, unread_count=sum(not n.read for n in items)
        )

    async def MarkRead(self, req: notification_pb2.MarkReadRequest, metadata: Any = None) -> Any:
        self._enter("MarkRead", req, metadata)
        updated = 0
        for n in self.items:
            if (
                n.person_id == self.actor
                and not n.read
                and (req.all or n.id in req.notification_ids)
            ):
                n.read = True
                updated += 1
        return notification_pb2.MarkReadResponse(updated=updated, unread_count=0)

    def StreamNotifications(self, req: Any, metadata: Any = None) -> FakeStream:
        self.actor = dict(metadata or ()).get(IDENTITY_KEY, "")
        self.actors.append(self.actor)
        self.calls.append(("StreamNotifications", req))
        stream = FakeStream(self.stream_messages, self.stream_delay)
        self.streams.append(stream)
        return stream


@dataclass
class Harness:
    client: TestClient
    profile: FakeProfile
    feed: FakeFeed
    search: FakeSearch
    notification: FakeNotification
    health: dict[str, str] = field(default_factory=dict)
    settings: GatewaySettings | None = None

    def token(
        self, person: profile_pb2.Person, ttl: int = 600, roles: list[str] | None = None
    ) -> str:
        return mint_token(SECRET, ISSUER, person.id, person.handle, ttl, roles=roles)

    def auth(self, person: profile_pb2.Person, roles: list[str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person, roles=roles)}"}


def harness(per_minute: int = 1000, **overrides: Any) -> Harness:
    overrides = {"dev_mode": True, "dev_login": True, **overrides}
    settings = GatewaySettings(
        jwt_secret=SECRET,
        jwt_issuer=ISSUER,
        write_rate_per_minute=per_minute,
        **overrides,
    )
    profile, feed, notification = FakeProfile(), FakeFeed(), FakeNotification()
    search = FakeSearch(feed, profile)
    health = {name: "SERVING" for name in ("profile", "feed", "search", "notification")}

    def checker(name: str) -> Any:
        async def check(deadline: float) -> str:
            status = health[name]
            if status == "HANG":
                await asyncio.sleep(deadline * 2)
            if status in ("UNAVAILABLE",):
                raise rpc_error(grpc.StatusCode.UNAVAILABLE, "connection refused")
            return status

        return check

    backends = Backends(
        profile=Guarded("profile", profile),
        feed=Guarded("feed", feed),
        search=Guarded("search", search),
        notification=Guarded("notification", notification),
        communities=Guarded("feed", Fake()),
        conversations=Guarded("feed", Fake()),
        topics=Guarded("feed", Fake()),
        health={name: checker(name) for name in health},
    )
    app = create_app(settings, backends=backends, limiter=TokenBucketLimiter(per_minute))
    client = TestClient(app, raise_server_exceptions=False)
    return Harness(client, profile, feed, search, notification, health, settings)


def wait_until(check: Any, within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met")
