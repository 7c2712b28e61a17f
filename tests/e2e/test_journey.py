"""One user journey through the gateway, on real Kafka, PostgreSQL and OpenSearch.

A follows B; B posts mentioning C and a #topic; the post reaches A's home
timeline, A finds it by search, C is notified in the list and on the live
stream; B deletes it and it leaves timeline and search. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually, metric

pytestmark = pytest.mark.e2e


async def _provision(system: System, handle: str) -> pb.Person:
    """People come from HR provisioning (profile's API), not self sign-up."""
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        return await pb_grpc.ProfileServiceStub(ch).CreatePerson(
            pb.CreatePersonRequest(handle=handle, display_name=handle.title())
        )


async def _sse_events(client: httpx.AsyncClient, token: str, out: asyncio.Queue) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with client.stream("GET", "/api/v1/notifications/stream", headers=headers) as resp:
        assert resp.status_code == 200, await resp.aread()
        event = None
        async for line in resp.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event:
                await out.put((event, json.loads(line.split(":", 1)[1])))
                event = None


async def test_follow_post_search_notify_delete(system: System, unique: str, mint) -> None:
    a = await _provision(system, f"ann{unique}")
    b = await _provision(system, f"bob{unique}")
    c = await _provision(system, f"cat{unique}")
    tokens = {p.id: mint(p.id, p.handle) for p in (a, b, c)}

    def auth(person: pb.Person) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[person.id]}"}

    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    feed_metrics = system.processes["feed"].metrics_port
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        resp = await client.post(f"/api/v1/people/{b.id}/follow", headers=auth(a))
        assert resp.status_code in (200, 201, 204), resp.text

        # Feed must know the three people and the follow before B posts; its consumer
        # metrics say when (black-box: no peeking into feed's database).
        await eventually(
            lambda: (
                metric(
                    feed_metrics,
                    "hallway_consumer_processed_total",
                    topic=f"{system.topic_prefix}hallway.profile.follow.v1",
                )
                >= 1
                and metric(
                    feed_metrics,
                    "hallway_consumer_processed_total",
                    topic=f"{system.topic_prefix}hallway.profile.person.v1",
                )
                >= 3
            ),
            within=60,
            what="feed replicated people and follows",
        )

        stream: asyncio.Queue = asyncio.Queue()
        listener = asyncio.create_task(_sse_events(client, tokens[c.id], stream))
        try:
            first = await asyncio.wait_for(stream.get(), 15)
            assert first[0] == "unread"

            topic = f"topic{unique}"
            resp = await client.post(
                "/api/v1/posts",
                headers={**auth(b), "Idempotency-Key": f"k-{unique}"},
                json={"text": f"Shipping the thing with @{c.handle} #{topic}"},
            )
            assert resp.status_code == 201, resp.text
            post = resp.json()
            assert [m["person_id"] for m in post["mentions"]] == [c.id]

            async def in_home() -> bool:
                r = await client.get("/api/v1/timeline/home", headers=auth(a))
                return post["id"] in [p["id"] for p in r.json()["items"]]

            await eventually(in_home, within=60, what="post in A's home timeline")

            async def found(query: str) -> bool:
                r = await client.get("/api/v1/search/posts", params={"q": query}, headers=auth(a))
                assert r.status_code == 200, r.text
                return post["id"] in [h["post_id"] for h in r.json()["items"]]

            await eventually(lambda: found(f"#{topic}"), within=60, what="post found by #tag")
            assert await found("shipping")

            async def notified() -> bool:
                r = await client.get("/api/v1/notifications", headers=auth(c))
                return any(n.get("post_id") == post["id"] for n in r.json()["items"])

            await eventually(notified, within=60, what="C's notification list")
            _, live = await asyncio.wait_for(_next_notification(stream), 30)
            assert live["notification"]["post_id"] == post["id"]
        finally:
            listener.cancel()

        resp = await client.delete(f"/api/v1/posts/{post['id']}", headers=auth(b))
        assert resp.status_code in (200, 204), resp.text

        async def gone() -> bool:
            r = await client.get("/api/v1/timeline/home", headers=auth(a))
            s = await client.get("/api/v1/search/posts", params={"q": f"#{topic}"}, headers=auth(a))
            return post["id"] not in [p["id"] for p in r.json()["items"]] and post["id"] not in [
                h["post_id"] for h in s.json()["items"]
            ]

        await eventually(gone, within=60, what="deleted post left timeline and search")
        assert (await client.get(f"/api/v1/posts/{post['id']}", headers=auth(a))).status_code == 404


async def _next_notification(stream: asyncio.Queue) -> tuple[str, dict]:
    while True:
        kind, data = await stream.get()
        if kind == "notification":
            return kind, data


async def test_a_mention_mails_the_address_profile_holds(
    system: System, unique: str, mint, create_post
) -> None:
    """The e-mail set by HR/IT in profile reaches notification through the person topic,
    and a mention there leaves as mail through the real SMTP sink."""
    address = f"mail{unique}@example.com"
    notification_metrics = system.processes["notification"].metrics_port
    topic = f"{system.topic_prefix}hallway.profile.person.v1"
    consumed = metric(notification_metrics, "hallway_consumer_processed_total", topic=topic)
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        dan = await profile.CreatePerson(
            pb.CreatePersonRequest(handle=f"dan{unique}", display_name="Dan", email=address)
        )
        eve = await profile.CreatePerson(
            pb.CreatePersonRequest(handle=f"eve{unique}", display_name="Eve")
        )
    # The person and post topics are not ordered with each other: a real mention comes
    # long after the person joined; here, wait until notification has both people.
    await eventually(
        lambda: (
            metric(notification_metrics, "hallway_consumer_processed_total", topic=topic)
            >= consumed + 2
        ),
        within=60,
        what="notification consumed the two people",
    )
    marker = f"mailmarker{unique}"

    def mail() -> str | None:
        for path in sorted((testing.SMTP_MAILDIR / "new").glob("*.eml"), reverse=True):
            text = path.read_text(errors="replace")
            if marker in text:
                return text
        return None

    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        headers = {"Authorization": f"Bearer {mint(eve.id, eve.handle)}"}
        await create_post(client, headers, f"@{dan.handle} {marker}")
    sent = await eventually(mail, within=60, what="the mention mailed to the profile address")
    assert f"X-Envelope-To: {address}" in sent
