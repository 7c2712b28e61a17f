"""Opaque keyset cursors: base64url JSON of the last row's sort key. Never OFFSET."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import orjson

from hallway_common.errors import InvalidArgument


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(token: str, arity: int) -> list[Any] | None:
    """The sort key in a page token (None for the first page); INVALID_ARGUMENT if forged."""
    if not token:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise InvalidArgument("page_token is not valid") from None
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidArgument("page_token is not valid")
    return key


def page_size(requested: int, default: int, maximum: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or default, maximum)


def encode_time_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """Page token after a (timestamp, id) sort key: the usual newest-first listing."""
    return encode_cursor(at.isoformat(), str(row_id))


def decode_time_cursor(token: str) -> tuple[datetime, uuid.UUID] | None:
    """The (timestamp, id) a page token continues after; INVALID_ARGUMENT if forged."""
    key = decode_cursor(token, 2)
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key[0]), uuid.UUID(key[1])
    except (TypeError, ValueError):
        raise InvalidArgument("page_token is not valid") from None
