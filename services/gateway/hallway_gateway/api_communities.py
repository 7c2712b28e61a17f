"""REST API /api/v1/communities: communities, their members and their feeds.

The feed service decides who may see what; the gateway only maps its answers. A
community the caller may not know of is a 404 with the same body as an id that does
not exist (a non-UUID id answers the same way, without a call).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import feed_pb2
from hallway_common.audit import audit
from hallway_gateway import convert, models
from hallway_gateway.api import Cursor, Limit, PeopleLimit, post_page, problem_responses
from hallway_gateway.deps import Caller, Services, WriteLimited, known_id, resolve_person_id
from hallway_gateway.problems import Problem

router = APIRouter(prefix="/api/v1", responses=problem_responses())
TAG = "communities"


def _community_id(community_id: str) -> str:
    return known_id(community_id, "community")


@router.get(
    "/communities",
    tags=[TAG],
    response_model=models.Page[models.Community],
    responses=problem_responses(400),
)
async def list_communities(
    caller: Caller,
    backends: Services,
    q: Annotated[str, Query(max_length=100, description="Part of the name, any case.")] = "",
    mine: Annotated[bool, Query(description="Only communities you are a member of.")] = False,
    cursor: Cursor = "",
    limit: PeopleLimit = 50,
) -> models.Page[models.Community]:
    """The directory, by name: every public and private community, and the secret ones
    you belong or are invited to."""
    resp = await backends.communities.ListCommunities(
        cpb.ListCommunitiesRequest(query=q, mine=mine, page_size=limit, page_token=cursor)
    )
    return models.Page(
        items=[convert.community(c) for c in resp.communities],
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.post(
    "/communities",
    tags=[TAG],
    status_code=201,
    response_model=models.Community,
    responses=problem_responses(400, 403, 409, 429),
    dependencies=[WriteLimited],
)
async def create_community(
    body: models.CommunityCreate, caller: Caller, backends: Services
) -> models.Community:
    """Create a community; you become its owner. `official` needs the `admin` role
    (403 otherwise); 409 when the name is taken (any case)."""
    resp = await backends.communities.CreateCommunity(
        cpb.CreateCommunityRequest(**body.model_dump())
    )
    if body.official:
        audit("community.create", "success", actor=caller.person_id, target=resp.community.id)
    return convert.community(resp.community)


@router.get(
    "/communities/{community_id}",
    tags=[TAG],
    response_model=models.Community,
    responses=problem_responses(404),
)
async def get_community(community_id: str, caller: Caller, backends: Services) -> models.Community:
    """One community, with your membership. 404 for a secret community you are neither
    a member of nor invited to."""
    resp = await backends.communities.GetCommunity(
        cpb.GetCommunityRequest(community_id=_community_id(community_id))
    )
    return convert.community(resp.community)


@router.patch(
    "/communities/{community_id}",
    tags=[TAG],
    response_model=models.Community,
    responses=problem_responses(400, 403, 404, 409, 429),
    dependencies=[WriteLimited],
)
async def update_community(
    community_id: str, body: models.CommunityUpdate, caller: Caller, backends: Services
) -> models.Community:
    """Change a community (its owners and admins; 403 otherwise). Visibility can only be
    narrowed, public to private to secret (422 for wider): widening would show members'
    past posts to people they were not written for."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    resp = await backends.communities.UpdateCommunity(
        cpb.UpdateCommunityRequest(community_id=_community_id(community_id), **changes)
    )
    return convert.community(resp.community)


@router.post(
    "/communities/{community_id}/join",
    tags=[TAG],
    response_model=models.Community,
    responses=problem_responses(404, 429),
    dependencies=[WriteLimited],
)
async def join_community(community_id: str, caller: Caller, backends: Services) -> models.Community:
    """Join a public community, ask to join a private one (`membership.state` is then
    `requested`), or accept an invitation. Joining again is not an error."""
    resp = await backends.communities.JoinCommunity(
        cpb.JoinCommunityRequest(community_id=_community_id(community_id))
    )
    return convert.community(resp.community)


@router.get(
    "/communities/{community_id}/members",
    tags=[TAG],
    response_model=models.Page[models.Member],
    responses=problem_responses(400, 403, 404),
)
async def list_members(
    community_id: str,
    caller: Caller,
    backends: Services,
    state: Annotated[
        str,
        Query(
            pattern="^(active|requested|invited)$",
            description="`active` members (for whoever may read the community), or pending "
            "`requested` / `invited` (its owners and admins).",
        ),
    ] = "active",
    cursor: Cursor = "",
    limit: PeopleLimit = 50,
) -> models.Page[models.Member]:
    """A community's members, newest first; 403 for a private community's member list
    when you are not a member."""
    resp = await backends.communities.ListMembers(
        cpb.ListMembersRequest(
            community_id=_community_id(community_id),
            state=state,
            page_size=limit,
            page_token=cursor,
        )
    )
    return models.Page(
        items=await convert.members(backends, resp.members),
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.post(
    "/communities/{community_id}/members",
    tags=[TAG],
    response_model=models.Member,
    responses=problem_responses(400, 403, 404, 429),
    dependencies=[WriteLimited],
)
async def add_member(
    community_id: str, body: models.MemberAdd, caller: Caller, backends: Services
) -> models.Member:
    """Invite a person (by id or handle), or approve their request to join: owners and
    admins only. Adding again is not an error."""
    cid = _community_id(community_id)
    person = await resolve_person_id(backends, body.person_id)
    resp = await backends.communities.AddMember(
        cpb.AddMemberRequest(community_id=cid, person_id=person)
    )
    return (await convert.members(backends, [resp.member]))[0]


@router.patch(
    "/communities/{community_id}/members/{person_id}",
    tags=[TAG],
    response_model=models.Member,
    responses=problem_responses(400, 403, 404, 429),
    dependencies=[WriteLimited],
)
async def update_member(
    community_id: str,
    person_id: str,
    body: models.MemberUpdate,
    caller: Caller,
    backends: Services,
) -> models.Member:
    """Change a member's `role` (owners only; 422 when the last owner would step down),
    or choose `notify_posts` on your own membership: hear of every post there."""
    cid = _community_id(community_id)
    person = await resolve_person_id(backends, person_id)
    if body.role is None and body.notify_posts is None:
        raise Problem(400, "give role or notify_posts", slug="invalid-argument")
    resp = await backends.communities.UpdateMember(
        cpb.UpdateMemberRequest(
            community_id=cid,
            person_id=person,
            role=body.role or "",
            **({} if body.notify_posts is None else {"notify_posts": body.notify_posts}),
        )
    )
    return (await convert.members(backends, [resp.member]))[0]


@router.delete(
    "/communities/{community_id}/members/{person_id}",
    tags=[TAG],
    status_code=204,
    responses=problem_responses(400, 403, 404, 429),
    dependencies=[WriteLimited],
)
async def remove_member(
    community_id: str, person_id: str, caller: Caller, backends: Services
) -> Response:
    """Leave (your own id: also withdraws a request or declines an invitation), or
    remove a member or deny a request (owners and admins; only owners remove owners
    and admins). 422 for the last owner; 404 when there is no such membership."""
    cid = _community_id(community_id)
    person = await resolve_person_id(backends, person_id)
    await backends.communities.RemoveMember(
        cpb.RemoveMemberRequest(community_id=cid, person_id=person)
    )
    return Response(status_code=204)


@router.get(
    "/communities/{community_id}/posts",
    tags=[TAG],
    response_model=models.Page[models.Post],
    responses=problem_responses(400, 403, 404),
)
async def community_posts(
    community_id: str, caller: Caller, backends: Services, cursor: Cursor = "", limit: Limit = 20
) -> models.Page[models.Post]:
    """A community's feed, newest first; 403 for a private community you are not a
    member of."""
    resp = await backends.feed.ListCommunityPosts(
        feed_pb2.ListCommunityPostsRequest(
            community_id=_community_id(community_id), page_size=limit, page_token=cursor
        )
    )
    return await post_page(backends, resp)
