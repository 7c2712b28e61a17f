"""The published event contracts are generated, current, and never broken silently."""

from __future__ import annotations

import json

from hallway_common.contracts import TOPICS, PostCreated
from hallway_dev import asyncapi
from hallway_dev.compat import breaking_changes


def test_checked_in_contracts_match_the_code() -> None:
    stale = [
        str(p.relative_to(asyncapi.ROOT))
        for p, text in asyncapi.rendered().items()
        if not p.exists() or p.read_text() != text
    ]
    assert stale == [], "run `make contracts` and review the diff"


def test_current_models_do_not_break_published_schemas() -> None:
    assert asyncapi.incompatible_changes() == []


def test_every_topic_is_documented_with_its_payloads() -> None:
    docs = {s: asyncapi.service_document(s) for s in asyncapi.SERVICES}
    for topic in TOPICS:
        producer = json.dumps(docs[topic.producer])
        assert f"{topic.name}:publish" in producer
        for model in topic.events.values():
            assert model.__name__ in producer


def test_compat_check_catches_what_breaks_consumers() -> None:
    old = PostCreated.model_json_schema()
    removed = {**old, "properties": {k: v for k, v in old["properties"].items() if k != "text"}}
    assert breaking_changes(old, removed) == ["field 'text' was removed"]

    retyped = json.loads(json.dumps(old))
    retyped["properties"]["version"] = {"type": "string"}
    assert "changed type" in breaking_changes(old, retyped)[0]

    stricter = {**old, "required": [*old["required"], "mentions"]}
    assert breaking_changes(old, stricter) == ["field 'mentions' became required"]

    added = json.loads(json.dumps(old))
    added["properties"]["community_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert breaking_changes(old, added) == []
