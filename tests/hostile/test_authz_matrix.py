"""Authorization matrix: every gateway endpoint x {anonymous, other, owner, admin}.

The table below is the contract. Its (method, path) set must equal the running
gateway's OpenAPI document plus its HTML/ops routes, so a new endpoint without a row
fails here. "owner" is the person in ``{person_id}`` or the author of ``{post_id}``;
on endpoints without an owned resource, owner and other are both just "a person".
After every refused cell, the owner's profile, followers and posts are unchanged, and
every answer carries the security headers and no server banner.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from hostile_support import Cast, Who

from hallway_gateway.app import create_app
from hallway_gateway.settings import GatewaySettings

pytestmark = pytest.mark.e2e

A = "anonymous"
# HTML pages send an anonymous caller to the sign-in page.
LOGIN = 303
# Sign-in/out without the form's CSRF token are refused, whoever asks (the token
# round trip is in test_hostile_inputs).
SIGN = 403

# fmt: off
# method  path                                      anonymous other  owner  admin
MATRIX: list[tuple[str, str, Any, Any, Any, Any]] = [
    ("GET",    "/api/v1/me",                           401,  200,   200,   200),
    ("GET",    "/api/v1/people",                       401,  200,   200,   200),
    ("POST",   "/api/v1/people",                       401,  403,   403,   201),  # admin provisions
    ("GET",    "/api/v1/people/{person_id}",           401,  200,   200,   200),
    ("PATCH",  "/api/v1/people/{person_id}",           401,  403,   200,   200),  # self or admin
    ("DELETE", "/api/v1/people/{person_id}",           401,  403,   403,   204),  # HR/IT removes
    ("POST",   "/api/v1/people/{person_id}/follow",    401,  200,   400,   200),  # not yourself
    ("DELETE", "/api/v1/people/{person_id}/follow",    401,  200,   400,   200),
    ("GET",    "/api/v1/people/{person_id}/followers", 401,  200,   200,   200),
    ("GET",    "/api/v1/people/{person_id}/following", 401,  200,   200,   200),
    ("GET",    "/api/v1/people/{person_id}/posts",     401,  200,   200,   200),
    ("POST",   "/api/v1/posts",                        401,  201,   201,   201),
    ("GET",    "/api/v1/posts/{post_id}",              401,  200,   200,   200),
    ("DELETE", "/api/v1/posts/{post_id}",              401,  403,   204,   403),  # author only; no moderation yet
    ("GET",    "/api/v1/timeline/home",                401,  200,   200,   200),
    ("GET",    "/api/v1/search/posts",                 401,  200,   200,   200),
    ("GET",    "/api/v1/search/people",                401,  200,   200,   200),
    ("GET",    "/api/v1/search/communities",           401,  200,   200,   200),
    ("GET",    "/api/v1/search/comments",              401,  200,   200,   200),
    ("GET",    "/api/v1/notifications",                401,  200,   200,   200),
    ("POST",   "/api/v1/notifications/read",           401,  200,   200,   200),
    ("GET",    "/api/v1/notifications/stream",         401,  200,   200,   200),
    ("GET",    "/api/v1/me/notification-preferences",  401,  200,   200,   200),
    ("PUT",    "/api/v1/me/notification-preferences",  401,  200,   200,   200),
    # No sign-in: the e-mail link's token is the authentication; a forged one is a 404
    # for everyone (the valid link is in tests/e2e/test_digest.py).
    ("GET",    "/api/v1/unsubscribe",                  404,  404,   404,   404),
    ("POST",   "/api/v1/unsubscribe",                  404,  404,   404,   404),
    # "owner" owns a public community; {person_id} under it is "other", a member there
    # (so "other" leaving is allowed; a network admin is no community admin).
    ("GET",    "/api/v1/communities",                  401,  200,   200,   200),
    ("POST",   "/api/v1/communities",                  401,  201,   201,   201),
    ("GET",    "/api/v1/communities/{community_id}",   401,  200,   200,   200),
    ("PATCH",  "/api/v1/communities/{community_id}",   401,  403,   200,   403),
    ("POST",   "/api/v1/communities/{community_id}/join", 401, 200, 200,   200),
    ("GET",    "/api/v1/communities/{community_id}/members", 401, 200, 200, 200),
    ("POST",   "/api/v1/communities/{community_id}/members", 401, 403, 200, 403),
    ("PATCH",  "/api/v1/communities/{community_id}/members/{person_id}", 401, 403, 200, 403),
    ("DELETE", "/api/v1/communities/{community_id}/members/{person_id}", 401, 204, 204, 403),
    ("GET",    "/api/v1/communities/{community_id}/posts", 401, 200, 200,  200),
    # Conversations on the owner's post; {comment_id} is the owner's comment on it.
    ("GET",    "/api/v1/posts/{post_id}/comments",     401,  200,   200,   200),
    ("POST",   "/api/v1/posts/{post_id}/comments",     401,  201,   201,   201),
    ("PATCH",  "/api/v1/comments/{comment_id}",        401,  403,   200,   403),  # author only
    ("DELETE", "/api/v1/comments/{comment_id}",        401,  403,   204,   403),
    ("GET",    "/api/v1/comments/{comment_id}/history", 401, 403,   200,   200),  # author, moderators
    ("PUT",    "/api/v1/posts/{post_id}/reactions/{kind}", 401, 200, 200,  200),
    ("DELETE", "/api/v1/posts/{post_id}/reactions/{kind}", 401, 200, 200,  200),
    ("GET",    "/api/v1/posts/{post_id}/reactions",    401,  200,   200,   200),
    ("GET",    "/api/v1/topics/{tag}",                 401,  200,   200,   200),
    ("GET",    "/api/v1/topics/{tag}/posts",           401,  200,   200,   200),
    ("POST",   "/api/v1/topics/{tag}/follow",          401,  200,   200,   200),
    ("DELETE", "/api/v1/topics/{tag}/follow",          401,  200,   200,   200),
    # HTML and operations routes (not in the OpenAPI document)
    ("GET",    "/",                                    LOGIN, 200,  200,   200),
    ("GET",    "/people",                              LOGIN, 200,  200,   200),
    ("GET",    "/u/{id_or_handle}",                    LOGIN, 200,  200,   200),
    ("GET",    "/search",                              LOGIN, 200,  200,   200),
    ("GET",    "/notifications",                       LOGIN, 200,  200,   200),
    ("GET",    "/communities",                         LOGIN, 200,  200,   200),
    ("GET",    "/c/{community_id}",                    LOGIN, 200,  200,   200),  # public
    ("GET",    "/t/{tag}",                             LOGIN, 200,  200,   200),
    ("GET",    "/p/{post_id}",                         LOGIN, 200,  200,   200),
    ("GET",    "/ui/login",                            200,  200,   200,   200),
    ("POST",   "/ui/login",                            SIGN, SIGN,  SIGN,  SIGN),
    ("POST",   "/ui/logout",                           SIGN, SIGN,  SIGN,  SIGN),
    ("GET",    "/api/v1/docs",                         200,  200,   200,   200),
    ("GET",    "/api/v1/openapi.json",                 200,  200,   200,   200),
    ("GET",    "/healthz",                             200,  200,   200,   200),
    ("GET",    "/readyz",                              200,  200,   200,   200),
    ("GET",    "/statusz",                             200,  200,   200,   200),
    ("GET",    "/metrics",                             200,  200,   200,   200),
    ("GET",    "/static",                              200,  200,   200,   200),  # the mount: app.js
]
# fmt: on
CALLERS = ("anonymous", "other", "owner", "admin")
API_ROWS = {(m, p) for m, p, *_ in MATRIX if p.startswith("/api/v1/") and p != "/api/v1/docs"}
API_ROWS.discard(("GET", "/api/v1/openapi.json"))


def _app_routes() -> set[tuple[str, str]]:
    """Every (method, path) the gateway application serves, read from the app itself."""
    settings = GatewaySettings(identity_private_key_file="unused", dev_mode=True)
    app = create_app(settings, backends=object())  # type: ignore[arg-type]
    routes: set[tuple[str, str]] = set()

    def walk(items: list[Any]) -> None:
        for route in items:
            included = getattr(route, "original_router", None)
            if included is not None:  # include_router(): its routes carry the prefix
                walk(included.routes)
                continue
            for method in getattr(route, "methods", None) or {"GET"}:
                if method != "HEAD":
                    routes.add((method, route.path))

    walk(list(app.routes))
    return routes


def test_the_table_covers_every_openapi_operation(client: httpx.Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == API_ROWS, (
        f"missing rows: {sorted(documented - API_ROWS)}; stale rows: {sorted(API_ROWS - documented)}"
    )


def test_the_table_covers_every_route_of_the_app() -> None:
    assert _app_routes() == {(m, p) for m, p, *_ in MATRIX}


def _state(client: httpx.Client, cast: Cast, post_id: str) -> dict[str, Any]:
    """What a refused request must not change (read as the owner)."""
    h = cast.owner.headers
    person = client.get(f"/api/v1/people/{cast.owner.id}", headers=h).json()
    followers = client.get(f"/api/v1/people/{cast.owner.id}/followers", headers=h).json()
    posts = client.get(f"/api/v1/people/{cast.owner.id}/posts", headers=h).json()
    post = client.get(f"/api/v1/posts/{post_id}", headers=h)
    return {
        "person": person,
        "followers": sorted(p["id"] for p in followers["items"]),
        "posts": sorted(p["id"] for p in posts["items"]),
        "post": (post.status_code, post.json()),
    }


def _call(client: httpx.Client, method: str, path: str, who: Who, cast: Cast) -> httpx.Response:
    post = client.post("/api/v1/posts", headers=cast.owner.headers, json={"text": "mine"})
    assert post.status_code == 201, post.text
    post_id = post.json()["id"]
    target = cast.owner.id
    if (method, path) == ("DELETE", "/api/v1/people/{person_id}"):
        # Removing is tried on a person of its own, so the cast stays signed in.
        made = client.post(
            "/api/v1/people",
            headers=cast.admin.headers,
            json={"handle": f"gone{uuid.uuid4().hex[:10]}", "display_name": "To Remove"},
        )
        assert made.status_code == 201, made.text
        target = made.json()["id"]
    if "{community_id}" in path:
        community = client.post(
            "/api/v1/communities",
            headers=cast.owner.headers,
            json={"name": f"Matrix {uuid.uuid4().hex}"},
        )
        assert community.status_code == 201, community.text
        community_id = community.json()["id"]
        path = path.replace("{community_id}", community_id)
        joined = client.post(f"/api/v1/communities/{community_id}/join", headers=cast.other.headers)
        assert joined.status_code == 200, joined.text
        target = cast.other.id
    if "{comment_id}" in path:
        made = client.post(
            f"/api/v1/posts/{post_id}/comments", headers=cast.owner.headers, json={"text": "mine"}
        )
        assert made.status_code == 201, made.text
        path = path.replace("{comment_id}", made.json()["id"])
    path = path.replace("{kind}", "like").replace("{tag}", "matrix")
    url = (
        path.replace("{person_id}", target)
        .replace("{post_id}", post_id)
        .replace("{id_or_handle}", cast.owner.handle)
    )
    body: dict[str, Any] | None = None
    params: dict[str, str] = {}
    data: dict[str, str] | None = None
    if (method, path) == ("POST", "/api/v1/people"):
        body = {"handle": f"new{uuid.uuid4().hex[:10]}", "display_name": "New Person"}
    elif (path.endswith("/comments") and method == "POST") or path.startswith("/api/v1/comments/"):
        body = {"text": f"said by {who.name}"} if method != "DELETE" else None
    elif path == "/api/v1/communities" and method == "POST":
        body = {"name": f"By {who.name} {uuid.uuid4().hex}"}
    elif path.startswith("/api/v1/communities/") and method == "PATCH":
        body = {"role": "admin"} if "/members/" in path else {"description": f"by {who.name}"}
    elif path.startswith("/api/v1/communities/") and method == "POST" and path.endswith("/members"):
        body = {"person_id": cast.admin.id}
    elif method == "PATCH":
        body = {"title": f"title by {who.name}"}
    elif path == "/api/v1/posts":
        body = {"text": f"a post by {who.name}"}
    elif path == "/api/v1/notifications/read":
        body = {"all": True}
    elif path == "/api/v1/me/notification-preferences" and method == "PUT":
        body = {"digest": "weekly", "kinds": {"reaction": {"email": False}}}
    elif path == "/api/v1/unsubscribe":
        params = {"token": "Zm9yZ2Vk.bm90LWEtbWFj"}
    elif path.startswith(("/api/v1/search/", "/search")):
        params = {"q": "mine"}
    elif path == "/ui/login":
        data = {"handle": cast.owner.handle}
    elif path == "/static":
        url = "/static/app.js"
    before = _state(client, cast, post_id)
    if path == "/api/v1/notifications/stream":
        with client.stream("GET", url, headers=who.headers) as resp:
            resp.close()  # the status is all we need; do not wait for events
    else:
        resp = client.request(method, url, headers=who.headers, json=body, params=params, data=data)
    if resp.status_code in (401, 403, 400) and method != "GET":
        assert _state(client, cast, post_id) == before, f"refused {method} {url} changed state"
    return resp


def _hardened(resp: httpx.Response, what: str) -> None:
    """Every answer, refusal or not, carries the browser hardening and no server banner."""
    h = resp.headers
    assert "server" not in h, f"{what}: server banner {h['server']!r}"
    assert h.get("x-content-type-options") == "nosniff", what
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{what}: CSP {csp!r}"
    script = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    assert script and "unsafe-inline" not in script, f"{what}: {script!r}"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [(m, p, dict(zip(CALLERS, row, strict=True))) for m, p, *row in MATRIX],
    ids=[f"{m} {p}" for m, p, *_ in MATRIX],
)
def test_matrix_row(
    client: httpx.Client, cast: Cast, method: str, path: str, expected: dict[str, Any]
) -> None:
    got: dict[str, int] = {}
    for who in cast.all():
        resp = _call(client, method, path, who, cast)
        got[who.name] = resp.status_code
        want = expected[who.name]
        if resp.status_code >= 400 and path.startswith("/api/"):
            assert resp.headers["content-type"].startswith("application/problem+json")
        _hardened(resp, f"{method} {path} as {who.name}")
        if want == LOGIN and who.name == A:
            assert resp.headers["location"] == "/ui/login"
    ok = {
        name: (
            code in expected[name] if isinstance(expected[name], set) else code == expected[name]
        )
        for name, code in got.items()
    }
    assert all(ok.values()), f"{method} {path}: expected {expected}, got {got}"
