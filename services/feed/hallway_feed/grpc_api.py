"""FeedService and CommunityService over gRPC: protos to ``posts`` and
``communities`` calls and back."""

from __future__ import annotations

import uuid

import asyncpg
import grpc

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import community_pb2_grpc as cpb_grpc
from hallway.feed.v1 import feed_pb2 as pb
from hallway.feed.v1 import feed_pb2_grpc as pb_grpc
from hallway_common.fields import parse_id, timestamp
from hallway_common.identity import current_actor, require_person
from hallway_common.pagination import page_size
from hallway_feed import communities, posts

DEFAULT_PAGE = 20
MAX_PAGE = 100
DEFAULT_MEMBERS_PAGE = 50
MAX_MEMBERS_PAGE = 200
# Whom a service identity reads as: nobody's member, so public posts only.
NOBODY = uuid.UUID(int=0)


def reader() -> uuid.UUID:
    """The person a read is for; a service identity reads what everyone may."""
    actor = current_actor()
    return uuid.UUID(actor.person_id) if actor.person_id else NOBODY


def to_proto(row: asyncpg.Record) -> pb.Post:
    return pb.Post(
        id=str(row["id"]),
        author_id=str(row["author_id"]),
        text=row["text"],
        mentions=[
            pb.Mention(person_id=m["person_id"], handle=m["handle"]) for m in row["mentions"]
        ],
        hashtags=list(row["hashtags"]),
        created_at=timestamp(row["created_at"]),
        version=row["version"],
        community_id=str(row["community_id"]) if row["community_id"] else "",
    )


