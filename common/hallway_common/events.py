"""The event envelope: CloudEvents Kafka binding (binary mode) plus W3C traceparent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hallway_common.contracts import Payload, topic_for_event

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Event:
    """One event as it travels: headers + key + JSON payload."""

    id: str
    type: str
    source: str
    time: datetime
    key: str
    data: bytes
    traceparent: str

    @property
    def topic(self) -> str:
        return topic_for_event(self.type).name

    def headers(self) -> dict[str, str]:
        return {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.time.isoformat(),
            "ce_subject": self.key,
            "content-type": CONTENT_TYPE,
            "traceparent": self.traceparent,
        }

    def payload(self) -> Payload:
        """The payload validated against the contract of its type."""
        model = topic_for_event(self.type).events[self.type]
        return model.model_validate_json(self.data)


def new_event(event_type: str, source: str, payload: Payload, traceparent: str) -> Event:
    """Build an event whose key is the payload's aggregate id (per the topic)."""
    topic = topic_for_event(event_type)
    if type(payload) is not topic.events[event_type]:
        raise TypeError(f"{event_type} carries {topic.events[event_type].__name__}")
    return Event(
        id=str(uuid.uuid4()),
        type=event_type,
        source=source,
        time=datetime.now(UTC),
        key=str(getattr(payload, topic.key)),
        data=orjson.dumps(payload.model_dump(mode="json")),
        traceparent=traceparent,
    )


class EnvelopeError(ValueError):
    """A message that is not a valid Hallway event (poison: goes to the DLQ)."""


def parse_headers(headers: dict[str, str], key: bytes | None, body: bytes) -> Event:
    """Rebuild an Event from Kafka headers; raises EnvelopeError when malformed."""
    try:
        if headers.get("ce_specversion") != SPEC_VERSION:
            raise EnvelopeError(f"ce_specversion {headers.get('ce_specversion')!r}")
        return Event(
            id=str(uuid.UUID(headers["ce_id"])),
            type=headers["ce_type"],
            source=headers.get("ce_source", ""),
            time=datetime.fromisoformat(headers["ce_time"]),
            key=(key or b"").decode(),
            data=body,
            traceparent=headers.get("traceparent", ""),
        )
    except (KeyError, ValueError) as exc:
        raise EnvelopeError(f"bad CloudEvents headers: {exc}") from exc
