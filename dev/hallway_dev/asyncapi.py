"""Generates the published event contracts: one AsyncAPI document per service and
one JSON schema per event type, under contracts/. ``--check`` fails when stale.

The documents are built with FastStream from the same registrations the services
use (contracts.TOPICS and contracts.CONSUMERS through EventConsumer), so they
describe what really runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Union

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from hallway_common.consumer import EventConsumer
from hallway_common.contracts import CONSUMERS, TOPICS
from hallway_dev.compat import breaking_changes

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "contracts"
SERVICES = ("profile", "feed", "search", "notification")


async def _noop(*_args: object) -> None:
    return None


def service_document(service: str) -> dict:
    """The AsyncAPI 3 document of what one service publishes and consumes."""
    broker = KafkaBroker("kafka:9092", apply_types=False, logger=None)
    for topic in TOPICS:
        if topic.producer == service:
            schema = Union[tuple(dict.fromkeys(topic.events.values()))]  # noqa: UP007
            broker.publisher(
                topic.name,
                title=f"{topic.name}:publish",
                description=topic.description,
                schema=schema,
            )
    for group, (owner, topics) in CONSUMERS.items():
        if owner == service:
            consumer = EventConsumer(broker, group)
            for topic in topics:
                consumer.on(topic, _noop)
    app = FastStream(
        broker,
        specification=AsyncAPI(
            title=f"Hallway {service} events",
            version="1.0.0",
            description=(
                "Kafka binding of CloudEvents 1.0 in binary mode: headers ce_specversion, "
                "ce_id, ce_type, ce_source, ce_time, ce_subject, content-type, traceparent. "
                "Records are keyed by the aggregate id."
            ),
        ),
    )
    return app.schema.to_specification().to_jsonable()


def event_schemas() -> dict[str, dict]:
    """JSON schema of every event type's payload, by ce_type."""
    return {
        event_type: model.model_json_schema()
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
