"""The web page: server-rendered Jinja2 (autoescaped) plus one small vanilla JS file.

Pages read through the same backends as the API; the JS calls the REST API with
the session cookie for actions (post, delete, follow, mark read) and listens to
the notification stream. Sign-in here is the development form (HALLWAY_DEV_LOGIN);
production sign-in will be OIDC.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import conversation_pb2 as vpb
from hallway.feed.v1 import feed_pb2
from hallway.notification.v1 import notification_pb2
from hallway.profile.v1 import profile_pb2
from hallway.search.v1 import search_pb2
from hallway_common.audit import audit
from hallway_gateway import convert
from hallway_gateway.auth import COOKIE_NAME, Principal, mint_token, optional_principal
from hallway_gateway.backends import Backends
from hallway_gateway.deps import acting_backends, is_uuid
from hallway_gateway.models import MAX_POST_CHARS
from hallway_gateway.problems import Problem

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

# A mention link ends on a letter or digit: "@ada." ends a sentence.
_TOKENS = re.compile(r"(@[a-z0-9][a-z0-9._-]{0,30}[a-z0-9]|#[\w-]{1,100})", re.IGNORECASE)
_EM = re.compile(r"(</?em>)")
MAX_LOGIN_BODY = 2048


def text_segments(text: str) -> list[tuple[str, str]]:
    """Split a post into ("text"|"mention"|"tag", part) so templates link @handles and
    #tags while Jinja still escapes every part."""
    out: list[tuple[str, str]] = []
    for i, part in enumerate(_TOKENS.split(text)):
        if not part:
            continue
        kind = "text" if i % 2 == 0 else ("mention" if part[0] == "@" else "tag")
        out.append((kind, part))
    return out


def highlight_segments(fragment: str) -> list[tuple[bool, str]]:
    """(emphasised, text) parts of a search highlight; only <em> is markup, the rest is
    rendered as escaped text."""
    out: list[tuple[bool, str]] = []
    emphasised = False
    for part in _EM.split(fragment):
        if part == "<em>":
            emphasised = True
        elif part == "</em>":
            emphasised = False
        elif part:
            out.append((emphasised, part))
    return out


# A #tag is a followable topic when posts would store it as one (feed's text rules):
# letters, digits or '_', at most 64, not only digits. Others link to the search.
_TOPIC = re.compile(r"#(\w{1,64})")


def topic_of(tag: str) -> str:
    """The topic a "#tag" in a post links to (lower-cased, no '#'), or "" for none."""
    match = _TOPIC.fullmatch(tag)
    return "" if match is None or match.group(1).isdigit() else match.group(1).lower()


# Reactions from the fixed set, in the order the bar shows them: (kind, label, symbol).
REACTIONS = [
    ("like", "Like", "\N{THUMBS UP SIGN}"),
    ("celebrate", "Celebrate", "\N{PARTY POPPER}"),
    ("insightful", "Insightful", "\N{ELECTRIC LIGHT BULB}"),
    ("support", "Support", "\N{HEAVY BLACK HEART}"),
    ("funny", "Funny", "\N{FACE WITH TEARS OF JOY}"),
]

templates.env.filters["segments"] = text_segments
templates.env.filters["topic"] = topic_of
templates.env.globals["REACTIONS"] = REACTIONS
templates.env.filters["highlights"] = highlight_segments
templates.env.filters["q"] = lambda s: quote(str(s), safe="")
templates.env.globals["MAX_POST_CHARS"] = MAX_POST_CHARS


def _backends(request: Request) -> Backends:
    return acting_backends(request)


CSRF_COOKIE = "hallway_csrf"
# Over HTTPS the cookie is __Host- prefixed: browsers then refuse one set by a sibling
# subdomain (cookie tossing), which would otherwise defeat the double submit.
SECURE_CSRF_COOKIE = "__Host-" + CSRF_COOKIE
CSRF_FIELD = "csrf"


def csrf_cookie_name(request: Request) -> str:
    return SECURE_CSRF_COOKIE if request.app.state.settings.cookie_secure else CSRF_COOKIE


def _csrf_token(request: Request) -> str:
    """The browser's CSRF token (double submit): the cookie's value, or a new one."""
    token = request.cookies.get(csrf_cookie_name(request), "")
    if len(token) != 43:  # token_urlsafe(32)
        token = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def _check_csrf(request: Request, form: dict[str, list[str]]) -> bool:
    """The form carries the token of the cookie: a page of ours made this request.
    (A cross-site page can make the browser send the cookie, but cannot read it.)"""
    cookie = request.cookies.get(csrf_cookie_name(request), "")
    sent = (form.get(CSRF_FIELD) or [""])[0]
    ok = len(cookie) == 43 and hmac.compare_digest(cookie, sent)
    if not ok:
        audit("csrf", "denied", target=request.url.path)
    return ok


