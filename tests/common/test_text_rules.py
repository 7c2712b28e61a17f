"""The one text rule of every service: NFC, no control characters outside free text."""

from __future__ import annotations

import pytest

from hallway.feed.v1 import feed_pb2
from hallway.notification.v1 import notification_pb2
from hallway.profile.v1 import profile_pb2
from hallway_common.errors import InvalidArgument
from hallway_common.text import canonical, check_request


@pytest.mark.parametrize(
    "char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\ufffe", "\U0001ffff"]
)
def test_control_characters_and_noncharacters_are_refused_everywhere(char: str) -> None:
    with pytest.raises(InvalidArgument, match="handle"):
        canonical(f"ada{char}", "handle")
    with pytest.raises(InvalidArgument, match="text"):
        canonical(f"hello{char}", "text", multiline=True)


def test_newline_and_tab_only_in_free_text() -> None:
    assert canonical("line 1\r\nline\t2\r", "text", multiline=True) == "line 1\nline\t2\n"
    for char in "\n\t\r":
        with pytest.raises(InvalidArgument):
            canonical(f"Ada{char}Lovelace", "display_name")


def test_text_is_canonicalised_to_nfc() -> None:
    decomposed = "Rene\u0301e"  # e + combining acute
    assert canonical(decomposed, "display_name") == "Ren\u00e9e"
    # Bidirectional controls are legal text; the page isolates them.
    assert canonical("abc\u202edef", "text", multiline=True) == "abc\u202edef"


def test_requests_are_checked_and_canonicalised_in_place() -> None:
    request = profile_pb2.CreatePersonRequest(handle="ada", display_name="Rene\u0301e")
    check_request(request)
    assert request.display_name == "Ren\u00e9e"
    post = feed_pb2.CreatePostRequest(text="two\r\nlines", idempotency_key="k")
    check_request(post)
    assert post.text == "two\nlines"
    with pytest.raises(InvalidArgument, match="title"):
        check_request(profile_pb2.UpdatePersonRequest(id="x", title="CEO\x00"))
    with pytest.raises(InvalidArgument, match="notification_ids"):
        check_request(notification_pb2.MarkReadRequest(notification_ids=["ok", "bad\x00"]))
    with pytest.raises(InvalidArgument, match="idempotency_key"):
        check_request(feed_pb2.CreatePostRequest(text="hi", idempotency_key="k\n"))
