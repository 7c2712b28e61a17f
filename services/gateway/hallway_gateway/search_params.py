"""Query parameters of the search endpoints and their translation for the search service.

Shared by ``api`` (``GET /search/posts``) and ``api_search`` (communities, comments);
it imports neither, so both can import it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query
from google.protobuf.timestamp_pb2 import Timestamp

from hallway_gateway.backends import Backends
from hallway_gateway.deps import resolve_person_id
from hallway_gateway.problems import Problem

OptionalSearchQuery = Annotated[
    str,
    Query(
        max_length=200,
        description='Words, "#tag" and "@handle" are understood. May be empty when a '
        "filter is given (then newest first).",
    ),
]
Community = Annotated[
    str | None,
    Query(max_length=64, description="Only posts made in this community (its id)."),
]
Author = Annotated[
    str | None,
    Query(max_length=64, description="Only what this person wrote (id or handle)."),
]
Tag = Annotated[
    str | None,
    Query(max_length=101, description="Only posts carrying this #tag (with or without '#')."),
]
Since = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Only what was written at or after this ISO 8601 date "
        "(`2024-05-01`, from its start in UTC) or date-time.",
    ),
]
Until = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Only what was written before this ISO 8601 date-time, or on or "
        "before this date (`2024-05-31` includes that whole day, UTC).",
    ),
]


def timestamp(value: str | None, name: str, *, end_of_day: bool = False) -> Timestamp | None:
    """An ISO 8601 date or date-time as a Timestamp (None when absent); 400 otherwise.

    A bare date is a whole day in UTC: ``since`` starts at its beginning, ``until``
    (``end_of_day``) ends after it. A date-time without an offset is UTC.
    """
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            when = datetime.combine(day, time.min, tzinfo=UTC)
            if end_of_day:
                when += timedelta(days=1)
        else:
            when = datetime.fromisoformat(value)
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        ts = Timestamp()
        ts.FromDatetime(when)
    except (ValueError, OverflowError):
        raise Problem(
            400, f"{name} must be an ISO 8601 date or date-time", slug="invalid-argument"
        ) from None
    return ts


async def author_id(backends: Backends, author: str | None) -> str:
    """The author filter as a person id ('' for none); a handle nobody has is a 404."""
    if not author:
        return ""
    return await resolve_person_id(backends, author)
