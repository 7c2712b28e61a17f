"""An integration team's view: a generic Kafka consumer that knows only contracts/.

It reads the AsyncAPI documents (addresses, message headers, keys, payload schemas),
subscribes to every channel a service publishes with a consumer group of its own,
watches a journey driven through the gateway, and validates every record it gets:
each must match exactly one message of its channel. Then a second new group loads
the compacted state topics from offset 0 and must rebuild people, follow edges and
posts exactly as the services hold them, deletions and withdrawals included.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from jsonschema import Draft7Validator

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually

pytestmark = pytest.mark.e2e

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi"


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def published_channels() -> dict[str, list[dict[str, Any]]]:
    """Topic address -> its messages, for every channel some service sends to."""
    channels: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(CONTRACTS.glob("*.json")):
        doc = json.loads(path.read_text())
        for op in doc["operations"].values():
            if op["action"] != "send":
                continue
            channel = _resolve(doc, op["channel"]["$ref"])
            channels[channel["address"]] = [
                _resolve(doc, _resolve(doc, m["$ref"])["$ref"])
                if "$ref" in _resolve(doc, m["$ref"])
                else _resolve(doc, m["$ref"])
                for m in op["messages"]
            ]
    return channels


def _payload_schema(message: dict[str, Any]) -> dict[str, Any]:
    payload = message["payload"]
    return payload["schema"] if "schemaFormat" in payload else payload


def matches(message: dict[str, Any], key: str, headers: dict[str, str], value: Any) -> bool:
    """Whether a record is this message: headers, key and payload all validate."""
    key_schema = message["bindings"]["kafka"]["key"]
    for schema, instance in (
        (message["headers"], headers),
        (key_schema, key),
        (_payload_schema(message), value),
    ):
        if any(True for _ in Draft7Validator(schema).iter_errors(instance)):
            return False
    return True


def check_envelope(key: str, headers: dict[str, str], value: Any) -> None:
    """What the schemas name as formats, checked: absolute source, ce_time, ids, subject."""
    assert urlparse(headers["ce_source"]).scheme, f"ce_source {headers['ce_source']!r} is relative"
    assert headers.get("ce_subject") == key, "ce_subject is the record key"
    uuid.UUID(headers["ce_id"])
    when = datetime.fromisoformat(headers["ce_time"])
    if value is not None:
        assert when == datetime.fromisoformat(value["occurred_at"]), "ce_time is occurred_at"
        assert value["type"] == headers["ce_type"]


class GenericConsumer:
    """Subscribes to every published channel (under this deployment's topic prefix)."""

    def __init__(self, prefix: str, channels: dict[str, list[dict[str, Any]]]) -> None:
        self.prefix = prefix
        self.channels = channels
        self.seen: Counter[str] = Counter()
        self.problems: list[str] = []
        self.consumer = AIOKafkaConsumer(
            *[prefix + address for address in channels],
            bootstrap_servers=testing.KAFKA,
            group_id=f"integrator-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=1000,
        )

    async def run(self) -> None:
        await self.consumer.start()
        try:
            async for record in self.consumer:
                self.check(record)
        finally:
            await self.consumer.stop()

    def check(self, record: Any) -> None:
        address = record.topic.removeprefix(self.prefix)
        headers = {k: v.decode() for k, v in record.headers}
        value = None if record.value is None else json.loads(record.value)
        key = record.key.decode()
        found = [m for m in self.channels[address] if matches(m, key, headers, value)]
        if len(found) != 1:
            self.problems.append(
                f"{address} {headers.get('ce_type')} key={key}: matched "
                f"{[m['name'] for m in found]} (value {value!r})"
            )
            return
        try:
            check_envelope(key, headers, value)
        except AssertionError as exc:
            self.problems.append(f"{address} {headers['ce_type']}: {exc}")
            return
        self.seen[found[0]["name"] + (" (tombstone)" if value is None else "")] += 1


def _profile(system: System) -> Any:
    """A channel to profile acting as HR/IT (the bootstrap administrator)."""
    return testing.service_channel(system.processes["profile"].grpc_address)


async def journey(system: System, mint: Any, create_post: Any, unique: str) -> dict[str, Any]:
    """Every kind of change, through the gateway (and HR/IT's gRPC for provisioning)."""
    async with _profile(system) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        ann, bob, cat = [
            await profile.CreatePerson(
                pb.CreatePersonRequest(
                    handle=f"{n}{unique}", display_name=n.title(), email=f"{n}{unique}@example.com"
                )
            )
            for n in ("ann", "bob", "cat")
        ]
    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"

    def auth(p: pb.Person) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(p.id, p.handle)}"}

    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        r = await client.patch(f"/api/v1/people/{bob.id}", headers=auth(bob), json={"title": "Dev"})
        assert r.status_code == 200, r.text
        for followee in (bob, cat):
            r = await client.post(f"/api/v1/people/{followee.id}/follow", headers=auth(ann))
            assert r.status_code == 200, r.text
        kept = await create_post(client, auth(bob), f"hello @{cat.handle}")
        gone = await create_post(client, auth(bob), "secret")
        r = await client.delete(f"/api/v1/people/{bob.id}/follow", headers=auth(ann))
        assert r.status_code == 200, r.text
        r = await client.delete(f"/api/v1/posts/{gone['id']}", headers=auth(bob))
        assert r.status_code == 204, r.text
        withdrawn = await _community_journey(client, auth, (ann, bob, cat), unique)
    async with _profile(system) as ch:  # HR/IT erases cat
        await pb_grpc.ProfileServiceStub(ch).RemovePerson(
            pb.RemovePersonRequest(id=cat.id, erase=True)
        )
    return {
        "people": (ann, bob, cat),
        "kept": kept["id"],
        "gone": gone["id"],
        "withdrawn": withdrawn,
    }


