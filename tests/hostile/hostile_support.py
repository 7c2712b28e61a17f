"""Helpers of the hostile suite (imported by name: tests/hostile is on pythonpath).

People: ``owner`` (owns the resources under attack), ``other`` (a colleague trying to
act on them) and ``admin`` (a provisioned person with the admin role). The gateway's
write rate limit is lifted so that fuzzing measures behaviour, not the bucket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System

JWT_SECRET = "hostile-secret-not-for-production-0123456789"
ISSUER = "hallway"


def mint(person_id: str, handle: str = "", ttl: int = 600, roles: list[str] | None = None) -> str:
    """A valid bearer token, as ``python -m hallway_gateway token`` mints it."""
    now = int(time.time())
    claims: dict = {"sub": person_id, "handle": handle, "iss": ISSUER, "iat": now, "exp": now + ttl}
    if roles:
        claims["roles"] = roles
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


@dataclass(frozen=True)
class Who:
    """A person the suite acts as (``token`` empty for the anonymous caller)."""

    name: str
    id: str
    handle: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass(frozen=True)
class Cast:
    anonymous: Who
    other: Who
    owner: Who
    admin: Who

    def all(self) -> list[Who]:
        return [self.anonymous, self.other, self.owner, self.admin]


async def provision(system: System, handle: str, email: str = "") -> pb.Person:
    """People come from HR provisioning (profile's gRPC API as an administrator)."""
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        return await pb_grpc.ProfileServiceStub(ch).CreatePerson(
            pb.CreatePersonRequest(handle=handle, display_name=handle.title(), email=email)
        )
