"""Unit tests: query parsing, validation, query bodies, page tokens, document versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hallway_common.contracts import PostCreated, PostDeleted
from hallway_common.errors import InvalidArgument
from hallway_search import queries
from hallway_search.indexing import post_document, post_tombstone, post_version
from hallway_search.indices import POSTS_MAPPING, IndexNames, SearchSettings
from hallway_search.queries import PostsQuery


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "x" * 201])
def test_query_length_is_1_to_200(query: str) -> None:
    with pytest.raises(InvalidArgument):
        queries.check_query(query)


def test_query_is_trimmed_and_200_chars_is_fine() -> None:
    assert queries.check_query("  hello   world ") == "hello world"
    assert queries.check_query("x" * 200) == "x" * 200
    with pytest.raises(InvalidArgument):
        queries.check_query("a\x00b")


def test_words_tags_and_handles() -> None:
    parsed = queries.parse_posts_query("Quarterly #Launch, update @ada #launch #q3-plan # done")
    assert parsed.tags == ["launch", "q3-plan"]
    assert parsed.words == ["Quarterly", "update", "@ada", "#", "done"]


def test_only_tags_has_no_scored_clause() -> None:
    body = queries.posts_query(queries.parse_posts_query("#launch"), None, 20)
    assert body["query"]["bool"]["must"] == []
    assert {"term": {"hashtags": "launch"}} in body["query"]["bool"]["filter"]


def test_every_posts_query_is_trimmed_to_visible_posts() -> None:
    viewer = str(uuid.uuid4())
    clauses = queries.visible_to(viewer)
    assert {"term": {"deleted": False}} in clauses
    assert {"term": {"visibility": "public"}} in clauses
    body = queries.posts_query(PostsQuery(words=["x"]), viewer, 20)
    for clause in clauses:
        assert clause in body["query"]["bool"]["filter"]


def test_posts_query_words_highlight_sort_and_keyset() -> None:
    body = queries.posts_query(PostsQuery(words=["rocket", "plans"]), None, 20, [1.5, 10, "id"])
    assert body["query"]["bool"]["must"] == [
        {"match": {"text": {"query": "rocket plans", "operator": "and"}}}
    ]
    assert body["size"] == 21  # one extra row says whether there is a next page
    assert [next(iter(s)) for s in body["sort"]] == ["_score", "created_at", "post_id"]
    assert body["sort"][1]["created_at"]["order"] == "desc"
    assert body["search_after"] == [1.5, 10, "id"]
    assert "from" not in body
    assert body["highlight"]["pre_tags"] == ["<em>"]
    assert body["highlight"]["encoder"] == "html"


def test_page_size_default_and_bounds() -> None:
    assert queries.check_page_size(0) == 20
    assert queries.check_page_size(7) == 7
    assert queries.check_page_size(1000) == 100
    with pytest.raises(InvalidArgument):
        queries.check_page_size(-1)


def test_viewer_must_be_a_uuid_when_given() -> None:
    assert queries.check_viewer("") is None
    viewer = str(uuid.uuid4())
    assert queries.check_viewer(viewer.upper()) == viewer
    with pytest.raises(InvalidArgument):
        queries.check_viewer("bob")


def test_posts_page_token_round_trip_and_binding() -> None:
    parsed = queries.parse_posts_query("rocket #launch")
    token = queries.posts_page_token(parsed, [0.5, 1700000000000, "p1"])
    assert queries.decode_posts_token(parsed, token) == [0.5, 1700000000000, "p1"]
    assert queries.decode_posts_token(parsed, "") is None
    with pytest.raises(InvalidArgument, match="different query"):
        queries.decode_posts_token(queries.parse_posts_query("rocket"), token)
    with pytest.raises(InvalidArgument):
        queries.decode_posts_token(parsed, "not-a-token!")
    forged = queries.encode_cursor(parsed.fingerprint(), "x", "y", 3)
    with pytest.raises(InvalidArgument):
        queries.decode_posts_token(parsed, forged)


def test_people_query() -> None:
    text = queries.people_text("@Ada.Lovelace  eng")
    assert text == "Ada.Lovelace eng"
    body = queries.people_query(text, 10)
    bool_query = body["query"]["bool"]
    assert bool_query["filter"] == [{"term": {"active": True}}]
    assert bool_query["minimum_should_match"] == 1
    fields = {
        f for c in bool_query["should"] if "multi_match" in c for f in c["multi_match"]["fields"]
    }
    assert {"handle^4", "display_name.prefix^2", "title.prefix", "department.prefix"} <= fields
    assert {"term": {"handle.keyword": {"value": "ada.lovelace eng", "boost": 10}}} in bool_query[
        "should"
    ]
    assert body["sort"][0] == {"_score": {"order": "desc"}}
    with pytest.raises(InvalidArgument):
        queries.people_text("@ @@")


def test_people_page_token_round_trip() -> None:
    token = queries.people_page_token("ada", [2.5, "ada"])
    assert queries.decode_people_token("ada", token) == [2.5, "ada"]
    with pytest.raises(InvalidArgument):
        queries.decode_people_token("bob", token)


def test_delete_outranks_create_of_the_same_or_earlier_version() -> None:
    assert post_version(1, deleted=True) > post_version(1, deleted=False)
    assert post_version(2, deleted=True) > post_version(1, deleted=False)
    assert post_version(3, deleted=False) > post_version(2, deleted=True)


def test_tombstone_keeps_no_text_and_documents_fit_the_mapping() -> None:
    now = datetime.now(UTC)
    post_id, author = uuid.uuid4(), uuid.uuid4()
    doc = post_document(
        PostCreated(
            post_id=post_id,
            author_id=author,
            text="hello",
            hashtags=["Launch"],
            version=1,
            created_at=now,
            occurred_at=now,
        )
    )
    assert doc["hashtags"] == ["launch"] and doc["deleted"] is False
    tomb = post_tombstone(
        PostDeleted(post_id=post_id, author_id=author, version=2, occurred_at=now)
    )
    assert tomb["deleted"] is True and "text" not in tomb
    # The mapping is strict: every field we write must be declared.
    assert set(doc) | set(tomb) <= set(POSTS_MAPPING["properties"])


def test_index_names_and_prefix_validation() -> None:
    names = IndexNames("hallway")
    assert names.posts == "hallway-posts" and names.physical(names.posts) == "hallway-posts-v1"
    with pytest.raises(ValidationError):
        SearchSettings(opensearch_index_prefix="Bad Prefix")


# Filters, communities, comments (issue 8) ---------------------------------------------


def test_an_unfiltered_query_keeps_its_fingerprint() -> None:
    """Page tokens cut before filters existed still belong to the same query."""
    plain = queries.parse_posts_query("launch #ops")
    assert plain.fingerprint() == queries._fingerprint("posts", "launch", "ops")
    filtered = queries.parse_posts_query("launch #ops", queries.check_filters(tag="x"))
    assert filtered.fingerprint() != plain.fingerprint()


def test_filters_are_validated_and_normalised() -> None:
    cid = str(uuid.uuid4())
    f = queries.check_filters(
        community_id=cid.upper(),
        tag="#Launch-",
        since=datetime(2024, 5, 1),
        until=datetime(2024, 5, 2, tzinfo=UTC),
    )
    assert (f.community_id, f.tag) == (cid, "launch")
    assert f.since == datetime(2024, 5, 1, tzinfo=UTC)  # naive is UTC
    assert {"range": {"created_at": {"gte": f.since.isoformat(), "lt": f.until.isoformat()}}} in (
        f.clauses()
    )
    assert {"term": {"community_id": cid}} in f.clauses()
    assert not queries.Filters() and f
    for bad in (
        {"author_id": "ada"},
        {"post_id": "1"},
        {"tag": "two words"},
        {"tag": "#"},
        {"since": datetime(2024, 5, 2, tzinfo=UTC), "until": datetime(2024, 5, 1, tzinfo=UTC)},
    ):
        with pytest.raises(InvalidArgument):
            queries.check_filters(**bad)


def test_an_empty_query_needs_a_filter() -> None:
    with pytest.raises(InvalidArgument):
        queries.parse_posts_query("  ")
    only = queries.parse_posts_query(" ", queries.check_filters(author_id=str(uuid.uuid4())))
    body = queries.posts_query(only, None, 20)
    assert body["query"]["bool"]["must"] == [] and "highlight" not in body
    with pytest.raises(InvalidArgument):
        queries.parse_comments_query("", queries.Filters())
    assert queries.parse_comments_query("", queries.check_filters(post_id=str(uuid.uuid4())))


def test_communities_query_lists_discoverable_ones_and_checks_visibility() -> None:
    everything = queries.parse_communities_query("", "")
    body = queries.communities_query(everything, 10)
    assert body["query"]["bool"] == {"filter": [{"term": {"removed": False}}]}
    private = queries.parse_communities_query("design  guild", "private")
    body = queries.communities_query(private, 10)
    assert {"term": {"visibility": "private"}} in body["query"]["bool"]["filter"]
    assert private.text == "design guild"
    with pytest.raises(InvalidArgument):
        queries.parse_communities_query("x", "secret")
    token = queries.communities_page_token(private, [1.5, "design guild", "id"])
    assert queries.decode_communities_token(private, token) == [1.5, "design guild", "id"]
    with pytest.raises(InvalidArgument):
        queries.decode_communities_token(everything, token)