def _render(
    request: Request, name: str, me: Principal | None, status: int = 200, **ctx: Any
) -> Response:
    csrf = _csrf_token(request)
    response = templates.TemplateResponse(
        request,
        name,
        {"me": me, "dev_login": request.app.state.settings.dev_login, "csrf": csrf, **ctx},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
    if getattr(request.state, "new_csrf", ""):
        response.set_cookie(
            csrf_cookie_name(request),
            csrf,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.cookie_secure,
            path="/",
        )
    return response


def _error(request: Request, me: Principal | None, exc: Problem) -> Response:
    return _render(request, "error.html", me, status=exc.status, problem=exc)


def _to_login() -> Response:
    return RedirectResponse("/ui/login", status_code=303)


async def _community_names(backends: Backends, posts: list[Any]) -> dict[str, str]:
    """Names of the communities the posts on a page were written in (one GetCommunity per
    distinct community, concurrently). A community that cannot be read now is left out:
    its posts then link to it without a name."""
    ids = list(dict.fromkeys(p.community_id for p in posts if p.community_id))[:50]

    async def one(cid: str) -> tuple[str, str]:
        try:
            resp = await backends.communities.GetCommunity(
                cpb.GetCommunityRequest(community_id=cid)
            )
        except Problem:
            return cid, ""
        return cid, resp.community.name

    return {cid: name for cid, name in await asyncio.gather(*map(one, ids)) if name}


async def _following_ids(backends: Backends, me: Principal) -> set[str]:
    """Whom the caller follows, to draw follow buttons in the right state (first 200)."""
    resp = await backends.profile.ListFollowing(
        profile_pb2.ListFollowsRequest(person_id=me.person_id, page_size=200)
    )
    return {p.id for p in resp.people}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, cursor: str = "") -> Response:
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    try:
        resp = await backends.feed.ListHomeTimeline(
            feed_pb2.ListHomeTimelineRequest(page_size=20, page_token=cursor)
        )
        posts = await convert.posts(backends, resp.posts)
        communities = await _community_names(backends, posts)
    except Problem as exc:
        return _error(request, me, exc)
    return _render(
        request,
        "home.html",
        me,
        posts=posts,
        communities=communities,
        next_cursor=resp.next_page_token,
        more_api="/api/v1/timeline/home",
    )


