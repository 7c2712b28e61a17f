"""Generates the published event contracts: one AsyncAPI 3 document per service and
one JSON schema per event type, under contracts/. ``--check`` fails when stale.

Built from the same tables the services run on (contracts.TOPICS and
contracts.CONSUMERS), so the documents describe what really runs:

- a channel per topic whose ``address`` is the real topic name;
- a message per event type, with the CloudEvents headers it carries (``ce_type`` a
  constant: it is the discriminator), its key and its payload schema;
- ``send`` operations for what a service publishes (what integrators subscribe to)
  and ``receive`` operations for its internal consumer groups, marked as such;
- a development and a production server, the latter with SASL/TLS security.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from hallway_common.contracts import CONSUMERS, TOPICS, Payload, Topic, dataschema
from hallway_dev.compat import breaking_changes

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "contracts"
SERVICES = ("profile", "feed", "search", "notification")
SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FORMAT = "application/schema+json;version=draft-07"
KAFKA_BINDING = "0.5.0"
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TRACEPARENT_PATTERN = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
RETENTION_MS = 7 * 24 * 3600 * 1000

ENVELOPE = (
    "Every record is a CloudEvents 1.0 event in the Kafka protocol binding's binary "
    "mode: the attributes are headers (ce_specversion, ce_id, ce_type, ce_source, "
    "ce_time, ce_subject, ce_dataschema, content-type) next to a W3C traceparent, and "
    "the value is the JSON payload. `ce_type` tells the event types of a channel apart "
    "(each payload repeats it as `type`); `ce_id` is unique per event and stays the "
    "same when a record is delivered twice, so consumers deduplicate on it. Order is "
    "guaranteed per key (per partition), never across keys or topics. Consumers must "
    "ignore payload fields they do not know: producers add optional fields without a "
    "new topic version; anything else is a new topic (`...v2`). Change topics keep "
    "records 7 days; `*.state.v1` topics are compacted and hold the current state of "
    "every entity for ever, a null value (tombstone) when it is gone: read them from "
    "offset 0 to load everything, then follow the change topics (docs/integrate.md)."
)


def _message_id(event_type: str, tombstone: bool = False) -> str:
    """hallway.feed.post.created -> FeedPostCreated (a component name)."""
    parts = event_type.split(".")[1:]
    return "".join(p.title() for p in parts) + ("Tombstone" if tombstone else "")


def _channel_id(topic: Topic) -> str:
    """hallway.profile.person.state.v1 -> profilePersonStateV1."""
    parts = topic.name.split(".")[1:]
    return parts[0] + "".join(p.title() for p in parts[1:])


def payload_schema(event_type: str, model: type[Payload]) -> dict[str, Any]:
    """The JSON schema of one event type's payload, as published under contracts/events.

    Open (unknown fields allowed: producers add optional fields) and discriminated
    by the required constant ``type``.
    """
    schema = model.model_json_schema()
    schema["required"] = ["type", *[r for r in schema.get("required", []) if r != "type"]]
    return {"$schema": SCHEMA_DIALECT, "$id": dataschema(event_type), **schema}


def _headers_schema(event_type: str, tombstone: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "format": "uuid", "description": "Unique per event."},
        "ce_type": {"type": "string", "const": event_type},
        "ce_source": {
            "type": "string",
            "format": "uri",
            "description": "Absolute URI of the publishing service (configurable base).",
        },
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "When it happened: the payload's occurred_at.",
        },
        "ce_subject": {"type": "string", "description": "The record key."},
        "traceparent": {"type": "string", "pattern": TRACEPARENT_PATTERN},
    }
    required = ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "traceparent"]
    if not tombstone:
        properties["ce_dataschema"] = {
            "type": "string",
            "const": dataschema(event_type),
            "description": "The $id of the payload's schema (contracts/events/).",
        }
        properties["content-type"] = {"type": "string", "const": "application/json"}
        required += ["ce_dataschema", "content-type"]
    return {"type": "object", "required": required, "properties": properties}


def _key_part(topic: Topic, name: str) -> str:
    """The pattern of one key field: a UUID, or one of a field's fixed values."""
    model = next(iter(topic.events.values()))
    prop = model.model_json_schema()["properties"][name]
    values = prop.get("enum") or ([prop["const"]] if "const" in prop else [])
    return "(" + "|".join(re.escape(v) for v in values) + ")" if values else UUID_PATTERN


def _key_schema(topic: Topic) -> dict[str, Any]:
    pattern = ":".join(_key_part(topic, name) for name in topic.key)
    return {
        "type": "string",
        "pattern": f"^{pattern}$",
        "description": "The record key: " + " ':' ".join(topic.key) + ".",
    }


def _messages(topic: Topic) -> dict[str, dict[str, Any]]:
    """Message components of one topic (a state topic also has its tombstone)."""
    messages = {}
    for event_type, model in topic.events.items():
        common = {
            "name": event_type,
            "correlationId": {
                "description": "The W3C trace context: one trace across every event it causes.",
                "location": "$message.header#/traceparent",
            },
            "bindings": {"kafka": {"key": _key_schema(topic), "bindingVersion": KAFKA_BINDING}},
        }
        messages[_message_id(event_type)] = {
            **common,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": _headers_schema(event_type, tombstone=False),
            "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": payload_schema(event_type, model)},
        }
        if topic.compacted:
            messages[_message_id(event_type, tombstone=True)] = {
                **common,
                "title": f"{model.__name__} tombstone",
                "summary": "The entity is gone: a null value that compaction keeps as the "
                "delete of its key.",
                "headers": _headers_schema(event_type, tombstone=True),
                "payload": {"type": "null"},
            }
    return messages


