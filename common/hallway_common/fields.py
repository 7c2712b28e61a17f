"""Request-field parsing and proto conversions every gRPC API shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from hallway_common.errors import InvalidArgument


def parse_id(value: str, field: str) -> uuid.UUID:
    """A UUID request field; INVALID_ARGUMENT naming the field otherwise."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(f"{field} must be a UUID, got {value!r}") from None


def timestamp(value: datetime) -> Timestamp:
    """A protobuf Timestamp of an aware datetime."""
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts
