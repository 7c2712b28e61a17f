"""REST API /api/v1: the public, documented face of the services.

Each handler authenticates the caller, calls one or two services over gRPC with
the default deadline and translates protos to JSON. Lists are keyset-paginated
(``cursor`` in, ``next_cursor`` out); errors are problem+json.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import grpc
import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from hallway.feed.v1 import feed_pb2
from hallway.notification.v1 import notification_pb2
from hallway.profile.v1 import profile_pb2
from hallway.search.v1 import search_pb2
from hallway_common.audit import audit
from hallway_common.logs import get_logger
from hallway_gateway import convert, models
from hallway_gateway import search_params as sp
from hallway_gateway.deps import (
    Caller,
    Services,
    WriteLimited,
    is_uuid,
    known_id,
    resolve_person_id,
)
from hallway_gateway.problems import PROBLEM_JSON, Problem, from_rpc_error

log = get_logger(__name__)


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {"model": models.ProblemDetails, "content": {PROBLEM_JSON: {}}}
        for code in (401, 422, 503, 504, *codes)
    }


router = APIRouter(prefix="/api/v1", responses=problem_responses())

Cursor = Annotated[
    str,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first."),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
PeopleLimit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
SearchQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        description='Words, "#tag" and "@handle" are understood.',
    ),
]
MAX_IDEMPOTENCY_KEY = 200


# People ------------------------------------------------------------------------------


@router.get("/me", tags=["people"], response_model=models.Person)
async def get_me(caller: Caller, backends: Services) -> models.Person:
    """The signed-in person's profile."""
    p = await backends.profile.GetPerson(profile_pb2.GetPersonRequest(id=caller.person_id))
    return convert.person(p)


