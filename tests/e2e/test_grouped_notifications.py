"""Notifications of conversations and communities through the gateway on the real stack.

A system of its own (profile, feed, notification, gateway). Ana posts in a private
community she owns; Bo, Cy and Dee react: Ana has one reaction notification counting
three people. Bo and Cy comment: one reply notification counting two; Bo deletes his
comment: the group is left with Cy. Bo was invited (the community named), Cy asked
and was approved (Ana hears of the request, Cy of the approval). Bo leaves: what he
held about the community goes. Every wait is bounded.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually, metric

pytestmark = pytest.mark.e2e

JWT_SECRET = "e2e-grouped-notifications-secret-not-for-production"


def _mint(person: pb.Person) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": person.id, "handle": person.handle, "iss": "hallway", "iat": now}
    token = jwt.encode({**claims, "exp": now + 900}, JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def grouped_system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "grouped.", index_prefix + "-grouped")
    try:
        for name in ("profile", "feed", "notification"):
            await sys.prepare(name)
        gateway = sys.gateway(JWT_SECRET)
        await sys.start("profile", "feed", "notification")
        gateway.start()
        yield sys
    finally:
        sys.stop()


async def _ok(call: Any, what: str) -> dict:
    """A write that succeeds once feed knows the people involved (bounded retries)."""

    async def attempt() -> dict | None:
        resp = await call()
        if resp.status_code in (404, 422):  # a person not yet in feed's replica
            return None
        assert resp.status_code in (200, 201, 204), resp.text
        return resp.json() if resp.content else {"ok": True}

    return await eventually(attempt, within=60, what=what)  # type: ignore[return-value]


async def test_reactions_and_replies_group_and_community_notices_follow_access(
    grouped_system: System, unique: str
) -> None:
    sys = grouped_system
    async with testing.service_channel(sys.processes["profile"].grpc_address) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        ana, bo, cy, dee = [
            await profile.CreatePerson(
                pb.CreatePersonRequest(handle=f"{n.lower()}g{unique}", display_name=n)
            )
            for n in ("Ana", "Bo", "Cy", "Dee")
        ]
    person_topic = f"{sys.topic_prefix}hallway.profile.person.v1"
    for name in ("feed", "notification"):
        port = sys.processes[name].metrics_port
        await eventually(
            lambda port=port: (
                metric(port, "hallway_consumer_processed_total", topic=person_topic) >= 4
            ),
            within=60,
            what=f"{name} consumed the four people",
        )
    gateway = f"http://127.0.0.1:{sys.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway, timeout=15) as client:

        async def inbox(who: pb.Person) -> list[dict]:
            resp = await client.get("/api/v1/notifications", headers=_mint(who))
            assert resp.status_code == 200, resp.text
            return resp.json()["items"]

        async def has(who: pb.Person, pick: Any, what: str) -> dict:
            async def found() -> dict | None:
                return next((n for n in await inbox(who) if pick(n)), None)

            return await eventually(found, within=60, what=what)  # type: ignore[return-value]

        name = f"Design guild {unique}"
        resp = await client.post(
            "/api/v1/communities",
            headers=_mint(ana),
            json={"name": name, "visibility": "private"},
        )
        assert resp.status_code == 201, resp.text
        guild = resp.json()["id"]
        members = f"/api/v1/communities/{guild}/members"

        # Bo is invited and accepts; Cy asks and is approved; Dee is invited and accepts.
        for who in (bo, dee):
            await _ok(
                lambda who=who: client.post(
                    members, headers=_mint(ana), json={"person_id": who.id}
                ),
                "invitation",
            )
        invite = await has(bo, lambda n: n["kind"] == "community_invite", "Bo's invitation")
        assert invite["community_id"] == guild and invite["community_name"] == name
        assert invite["actor"]["display_name"] == "Ana"
        for who in (bo, dee):
            await _ok(
                lambda who=who: client.post(
                    f"/api/v1/communities/{guild}/join", headers=_mint(who)
                ),
                "accepting",
            )
        await _ok(
            lambda: client.post(f"/api/v1/communities/{guild}/join", headers=_mint(cy)), "request"
        )
        request = await has(ana, lambda n: n["kind"] == "join_request", "Ana hears of Cy's request")
        assert request["actor_id"] == cy.id and request["community_name"] == name
        await _ok(lambda: client.post(members, headers=_mint(ana), json={"person_id": cy.id}), "ok")
        await has(cy, lambda n: n["kind"] == "request_approved", "Cy hears of the approval")

        post = await _ok(
            lambda: client.post(
                "/api/v1/posts",
                headers={**_mint(ana), "Idempotency-Key": f"g-{unique}"},
                json={"text": f"Guild kickoff {unique}", "community_id": guild},
            ),
            "Ana's post in the guild",
        )
        for who in (bo, cy, dee):
            await _ok(
                lambda who=who: client.put(
                    f"/api/v1/posts/{post['id']}/reactions/like", headers=_mint(who)
                ),
                "a reaction",
            )
        await _ok(
            lambda: client.put(
                f"/api/v1/posts/{post['id']}/reactions/celebrate", headers=_mint(bo)
            ),
            "Bo reacting twice",
        )
        group = await has(
            ana,
            lambda n: n["kind"] == "reaction" and n["actor_count"] == 3,
            "one reaction notification counting three people",
        )
        assert group["post_id"] == post["id"] and group["community_name"] == name
        assert [n["kind"] for n in await inbox(ana)].count("reaction") == 1

        comments = []
        for who, text in ((bo, "count me in"), (cy, "me too")):
            comments.append(
                await _ok(
                    lambda who=who, text=text: client.post(
                        f"/api/v1/posts/{post['id']}/comments",
                        headers=_mint(who),
                        json={"text": text},
                    ),
                    "a comment",
                )
            )
        replies = await has(
            ana,
            lambda n: n["kind"] == "reply" and n["actor_count"] == 2,
            "one reply notification counting two people",
        )
        assert replies["actor_id"] == cy.id and replies["snippet"] == "me too"
        assert replies["comment_id"] == comments[1]["id"]

        # Cy deletes his comment: the group shows Bo's.
        resp = await client.delete(f"/api/v1/comments/{comments[1]['id']}", headers=_mint(cy))
        assert resp.status_code == 204, resp.text
        left = await has(
            ana,
            lambda n: n["kind"] == "reply" and n["actor_count"] == 1,
            "the reply group without Cy's comment",
        )
        assert left["actor_id"] == bo.id and left["snippet"] == "count me in"

        # Bo leaves the private guild: what he held about it goes.
        assert any(n["community_id"] == guild for n in await inbox(bo))
        resp = await client.delete(f"{members}/{bo.id}", headers=_mint(bo))
        assert resp.status_code == 204, resp.text

        async def bo_cleared() -> bool:
            return not any(n.get("community_id") == guild for n in await inbox(bo))

        await eventually(bo_cleared, within=60, what="Bo's guild notifications gone")
