"""Unit tests of the profile service's input rules (no servers)."""

from __future__ import annotations

import pytest

from hallway_common.errors import InvalidArgument
from hallway_profile.people import check_fields, check_handle


@pytest.mark.parametrize("handle", ["ab", "ada", "ada.lovelace", "a-1_b", "x" * 32])
def test_valid_handles(handle: str) -> None:
    assert check_handle(handle) == handle


@pytest.mark.parametrize("handle", ["", "a", "Ada", ".ada", "ada lovelace", "x" * 33, "ådå"])
def test_invalid_handles(handle: str) -> None:
    with pytest.raises(InvalidArgument, match="handle"):
        check_handle(handle)


def test_fields_are_trimmed_and_bounded() -> None:
    assert check_fields({"display_name": "  Ada  ", "title": " CTO "}) == {
        "display_name": "Ada",
        "title": "CTO",
    }
    with pytest.raises(InvalidArgument, match="display_name"):
        check_fields({"display_name": "   "})
    with pytest.raises(InvalidArgument, match="title is longer than 100"):
        check_fields({"title": "x" * 101})
    with pytest.raises(InvalidArgument, match="email"):
        check_fields({"email": "not-an-address"})
