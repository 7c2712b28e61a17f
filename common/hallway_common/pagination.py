"""Opaque keyset cursors: base64url JSON of the last row's sort key. Never OFFSET."""

from __future__ import annotations

import base64
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