@router.get(
    "/people",
    tags=["people"],
    response_model=models.Page[models.Person],
    responses=problem_responses(400),
)
async def list_people(
    caller: Caller, backends: Services, cursor: Cursor = "", limit: PeopleLimit = 50
) -> models.Page[models.Person]:
    """The people directory, ordered by handle."""
    resp = await backends.profile.ListPeople(
        profile_pb2.ListPeopleRequest(page_size=limit, page_token=cursor)
    )
    return models.Page(
        items=[convert.person(p) for p in resp.people],
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.post(
    "/people",
    tags=["people"],
    status_code=201,
    response_model=models.Person,
    responses=problem_responses(400, 403, 409, 429),
    dependencies=[WriteLimited],
)
async def create_person(
    body: models.PersonCreate, caller: Caller, backends: Services
) -> models.Person:
    """Provision a person (HR/IT). Requires the `admin` role (`token --admin`).

    409 when the handle is taken; 400 for a malformed handle or an unknown manager."""
    if not caller.is_admin:
        audit("person.create", "denied", actor=caller.person_id)
        raise Problem(403, "provisioning people requires the admin role", slug="permission-denied")
    p = await backends.profile.CreatePerson(profile_pb2.CreatePersonRequest(**body.model_dump()))
    audit("person.create", "success", actor=caller.person_id, target=p.id)
    return convert.person(p)


@router.get(
    "/people/{person_id}",
    tags=["people"],
    response_model=models.Person,
    responses=problem_responses(400, 404),
)
async def get_person(person_id: str, caller: Caller, backends: Services) -> models.Person:
    """One person, by id or by handle (every `{person_id}` in a path also takes a handle)."""
    if is_uuid(person_id):
        req = profile_pb2.GetPersonRequest(id=person_id)
    else:
        req = profile_pb2.GetPersonRequest(handle=person_id[:64])
    return convert.person(await backends.profile.GetPerson(req))


@router.patch(
    "/people/{person_id}",
    tags=["people"],
    response_model=models.Person,
    responses=problem_responses(400, 403, 404, 409, 429),
    dependencies=[WriteLimited],
)
async def update_person(
    person_id: str, body: models.PersonUpdate, caller: Caller, backends: Services
) -> models.Person:
    """Change a profile: your own, or anyone's with the `admin` role.

    Only the fields present change; an empty string clears title, department or manager.
    `email` is set by provisioning only (the `admin` role): 403 otherwise; 409 when the
    address belongs to someone else."""
    target = await resolve_person_id(backends, person_id)
    if target != caller.person_id and not caller.is_admin:
        audit("person.update", "denied", actor=caller.person_id, target=target)
        raise Problem(403, "you may only change your own profile", slug="permission-denied")
    changes = body.model_dump(exclude_unset=True)
    if "email" in changes and not caller.is_admin:
        audit("person.update", "denied", actor=caller.person_id, target=target, reason="email")
        raise Problem(
            403, "e-mail addresses are set by provisioning (admin) only", slug="permission-denied"
        )
    if changes.get("display_name", "") is None:
        raise Problem(400, "display_name cannot be null", slug="invalid-argument")
    changes = {k: v if v is not None else "" for k, v in changes.items()}
    p = await backends.profile.UpdatePerson(profile_pb2.UpdatePersonRequest(id=target, **changes))
    if caller.is_admin and (target != caller.person_id or "email" in changes):
        # An administrator acting on someone's profile, or provisioning an address.
        audit("person.update", "success", actor=caller.person_id, target=target)
    return convert.person(p)


@router.delete(
    "/people/{person_id}",
    tags=["people"],
    status_code=204,
    responses=problem_responses(400, 403, 404, 429),
    dependencies=[WriteLimited],
)
async def remove_person(
    person_id: str,
    caller: Caller,
    backends: Services,
    erase: Annotated[
        bool, Query(description="Also erase their personal data and end their follows.")
    ] = False,
) -> Response:
    """Remove a person from the directory (HR/IT). Requires the `admin` role.

    Deactivates the person (they can no longer sign in and leave search and
    mentions); with `erase=true` their name, handle and e-mail are scrubbed too.
    Integrations see person.removed and a tombstone. Removing again is not an error."""
    if not caller.is_admin:
        audit("person.remove", "denied", actor=caller.person_id)
        raise Problem(403, "removing people requires the admin role", slug="permission-denied")
    target = await resolve_person_id(backends, person_id)
    await backends.profile.RemovePerson(profile_pb2.RemovePersonRequest(id=target, erase=erase))
    audit(
        "person.erase" if erase else "person.remove",
        "success",
        actor=caller.person_id,
        target=target,
    )
    return Response(status_code=204)


@router.post(
    "/people/{person_id}/follow",
    tags=["people"],
    response_model=models.FollowResult,
    responses=problem_responses(400, 404, 429),
    dependencies=[WriteLimited],
)
async def follow(person_id: str, caller: Caller, backends: Services) -> models.FollowResult:
    """The caller follows the person (by id or handle). Following twice is not an error."""
    target = await resolve_person_id(backends, person_id)
    resp = await backends.profile.Follow(profile_pb2.FollowRequest(followee_id=target))
    return models.FollowResult(following=True, changed=resp.changed)


@router.delete(
    "/people/{person_id}/follow",
    tags=["people"],
    response_model=models.FollowResult,
    responses=problem_responses(400, 404, 429),
    dependencies=[WriteLimited],
)
async def unfollow(person_id: str, caller: Caller, backends: Services) -> models.FollowResult:
    """The caller stops following the person. Unfollowing twice is not an error."""
    target = await resolve_person_id(backends, person_id)
    resp = await backends.profile.Unfollow(profile_pb2.FollowRequest(followee_id=target))
    return models.FollowResult(following=False, changed=resp.changed)


async def _follows(
    backends: Services, person_id: str, cursor: str, limit: int, following: bool
) -> models.Page[models.Person]:
    target = await resolve_person_id(backends, person_id)
    req = profile_pb2.ListFollowsRequest(person_id=target, page_size=limit, page_token=cursor)
    call = backends.profile.ListFollowing if following else backends.profile.ListFollowers
    resp = await call(req)
    return models.Page(
        items=[convert.person(p) for p in resp.people],
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.get(
    "/people/{person_id}/followers",
    tags=["people"],
    response_model=models.Page[models.Person],
    responses=problem_responses(400, 404),
)
async def list_followers(
    person_id: str, caller: Caller, backends: Services, cursor: Cursor = "", limit: PeopleLimit = 50
) -> models.Page[models.Person]:
    """Who follows the person, most recent first."""
    return await _follows(backends, person_id, cursor, limit, following=False)


@router.get(
    "/people/{person_id}/following",
    tags=["people"],
    response_model=models.Page[models.Person],
    responses=problem_responses(400, 404),
)
async def list_following(
    person_id: str, caller: Caller, backends: Services, cursor: Cursor = "", limit: PeopleLimit = 50
) -> models.Page[models.Person]:
    """Whom the person follows, most recent first."""
    return await _follows(backends, person_id, cursor, limit, following=True)


# Posts and timelines -----------------------------------------------------------------


@router.post(
    "/posts",
    tags=["posts"],
    status_code=201,
    response_model=models.Post,
    responses=problem_responses(400, 403, 404, 409, 413, 429),
    dependencies=[WriteLimited],
)
async def create_post(
    body: models.PostCreate,
    caller: Caller,
    backends: Services,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retrying with the same key returns the first post instead of a copy.",
        ),
    ] = None,
) -> models.Post:
    """Post an update as the caller (1-5000 characters; @handles and #tags are recognised),
    on their own or in a community they are a member of (`community_id`; 404 for a
    community they may not see, 403 when they may not post there)."""
    key = (idempotency_key or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise Problem(
            400, f"Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY}", slug="invalid-argument"
        )
    community_id = known_id(body.community_id, "community") if body.community_id else ""
    p = await backends.feed.CreatePost(
        feed_pb2.CreatePostRequest(text=body.text, idempotency_key=key, community_id=community_id)
    )
    return (await convert.posts(backends, [p]))[0]


@router.get(
    "/posts/{post_id}", tags=["posts"], response_model=models.Post, responses=problem_responses(404)
)
async def get_post(post_id: str, caller: Caller, backends: Services) -> models.Post:
    """One post. 404 when it does not exist, was deleted, or is in a community the caller
    may not read (the same answer, so it confirms nothing)."""
    if not is_uuid(post_id):
        raise Problem(404, "no such post", slug="not-found")
    p = await backends.feed.GetPost(feed_pb2.GetPostRequest(post_id=post_id))
    return (await convert.posts(backends, [p]))[0]


@router.delete(
    "/posts/{post_id}",
    tags=["posts"],
    status_code=204,
    responses=problem_responses(403, 404, 429),
    dependencies=[WriteLimited],
)
async def delete_post(post_id: str, caller: Caller, backends: Services) -> Response:
    """Delete one of the caller's own posts, or, as an owner or admin of a community, a
    post in it (403 for someone else's; 404 when already gone or not readable)."""
    if not is_uuid(post_id):
        raise Problem(404, "no such post", slug="not-found")
    await backends.feed.DeletePost(feed_pb2.DeletePostRequest(post_id=post_id))
    return Response(status_code=204)


async def post_page(backends: Services, resp: Any) -> models.Page[models.Post]:
    return models.Page(
        items=await convert.posts(backends, resp.posts),
        next_cursor=convert.next_cursor(resp.next_page_token),
    )


@router.get(
    "/timeline/home",
    tags=["posts"],
    response_model=models.Page[models.Post],
    responses=problem_responses(400),
)
async def home_timeline(
    caller: Caller, backends: Services, cursor: Cursor = "", limit: Limit = 20
) -> models.Page[models.Post]:
    """The caller's home timeline, newest first: their own posts, those of people they
    follow, and those of the communities they are a member of, each once."""
    resp = await backends.feed.ListHomeTimeline(
        feed_pb2.ListHomeTimelineRequest(page_size=limit, page_token=cursor)
    )
    return await post_page(backends, resp)


@router.get(
    "/people/{person_id}/posts",
    tags=["posts"],
    response_model=models.Page[models.Post],
    responses=problem_responses(400, 404),
)
async def person_timeline(
    person_id: str, caller: Caller, backends: Services, cursor: Cursor = "", limit: Limit = 20
) -> models.Page[models.Post]:
    """A person's own posts (by id or handle) that the caller may read, newest first."""
    target = await resolve_person_id(backends, person_id)
    resp = await backends.feed.ListPersonTimeline(
        feed_pb2.ListTimelineRequest(person_id=target, page_size=limit, page_token=cursor)
    )
    return await post_page(backends, resp)


# Search ------------------------------------------------------------------------------


@router.get(
    "/search/posts",
    tags=["search"],
    response_model=models.SearchPage[models.PostHit],
    responses=problem_responses(400, 404),
)
async def search_posts(
    caller: Caller,
    backends: Services,
    q: sp.OptionalSearchQuery = "",
    community: sp.Community = None,
    author: sp.Author = None,
    tag: sp.Tag = None,
    since: sp.Since = None,
    until: sp.Until = None,
    cursor: Cursor = "",
    limit: Limit = 20,
) -> models.SearchPage[models.PostHit]:
    """Full-text search over the posts the caller may see, best match first, then
    newest. Filters narrow it; with one, `q` may be empty. 404 for an `author` handle
    nobody has."""
    resp = await backends.search.SearchPosts(
        search_pb2.SearchRequest(
            query=q,
            page_size=limit,
            page_token=cursor,
            community_id=community or "",
            written_by=await sp.author_id(backends, author),
            tag=tag or "",
            since=sp.timestamp(since, "since"),
            until=sp.timestamp(until, "until", end_of_day=True),
        )
    )
    return models.SearchPage(
        items=await convert.post_hits(backends, resp.hits),
        next_cursor=convert.next_cursor(resp.next_page_token),
        total=resp.total,
    )


@router.get(
    "/search/people",
    tags=["search"],
    response_model=models.SearchPage[models.PersonHit],
    responses=problem_responses(400),
)
async def search_people(
    q: SearchQuery, caller: Caller, backends: Services, cursor: Cursor = "", limit: Limit = 20
) -> models.SearchPage[models.PersonHit]:
    """Find people by name, handle, title or department."""
    resp = await backends.search.SearchPeople(
        search_pb2.SearchRequest(query=q, page_size=limit, page_token=cursor)
    )
    return models.SearchPage(
        items=[convert.person_hit(h) for h in resp.hits],
        next_cursor=convert.next_cursor(resp.next_page_token),
        total=resp.total,
    )


# Notifications -----------------------------------------------------------------------


@router.get(
    "/notifications",
    tags=["notifications"],
    response_model=models.NotificationPage,
    responses=problem_responses(400),
)
async def list_notifications(
    caller: Caller,
    backends: Services,
    cursor: Cursor = "",
    limit: Limit = 20,
    unread_only: bool = False,
) -> models.NotificationPage:
    """The caller's notifications, newest first, with the current unread count."""
    resp = await backends.notification.ListNotifications(
        notification_pb2.ListNotificationsRequest(
            page_size=limit, page_token=cursor, unread_only=unread_only
        )
    )
    return models.NotificationPage(
        items=await convert.notifications(backends, resp.notifications),
        next_cursor=convert.next_cursor(resp.next_page_token),
        unread_count=resp.unread_count,
    )


@router.post(
    "/notifications/read",
    tags=["notifications"],
    response_model=models.MarkReadResult,
    responses=problem_responses(400),
)
async def mark_read(
    body: models.MarkRead, caller: Caller, backends: Services
) -> models.MarkReadResult:
    """Mark the given notifications (`ids`) or all of them (`all: true`) as read."""
    if not body.all and not body.ids:
        raise Problem(400, "give ids or all: true", slug="invalid-argument")
    resp = await backends.notification.MarkRead(
        notification_pb2.MarkReadRequest(notification_ids=body.ids, all=body.all)
    )
    return models.MarkReadResult(updated=resp.updated, unread_count=resp.unread_count)


@router.get(
    "/notifications/stream",
    tags=["notifications"],
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": 'Server-Sent Events: `unread` ({"unread_count": n}) first and '
            'after each change, `notification` ({"unread_count": n, "notification": '
            "{...}}) per new notification, and a `: heartbeat` comment every 15 s.",
        }
    },
)
async def notification_stream(
    request: Request, caller: Caller, backends: Services
) -> StreamingResponse:
    """Live notifications as Server-Sent Events, relayed from the notification service.

    Authenticate with the bearer header or the session cookie (EventSource sends
    cookies). The stream ends when the client goes away; EventSource reconnects by
    itself after a dropped connection (the `retry` hint is 5 s)."""
    settings = request.app.state.settings
    call = backends.notification.stub.StreamNotifications(
        notification_pb2.StreamNotificationsRequest(),
        metadata=backends.notification.metadata() if backends.notification.metadata else None,
    )
    try:
        # Read the first message before answering 200, so a down service is a 503.
        first = await asyncio.wait_for(call.read(), settings.grpc_deadline_seconds)
    except TimeoutError:
        call.cancel()
        raise Problem(504, "the notification service did not answer in time") from None
    except grpc.aio.AioRpcError as exc:
        call.cancel()
        raise from_rpc_error(exc, "notification") from None
    if first is grpc.aio.EOF:
        call.cancel()
        raise Problem(503, "the notification service closed the stream")
    return StreamingResponse(
        _sse(request, backends, call, first, settings.sse_heartbeat_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _sse(request: Request, backends: Any, call: Any, first: Any, heartbeat: float) -> Any:
    """Relay the gRPC stream; heartbeats keep proxies from closing an idle connection."""
    queue: asyncio.Queue = asyncio.Queue(maxsize=100)
    done = object()

    async def pump() -> None:
        # read(), not ``async for``: grpc.aio forbids mixing the two on one call.
        try:
            while (message := await call.read()) is not grpc.aio.EOF:
                await queue.put(message)
        except Exception as exc:  # the service went away: end the stream, client reconnects
            log.info("notification stream ended", reason=repr(exc))
        finally:
            await queue.put(done)

    reader = asyncio.create_task(pump())
    try:
        yield b"retry: 5000\n\n"
        yield _event("unread", {"unread_count": first.unread_count})
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": heartbeat\n\n"
                continue
            if message is done:
                return
            if message.HasField("notification"):
                (item,) = await convert.notifications(backends, [message.notification])
                yield _event(
                    "notification",
                    {"unread_count": message.unread_count, "notification": item.model_dump()},
                )
            yield _event("unread", {"unread_count": message.unread_count})
    finally:
        call.cancel()
        reader.cancel()
