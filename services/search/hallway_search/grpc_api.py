"""SearchService over gRPC: translates protos to ``Searcher`` calls and hits back to protos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hallway.search.v1 import search_pb2 as pb
from hallway.search.v1 import search_pb2_grpc as pb_grpc
from hallway_common.identity import current_actor
from hallway_search.searching import Searcher


def _ts(value: str | None) -> Timestamp | None:
    if not value:
        return None
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value))
    return ts


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
            request.query, _viewer(), request.page_size, request.page_token
        )
        return pb.SearchPostsResponse(
            hits=[post_hit(h) for h in page.hits],
            next_page_token=page.next_token,
            total=page.total,
        )

    async def SearchPeople(
        self, request: pb.SearchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchPeopleResponse:
        page = await self.searcher.search_people(
            request.query, _viewer(), request.page_size, request.page_token
        )
        return pb.SearchPeopleResponse(
            hits=[person_hit(h) for h in page.hits],
            next_page_token=page.next_token,
            total=page.total,
        )