async def _community_journey(
    client: httpx.AsyncClient, auth: Any, people: tuple[pb.Person, ...], unique: str
) -> dict[str, str]:
    """A public community's life: created, joined, a post with its conversation, a
    role, a leave, then narrowed to private (post, conversation and members
    withdrawn), left, and narrowed to secret (removed)."""
    ann, bob, cat = people

    async def ok(resp: Any, status: int = 200) -> dict:
        r = await resp
        assert r.status_code == status, r.text
        return r.json() if r.content else {}

    c = await ok(
        client.post("/api/v1/communities", headers=auth(ann), json={"name": f"Guild {unique}"}),
        201,
    )
    base = f"/api/v1/communities/{c['id']}"
    for person in (bob, cat):
        await ok(client.post(f"{base}/join", headers=auth(person)))
    post = await ok(
        client.post(
            "/api/v1/posts", headers=auth(bob), json={"text": "guild news", "community_id": c["id"]}
        ),
        201,
    )
    await ok(client.patch(f"{base}/members/{bob.id}", headers=auth(ann), json={"role": "admin"}))
    # A conversation under the post: a comment, a reply, an edit, a deleted reply,
    # reactions given and taken back (and the notices they cause).
    comments = f"/api/v1/posts/{post['id']}/comments"
    first = await ok(client.post(comments, headers=auth(ann), json={"text": "nice"}), 201)
    reply = {"text": f"thanks @{ann.handle}", "parent_id": first["id"]}
    second = await ok(client.post(comments, headers=auth(cat), json=reply), 201)
    await ok(
        client.patch(f"/api/v1/comments/{first['id']}", headers=auth(ann), json={"text": "great"})
    )
    await ok(client.delete(f"/api/v1/comments/{second['id']}", headers=auth(cat)), 204)
    reactions = f"/api/v1/posts/{post['id']}/reactions"
    await ok(client.put(f"{reactions}/like", headers=auth(ann)))
    await ok(client.delete(f"{reactions}/like", headers=auth(ann)))
    await ok(client.put(f"{reactions}/celebrate", headers=auth(cat)))
    await ok(client.delete(f"{base}/members/{cat.id}", headers=auth(cat)), 204)
    await ok(client.patch(base, headers=auth(ann), json={"description": "makers"}))
    await ok(client.patch(base, headers=auth(ann), json={"visibility": "private"}))
    # Leaving a private community revokes what was said to the leaver about it.
    await ok(client.delete(f"{base}/members/{bob.id}", headers=auth(bob)), 204)
    await ok(client.patch(base, headers=auth(ann), json={"visibility": "secret"}))
    return {"community": c["id"], "post": post["id"]}