class FeedServicer(pb_grpc.FeedServiceServicer):
    def __init__(self, pool: asyncpg.Pool, topic_prefix: str) -> None:
        self.pool = pool
        self.prefix = topic_prefix

    async def CreatePost(
        self, request: pb.CreatePostRequest, context: grpc.aio.ServicerContext
    ) -> pb.Post:
        row, _ = await posts.do_create_post(
            self.pool,
            self.prefix,
            require_person(),
            request.text,
            request.idempotency_key,
            parse_id(request.community_id, "community_id") if request.community_id else None,
        )
        return to_proto(row)

    async def GetPost(
        self, request: pb.GetPostRequest, context: grpc.aio.ServicerContext
    ) -> pb.Post:
        post_id = parse_id(request.post_id, "post_id")
        return to_proto(await posts.get_post(self.pool, post_id, reader()))

    async def DeletePost(
        self, request: pb.DeletePostRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeletePostResponse:
        await posts.do_delete_post(
            self.pool,
            self.prefix,
            parse_id(request.post_id, "post_id"),
            require_person(),
        )
        return pb.DeletePostResponse()

    async def ListPersonTimeline(
        self, request: pb.ListTimelineRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTimelineResponse:
        page = await posts.list_person_timeline(
            self.pool,
            parse_id(request.person_id, "person_id"),
            reader(),
            page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE),
            request.page_token,
        )
        return _response(page)

    async def ListHomeTimeline(
        self, request: pb.ListHomeTimelineRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTimelineResponse:
        page = await posts.list_home_timeline(
            self.pool,
            require_person(),
            page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE),
            request.page_token,
        )
        return _response(page)

    async def ListCommunityPosts(
        self, request: pb.ListCommunityPostsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommunityPostsResponse:
        page = await posts.list_community_posts(
            self.pool,
            parse_id(request.community_id, "community_id"),
            require_person(),
            page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE),
            request.page_token,
        )
        return pb.ListCommunityPostsResponse(
            posts=[to_proto(r) for r in page.rows], next_page_token=page.next_token
        )


def _response(page: posts.Page) -> pb.ListTimelineResponse:
    return pb.ListTimelineResponse(
        posts=[to_proto(r) for r in page.rows], next_page_token=page.next_token
    )


def community_proto(c: asyncpg.Record, state: str = "", role: str = "") -> cpb.Community:
    return cpb.Community(
        id=str(c["id"]),
        name=c["name"],
        description=c["description"],
        visibility=c["visibility"],
        official=c["official"],
        posting=c["posting"],
        created_by=str(c["created_by"]),
        member_count=c["member_count"],
        created_at=timestamp(c["created_at"]),
        version=c["version"],
        my_state=state,
        my_role=role if state == "active" else "",
    )


def _access_proto(a: communities.Access) -> cpb.Community:
    return community_proto(a.community, a.state, a.role)


def member_proto(m: asyncpg.Record) -> cpb.Member:
    return cpb.Member(
        community_id=str(m["community_id"]),
        person_id=str(m["person_id"]),
        state=m["state"],
        role=m["role"],
        created_at=timestamp(m["created_at"]),
    )


class CommunityServicer(cpb_grpc.CommunityServiceServicer):
    def __init__(self, pool: asyncpg.Pool, topic_prefix: str) -> None:
        self.pool = pool
        self.prefix = topic_prefix

    async def CreateCommunity(
        self, request: cpb.CreateCommunityRequest, context: grpc.aio.ServicerContext
    ) -> cpb.CreateCommunityResponse:
        actor = require_person()
        a = await communities.do_create(
            self.pool,
            self.prefix,
            actor,
            current_actor().is_admin,
            name=request.name,
            description=request.description,
            visibility=request.visibility or "public",
            official=request.official,
            posting=request.posting or "members",
        )
        return cpb.CreateCommunityResponse(community=_access_proto(a))

    async def GetCommunity(
        self, request: cpb.GetCommunityRequest, context: grpc.aio.ServicerContext
    ) -> cpb.GetCommunityResponse:
        community_id = parse_id(request.community_id, "community_id")
        a = await communities.get(self.pool, community_id, require_person())
        return cpb.GetCommunityResponse(community=_access_proto(a))

    async def UpdateCommunity(
        self, request: cpb.UpdateCommunityRequest, context: grpc.aio.ServicerContext
    ) -> cpb.UpdateCommunityResponse:
        def opt(field: str) -> str | None:
            return getattr(request, field) if request.HasField(field) else None

        a = await communities.do_update(
            self.pool,
            self.prefix,
            parse_id(request.community_id, "community_id"),
            require_person(),
            name=opt("name"),
            description=opt("description"),
            visibility=opt("visibility"),
            posting=opt("posting"),
        )
        return cpb.UpdateCommunityResponse(community=_access_proto(a))

    async def ListCommunities(
        self, request: cpb.ListCommunitiesRequest, context: grpc.aio.ServicerContext
    ) -> cpb.ListCommunitiesResponse:
        page = await communities.list_directory(
            self.pool,
            require_person(),
            request.query,
            request.mine,
            page_size(request.page_size, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE),
            request.page_token,
        )
        return cpb.ListCommunitiesResponse(
            communities=[community_proto(c, c["my_state"] or "", c["my_role"]) for c in page.rows],
            next_page_token=page.next_token,
        )

    async def JoinCommunity(
        self, request: cpb.JoinCommunityRequest, context: grpc.aio.ServicerContext
    ) -> cpb.JoinCommunityResponse:
        community_id = parse_id(request.community_id, "community_id")
        a = await communities.do_join(self.pool, self.prefix, community_id, require_person())
        return cpb.JoinCommunityResponse(community=_access_proto(a))

    async def AddMember(
        self, request: cpb.AddMemberRequest, context: grpc.aio.ServicerContext
    ) -> cpb.AddMemberResponse:
        m = await communities.do_add_member(
            self.pool,
            self.prefix,
            parse_id(request.community_id, "community_id"),
            require_person(),
            parse_id(request.person_id, "person_id"),
        )
        return cpb.AddMemberResponse(member=member_proto(m))

    async def RemoveMember(
        self, request: cpb.RemoveMemberRequest, context: grpc.aio.ServicerContext
    ) -> cpb.RemoveMemberResponse:
        await communities.do_remove_member(
            self.pool,
            self.prefix,
            parse_id(request.community_id, "community_id"),
            require_person(),
            parse_id(request.person_id, "person_id"),
        )
        return cpb.RemoveMemberResponse()

    async def UpdateMember(
        self, request: cpb.UpdateMemberRequest, context: grpc.aio.ServicerContext
    ) -> cpb.UpdateMemberResponse:
        m = await communities.do_set_role(
            self.pool,
            self.prefix,
            parse_id(request.community_id, "community_id"),
            require_person(),
            parse_id(request.person_id, "person_id"),
            request.role,
        )
        return cpb.UpdateMemberResponse(member=member_proto(m))

    async def ListMembers(
        self, request: cpb.ListMembersRequest, context: grpc.aio.ServicerContext
    ) -> cpb.ListMembersResponse:
        page = await communities.list_members(
            self.pool,
            parse_id(request.community_id, "community_id"),
            require_person(),
            request.state or "active",
            page_size(request.page_size, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE),
            request.page_token,
        )
        return cpb.ListMembersResponse(
            members=[member_proto(m) for m in page.rows], next_page_token=page.next_token
        )
