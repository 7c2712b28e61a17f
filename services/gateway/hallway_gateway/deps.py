"""FastAPI dependencies: the caller, the backends, the write limiter."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from hallway.profile.v1 import profile_pb2
from hallway_gateway.auth import (
    COOKIE_NAME,
    Principal,
    authenticate,
    optional_principal,
    unauthorized,
)
from hallway_gateway.backends import Backends
from hallway_gateway.problems import Problem

# Declared for the OpenAPI document; the checking itself is ``authenticate``.
_bearer = HTTPBearer(auto_error=False, description="JWT from `python -m hallway_gateway token`")
_cookie = APIKeyCookie(
    name=COOKIE_NAME, auto_error=False, description="The web page's session cookie."
)


# A signed token outlives its person (deactivated, erased): each replica re-checks that
# the person still exists at most this often.
PERSON_CHECK_SECONDS = 60.0


async def _caller(
    request: Request,
    _b: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    _c: Annotated[str | None, Security(_cookie)] = None,
) -> Principal:
    principal = authenticate(request)
    await _person_exists(request, principal)
    return principal


async def _person_exists(request: Request, principal: Principal) -> None:
    """401 for a validly signed token whose person does not exist (any more) or was removed.

    Checked against profile, remembered per replica for PERSON_CHECK_SECONDS. When
    profile cannot answer, the request goes on: its own calls then fail with a 503
    naming the service, which is the truth."""
    seen: dict[str, float] = request.app.state.__dict__.setdefault("people_seen", {})
    now = time.monotonic()
    if seen.get(principal.person_id, 0.0) > now:
        return
    backends: Backends = request.app.state.backends
    try:
        person = await backends.acting(principal).profile.GetPerson(
            profile_pb2.GetPersonRequest(id=principal.person_id)
        )
    except Problem as exc:
        if exc.status in (400, 404):
            raise unauthorized("the token's person does not exist") from None
        return
    if not person.active:
        raise unauthorized("the token's person has been removed")
    if len(seen) > 100_000:  # bounded: forget everyone rather than grow without limit
        seen.clear()
    seen[principal.person_id] = now + PERSON_CHECK_SECONDS


def _backends(request: Request) -> Backends:
    """The services, called on behalf of the authenticated caller (or the gateway)."""
    return acting_backends(request)


def acting_backends(request: Request) -> Backends:
    principal = getattr(request.state, "principal", None) or optional_principal(request)
    return request.app.state.backends.acting(principal)


Caller = Annotated[Principal, Depends(_caller)]
Services = Annotated[Backends, Depends(_backends)]


def limit_writes(request: Request, caller: Caller) -> None:
    """Writes count against the caller's token bucket (per replica)."""
    request.app.state.limiter.check(caller.person_id)


WriteLimited = Depends(limit_writes)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def known_id(value: str, what: str) -> str:
    """An id from a path or body; a value that is no UUID names nothing there is: 404
    ("<what> not found", the words the services use), without a call."""
    if not is_uuid(value):
        raise Problem(404, f"{what} not found", slug="not-found")
    return value


async def resolve_person_id(backends: Backends, id_or_handle: str) -> str:
    """People are addressed by id or by handle in URLs; services only take ids."""
    if is_uuid(id_or_handle):
        return id_or_handle
    if not id_or_handle or len(id_or_handle) > 64:
        raise Problem(404, "no such person", slug="not-found")
    person = await backends.profile.GetPerson(profile_pb2.GetPersonRequest(handle=id_or_handle))
    return person.id
