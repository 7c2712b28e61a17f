"""Unit tests of the request-field and keyset-cursor helpers every service uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hallway_common.errors import InvalidArgument
from hallway_common.fields import parse_id, timestamp
from hallway_common.pagination import (
    decode_cursor,
    decode_time_cursor,
    encode_cursor,
    encode_time_cursor,
    page_size,
)


def test_parse_id_names_the_field() -> None:
    value = uuid.uuid4()
    assert parse_id(str(value), "person_id") == value
    for bad in ("nope", "", "42"):
        with pytest.raises(InvalidArgument, match="person_id must be a UUID"):
            parse_id(bad, "person_id")


def test_time_cursor_round_trip_and_forgeries() -> None:
    assert decode_time_cursor("") is None
    now, rid = datetime.now(UTC), uuid.uuid4()
    assert decode_time_cursor(encode_time_cursor(now, rid)) == (now, rid)
    for forged in ("%%%", encode_cursor("yesterday", "x"), encode_cursor(1), "e30"):
        with pytest.raises(InvalidArgument, match="page_token"):
            decode_time_cursor(forged)


def test_cursor_arity_is_checked() -> None:
    assert decode_cursor(encode_cursor("ada"), 1) == ["ada"]
    with pytest.raises(InvalidArgument):
        decode_cursor(encode_cursor("ada", "x"), 1)


def test_page_size_defaults_and_caps() -> None:
    assert page_size(0, 20, 100) == 20
    assert page_size(500, 20, 100) == 100
    with pytest.raises(InvalidArgument):
        page_size(-1, 20, 100)


def test_timestamp() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert timestamp(at).ToDatetime(tzinfo=UTC) == at
