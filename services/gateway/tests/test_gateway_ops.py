"""OpenAPI document, metrics labels, health and readiness, the SSE relay."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from gateway_fakes import harness, rpc_error
from prometheus_client.parser import text_string_to_metric_families

from hallway.notification.v1 import notification_pb2
from hallway.profile.v1 import profile_pb2
from hallway_gateway.auth import COOKIE_NAME

EXPECTED_ROUTES = {
    ("get", "/api/v1/me"),
    ("get", "/api/v1/people"),
    ("post", "/api/v1/people"),
    ("get", "/api/v1/people/{person_id}"),
    ("patch", "/api/v1/people/{person_id}"),
    ("delete", "/api/v1/people/{person_id}"),
    ("post", "/api/v1/people/{person_id}/follow"),
    ("delete", "/api/v1/people/{person_id}/follow"),
    ("get", "/api/v1/people/{person_id}/followers"),
    ("get", "/api/v1/people/{person_id}/following"),
    ("get", "/api/v1/people/{person_id}/posts"),
    ("post", "/api/v1/posts"),
    ("get", "/api/v1/posts/{post_id}"),
    ("delete", "/api/v1/posts/{post_id}"),
    ("get", "/api/v1/timeline/home"),
    ("get", "/api/v1/search/posts"),
    ("get", "/api/v1/search/people"),
    ("get", "/api/v1/search/communities"),
    ("get", "/api/v1/search/comments"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read"),
    ("get", "/api/v1/notifications/stream"),
    ("get", "/api/v1/me/notification-preferences"),
    ("put", "/api/v1/me/notification-preferences"),
    ("get", "/api/v1/unsubscribe"),
    ("post", "/api/v1/unsubscribe"),
    ("get", "/api/v1/communities"),
    ("post", "/api/v1/communities"),
    ("get", "/api/v1/communities/{community_id}"),
    ("patch", "/api/v1/communities/{community_id}"),
    ("post", "/api/v1/communities/{community_id}/join"),
    ("get", "/api/v1/communities/{community_id}/members"),
    ("post", "/api/v1/communities/{community_id}/members"),
    ("patch", "/api/v1/communities/{community_id}/members/{person_id}"),
    ("delete", "/api/v1/communities/{community_id}/members/{person_id}"),
    ("get", "/api/v1/communities/{community_id}/posts"),
    ("get", "/api/v1/posts/{post_id}/comments"),
    ("post", "/api/v1/posts/{post_id}/comments"),
    ("patch", "/api/v1/comments/{comment_id}"),
    ("delete", "/api/v1/comments/{comment_id}"),
    ("get", "/api/v1/comments/{comment_id}/history"),
    ("put", "/api/v1/posts/{post_id}/reactions/{kind}"),
    ("delete", "/api/v1/posts/{post_id}/reactions/{kind}"),
    ("get", "/api/v1/posts/{post_id}/reactions"),
    ("get", "/api/v1/topics/{tag}"),
    ("get", "/api/v1/topics/{tag}/posts"),
    ("post", "/api/v1/topics/{tag}/follow"),
    ("delete", "/api/v1/topics/{tag}/follow"),
}


@pytest.fixture
def h():  # type: ignore[no-untyped-def]
    return harness()


def test_openapi_lists_every_route_with_descriptions(h) -> None:  # type: ignore[no-untyped-def]
    spec = h.client.get("/api/v1/openapi.json").json()
    found = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert found == EXPECTED_ROUTES
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("description"), f"{method} {path} has no description"
            # Signed-in operations declare their 401; the others (the unsubscribe link,
            # whose token is the authentication) declare no security scheme.
            assert ("401" in op["responses"]) == bool(op.get("security")), f"{method} {path}"
    schemes = spec["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyCookie"} <= set(schemes)
    unauthenticated = {
        (m, p)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if not op.get("security")
    }
    assert unauthenticated == {("get", "/api/v1/unsubscribe"), ("post", "/api/v1/unsubscribe")}


def test_docs_page_has_no_external_assets(h) -> None:  # type: ignore[no-untyped-def]
    resp = h.client.get("/api/v1/docs")
    assert resp.status_code == 200
    assert "/api/v1/openapi.json" in resp.text and "/api/v1/timeline/home" in resp.text
    assert "cdn" not in resp.text.lower() and 'src="http' not in resp.text


def _samples(h, name: str) -> list:  # type: ignore[no-untyped-def]
    text = h.client.get("/metrics").text
    return [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


def test_metrics_use_route_templates(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    post = h.feed.add(ada.id, "x")
    h.client.get(f"/api/v1/posts/{post.id}", headers=h.auth(ada))
    h.client.get(f"/api/v1/posts/{uuid.uuid4()}", headers=h.auth(ada))
    h.client.get(f"/no/such/{uuid.uuid4()}")
    samples = _samples(h, "hallway_http_requests_total")
    routes = {s.labels["route"] for s in samples}
    assert "/api/v1/posts/{post_id}" in routes
    assert "unmatched" in routes
    assert not any(post.id in r for r in routes)
    statuses = {
        s.labels["status"] for s in samples if s.labels["route"] == "/api/v1/posts/{post_id}"
    }
    assert {"200", "404"} <= statuses
    hist = _samples(h, "hallway_http_request_duration_seconds_count")
    assert any(s.labels == {"method": "GET", "route": "/api/v1/posts/{post_id}"} for s in hist)


def test_readiness_means_this_process_can_serve_whatever_the_backends_say(h) -> None:  # type: ignore[no-untyped-def]
    assert h.client.get("/healthz").json() == {"status": "ok"}
    h.health["search"] = "UNAVAILABLE"
    h.health["feed"] = "NOT_SERVING"
    ready = h.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    # ... while backend health is reported where operators look: /statusz and metrics.
    status = h.client.get("/statusz").json()["services"]
    assert status == {
        "profile": "SERVING",
        "feed": "NOT_SERVING",
        "search": "UNAVAILABLE",
        "notification": "SERVING",
    }
    up = {s.labels["service"]: s.value for s in _samples(h, "hallway_gateway_backend_up")}
    assert up == {"profile": 1, "feed": 0, "search": 0, "notification": 1}


def test_a_down_backend_fails_only_its_own_endpoints(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    h.search.fail["SearchPosts"] = (grpc.StatusCode.UNAVAILABLE, "connection refused")
    resp = h.client.get("/api/v1/search/posts?q=x", headers=h.auth(ada))
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "search" in resp.json()["detail"]
    assert h.client.get("/api/v1/timeline/home", headers=h.auth(ada)).status_code == 200
    assert h.client.get("/readyz").status_code == 200


def test_backend_status_times_out() -> None:
    h = harness(grpc_deadline_seconds=0.05)
    h.health["notification"] = "HANG"
    body = h.client.get("/statusz").json()
    assert body["services"]["notification"] == "DEADLINE_EXCEEDED"


def _parse_sse(text: str) -> list[tuple[str, object]]:
    events = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), None)
        data = next((line[5:].strip() for line in lines if line.startswith("data:")), None)
        if name:
            events.append((name, json.loads(data or "null")))
        elif any(line.startswith(":") for line in lines):
            events.append(("comment", lines[0]))
    return events


def test_sse_relays_stream() -> None:
    h = harness(sse_heartbeat_seconds=0.05)
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    n = notification_pb2.Notification(
        id="n1",
        person_id=ada.id,
        actor_id=bob.id,
        post_id="p9",
        kind=notification_pb2.NOTIFICATION_KIND_MENTION,
        snippet="<b>hi</b>",
    )
    h.notification.stream_messages = [
        notification_pb2.StreamNotificationsResponse(unread_count=2),
        notification_pb2.StreamNotificationsResponse(unread_count=3, notification=n),
    ]
    h.notification.stream_delay = 0.2  # long enough for a heartbeat before the end
    resp = h.client.get("/api/v1/notifications/stream", headers=h.auth(ada))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = _parse_sse(resp.text)
    assert events[0] == ("unread", {"unread_count": 2})
    kinds = [e[0] for e in events]
    assert "notification" in kinds and "comment" in kinds
    payload = dict(events)["notification"]
    assert payload["unread_count"] == 3
    assert payload["notification"]["post_id"] == "p9"
    assert payload["notification"]["actor"]["handle"] == "bob"
    assert h.notification.actors[-1] == ada.id
    assert h.notification.streams[0].cancelled  # the gRPC call is released at the end


def test_sse_when_service_down_is_503(h) -> None:  # type: ignore[no-untyped-def]
    import grpc

    ada = h.profile.add("ada")
    h.notification.stream_messages = [rpc_error(grpc.StatusCode.UNAVAILABLE, "down")]
    resp = h.client.get("/api/v1/notifications/stream", headers=h.auth(ada))
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/problem+json")


def test_sse_requires_auth(h) -> None:  # type: ignore[no-untyped-def]
    assert h.client.get("/api/v1/notifications/stream").status_code == 401


def test_the_live_stream_refuses_a_token_whose_person_is_gone(h) -> None:  # type: ignore[no-untyped-def]
    ghost = profile_pb2.Person(id=str(uuid.uuid4()), handle="ghost")  # never in the directory
    resp = h.client.get("/api/v1/notifications/stream", headers=h.auth(ghost))
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert h.notification.called("StreamNotifications") == []


def test_refusals_are_audited(h) -> None:  # type: ignore[no-untyped-def]
    def count(event: str, outcome: str) -> float:
        return sum(
            s.value
            for s in _samples(h, "hallway_security_events_total")
            if s.labels == {"event": event, "outcome": outcome}
        )

    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    before = (count("authn", "failure"), count("authz", "denied"))
    h.client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token.here"})
    h.client.patch(f"/api/v1/people/{ada.id}", json={"title": "x"}, headers=h.auth(bob))
    assert count("authn", "failure") == before[0] + 1
    assert count("authz", "denied") >= before[1] + 1


def test_admin_actions_are_audited(h) -> None:  # type: ignore[no-untyped-def]
    def count(event: str, outcome: str) -> float:
        return sum(
            s.value
            for s in _samples(h, "hallway_security_events_total")
            if s.labels == {"event": event, "outcome": outcome}
        )

    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    before = count("person.update", "success")
    h.client.patch(f"/api/v1/people/{ada.id}", json={"title": "own"}, headers=h.auth(ada))
    assert count("person.update", "success") == before  # editing oneself is no admin action
    resp = h.client.patch(
        f"/api/v1/people/{ada.id}", json={"title": "CEO"}, headers=h.auth(bob, roles=["admin"])
    )
    assert resp.status_code == 200, resp.text
    assert count("person.update", "success") == before + 1


class _Down(dict):
    """``Fake.fail`` for a service that is down: every method answers UNAVAILABLE."""

    def __contains__(self, method: object) -> bool:
        return True

    def __getitem__(self, method: str) -> tuple[grpc.StatusCode, str]:
        return (grpc.StatusCode.UNAVAILABLE, "connection refused")


# Every endpoint that calls a backend, and the one service it cannot do without.
_ENDPOINTS = [
    ("GET", "/api/v1/me", None, "profile"),
    ("GET", "/api/v1/people", None, "profile"),
    ("GET", "/api/v1/people/{bob}", None, "profile"),
    ("PATCH", "/api/v1/people/{ada}", {"title": "x"}, "profile"),
    ("POST", "/api/v1/people/{bob}/follow", None, "profile"),
    ("DELETE", "/api/v1/people/{bob}/follow", None, "profile"),
    ("GET", "/api/v1/people/{bob}/followers", None, "profile"),
    ("GET", "/api/v1/people/{bob}/following", None, "profile"),
    ("POST", "/api/v1/posts", {"text": "hello"}, "feed"),
    ("GET", "/api/v1/posts/{post}", None, "feed"),
    ("DELETE", "/api/v1/posts/{post}", None, "feed"),
    ("GET", "/api/v1/timeline/home", None, "feed"),
    ("GET", "/api/v1/people/{bob}/posts", None, "feed"),
    ("GET", "/api/v1/search/posts?q=x", None, "search"),
    ("GET", "/api/v1/search/people?q=x", None, "search"),
    ("GET", "/api/v1/notifications", None, "notification"),
    ("POST", "/api/v1/notifications/read", {"all": True}, "notification"),
    ("GET", "/api/v1/notifications/stream", None, "notification"),
]


@pytest.mark.parametrize(("method", "path", "body", "service"), _ENDPOINTS)
def test_a_down_backend_is_a_503_naming_it_on_every_endpoint(  # type: ignore[no-untyped-def]
    h, method: str, path: str, body: dict | None, service: str
) -> None:
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    post = h.feed.add(ada.id, "mine")
    if service == "notification":
        h.notification.stream_messages = [
            rpc_error(grpc.StatusCode.UNAVAILABLE, "connection refused")
        ]
    getattr(h, service).fail = _Down()
    url = path.format(ada=ada.id, bob=bob.id, post=post.id)
    resp = h.client.request(method, url, json=body, headers=h.auth(ada))
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["service"] == service and service in problem["detail"]
    assert h.client.get("/readyz").status_code == 200


def test_the_web_page_degrades_per_section() -> None:
    h = harness()
    ada = h.profile.add("ada")
    h.feed.add(ada.id, "still here")
    h.search.fail = _Down()
    h.client.cookies.set(COOKIE_NAME, h.token(ada))
    home = h.client.get("/")
    assert home.status_code == 200 and "still here" in home.text  # search's outage is not home's
    # The search page alone says so, inside the page's own frame (HTML, not a bare 5xx).
    page = h.client.get("/search?q=x")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "search service is unavailable" in page.text
    assert h.client.get("/notifications").status_code == 200


def test_a_refused_session_cookie_on_a_page_is_audited(h) -> None:  # type: ignore[no-untyped-def]
    def failures() -> float:
        return sum(
            s.value
            for s in _samples(h, "hallway_security_events_total")
            if s.labels == {"event": "authn", "outcome": "failure"}
        )

    before = failures()
    assert h.client.get("/", follow_redirects=False).status_code == 303  # no cookie: no event
    assert failures() == before
    h.client.cookies.set(COOKIE_NAME, "forged.token.here")
    assert h.client.get("/", follow_redirects=False).status_code == 303
    assert failures() == before + 1


def test_statusz_checks_backends_at_most_once_a_second(h) -> None:  # type: ignore[no-untyped-def]
    """It is public: a flood of /statusz must not become a flood of health checks."""
    assert h.client.get("/statusz").json()["services"]["search"] == "SERVING"
    h.health["search"] = "NOT_SERVING"
    for _ in range(20):  # answered from the check made a moment ago
        assert h.client.get("/statusz").json()["services"]["search"] == "SERVING"
