"""Post text rules: validation, @mention and #hashtag parsing (pure functions, no I/O).

Mentions are only *candidates* here; which of them are people is decided against the
local people replica (``posts.resolve_mentions``): an unknown handle is plain text.
"""

from __future__ import annotations

import re

from hallway_common.errors import InvalidArgument

MAX_TEXT_CHARS = 5000
MAX_IDEMPOTENCY_KEY_CHARS = 200
MAX_MENTIONS = 50
MAX_HASHTAGS = 30
MAX_HASHTAG_CHARS = 64

# The profile service's handle rule (hallway_profile.people.HANDLE).
HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
# "@" not glued to a word, e-mail address or path ("ada@example.com" is no mention).
_MENTION = re.compile(r"(?<![\w@./+-])@([A-Za-z0-9][A-Za-z0-9._-]*)")
# "#" not glued to a word, URL fragment or HTML entity ("page#top", "&#38;").
_HASHTAG = re.compile(r"(?<![\w#&/])#(\w+)")


def check_text(text: str) -> str:
    """The post text trimmed; INVALID_ARGUMENT when empty or too long. (Control
    characters never get here: hallway_common.text refuses them at the gRPC boundary.)"""
    text = text.strip()
    if not text:
        raise InvalidArgument("text must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidArgument(
            f"text is longer than {MAX_TEXT_CHARS} characters ({len(text)} after trimming)"
        )
    return text


def check_idempotency_key(key: str) -> str | None:
    """None for no key; INVALID_ARGUMENT when longer than 200 characters or blank."""
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidArgument(
            f"idempotency_key is longer than {MAX_IDEMPOTENCY_KEY_CHARS} characters"
        )
    if not key.strip():
        raise InvalidArgument("idempotency_key must be printable text")
    return key


def mention_candidates(text: str) -> list[tuple[str, ...]]:
    """Handles that may be mentioned, in order of appearance, deduplicated.

    Each entry holds the alternatives for one ``@token``, preferred first: the whole
    token, then the token without trailing punctuation ("@ada." ends a sentence, but
    "ada." is also a valid handle, so the replica decides). Handles are lower-case, so
    "@Ada" mentions "ada". INVALID_ARGUMENT beyond ``MAX_MENTIONS`` distinct tokens.
    """
    seen: set[str] = set()
    out: list[tuple[str, ...]] = []
    for match in _MENTION.finditer(text):
        token = match.group(1).lower()
        options = tuple(dict.fromkeys(h for h in (token, token.rstrip("._-")) if HANDLE.match(h)))
        if not options or options[0] in seen:
            continue
        seen.add(options[0])
        out.append(options)
    if len(out) > MAX_MENTIONS:
        raise InvalidArgument(f"a post may mention at most {MAX_MENTIONS} people")
    return out


def parse_hashtags(text: str) -> list[str]:
    """Lower-cased hashtags without '#', in order of appearance, deduplicated.

    A hashtag is 1-64 letters, digits or '_' and not only digits ("issue #42" is a
    number, not a topic); longer runs are not hashtags. INVALID_ARGUMENT beyond
    ``MAX_HASHTAGS`` distinct tags.
    """
    tags: dict[str, None] = {}
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        if len(tag) > MAX_HASHTAG_CHARS or tag.isdigit():
            continue
        tags[tag.lower()] = None
    if len(tags) > MAX_HASHTAGS:
        raise InvalidArgument(f"a post may have at most {MAX_HASHTAGS} hashtags")
    return list(tags)
