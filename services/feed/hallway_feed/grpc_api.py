"""FeedService over gRPC: translates protos to ``posts`` calls and back."""

from __future__ import annotations

import asyncpg
import grpc

from hallway.feed.v1 import feed_pb2 as pb
from hallway.feed.v1 import feed_pb2_grpc as pb_grpc
from hallway_common.fields import parse_id, timestamp
from hallway_common.identity import require_person
from hallway_common.pagination import page_size
from hallway_feed import posts

DEFAULT_PAGE = 20
MAX_PAGE = 100


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
        )
        return to_proto(row)

    async def GetPost(
        self, request: pb.GetPostRequest, context: grpc.aio.ServicerContext
    ) -> pb.Post:
        return to_proto(await posts.get_post(self.pool, parse_id(request.post_id, "post_id")))

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


def _response(page: posts.Page) -> pb.ListTimelineResponse:
    return pb.ListTimelineResponse(
        posts=[to_proto(r) for r in page.rows], next_page_token=page.next_token
    )
