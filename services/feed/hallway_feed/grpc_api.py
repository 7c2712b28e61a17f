"""FeedService and CommunityService over gRPC: protos to ``posts`` and
``communities`` calls and back."""

from __future__ import annotations

import uuid

import asyncpg
import grpc

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import community_pb2_grpc as cpb_grpc
from hallway.feed.v1 import conversation_pb2 as vpb
from hallway.feed.v1 import conversation_pb2_grpc as vpb_grpc
from hallway.feed.v1 import feed_pb2 as pb
from hallway.feed.v1 import feed_pb2_grpc as pb_grpc
from hallway_common.errors import InvalidArgument, PermissionDenied
from hallway_common.fields import parse_id, timestamp
from hallway_common.identity import current_actor, require_person
from hallway_common.pagination import page_size
from hallway_feed import communities, conversations, posts

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


def to_proto(row: asyncpg.Record, counts: conversations.Counts | None = None) -> pb.Post:
    counts = counts or conversations.Counts()
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
        comment_count=counts.comments,
        reaction_counts=counts.reactions,
        my_reactions=counts.mine,
    )


async def posts_proto(
    pool: asyncpg.Pool, rows: list[asyncpg.Record], reader_id: uuid.UUID
) -> list[pb.Post]:
    """Posts with their counts, read in one batch for the whole page."""
    counts = await conversations.counts(pool, [r["id"] for r in rows], reader_id)
    for r in rows:
        counts[r["id"]].comments = r["comment_count"]
    return [to_proto(r, counts[r["id"]]) for r in rows]


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
        return (await posts_proto(self.pool, [row], require_person()))[0]

    async def GetPost(
        self, request: pb.GetPostRequest, context: grpc.aio.ServicerContext
    ) -> pb.Post:
        post_id = parse_id(request.post_id, "post_id")
        row = await posts.get_post(self.pool, post_id, reader())
        return (await posts_proto(self.pool, [row], reader()))[0]

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
        return await self._response(page, reader())

    async def ListHomeTimeline(
        self, request: pb.ListHomeTimelineRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTimelineResponse:
        person = require_person()
        page = await posts.list_home_timeline(
            self.pool,
            person,
            page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE),
            request.page_token,
        )
        return await self._response(page, person)

    async def ListCommunityPosts(
        self, request: pb.ListCommunityPostsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommunityPostsResponse:
        person = require_person()
        page = await posts.list_community_posts(
            self.pool,
            parse_id(request.community_id, "community_id"),
            person,
            page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE),
            request.page_token,
        )
        return pb.ListCommunityPostsResponse(
            posts=await posts_proto(self.pool, page.rows, person),
            next_page_token=page.next_token,
        )

    async def _response(self, page: posts.Page, reader_id: uuid.UUID) -> pb.ListTimelineResponse:
        return pb.ListTimelineResponse(
            posts=await posts_proto(self.pool, page.rows, reader_id),
            next_page_token=page.next_token,
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


def member_proto(m: asyncpg.Record, viewer: uuid.UUID) -> cpb.Member:
    return cpb.Member(
        community_id=str(m["community_id"]),
        person_id=str(m["person_id"]),
        state=m["state"],
        role=m["role"],
        created_at=timestamp(m["created_at"]),
        notify_posts=m["notify_posts"] and m["person_id"] == viewer,
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
        actor = require_person()
        m = await communities.do_add_member(
            self.pool,
            self.prefix,
            parse_id(request.community_id, "community_id"),
            actor,
            parse_id(request.person_id, "person_id"),
        )
        return cpb.AddMemberResponse(member=member_proto(m, actor))

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
        community_id = parse_id(request.community_id, "community_id")
        actor = require_person()
        person = parse_id(request.person_id, "person_id")
        if not request.role and not request.HasField("notify_posts"):
            raise InvalidArgument("set role or notify_posts")
        m = None
        if request.HasField("notify_posts"):
            if person != actor:
                raise PermissionDenied("notify_posts is each member's own choice")
            m = await communities.do_set_notify(
                self.pool, community_id, actor, request.notify_posts
            )
        if request.role:
            m = await communities.do_set_role(
                self.pool, self.prefix, community_id, actor, person, request.role
            )
        return cpb.UpdateMemberResponse(member=member_proto(m, actor))

    async def ListMembers(
        self, request: cpb.ListMembersRequest, context: grpc.aio.ServicerContext
    ) -> cpb.ListMembersResponse:
        actor = require_person()
        page = await communities.list_members(
            self.pool,
            parse_id(request.community_id, "community_id"),
            actor,
            request.state or "active",
            page_size(request.page_size, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE),
            request.page_token,
        )
        return cpb.ListMembersResponse(
            members=[member_proto(m, actor) for m in page.rows], next_page_token=page.next_token
        )


def comment_proto(c: asyncpg.Record) -> vpb.Comment:
    comment = vpb.Comment(
        id=str(c["id"]),
        post_id=str(c["post_id"]),
        parent_id=str(c["parent_id"]) if c["parent_id"] else "",
        author_id=str(c["author_id"]),
        text=c["text"],
        mentions=[pb.Mention(person_id=m["person_id"], handle=m["handle"]) for m in c["mentions"]],
        created_at=timestamp(c["created_at"]),
        version=c["version"],
    )
    if c["edited_at"] is not None:
        comment.edited_at.CopyFrom(timestamp(c["edited_at"]))
    return comment


def _summary(counts: conversations.Counts) -> vpb.ReactionSummary:
    return vpb.ReactionSummary(
        reaction_counts=counts.reactions, my_reactions=counts.mine, comment_count=counts.comments
    )


class ConversationServicer(vpb_grpc.ConversationServiceServicer):
    def __init__(self, pool: asyncpg.Pool, topic_prefix: str) -> None:
        self.pool = pool
        self.prefix = topic_prefix

    async def CreateComment(
        self, request: vpb.CreateCommentRequest, context: grpc.aio.ServicerContext
    ) -> vpb.CreateCommentResponse:
        row = await conversations.do_comment(
            self.pool,
            self.prefix,
            parse_id(request.post_id, "post_id"),
            require_person(),
            request.text,
            parse_id(request.parent_id, "parent_id") if request.parent_id else None,
        )
        return vpb.CreateCommentResponse(comment=comment_proto(row))

    async def UpdateComment(
        self, request: vpb.UpdateCommentRequest, context: grpc.aio.ServicerContext
    ) -> vpb.UpdateCommentResponse:
        row = await conversations.do_edit_comment(
            self.pool,
            self.prefix,
            parse_id(request.comment_id, "comment_id"),
            require_person(),
            request.text,
        )
        return vpb.UpdateCommentResponse(comment=comment_proto(row))

    async def DeleteComment(
        self, request: vpb.DeleteCommentRequest, context: grpc.aio.ServicerContext
    ) -> vpb.DeleteCommentResponse:
        await conversations.do_delete_comment(
            self.pool, self.prefix, parse_id(request.comment_id, "comment_id"), require_person()
        )
        return vpb.DeleteCommentResponse()

    async def ListComments(
        self, request: vpb.ListCommentsRequest, context: grpc.aio.ServicerContext
    ) -> vpb.ListCommentsResponse:
        page = await conversations.list_comments(
            self.pool,
            parse_id(request.post_id, "post_id"),
            require_person(),
            page_size(request.page_size, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE),
            request.page_token,
        )
        return vpb.ListCommentsResponse(
            comments=[comment_proto(c) for c in page.rows], next_page_token=page.next_token
        )

    async def GetCommentHistory(
        self, request: vpb.GetCommentHistoryRequest, context: grpc.aio.ServicerContext
    ) -> vpb.GetCommentHistoryResponse:
        row, edits = await conversations.comment_history(
            self.pool,
            parse_id(request.comment_id, "comment_id"),
            require_person(),
            current_actor().is_admin,
        )
        return vpb.GetCommentHistoryResponse(
            comment=comment_proto(row),
            edits=[
                vpb.CommentEdit(
                    version=e["version"], text=e["text"], written_at=timestamp(e["written_at"])
                )
                for e in edits
            ],
        )

    async def _react(self, post_id: str, kind: str, on: bool) -> vpb.ReactionSummary:
        counts = await conversations.do_react(
            self.pool, self.prefix, parse_id(post_id, "post_id"), require_person(), kind, on
        )
        return _summary(counts)

    async def AddReaction(
        self, request: vpb.AddReactionRequest, context: grpc.aio.ServicerContext
    ) -> vpb.AddReactionResponse:
        return vpb.AddReactionResponse(
            summary=await self._react(request.post_id, request.kind, True)
        )

    async def RemoveReaction(
        self, request: vpb.RemoveReactionRequest, context: grpc.aio.ServicerContext
    ) -> vpb.RemoveReactionResponse:
        return vpb.RemoveReactionResponse(
            summary=await self._react(request.post_id, request.kind, False)
        )

    async def ListReactions(
        self, request: vpb.ListReactionsRequest, context: grpc.aio.ServicerContext
    ) -> vpb.ListReactionsResponse:
        page = await conversations.list_reactions(
            self.pool,
            parse_id(request.post_id, "post_id"),
            require_person(),
            request.kind,
            page_size(request.page_size, DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE),
            request.page_token,
        )
        return vpb.ListReactionsResponse(
            reactions=[
                vpb.Reaction(
                    person_id=str(r["person_id"]),
                    kind=r["kind"],
                    created_at=timestamp(r["created_at"]),
                )
                for r in page.rows
            ],
            next_page_token=page.next_token,
        )


class TopicServicer(vpb_grpc.TopicServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def FollowTopic(
        self, request: vpb.FollowTopicRequest, context: grpc.aio.ServicerContext
    ) -> vpb.FollowTopicResponse:
        changed = await conversations.do_follow_topic(
            self.pool, require_person(), request.tag, True
        )
        return vpb.FollowTopicResponse(changed=changed)

    async def UnfollowTopic(
        self, request: vpb.UnfollowTopicRequest, context: grpc.aio.ServicerContext
    ) -> vpb.UnfollowTopicResponse:
        changed = await conversations.do_follow_topic(
            self.pool, require_person(), request.tag, False
        )
        return vpb.UnfollowTopicResponse(changed=changed)

    async def GetTopic(
        self, request: vpb.GetTopicRequest, context: grpc.aio.ServicerContext
    ) -> vpb.GetTopicResponse:
        tag, followers, mine = await conversations.get_topic(
            self.pool, require_person(), request.tag
        )
        return vpb.GetTopicResponse(tag=tag, follower_count=followers, following=mine)

    async def ListTopicPosts(
        self, request: vpb.ListTopicPostsRequest, context: grpc.aio.ServicerContext
    ) -> vpb.ListTopicPostsResponse:
        person = require_person()
        page = await conversations.list_topic_posts(
            self.pool,
            request.tag,
            person,
            page_size(request.page_size, DEFAULT_PAGE, MAX_PAGE),
            request.page_token,
        )
        return vpb.ListTopicPostsResponse(
            posts=await posts_proto(self.pool, page.rows, person),
            next_page_token=page.next_token,
        )
