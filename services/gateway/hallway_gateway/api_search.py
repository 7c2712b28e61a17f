"""REST API: searching communities and comments (the search service's index).

Only what everyone may read is indexed: public and private communities (a private
one's name and description are discoverable, its content is not; secret ones are
never found) and comments on public posts. Posts are searched in ``api``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from hallway.search.v1 import search_pb2
from hallway_gateway import convert, models
from hallway_gateway.api import Cursor, Limit, problem_responses
from hallway_gateway.deps import Caller, Services
from hallway_gateway.search_params import (
    Author,
    OptionalSearchQuery,
    Since,
    Until,
    author_id,
    timestamp,
)

router = APIRouter(prefix="/api/v1", responses=problem_responses())

CommunityQuery = Annotated[
    str,
    Query(
        max_length=200,
        description="Words or their beginnings in the name or description; empty lists "
        "every community you can discover, by name.",
    ),
]
Visibility = Annotated[
    Literal["public", "private"] | None,
    Query(description="Only public or only private communities."),
]
PostFilter = Annotated[
    str | None, Query(max_length=64, description="Only comments on this post (its id).")
]


@router.get(
    "/search/communities",
    tags=["search"],
    response_model=models.SearchPage[models.CommunityHit],
    responses=problem_responses(400),
)
async def search_communities(
    caller: Caller,
    backends: Services,
    q: CommunityQuery = "",
    visibility: Visibility = None,
    cursor: Cursor = "",
    limit: Limit = 20,
) -> models.SearchPage[models.CommunityHit]:
    """Find communities by name or description, best match first. Private communities
    are found (to ask to join); their posts, comments and members are not."""
    resp = await backends.search.SearchCommunities(
        search_pb2.SearchCommunitiesRequest(
            query=q, visibility=visibility or "", page_size=limit, page_token=cursor
        )
    )
    return models.SearchPage(
        items=[convert.community_hit(h) for h in resp.hits],
        next_cursor=convert.next_cursor(resp.next_page_token),
        total=resp.total,
    )


@router.get(
    "/search/comments",
    tags=["search"],
    response_model=models.SearchPage[models.CommentHit],
    responses=problem_responses(400, 404),
)
async def search_comments(
    caller: Caller,
    backends: Services,
    q: OptionalSearchQuery = "",
    post: PostFilter = None,
    author: Author = None,
    since: Since = None,
    until: Until = None,
    cursor: Cursor = "",
    limit: Limit = 20,
) -> models.SearchPage[models.CommentHit]:
    """Full-text search over comments on posts everyone may read, best match first,
    then newest. `q` may be empty when a filter is given. 404 for an `author` handle
    nobody has."""
    resp = await backends.search.SearchComments(
        search_pb2.SearchCommentsRequest(
            query=q,
            post_id=post or "",
            written_by=await author_id(backends, author),
            since=timestamp(since, "since"),
            until=timestamp(until, "until", end_of_day=True),
            page_size=limit,
            page_token=cursor,
        )
    )
    return models.SearchPage(
        items=await convert.comment_hits(backends, resp.hits),
        next_cursor=convert.next_cursor(resp.next_page_token),
        total=resp.total,
    )
