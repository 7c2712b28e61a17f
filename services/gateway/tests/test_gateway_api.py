"""REST behaviour against fake services: shapes, error mapping, limits, rate limits."""

from __future__ import annotations

import uuid

import grpc
import pytest
from gateway_fakes import harness

from hallway.notification.v1 import notification_pb2


@pytest.fixture
def h():  # type: ignore[no-untyped-def]
    return harness()


def _problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    return body


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.FAILED_PRECONDITION, 422),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 502),
    ],
)
def test_grpc_codes_map_to_problems(h, code: grpc.StatusCode, status: int) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    h.feed.fail["GetPost"] = (code, "secret internals" if status >= 500 else "why it failed")
    body = _problem(h.client.get(f"/api/v1/posts/{uuid.uuid4()}", headers=h.auth(ada)), status)
    if status < 500:
        assert body["detail"] == "why it failed"
    else:
        assert "secret internals" not in body["detail"]  # no internals leak to clients
        assert body["service"] == "feed"


def test_unavailable_has_retry_after(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    h.feed.fail["ListHomeTimeline"] = (grpc.StatusCode.UNAVAILABLE, "")
    resp = h.client.get("/api/v1/timeline/home", headers=h.auth(ada))
    _problem(resp, 503)
    assert resp.headers["retry-after"] == "1"


def test_validation_errors_are_problems(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    body = _problem(h.client.post("/api/v1/posts", json={"txt": "x"}, headers=h.auth(ada)), 422)
    assert body["errors"]
    _problem(h.client.post("/api/v1/posts", json={"text": "x" * 5001}, headers=h.auth(ada)), 422)
    _problem(h.client.get("/api/v1/timeline/home?limit=0", headers=h.auth(ada)), 422)
    _problem(h.client.get("/api/v1/timeline/home?limit=101", headers=h.auth(ada)), 422)
    _problem(h.client.get("/api/v1/search/posts?q=" + "x" * 201, headers=h.auth(ada)), 422)
    # q may be empty now (a filter alone searches); a date that is no date stops here.
    _problem(h.client.get("/api/v1/search/posts?since=tomorrow", headers=h.auth(ada)), 400)
    assert not h.search.called("SearchPosts")
    assert not h.feed.called("CreatePost")


def test_unknown_route_is_problem(h) -> None:  # type: ignore[no-untyped-def]
    _problem(h.client.get("/api/v1/nope"), 404)


def test_pagination_shape_and_cursor_pass_through(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada", "Ada Lovelace")
    for i in range(5):
        h.feed.add(ada.id, f"post {i}")
    first = h.client.get("/api/v1/timeline/home?limit=3", headers=h.auth(ada)).json()
    assert set(first) == {"items", "next_cursor"}
    assert [p["text"] for p in first["items"]] == ["post 4", "post 3", "post 2"]
    assert first["next_cursor"]
    second = h.client.get(
        "/api/v1/timeline/home",
        params={"limit": 3, "cursor": first["next_cursor"]},
        headers=h.auth(ada),
    ).json()
    assert [p["text"] for p in second["items"]] == ["post 1", "post 0"]
    assert second["next_cursor"] is None
    request = h.feed.called("ListHomeTimeline")[-1]
    assert (h.feed.actor, request.page_token, request.page_size) == (
        ada.id,
        first["next_cursor"],
        3,
    )


def test_posts_hydrated_with_one_batch_call_per_page(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada", "Ada Lovelace"), h.profile.add("bob", "Bob")
    for i in range(4):
        h.feed.add((ada if i % 2 else bob).id, f"p{i}")
    items = h.client.get("/api/v1/timeline/home", headers=h.auth(ada)).json()["items"]
    assert len(h.profile.called("BatchGetPeople")) == 1
    assert sorted(h.profile.called("BatchGetPeople")[0].ids) == sorted([ada.id, bob.id])
    assert {p["author"]["handle"] for p in items} == {"ada", "bob"}
    assert all(p["author"]["display_name"] for p in items)


def test_hydration_degrades_when_profile_is_down(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    h.feed.add(ada.id, "still here")
    h.profile.fail["BatchGetPeople"] = (grpc.StatusCode.DEADLINE_EXCEEDED, "")
    resp = h.client.get("/api/v1/timeline/home", headers=h.auth(ada))
    assert resp.status_code == 200
    assert resp.json()["items"][0]["author"] == {"id": ada.id, "handle": None, "display_name": None}


def test_create_post_passes_idempotency_key(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    headers = {**h.auth(ada), "Idempotency-Key": "k-1"}
    first = h.client.post("/api/v1/posts", json={"text": "hello @bob"}, headers=headers)
    again = h.client.post("/api/v1/posts", json={"text": "hello @bob"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    request = h.feed.called("CreatePost")[0]
    assert (h.feed.actor, request.idempotency_key) == (ada.id, "k-1")
    assert first.json()["author"]["handle"] == "ada"
    long_key = {**h.auth(ada), "Idempotency-Key": "k" * 201}
    _problem(h.client.post("/api/v1/posts", json={"text": "x"}, headers=long_key), 400)


def test_delete_post(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    post = h.feed.add(ada.id, "mine")
    _problem(h.client.delete(f"/api/v1/posts/{post.id}", headers=h.auth(bob)), 403)
    assert h.client.delete(f"/api/v1/posts/{post.id}", headers=h.auth(ada)).status_code == 204
    _problem(h.client.get(f"/api/v1/posts/{post.id}", headers=h.auth(ada)), 404)
    _problem(h.client.get("/api/v1/posts/not-a-uuid", headers=h.auth(ada)), 404)


def test_follow_by_handle_and_lists(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    resp = h.client.post("/api/v1/people/bob/follow", headers=h.auth(ada))
    assert resp.json() == {"following": True, "changed": True}
    assert (
        h.client.post(f"/api/v1/people/{bob.id}/follow", headers=h.auth(ada)).json()["changed"]
        is False
    )
    followers = h.client.get(f"/api/v1/people/{bob.id}/followers", headers=h.auth(ada)).json()
    assert [p["handle"] for p in followers["items"]] == ["ada"]
    assert followers["next_cursor"] is None
    following = h.client.get("/api/v1/people/ada/following", headers=h.auth(ada)).json()
    assert [p["id"] for p in following["items"]] == [bob.id]
    assert h.client.delete("/api/v1/people/bob/follow", headers=h.auth(ada)).json() == {
        "following": False,
        "changed": True,
    }
    _problem(h.client.post("/api/v1/people/nobody/follow", headers=h.auth(ada)), 404)


def test_people_directory_and_lookup(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    for name in ("bob", "cat", "dan"):
        h.profile.add(name)
    page = h.client.get("/api/v1/people?limit=2", headers=h.auth(ada)).json()
    assert [p["handle"] for p in page["items"]] == ["ada", "bob"] and page["next_cursor"]
    assert h.client.get("/api/v1/people/cat", headers=h.auth(ada)).json()["handle"] == "cat"
    assert (
        h.client.get(f"/api/v1/people/{ada.id}", headers=h.auth(ada)).json()["manager_id"] is None
    )


def test_create_person_requires_admin(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    body = {"handle": "new.person", "display_name": "New Person"}
    _problem(h.client.post("/api/v1/people", json=body, headers=h.auth(ada)), 403)
    resp = h.client.post("/api/v1/people", json=body, headers=h.auth(ada, roles=["admin"]))
    assert resp.status_code == 201 and resp.json()["handle"] == "new.person"
    _problem(h.client.post("/api/v1/people", json=body, headers=h.auth(ada, roles=["admin"])), 409)


def test_remove_person_requires_admin_and_locks_the_person_out(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    _problem(h.client.delete(f"/api/v1/people/{bob.id}", headers=h.auth(ada)), 403)
    assert h.profile.called("RemovePerson") == []
    assert h.client.get("/api/v1/me", headers=h.auth(bob)).status_code == 200

    resp = h.client.delete(
        f"/api/v1/people/{bob.id}", params={"erase": "true"}, headers=h.auth(ada, roles=["admin"])
    )
    assert resp.status_code == 204
    assert [r.erase for r in h.profile.called("RemovePerson")] == [True]
    # A signed token outlives its person; the next check refuses it.
    h.client.app.state.people_seen.clear()
    _problem(h.client.get("/api/v1/me", headers=h.auth(bob)), 401)


def test_update_person_self_or_admin(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    resp = h.client.patch(f"/api/v1/people/{ada.id}", json={"title": "CTO"}, headers=h.auth(ada))
    assert resp.status_code == 200 and resp.json()["title"] == "CTO"
    request = h.profile.called("UpdatePerson")[0]
    assert request.HasField("title") and not request.HasField("display_name")
    _problem(
        h.client.patch(f"/api/v1/people/{ada.id}", json={"title": "x"}, headers=h.auth(bob)), 403
    )
    admin = h.client.patch(
        f"/api/v1/people/{ada.id}", json={"title": "CEO"}, headers=h.auth(bob, roles=["admin"])
    )
    assert admin.status_code == 200


def test_only_provisioning_sets_email(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    before = len(h.profile.called("UpdatePerson"))
    own = h.client.patch(
        f"/api/v1/people/{ada.id}", json={"email": "bob@example.com"}, headers=h.auth(ada)
    )
    _problem(own, 403)
    assert len(h.profile.called("UpdatePerson")) == before  # nothing was sent
    admin = h.client.patch(
        f"/api/v1/people/{ada.id}",
        json={"email": "ada@example.com"},
        headers=h.auth(bob, roles=["admin"]),
    )
    assert admin.status_code == 200


def test_search_endpoints(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    h.feed.add(ada.id, "shipping the #launch")
    posts = h.client.get(
        "/api/v1/search/posts", params={"q": "shipping"}, headers=h.auth(ada)
    ).json()
    assert set(posts) == {"items", "next_cursor", "total"}
    assert posts["items"][0]["author"]["handle"] == "ada"
    assert posts["items"][0]["highlights"] == ["<em>shipping</em> the #launch"]
    assert h.feed.called  # fakes wired
    assert h.search.actors[0] == ada.id  # trimmed for the caller: the identity says who
    people = h.client.get("/api/v1/search/people", params={"q": "ad"}, headers=h.auth(ada)).json()
    assert [p["handle"] for p in people["items"]] == ["ada"]


def test_notifications_and_mark_read(h) -> None:  # type: ignore[no-untyped-def]
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    h.notification.items.append(
        notification_pb2.Notification(
            id="n1",
            person_id=ada.id,
            actor_id=bob.id,
            post_id="p1",
            snippet="hi",
            kind=notification_pb2.NOTIFICATION_KIND_MENTION,
        )
    )
    page = h.client.get("/api/v1/notifications?unread_only=true", headers=h.auth(ada)).json()
    assert set(page) == {"items", "next_cursor", "unread_count"}
    item = page["items"][0]
    assert (item["kind"], item["post_id"], item["actor"]["handle"]) == ("mention", "p1", "bob")
    assert h.notification.called("ListNotifications")[0].unread_only is True
    _problem(h.client.post("/api/v1/notifications/read", json={}, headers=h.auth(ada)), 400)
    done = h.client.post("/api/v1/notifications/read", json={"all": True}, headers=h.auth(ada))
    assert done.json() == {"updated": 1, "unread_count": 0}


def test_body_limit_declared_and_streamed(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    big = b'{"text": "' + b"x" * (70 * 1024) + b'"}'
    headers = {**h.auth(ada), "Content-Type": "application/json"}
    _problem(h.client.post("/api/v1/posts", content=big, headers=headers), 413)

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    _problem(h.client.post("/api/v1/posts", content=chunks(), headers=headers), 413)
    assert not h.feed.called("CreatePost")


def test_write_rate_limit() -> None:
    h = harness(per_minute=2)
    ada, bob = h.profile.add("ada"), h.profile.add("bob")
    for _ in range(2):
        assert (
            h.client.post("/api/v1/posts", json={"text": "x"}, headers=h.auth(ada)).status_code
            == 201
        )
    resp = h.client.post("/api/v1/posts", json={"text": "x"}, headers=h.auth(ada))
    body = _problem(resp, 429)
    assert int(resp.headers["retry-after"]) >= 1
    assert body["type"].endswith("/rate-limited")
    # Per person: someone else is unaffected; reads are not limited.
    assert (
        h.client.post("/api/v1/posts", json={"text": "x"}, headers=h.auth(bob)).status_code == 201
    )
    assert h.client.get("/api/v1/timeline/home", headers=h.auth(ada)).status_code == 200
