"""The e-mail digest through the gateway on the real stack, and its one-click unsubscribe.

A system of its own (profile, feed, notification, gateway) whose notification service
has digest periods of seconds and puts this gateway's URL in its links: Dan chooses a
daily digest; Eve mentions and follows him; digest e-mail listing them (one, or two
when a period ends in between) reaches the SMTP sink with an RFC 8058
List-Unsubscribe link; GET on it changes nothing, POST on it (the one-click form)
turns the digest off; after more notifications and several periods no further digest
arrives. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage

import httpx
import jwt
import pytest

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually, metric

pytestmark = pytest.mark.e2e

JWT_SECRET = "e2e-digest-secret-not-for-production-012345"
PERIOD_SECONDS = 4


def _mint(person: pb.Person) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": person.id, "handle": person.handle, "iss": "hallway", "iat": now}
    token = jwt.encode({**claims, "exp": now + 900}, JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def digest_system(topic_prefix: str, index_prefix: str) -> AsyncIterator[System]:
    sys = System(topic_prefix + "digest.", index_prefix + "-digest")
    try:
        for name in ("profile", "feed"):
            await sys.prepare(name)
        notification = await sys.prepare(
            "notification",
            digest_daily_seconds=str(PERIOD_SECONDS),
            digest_poll_seconds="0.5",
        )
        gateway = sys.gateway(JWT_SECRET)
        # Links in e-mails lead to this gateway.
        notification.env["HALLWAY_PUBLIC_URL"] = f"http://127.0.0.1:{gateway.http_port}"
        await sys.start("profile", "feed", "notification")
        gateway.start()
        yield sys
    finally:
        sys.stop()


def _mails(address: str, subject: str) -> list[EmailMessage]:
    found = []
    for path in sorted((testing.SMTP_MAILDIR / "new").glob("*.eml")):
        text = path.read_text(errors="replace")
        if f"X-Envelope-To: {address}" in text:
            msg = email.message_from_string(text, policy=email.policy.default)
            if str(msg["Subject"] or "").startswith(subject):
                found.append(msg)  # type: ignore[arg-type]
    return found


async def test_digest_arrives_and_its_one_click_link_turns_it_off(
    digest_system: System, unique: str, create_post
) -> None:
    sys = digest_system
    address = f"digest{unique}@example.com"
    async with testing.service_channel(sys.processes["profile"].grpc_address) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        dan = await profile.CreatePerson(
            pb.CreatePersonRequest(handle=f"dand{unique}", display_name="Dan", email=address)
        )
        eve = await profile.CreatePerson(
            pb.CreatePersonRequest(handle=f"eved{unique}", display_name="Eve")
        )
    person_topic = f"{sys.topic_prefix}hallway.profile.person.v1"
    for name in ("feed", "notification"):  # both people known before Eve mentions Dan
        port = sys.processes[name].metrics_port
        await eventually(
            lambda port=port: (
                metric(port, "hallway_consumer_processed_total", topic=person_topic) >= 2
            ),
            within=60,
            what=f"{name} consumed the two people",
        )

    gateway = f"http://127.0.0.1:{sys.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway, timeout=15) as client:
        # Dan: a daily digest (seconds here), and no immediate mail about followers.
        resp = await client.put(
            "/api/v1/me/notification-preferences",
            headers=_mint(dan),
            json={"digest": "daily", "kinds": {"new_follower": {"email": False}}},
        )
        assert resp.status_code == 200, resp.text
        prefs = resp.json()
        assert prefs["digest"] == "daily"
        assert prefs["kinds"]["mention"] == {"in_app": True, "email": True}
        assert prefs["kinds"]["new_follower"] == {"in_app": True, "email": False}

        marker = f"digestmarker{unique}"
        post = await create_post(client, _mint(eve), f"@{dan.handle} {marker}")
        assert [m["person_id"] for m in post["mentions"]] == [dan.id]
        resp = await client.post(f"/api/v1/people/{dan.id}/follow", headers=_mint(eve))
        assert resp.status_code == 200, resp.text

        # The immediate mention e-mail carries its own one-click link too.
        mention = await eventually(
            lambda: _mails(address, "You were mentioned"), within=60, what="mention e-mail"
        )
        assert mention[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # type: ignore[index]

        def digests_with_both() -> list[EmailMessage]:
            """Dan's digests once they list both (one period may end between the two)."""
            found = _mails(address, "Your Hallway digest")
            text = "".join(m.get_content() for m in found)
            return found if marker in text and "following you" in text else []

        digests = await eventually(
            digests_with_both, within=60 + 3 * PERIOD_SECONDS, what="digests listing both"
        )
        msg = digests[0]  # type: ignore[index]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(r"<(.+)>", str(msg["List-Unsubscribe"]))
        assert link and link.group(1).startswith(f"{gateway}/api/v1/unsubscribe?token=")
        url = link.group(1).removeprefix(gateway)
        assert url in msg.get_content()  # the same link in the footer, for people

        # GET shows what the link does and changes nothing (mail scanners open links).
        page = await client.get(url)
        assert page.status_code == 200 and "digest" in page.text
        assert page.headers["content-type"].startswith("text/html")
        mine = await client.get("/api/v1/me/notification-preferences", headers=_mint(dan))
        assert mine.json()["digest"] == "daily"

        # A forged link is a 404 and changes nothing either.
        forged = await client.post(url[:-4] + "AAAA", content=b"List-Unsubscribe=One-Click")
        assert forged.status_code == 404
        assert forged.headers["content-type"].startswith("application/problem+json")

        # RFC 8058 one-click: a POST with List-Unsubscribe=One-Click, no sign-in.
        done = await client.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200, done.text
        assert done.json() == {"kind": "digest", "channel": "email", "unsubscribed": True}
        mine = await client.get("/api/v1/me/notification-preferences", headers=_mint(dan))
        assert mine.json()["digest"] == "off"
        assert mine.json()["kinds"]["mention"]["email"] is True  # only the digest stopped

        # More notifications, several periods: no further digest.
        sent = len(_mails(address, "Your Hallway digest"))
        await create_post(client, _mint(eve), f"@{dan.handle} again {marker}")

        async def three() -> bool:
            r = await client.get("/api/v1/notifications", headers=_mint(dan))
            return r.json()["unread_count"] >= 3

        await eventually(three, within=60, what="the third notification")
        await asyncio.sleep(3 * PERIOD_SECONDS)
        assert len(_mails(address, "Your Hallway digest")) == sent
