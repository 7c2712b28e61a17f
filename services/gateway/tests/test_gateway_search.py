"""Search endpoints against fake services: filters reach the search service as ids and
timestamps, communities and comments come back as documented."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gateway_fakes import harness


@pytest.fixture
def h():  # type: ignore[no-untyped-def]
    return harness()


def test_post_filters_are_translated(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    grace = h.profile.add("grace")
    community = "6f1c2c3e-0000-4000-8000-000000000001"
    r = h.client.get(
        "/api/v1/search/posts",
        params={
            "community": community,
            "author": "grace",
            "tag": "#Launch",
            "since": "2024-05-01",
            "until": "2024-05-31",
        },
        headers=h.auth(ada),
    )
    assert r.status_code == 200, r.text
    (req,) = h.search.called("SearchPosts")
    assert (req.query, req.community_id, req.written_by, req.tag) == (
        "",
        community,
        grace.id,
        "#Launch",
    )
    assert req.since.ToDatetime(tzinfo=UTC) == datetime(2024, 5, 1, tzinfo=UTC)
    assert req.until.ToDatetime(tzinfo=UTC) == datetime(2024, 6, 1, tzinfo=UTC)  # whole day

    r = h.client.get(
        "/api/v1/search/posts",
        params={"q": "x", "since": "2024-05-01T10:00:00+02:00"},
        headers=h.auth(ada),
    )
    assert r.status_code == 200, r.text
    req = h.search.called("SearchPosts")[-1]
    assert req.since.ToDatetime(tzinfo=UTC) == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert not req.HasField("until") and not req.written_by

    # A handle nobody has is a 404, before search is asked.
    r = h.client.get("/api/v1/search/posts", params={"author": "nobody"}, headers=h.auth(ada))
    assert r.status_code == 404
    assert len(h.search.called("SearchPosts")) == 2
    for bad in ("9999-12-31T25:00", "2024-13-01", "0001-01-01T00:00:00+05:00"):
        r = h.client.get("/api/v1/search/posts", params={"since": bad}, headers=h.auth(ada))
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = h.client.get("/api/v1/search/posts", params={"until": "9999-12-31"}, headers=h.auth(ada))
    assert r.status_code == 400


def test_communities_search(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada")
    r = h.client.get(
        "/api/v1/search/communities",
        params={"q": "rock", "visibility": "public", "limit": 5},
        headers=h.auth(ada),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["next_cursor"] is None
    (hit,) = body["items"]
    assert (hit["name"], hit["visibility"], hit["official"]) == ("About rock", "public", False)
    (req,) = h.search.called("SearchCommunities")
    assert (req.query, req.visibility, req.page_size) == ("rock", "public", 5)
    # Empty lists everything; secret is not a visibility anyone can search for.
    assert h.client.get("/api/v1/search/communities", headers=h.auth(ada)).status_code == 200
    r = h.client.get(
        "/api/v1/search/communities", params={"visibility": "secret"}, headers=h.auth(ada)
    )
    assert r.status_code == 422
    assert h.client.get("/api/v1/search/communities").status_code == 401


def test_comments_search(h) -> None:  # type: ignore[no-untyped-def]
    ada = h.profile.add("ada", "Ada Lovelace")
    post = "6f1c2c3e-0000-4000-8000-000000000002"
    r = h.client.get(
        "/api/v1/search/comments",
        params={"q": "engine", "post": post, "author": "ada", "until": "2024-05-01T00:00:00Z"},
        headers=h.auth(ada),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] == "next"
    (hit,) = body["items"]
    assert (hit["post_id"], hit["author_id"], hit["parent_id"]) == (post, ada.id, None)
    assert hit["author"]["display_name"] == "Ada Lovelace"
    assert hit["highlights"] == ["said <em>engine</em>"]
    (req,) = h.search.called("SearchComments")
    assert (req.post_id, req.written_by) == (post, ada.id)
    assert req.until.ToDatetime(tzinfo=UTC) == datetime(2024, 5, 1, tzinfo=UTC)
