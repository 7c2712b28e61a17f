"""The published event contracts are generated, current, and never broken silently."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime

from jsonschema import Draft7Validator

from hallway_common.contracts import CONSUMERS, TOPICS, PostCreated, dataschema
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


def test_every_topic_is_a_channel_whose_address_is_the_topic() -> None:
    docs = {s: asyncapi.service_document(s) for s in asyncapi.SERVICES}
    for topic in TOPICS:
        channels = docs[topic.producer]["channels"].values()
        (channel,) = [c for c in channels if c["address"] == topic.name]
        assert channel["bindings"]["kafka"]["topic"] == topic.name
        policy = channel["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"]
        assert policy == (["compact"] if topic.compacted else ["delete"])
        messages = docs[topic.producer]["components"]["messages"]
        for event_type in topic.events:
            (message,) = [
                m for m in messages.values() if m["name"] == event_type and "contentType" in m
            ]
            assert message["headers"]["properties"]["ce_type"]["const"] == event_type
            assert message["payload"]["schema"]["$id"] == dataschema(event_type)
            assert message["correlationId"]["location"] == "$message.header#/traceparent"


def test_internal_consumer_groups_are_receive_operations_not_channels() -> None:
    for service in asyncapi.SERVICES:
        doc = asyncapi.service_document(service)
        addresses = {c["address"] for c in doc["channels"].values()}
        assert addresses <= {t.name for t in TOPICS}, "every address is a real topic"
        for group, (owner, topics) in CONSUMERS.items():
            if owner != service:
                continue
            ops = [
                o
                for o in doc["operations"].values()
                if o["action"] == "receive" and o["bindings"]["kafka"]["groupId"]["enum"] == [group]
            ]
            assert len(ops) == len(topics)


def test_payload_schemas_discriminate_every_event_type() -> None:
    """A record of one type validates against its own schema and no other."""
    schemas = asyncapi.event_schemas()
    now = datetime.now(UTC).isoformat()
    for event_type, model in ((t, m) for topic in TOPICS for t, m in topic.events.items()):
        record: dict = {"type": event_type}
        schema = model.model_json_schema()
        for name in schema.get("required", []):
            if name == "type":
                continue
            prop = schema["properties"][name]
            if "enum" in prop or "const" in prop:
                record[name] = prop.get("enum", [prop.get("const")])[0]
            elif prop.get("format") == "uuid":
                record[name] = str(uuid.uuid4())
            elif prop.get("format") == "date-time":
                record[name] = now
            elif prop.get("type") == "integer":
                record[name] = 1
            elif prop.get("type") == "array":
                record[name] = [str(uuid.uuid4())]
            else:
                record[name] = "x"
        model.model_validate(record)
        matching = [
            other
            for other, schema in schemas.items()
            if not list(Draft7Validator(schema).iter_errors(record))
        ]
        assert matching == [event_type]


def test_the_official_asyncapi_parser_finds_no_error_or_warning() -> None:
    result = subprocess.run(
        [str(asyncapi.ROOT / "scripts/tools/asyncapi-validate.sh")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summaries = [line for line in result.stdout.splitlines() if " errors, " in line]
    assert len(summaries) == len(asyncapi.SERVICES)
    assert all(" 0 errors, 0 warnings," in line for line in summaries), summaries


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
