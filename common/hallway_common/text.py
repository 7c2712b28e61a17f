"""One place for the rules every piece of text obeys, applied at the gRPC boundary.

Every string field of every request, in every service, is canonicalised to Unicode
NFC and refused (INVALID_ARGUMENT, naming the field) when it holds control
characters: C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F), and Unicode
noncharacters. Newline and tab are allowed only in the fields that hold free text
(``MULTILINE_FIELDS``), where CR LF and CR become LF. PostgreSQL rejects NUL, terminals
and logs misread the rest, and visually identical text must compare equal.

Bidirectional controls are legal text (Arabic and Hebrew need them); the web page
isolates user text instead (``dir="auto"`` and ``<bdi>``), so they cannot reorder what
surrounds it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from hallway_common.errors import InvalidArgument

# Fields whose values are free text written by people: newline and tab allowed.
MULTILINE_FIELDS = frozenset({"text", "body", "bio", "description", "message"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_WITH_LAYOUT = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# U+FDD0-U+FDEF and the last two code points of every plane: never valid in text.
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef"
    + "".join(f"{chr(p + 0xFFFE)}{chr(p + 0xFFFF)}" for p in range(0, 0x110000, 0x10000))
    + "]"
)


def canonical(value: str, field: str = "text", multiline: bool = False) -> str:
    """``value`` in NFC; InvalidArgument when it holds characters text must not hold."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = (_CONTROL if multiline else _CONTROL_WITH_LAYOUT).search(value) or _NONCHARACTER.search(
        value
    )
    if bad:
        raise InvalidArgument(
            f"{field} must not contain control characters or noncharacters "
            f"(U+{ord(bad.group()):04X} at position {bad.start()})"
        )
    return unicodedata.normalize("NFC", value)


def check_request(message: Message, prefix: str = "") -> None:
    """Canonicalise every string field of ``message`` in place (recursively)."""
    for field, value in message.ListFields():
        name = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            multiline = field.name in MULTILINE_FIELDS
            if _is_repeated(field):
                cleaned = [canonical(v, name, multiline) for v in value]
                if cleaned != list(value):
                    del value[:]
                    value.extend(cleaned)
            else:
                cleaned_one = canonical(value, name, multiline)
                if cleaned_one != value:
                    setattr(message, field.name, cleaned_one)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                _check_map(value, name)
            elif _is_repeated(field):
                for item in value:
                    check_request(item, name + ".")
            else:
                check_request(value, name + ".")


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _check_map(value: Any, name: str) -> None:
    for key in list(value):
        if isinstance(key, str):
            canonical(key, name)
        item = value[key]
        if isinstance(item, str):
            canonical(item, name)
        elif isinstance(item, Message):
            check_request(item, name + ".")


__all__ = ["MULTILINE_FIELDS", "canonical", "check_request"]