async def test_a_consumer_written_from_the_asyncapi_documents_alone(
    system: System, unique: str, mint: Any, create_post: Any
) -> None:
    channels = published_channels()
    assert all(re.fullmatch(r"[a-z0-9._-]+", address) for address in channels)
    generic = GenericConsumer(system.topic_prefix, channels)
    task = asyncio.create_task(generic.run())
    try:
        await journey(system, mint, create_post, unique)
        everything = {
            m["name"] + (" (tombstone)" if m["payload"].get("type") == "null" else "")
            for messages in channels.values()
            for m in messages
        }
        await eventually(
            lambda: set(generic.seen) >= everything or bool(generic.problems),
            within=60,
            what="a record of every message type",
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    print(f"\ngeneric consumer: {sum(generic.seen.values())} records valid;", dict(generic.seen))
    assert generic.problems == []
    assert set(generic.seen) == everything


async def _state(prefix: str, topic: str) -> dict[str, Any]:
    """A new consumer's view of a state topic read from offset 0: key -> value."""
    return {k: json.loads(v) for k, v in (await testing.topic_state(prefix + topic)).items()}


async def test_the_state_topics_rebuild_people_follows_and_posts_exactly(
    system: System, unique: str, mint: Any, create_post: Any
) -> None:
    done = await journey(system, mint, create_post, f"s{unique}")
    ann, bob, cat = done["people"]
    prefix = system.topic_prefix

    async def loaded() -> dict[str, dict[str, Any]] | None:
        people = await _state(prefix, "hallway.profile.person.state.v1")
        follows = await _state(prefix, "hallway.profile.follow.state.v1")
        posts = await _state(prefix, "hallway.feed.post.state.v1")
        ready = (
            bob.id in people
            and cat.id not in people
            and f"{ann.id}:{bob.id}" not in follows
            and f"{ann.id}:{cat.id}" not in follows
            and done["gone"] not in posts
            and done["kept"] in posts
        )
        return {"people": people, "follows": follows, "posts": posts} if ready else None

    state = await eventually(loaded, within=60, what="the state topics caught up")

    async with _profile(system) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        directory: dict[str, pb.Person] = {}
        token = ""
        while True:
            page = await profile.ListPeople(pb.ListPeopleRequest(page_size=200, page_token=token))
            directory |= {p.id: p for p in page.people}
            if not (token := page.next_page_token):
                break
        edges = set()
        for person_id in directory:
            following = await profile.ListFollowing(
                pb.ListFollowsRequest(person_id=person_id, page_size=200)
            )
            edges |= {f"{person_id}:{p.id}" for p in following.people}
    assert set(state["people"]) == set(directory), "exactly the active people"
    for person_id, value in state["people"].items():
        held = directory[person_id]
        assert (value["handle"], value["display_name"], value["version"]) == (
            held.handle,
            held.display_name,
            held.version,
        )
    assert set(state["follows"]) == edges, "exactly the existing follow edges"
    assert cat.id not in state["people"], "the erased person is a tombstone"
    assert not [e for e in state["follows"] if cat.id in e], "their follow edges too"

    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        for post_id, value in state["posts"].items():
            r = await client.get(
                f"/api/v1/posts/{post_id}",
                headers={"Authorization": f"Bearer {mint(ann.id, ann.handle)}"},
            )
            assert r.status_code == 200, f"{post_id} is on the state topic but not live"
            assert r.json()["text"] == value["text"]
    assert done["gone"] not in state["posts"]
    assert done["withdrawn"]["post"] not in state["posts"], "withdrawn from the broad topic"
    communities = await _state(prefix, "hallway.feed.community.state.v1")
    memberships = await _state(prefix, "hallway.feed.membership.state.v1")
    secret = done["withdrawn"]["community"]
    assert secret not in communities, "a community made secret is a tombstone"
    assert not [k for k in memberships if k.startswith(secret)], "and so are its members"
