"""Unit tests of the feed's text rules: validation, mentions, hashtags (no servers)."""

from __future__ import annotations

import pytest

from hallway_common.errors import InvalidArgument
from hallway_feed.text import (
    check_idempotency_key,
    check_text,
    mention_candidates,
    parse_hashtags,
)


def test_text_is_trimmed() -> None:
    assert check_text("  hello\n") == "hello"
    assert check_text("x" * 5000) == "x" * 5000
    assert check_text("  " + "x" * 5000 + "  ") == "x" * 5000  # the limit is after trimming


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), (" \n\t ", "empty"), ("x" * 5001, "longer than 5000")],
)
def test_bad_text(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        check_text(text)


def test_idempotency_key() -> None:
    assert check_idempotency_key("") is None
    assert check_idempotency_key("k" * 200) == "k" * 200
    with pytest.raises(InvalidArgument, match="longer than 200"):
        check_idempotency_key("k" * 201)
    with pytest.raises(InvalidArgument, match="idempotency_key"):
        check_idempotency_key("   ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @ada", [("ada",)]),
        ("@Ada and @ada again", [("ada",)]),
        ("cc @ada.lovelace, @bob_b", [("ada.lovelace",), ("bob_b",)]),
        # End of sentence: "ada." is a valid handle too; the replica decides, "ada." first.
        ("thanks @ada.", [("ada.", "ada")]),
        ("(@x1-y)", [("x1-y",)]),
        ("mail ada@example.com", []),  # an e-mail address is not a mention
        ("@a is too short, @ is nothing", []),
        ("@" + "x" * 33, []),  # longer than a handle can be
        ("@-ada starts badly", []),
        ("@@ada", []),
    ],
)
def test_mention_candidates(text: str, expected: list[tuple[str, ...]]) -> None:
    assert mention_candidates(text) == expected


def test_mentions_are_bounded() -> None:
    text = " ".join(f"@user{i:02d}" for i in range(51))
    with pytest.raises(InvalidArgument, match="at most 50"):
        mention_candidates(text)
    assert len(mention_candidates(" ".join(f"@user{i:02d}" for i in range(50)))) == 50


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#Hello #hello #HELLO world", ["hello"]),
        ("#one, #two_2 and #Über", ["one", "two_2", "über"]),
        ("fixes issue #42", []),  # a number is not a topic
        ("#2024_review", ["2024_review"]),
        ("see example.com/page#section and a#b", []),
        ("&#38; is an entity", []),
        ("##double", []),
        ("#" + "t" * 64, ["t" * 64]),
        ("#" + "t" * 65, []),  # longer than a hashtag may be
        ("#rust-lang", ["rust"]),
    ],
)
def test_hashtags(text: str, expected: list[str]) -> None:
    assert parse_hashtags(text) == expected


def test_hashtags_are_bounded() -> None:
    with pytest.raises(InvalidArgument, match="at most 30 hashtags"):
        parse_hashtags(" ".join(f"#t{i}" for i in range(31)))