@router.get("/ui/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    people: list = []
    if request.app.state.settings.dev_login:
        try:
            resp = await _backends(request).profile.ListPeople(
                profile_pb2.ListPeopleRequest(page_size=50)
            )
            people = [convert.person(p) for p in resp.people]
        except Problem:
            people = []  # the form still works by typing a handle
    return _render(request, "login.html", None, people=people)


@router.post("/ui/login")
async def login(request: Request) -> Response:
    """Development sign-in: become the person with the handle (HALLWAY_DEV_LOGIN only)."""
    settings = request.app.state.settings
    if not settings.dev_login:
        return _render(
            request,
            "login.html",
            None,
            status=403,
            people=[],
            error="Development sign-in is disabled on this server.",
        )
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY:
        raise Problem(413, "form too large", slug="payload-too-large")
    form = parse_qs(body.decode("utf-8", "replace"))
    if not _check_csrf(request, form):
        return _render(
            request,
            "login.html",
            None,
            status=403,
            people=[],
            error="This sign-in form has expired; please try again.",
        )
    handle = (form.get("handle") or [""])[0].strip().lstrip("@").lower()[:64]
    try:
        person = await _backends(request).profile.GetPerson(
            profile_pb2.GetPersonRequest(handle=handle)
        )
    except Problem as exc:
        message = "No one has that handle." if exc.status in (400, 404) else exc.detail
        audit("signin", "failure", target=handle, reason=message)
        return _render(
            request, "login.html", None, status=exc.status, people=[], error=message, handle=handle
        )
    token = mint_token(
        settings.jwt_secret,
        settings.jwt_issuer,
        person.id,
        person.handle,
        settings.session_ttl_seconds,
    )
    audit("signin", "success", actor=person.id, reason="development sign-in")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/ui/logout")
async def logout(request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY:
        raise Problem(413, "form too large", slug="payload-too-large")
    if not _check_csrf(request, parse_qs(body.decode("utf-8", "replace"))):
        raise Problem(403, "cross-site request refused", slug="csrf")
    me = optional_principal(request)
    audit("signout", "success", actor=me.person_id if me else "")
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/people", response_class=HTMLResponse)
async def people_page(request: Request, q: str = "", cursor: str = "") -> Response:
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    q = q.strip()[:200]
    try:
        if q:
            resp = await backends.search.SearchPeople(
                search_pb2.SearchRequest(query=q, page_size=50)
            )
            people = [
                {
                    "id": h.person_id,
                    "handle": h.handle,
                    "display_name": h.display_name,
                    "title": h.title,
                    "department": h.department,
                }
                for h in resp.hits
            ]
            next_cursor = ""
        else:
            listing = await backends.profile.ListPeople(
                profile_pb2.ListPeopleRequest(page_size=50, page_token=cursor)
            )
            people = [convert.person(p).model_dump() for p in listing.people]
            next_cursor = listing.next_page_token
        following = await _following_ids(backends, me)
    except Problem as exc:
        return _error(request, me, exc)
    return _render(
        request,
        "people.html",
        me,
        people=people,
        q=q,
        next_cursor=next_cursor,
        following=following,
    )


@router.get("/u/{id_or_handle}", response_class=HTMLResponse)
async def person_page(request: Request, id_or_handle: str, cursor: str = "") -> Response:
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    key = {"id": id_or_handle} if is_uuid(id_or_handle) else {"handle": id_or_handle[:64]}
    try:
        person = convert.person(
            await backends.profile.GetPerson(profile_pb2.GetPersonRequest(**key))
        )
        resp = await backends.feed.ListPersonTimeline(
            feed_pb2.ListTimelineRequest(person_id=person.id, page_size=20, page_token=cursor)
        )
        posts = await convert.posts(backends, resp.posts)
        communities = await _community_names(backends, posts)
        following = await _following_ids(backends, me)
    except Problem as exc:
        return _error(request, me, exc)
    return _render(
        request,
        "person.html",
        me,
        person=person,
        posts=posts,
        communities=communities,
        next_cursor=resp.next_page_token,
        more_api=f"/api/v1/people/{person.id}/posts",
        following=following,
    )


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: str = "") -> Response:
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    q = q.strip()[:200]
    hits: list = []
    people: list = []
    communities: list = []
    comments: list = []
    if q:
        try:
            req = search_pb2.SearchRequest(query=q, page_size=20)
            post_resp = await backends.search.SearchPosts(req)
            hits = await convert.post_hits(backends, post_resp.hits)
            people_resp = await backends.search.SearchPeople(
                search_pb2.SearchRequest(query=q, page_size=10)
            )
            people = [convert.person_hit(h) for h in people_resp.hits]
            community_resp = await backends.search.SearchCommunities(
                search_pb2.SearchCommunitiesRequest(query=q, page_size=10)
            )
            communities = [convert.community_hit(h) for h in community_resp.hits]
            comment_resp = await backends.search.SearchComments(
                search_pb2.SearchCommentsRequest(query=q, page_size=10)
            )
            comments = await convert.comment_hits(backends, comment_resp.hits)
        except Problem as exc:
            return _error(request, me, exc)
    return _render(
        request,
        "search.html",
        me,
        q=q,
        hits=hits,
        people=people,
        communities=communities,
        comments=comments,
    )


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(request: Request, cursor: str = "") -> Response:
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    try:
        resp = await backends.notification.ListNotifications(
            notification_pb2.ListNotificationsRequest(page_size=30, page_token=cursor)
        )
        items = await convert.notifications(backends, resp.notifications)
    except Problem as exc:
        return _error(request, me, exc)
    return _render(
        request,
        "notifications.html",
        me,
        items=items,
        unread=resp.unread_count,
        next_cursor=resp.next_page_token,
    )


# Visibility can only be narrowed: the settings form offers the current one and narrower.
_NARROWER = {
    "public": ["public", "private", "secret"],
    "private": ["private", "secret"],
    "secret": ["secret"],
}
MEMBERS_SHOWN = 50


@router.get("/communities", response_class=HTMLResponse)
async def communities_page(
    request: Request, q: str = "", mine: bool = False, cursor: str = ""
) -> Response:
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    q = q.strip()[:100]
    try:
        resp = await backends.communities.ListCommunities(
            cpb.ListCommunitiesRequest(query=q, mine=mine, page_size=50, page_token=cursor)
        )
    except Problem as exc:
        return _error(request, me, exc)
    return _render(
        request,
        "communities.html",
        me,
        communities=[convert.community(c) for c in resp.communities],
        cq=q,
        mine=mine,
        next_cursor=resp.next_page_token,
    )


async def _readable(call: Any) -> Any:
    """The answer, or None when the caller may not read it (403): a private community's
    posts and members for a non-member."""
    try:
        return await call
    except Problem as exc:
        if exc.status == 403:
            return None
        raise


@router.get("/c/{community_id}", response_class=HTMLResponse)
async def community_page(request: Request, community_id: str, cursor: str = "") -> Response:
    """A community: what it is, your membership, its feed and members. A community the
    caller may not know of (secret) is the same 404 page as an id that does not exist."""
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    try:
        if not is_uuid(community_id):
            raise Problem(404, "community not found", slug="not-found")
        resp = await backends.communities.GetCommunity(
            cpb.GetCommunityRequest(community_id=community_id)
        )
        community = convert.community(resp.community)
        role = community.membership.role if community.membership else None
        manager = community.membership is not None and role in ("owner", "admin")

        def members(state: str) -> Any:
            return backends.communities.ListMembers(
                cpb.ListMembersRequest(
                    community_id=community.id, state=state, page_size=MEMBERS_SHOWN
                )
            )

        feed, active, requested, invited = await asyncio.gather(
            _readable(
                backends.feed.ListCommunityPosts(
                    feed_pb2.ListCommunityPostsRequest(
                        community_id=community.id, page_size=20, page_token=cursor
                    )
                )
            ),
            _readable(members("active")),
            _readable(members("requested")) if manager else asyncio.sleep(0),
            _readable(members("invited")) if manager else asyncio.sleep(0),
        )
        posts = None if feed is None else await convert.posts(backends, feed.posts)
        lists = {
            name: None if listing is None else await convert.members(backends, listing.members)
            for name, listing in (
                ("active", active),
                ("requested", requested),
                ("invited", invited),
            )
        }
    except Problem as exc:
        return _error(request, me, exc)
    active_member = community.membership is not None and community.membership.state == "active"
    owners = [m for m in lists["active"] or [] if m.role == "owner"]
    # Whether I hear of every post: only my own membership shows it (when in view).
    mine = [m for m in lists["active"] or [] if m.person.id == me.person_id]
    return _render(
        request,
        "community.html",
        me,
        community=community,
        role=role,
        manager=manager,
        may_post=active_member and (community.posting == "members" or manager),
        # Only when the whole member list is in view can we tell (the service refuses anyway).
        last_owner=len(owners) == 1 and len(lists["active"] or []) < MEMBERS_SHOWN,
        notify_posts=mine[0].notify_posts if mine else None,
        posts=posts,
        members=lists["active"],
        requested=lists["requested"],
        invited=lists["invited"],
        visibilities=_NARROWER.get(community.visibility, [community.visibility]),
        next_cursor=feed.next_page_token if feed is not None else "",
        more_api=f"/api/v1/communities/{community.id}/posts",
    )


@router.get("/t/{tag}", response_class=HTMLResponse)
async def topic_page(request: Request, tag: str, cursor: str = "") -> Response:
    """A #topic: follow or unfollow it, and its posts the caller may read."""
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    tag = tag[:65]
    try:
        topic = await backends.topics.GetTopic(vpb.GetTopicRequest(tag=tag))
        resp = await backends.topics.ListTopicPosts(
            vpb.ListTopicPostsRequest(tag=topic.tag, page_size=20, page_token=cursor)
        )
        posts = await convert.posts(backends, resp.posts)
        communities = await _community_names(backends, posts)
    except Problem as exc:
        return _error(request, me, exc)
    return _render(
        request,
        "topic.html",
        me,
        topic=topic,
        posts=posts,
        communities=communities,
        next_cursor=resp.next_page_token,
        more_api=f"/api/v1/topics/{quote(topic.tag, safe='')}/posts",
    )


@router.get("/p/{post_id}", response_class=HTMLResponse)
async def post_page(request: Request, post_id: str) -> Response:
    """One post with its comments open (where notifications of replies and reactions
    lead). A post the caller may not read is the same 404 as one that does not exist."""
    me = optional_principal(request)
    if me is None:
        return _to_login()
    backends = _backends(request)
    try:
        if not is_uuid(post_id):
            raise Problem(404, "no such post", slug="not-found")
        found = await backends.feed.GetPost(feed_pb2.GetPostRequest(post_id=post_id))
        posts = await convert.posts(backends, [found])
        communities = await _community_names(backends, posts)
    except Problem as exc:
        return _error(request, me, exc)
    return _render(request, "post.html", me, post=posts[0], communities=communities)
