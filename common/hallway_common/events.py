"""The event envelope: CloudEvents Kafka binding (binary mode) plus W3C traceparent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson

from hallway_common.contracts import Payload, dataschema, topic_for_event

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Event:
    """One record as it travels: headers + key + JSON payload (``None``: a tombstone).

    ``source`` is empty until the outbox relay stamps its configured absolute URI.
    """

    id: str
    type: str
    source: str
    time: datetime
    key: str
    data: bytes | None
    traceparent: str

    @property
    def topic(self) -> str:
        return topic_for_event(self.type).name

    def headers(self) -> dict[str, str]:
        """CloudEvents binary-mode headers; a tombstone has no content type or schema."""
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.time.isoformat(),
            "ce_subject": self.key,
            "traceparent": self.traceparent,
        }
        if self.data is not None:
            headers["content-type"] = CONTENT_TYPE
            headers["ce_dataschema"] = dataschema(self.type)
        return headers

    def payload(self) -> Payload:
        """The payload validated against the contract of its type."""
        if self.data is None:
            raise ValueError(f"{self.type} record {self.id} is a tombstone")
        model = topic_for_event(self.type).events[self.type]
        return model.model_validate_json(self.data)


def new_event(event_type: str, payload: Payload, traceparent: str) -> Event:
    """An event whose key comes from the payload (per its topic) and whose ``ce_time``
    is the payload's ``occurred_at``: when it happened, not when it was written."""
    topic = topic_for_event(event_type)
    if type(payload) is not topic.events[event_type]:
        raise TypeError(f"{event_type} carries {topic.events[event_type].__name__}")
    return Event(
        id=str(uuid.uuid4()),
        type=event_type,
        source="",
        time=payload.occurred_at,
        key=topic.key_of(payload),
        data=orjson.dumps(payload.model_dump(mode="json")),
        traceparent=traceparent,
    )


def tombstone(event_type: str, key: str, occurred_at: datetime, traceparent: str) -> Event:
    """The null-valued record that deletes ``key`` from a compacted state topic."""
    topic = topic_for_event(event_type)
    if not topic.compacted:
        raise TypeError(f"{topic.name} is not a state topic; tombstones go on state topics")
    return Event(
        id=str(uuid.uuid4()),
        type=event_type,
        source="",
        time=occurred_at,
        key=key,
        data=None,
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