def _channel(topic: Topic) -> dict[str, Any]:
    config: dict[str, Any] = (
        {
            "cleanup.policy": ["compact"],
            "delete.retention.ms": 24 * 3600 * 1000,
            "max.compaction.lag.ms": 24 * 3600 * 1000,
        }
        if topic.compacted
        else {"cleanup.policy": ["delete"], "retention.ms": RETENTION_MS}
    )
    return {
        "address": topic.name,
        "title": topic.name,
        "description": topic.description,
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in _messages(topic)},
        "bindings": {
            "kafka": {
                "topic": topic.name,
                "topicConfiguration": config,
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _operation(topic: Topic, action: str, summary: str, **extra: Any) -> dict[str, Any]:
    cid = _channel_id(topic)
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{cid}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{cid}/messages/{m}"} for m in _messages(topic)],
        **extra,
    }


def service_document(service: str) -> dict[str, Any]:
    """The AsyncAPI 3 document of what one service publishes and consumes."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    def add(topic: Topic) -> None:
        channels[_channel_id(topic)] = _channel(topic)
        messages.update(_messages(topic))

    for topic in TOPICS:
        if topic.producer == service:
            add(topic)
            operations["publish" + _channel_id(topic)[0].upper() + _channel_id(topic)[1:]] = (
                _operation(topic, "send", f"The {service} service publishes {topic.name}.")
            )
    for group, (owner, topics) in CONSUMERS.items():
        if owner != service:
            continue
        for topic in topics:
            add(topic)
            cid = _channel_id(topic)
            operations[f"{group}.{cid}"] = _operation(
                topic,
                "receive",
                f"Internal: the {service} service's consumer group {group}.",
                description=(
                    f"How the {service} service itself consumes {topic.name}. Not an "
                    "interface: integrators subscribe with a consumer group of their own."
                ),
                bindings={
                    "kafka": {
                        "groupId": {"type": "string", "enum": [group]},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            )
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": f"Hallway {service} events",
            "version": "1.0.0",
            "description": ENVELOPE,
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "development": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The local stack started by `make up`: plaintext, no authentication.",
            },
            "production": {
                "host": "{bootstrap}",
                "protocol": "kafka-secure",
                "description": (
                    "A production cluster: TLS, and SASL/SCRAM credentials per integration "
                    "(topics are read-only to integrators; ACLs per consumer group)."
                ),
                "variables": {
                    "bootstrap": {
                        "default": "kafka.hallway.svc:9093",
                        "description": "The cluster's bootstrap host:port.",
                    }
                },
                "security": [
                    {"$ref": "#/components/securitySchemes/saslScram512"},
                    {"$ref": "#/components/securitySchemes/saslScram256"},
                ],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "securitySchemes": {
                "saslScram512": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 over TLS (security.protocol=SASL_SSL).",
                },
                "saslScram256": {
                    "type": "scramSha256",
                    "description": "SASL/SCRAM-SHA-256 over TLS (security.protocol=SASL_SSL).",
                },
            },
        },
    }


def event_schemas() -> dict[str, dict[str, Any]]:
    """JSON schema of every event type's payload, by ce_type."""
    return {
        event_type: payload_schema(event_type, model)
        for topic in TOPICS
        for event_type, model in topic.events.items()
    }


def incompatible_changes() -> list[str]:
    """Breaking differences between the checked-in schemas and the current models."""
    current = event_schemas()
    problems = []
    for path in sorted((OUT / "events").glob("*.schema.json")):
        event_type = path.name.removesuffix(".schema.json")
        if event_type not in current:
            problems.append(f"{event_type}: event type was removed")
            continue
        old = json.loads(path.read_text())
        problems += [f"{event_type}: {p}" for p in breaking_changes(old, current[event_type])]
    return problems


def rendered() -> dict[Path, str]:
    files = {
        OUT / "asyncapi" / f"{s}.json": json.dumps(service_document(s), indent=2, sort_keys=True)
        for s in SERVICES
    }
    for event_type, schema in event_schemas().items():
        files[OUT / "events" / f"{event_type}.schema.json"] = json.dumps(
            schema, indent=2, sort_keys=True
        )
    return {path: text + "\n" for path, text in files.items()}


def main() -> None:
    files = rendered()
    if "--check" in sys.argv:
        stale = [
            str(p.relative_to(ROOT))
            for p, text in files.items()
            if not p.exists() or p.read_text() != text
        ]
        if stale:
            raise SystemExit(f"contracts/ is stale, run `make contracts`: {', '.join(stale)}")
        print("contracts/ is up to date")
        return
    broken = incompatible_changes()
    if broken and "--allow-breaking" not in sys.argv:
        raise SystemExit(
            "refusing to publish breaking event changes (make a new topic version instead):\n  "
            + "\n  ".join(broken)
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} files under {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
