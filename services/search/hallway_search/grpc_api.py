"""SearchService over gRPC: translates protos to ``Searcher`` calls and hits back to protos."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hallway.search.v1 import search_pb2 as pb
from hallway.search.v1 import search_pb2_grpc as pb_grpc
from hallway_common.errors import InvalidArgument
from hallway_common.identity import current_actor
from hallway_search import queries
from hallway_search.searching import Searcher


def _ts(value: str | None) -> Timestamp | None:
    if not value:
        return None
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value))
    return ts


def _when(message: Any, name: str) -> datetime | None:
    """A Timestamp field as a datetime, None when unset."""
    if not message.HasField(name):
        return None
    try:
        return getattr(message, name).ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(f"{name} is not a valid timestamp") from None


def post_filters(request: pb.SearchRequest) -> queries.Filters:
    return queries.check_filters(
        community_id=request.community_id,
        author_id=request.written_by,
        tag=request.tag,
        since=_when(request, "since"),
        until=_when(request, "until"),
    )


def comment_filters(request: pb.SearchCommentsRequest) -> queries.Filters:
    return queries.check_filters(
        post_id=request.post_id,
        author_id=request.written_by,
        since=_when(request, "since"),
        until=_when(request, "until"),
    )


def _score(hit: dict[str, Any]) -> float:
    score = hit.get("_score")
    if score is None:  # sorted hits carry the score as their first sort value
        score = (hit.get("sort") or [0.0])[0]
    return float(score or 0.0)


def post_hit(hit: dict[str, Any]) -> pb.PostHit:
    doc = hit["_source"]
    return pb.PostHit(
        post_id=doc["post_id"],
        author_id=doc["author_id"],
        text=doc.get("text", ""),
        highlights=hit.get("highlight", {}).get("text", []),
        created_at=_ts(doc.get("created_at")),
        score=_score(hit),
        hashtags=doc.get("hashtags", []),
        community_id=doc.get("community_id") or "",
    )


def person_hit(hit: dict[str, Any]) -> pb.PersonHit:
    doc = hit["_source"]
    return pb.PersonHit(
        person_id=doc["person_id"],
        handle=doc["handle"],
        display_name=doc.get("display_name", ""),
        title=doc.get("title", ""),
        department=doc.get("department", ""),
        score=_score(hit),
    )


def community_hit(hit: dict[str, Any]) -> pb.CommunityHit:
    doc = hit["_source"]
    return pb.CommunityHit(
        community_id=doc["community_id"],
        name=doc.get("name", ""),
        description=doc.get("description", ""),
        visibility=doc.get("visibility", ""),
        official=bool(doc.get("official")),
        posting=doc.get("posting", ""),
        created_at=_ts(doc.get("created_at")),
        score=_score(hit),
    )


def comment_hit(hit: dict[str, Any]) -> pb.CommentHit:
    doc = hit["_source"]
    return pb.CommentHit(
        comment_id=doc["comment_id"],
        post_id=doc["post_id"],
        parent_id=doc.get("parent_id") or "",
        author_id=doc["author_id"],
        text=doc.get("text", ""),
        highlights=hit.get("highlight", {}).get("text", []),
        created_at=_ts(doc.get("created_at")),
        edited_at=_ts(doc.get("edited_at")),
        score=_score(hit),
    )


def _viewer() -> str:
    """Results are trimmed for the acting person (a service identity sees public only)."""
    return current_actor().person_id or ""


class SearchServicer(pb_grpc.SearchServiceServicer):
    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher

    async def SearchPosts(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchPostsResponse:
        page = await self.searcher.search_posts(
            request.query, _viewer(), request.page_size, request.page_token, post_filters(request)
        )
        return pb.SearchPostsResponse(
            hits=[post_hit(h) for h in page.hits],
            next_page_token=page.next_token,
            total=page.total,
        )

    async def SearchPeople(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchPeopleResponse:
        if post_filters(request):
            raise InvalidArgument("SearchPeople takes no filters (they are SearchPosts')")
        page = await self.searcher.search_people(
            request.query, _viewer(), request.page_size, request.page_token
        )
        return pb.SearchPeopleResponse(
            hits=[person_hit(h) for h in page.hits],
            next_page_token=page.next_token,
            total=page.total,
        )

    async def SearchCommunities(
        self, request: pb.SearchCommunitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchCommunitiesResponse:
        page = await self.searcher.search_communities(
            request.query, request.visibility, request.page_size, request.page_token
        )
        return pb.SearchCommunitiesResponse(
            hits=[community_hit(h) for h in page.hits],
            next_page_token=page.next_token,
            total=page.total,
        )

    async def SearchComments(
        self, request: pb.SearchCommentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchCommentsResponse:
        page = await self.searcher.search_comments(
            request.query,
            _viewer(),
            request.page_size,
            request.page_token,
            comment_filters(request),
        )
        return pb.SearchCommentsResponse(
            hits=[comment_hit(h) for h in page.hits],
            next_page_token=page.next_token,
            total=page.total,
        )
