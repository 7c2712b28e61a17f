"""The privacy suite: each surface x community visibility x caller, on the real system.

One community per visibility, each with the same five callers:

- ``non_member``: a colleague with no tie to the community;
- ``removed_member``: was a member when the post was made, then removed;
- ``member``: an active member;
- ``community_admin``: the community's owner (who wrote the post);
- ``network_admin``: a person with the network admin role, not a member. Being an
  administrator of the network gives no reading right over a community's content.

The table ``EXPECTED`` is the contract: for each surface and visibility, who sees the
community's post (or the community itself). Every cell is checked both ways: those
listed must see it, everyone else must not. Surfaces that are fed by events (search,
notifications, e-mail) are checked for absence only after a later control post has
reached that caller there, so "absent" never means "not there yet".

A second test narrows a public community to private and checks that its post leaves
every surface for non-members within the replica lag, search and the broad topics
included, while members keep it. Others check the error answers about a secret
community byte for byte against made-up ids, the raw broad topics, and the live
notification streams.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually

pytestmark = pytest.mark.e2e

CALLERS = ("non_member", "removed_member", "member", "community_admin", "network_admin")
VISIBILITIES = ("public", "private", "secret")
EVERYONE = frozenset(CALLERS)
MEMBERS = frozenset({"member", "community_admin"})
NOBODY: frozenset[str] = frozenset()
# Mentioned in the post: everyone but its author.
MENTIONED = EVERYONE - {"community_admin"}


def _all(who: frozenset[str]) -> dict[str, frozenset[str]]:
    return dict.fromkeys(VISIBILITIES, who)


# surface -> visibility -> who sees the community's post (or the community itself)
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "community page": {"public": EVERYONE, "private": EVERYONE, "secret": MEMBERS},
    "directory": {"public": EVERYONE, "private": EVERYONE, "secret": MEMBERS},
    "member count": {"public": EVERYONE, "private": EVERYONE, "secret": MEMBERS},
    "member list": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    "community feed": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    "post": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    "author's timeline": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    "comments": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    "reactions": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    "topic page": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    # Nobody follows the author here: the post reaches home timelines by membership.
    "home timeline": _all(MEMBERS),
    # Restricted content is not indexed (it never leaves feed but as notices): the suite
    # pins that no one reads it there; members searching it is open work.
    "search": {"public": EVERYONE, "private": NOBODY, "secret": NOBODY},
    "search: comments": {"public": EVERYONE, "private": NOBODY, "secret": NOBODY},
    # A private community is discoverable by name and description; a secret one is not,
    # not even for its members (search holds only what everyone may read).
    "search: communities": {"public": EVERYONE, "private": EVERYONE, "secret": NOBODY},
    # The post mentions everyone but its author, who hears of the member's comment: in a
    # restricted community only readers are told, and the removed member's mention is
    # revoked with their membership.
    "notifications": {"public": EVERYONE, "private": MEMBERS, "secret": MEMBERS},
    # E-mail goes for mentions only by default (replies are in-app).
    "e-mail": {"public": MENTIONED, "private": {"member"}, "secret": {"member"}},
}
# Cells that may go either way, and why: a mention e-mailed while the person was still
# a member cannot be unsent by the later removal.
MAY: dict[tuple[str, str], frozenset[str]] = {
    ("e-mail", "private"): frozenset({"removed_member"}),
    ("e-mail", "secret"): frozenset({"removed_member"}),
}
# How long what a service holds may lag feed's decision (the published replica lag).
REPLICA_LAG = 30.0


@dataclass
class Person:
    id: str
    handle: str
    email: str
    headers: dict[str, str]


@dataclass
class World:
    """One community of one visibility, its post, and the control post after it."""

    visibility: str
    community_id: str
    name: str
    marker: str
    post_id: str
    control: str
    seen: dict[str, set[str]] = field(default_factory=dict)  # surface -> callers


@dataclass
class Cast:
    people: dict[str, Person]
    bystander: Person  # writes the control posts
    client: httpx.AsyncClient
    worlds: dict[str, World] = field(default_factory=dict)


async def _post(client: httpx.AsyncClient, who: Person, text: str, community: str = "") -> dict:
    """A post, once feed knows the author (retried with one Idempotency-Key)."""
    key = {"Idempotency-Key": f"privacy-{uuid.uuid4().hex}"}
    body: dict[str, Any] = {"text": text}
    if community:
        body["community_id"] = community

    async def posted() -> dict | None:
        r = await client.post("/api/v1/posts", headers={**who.headers, **key}, json=body)
        if r.status_code == 422:
            return None
        assert r.status_code == 201, r.text
        return r.json()

    return await eventually(posted, within=60, what="feed knows the author")  # type: ignore[return-value]


async def _ok(resp: Any, *codes: int) -> dict:
    r = await resp
    assert r.status_code in (codes or (200,)), r.text
    return r.json() if r.content else {}


async def _build(cast: Cast, visibility: str) -> World:
    client, p = cast.client, cast.people
    run = uuid.uuid4().hex[:8]
    marker = f"privmark{visibility}{run}"
    owner = p["community_admin"]

    async def created() -> dict | None:
        r = await client.post(
            "/api/v1/communities",
            headers=owner.headers,
            json={
                "name": f"Privacy {visibility} {run}",
                "description": f"The {visibility} community of the privacy suite",
                "visibility": visibility,
            },
        )
        assert r.status_code == 201, r.text
        return r.json()

    community = await created()
    assert community is not None
    cid = community["id"]
    base = f"/api/v1/communities/{cid}"
    for name in ("member", "removed_member"):
        who = p[name]
        if visibility == "public":
            await _ok(client.post(f"{base}/join", headers=who.headers))
        elif visibility == "private":
            joined = await _ok(client.post(f"{base}/join", headers=who.headers))
            assert joined["membership"]["state"] == "requested"
            await _ok(
                client.post(f"{base}/members", headers=owner.headers, json={"person_id": who.id})
            )
        else:
            await _ok(
                client.post(f"{base}/members", headers=owner.headers, json={"person_id": who.id})
            )
            await _ok(client.post(f"{base}/join", headers=who.headers))
    mentions = " ".join(f"@{p[n].handle}" for n in sorted(MENTIONED))
    post = await _post(client, owner, f"{marker} {mentions} #{marker}", cid)
    comment = {"text": f"comment on {marker}"}
    await _ok(
        client.post(
            f"/api/v1/posts/{post['id']}/comments", headers=p["member"].headers, json=comment
        ),
        201,
    )
    await _ok(client.put(f"/api/v1/posts/{post['id']}/reactions/like", headers=p["member"].headers))
    await _ok(client.delete(f"{base}/members/{p['removed_member'].id}", headers=owner.headers), 204)
    # The barrier for surfaces fed by events: posted after, by someone outside the
    # cast, mentioning all five.
    control = f"privcontrol{visibility}{run}"
    everyone = " ".join(f"@{p[n].handle}" for n in CALLERS)
    await _post(client, cast.bystander, f"{control} {everyone}")
    return World(visibility, cid, community["name"], marker, post["id"], control)


@pytest.fixture(scope="module")
async def cast(system: System, mint: Callable[..., str]) -> Cast:
    run = testing.RUN_ID
    people: dict[str, Person] = {}
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        for name in (*CALLERS, "bystander"):
            handle = f"{name.replace('_', '')[:12]}{run}"[:32]
            email = f"{handle}@example.com"
            made = await profile.CreatePerson(
                pb.CreatePersonRequest(handle=handle, display_name=name.title(), email=email)
            )
            roles = ["admin"] if name == "network_admin" else None
            token = mint(made.id, made.handle, roles)
            people[name] = Person(made.id, made.handle, email, {"Authorization": f"Bearer {token}"})
    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway, timeout=15) as client:
        bystander = people.pop("bystander")
        c = Cast(people, bystander, client)
        for visibility in VISIBILITIES:
            c.worlds[visibility] = await _build(c, visibility)
        yield c


# Surfaces ------------------------------------------------------------------------------


async def _sees(cast: Cast, surface: str, world: World, who: Person, expected: bool) -> bool:
    client, h = cast.client, who.headers
    base = f"/api/v1/communities/{world.community_id}"

    async def get(url: str, **params: Any) -> httpx.Response:
        return await client.get(url, headers=h, params=params)

    def ids(resp: httpx.Response, key: str = "id") -> set[str]:
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        return {item[key]["id"] if key == "person" else item[key] for item in items}

    if surface == "community page":
        r = await get(base)
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200 and r.json()["name"] == world.name
    if surface == "directory":
        return world.community_id in ids(await get("/api/v1/communities", q=world.name))
    if surface == "member count":
        r = await get(base)
        return r.status_code == 200 and r.json()["member_count"] == 2  # owner + member
    if surface == "member list":
        r = await get(f"{base}/members")
        assert r.status_code in (200, 403, 404), r.text
        return r.status_code == 200 and cast.people["member"].id in {
            m["person"]["id"] for m in r.json()["items"]
        }
    if surface == "community feed":
        r = await get(f"{base}/posts")
        assert r.status_code in (200, 403, 404), r.text
        return r.status_code == 200 and world.post_id in ids(r)
    if surface == "post":
        r = await get(f"/api/v1/posts/{world.post_id}")
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200
    if surface == "author's timeline":
        author = cast.people["community_admin"].id
        return world.post_id in ids(await get(f"/api/v1/people/{author}/posts", limit=100))
    if surface == "comments":
        r = await get(f"/api/v1/posts/{world.post_id}/comments")
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200 and any(world.marker in c["text"] for c in r.json()["items"])
    if surface == "reactions":
        r = await get(f"/api/v1/posts/{world.post_id}/reactions")
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200 and cast.people["member"].id in ids(r, "person")
    if surface == "topic page":
        return world.post_id in ids(await get(f"/api/v1/topics/{world.marker}/posts"))
    if surface == "home timeline":
        return world.post_id in ids(await get("/api/v1/timeline/home", limit=100))
    if surface == "search":
        return await _eventual(
            lambda: _search(cast, who, world.marker),
            lambda: _search(cast, who, world.control),
            expected,
        )
    if surface == "search: comments":
        public = cast.worlds["public"].marker
        return await _eventual(
            lambda: _search(cast, who, world.marker, "comments"),
            lambda: _search(cast, who, public, "comments"),
            expected,
        )
    if surface == "search: communities":
        run, public = world.name.split()[-1], cast.worlds["public"].name.split()[-1]
        return await _eventual(
            lambda: _found_community(cast, who, run, world.community_id),
            lambda: _found_community(cast, who, public, cast.worlds["public"].community_id),
            expected,
        )
    if surface == "notifications":
        return await _eventual(
            lambda: _notified(cast, who, world.marker),
            lambda: _notified(cast, who, world.control),
            expected,
        )
    if surface == "e-mail":
        return await _eventual(
            lambda: _mailed(who, world.marker), lambda: _mailed(who, world.control), expected
        )
    raise AssertionError(surface)


async def _eventual(find: Callable[[], Any], control: Callable[[], Any], expected: bool) -> bool:
    """Seen, on a surface fed by events. Where it is expected: found within the lag.
    Where it is not: still there ``REPLICA_LAG`` seconds after the later control post
    reached the caller (the control reaches every caller everywhere), so a revocation
    gets the published lag to take effect, and "absent" never means "not there yet"."""
    if expected:
        try:
            await eventually(find, within=60, what="expected on this surface")
        except AssertionError:
            return False
        return True
    await eventually(control, within=60, what="the control post")
    try:
        await eventually(
            lambda: _absent(find), within=REPLICA_LAG, what="gone within the replica lag"
        )
    except AssertionError:
        return True
    return False


async def _absent(find: Callable[[], Any]) -> bool:
    return not await find()


async def _search(cast: Cast, who: Person, word: str, what: str = "posts") -> bool:
    r = await cast.client.get(f"/api/v1/search/{what}", headers=who.headers, params={"q": word})
    assert r.status_code == 200, r.text
    return any(word in hit["text"] for hit in r.json()["items"])


async def _found_community(cast: Cast, who: Person, word: str, community_id: str) -> bool:
    r = await cast.client.get("/api/v1/search/communities", headers=who.headers, params={"q": word})
    assert r.status_code == 200, r.text
    return community_id in {hit["community_id"] for hit in r.json()["items"]}


async def _notified(cast: Cast, who: Person, word: str) -> bool:
    r = await cast.client.get("/api/v1/notifications", headers=who.headers, params={"limit": 100})
    assert r.status_code == 200, r.text
    return any(word in (n.get("snippet") or "") for n in r.json()["items"])


async def _mailed(who: Person, word: str) -> bool:
    for path in (testing.SMTP_MAILDIR / "new").glob("*.eml"):
        text = path.read_text(errors="replace")
        if word in text and f"X-Envelope-To: {who.email}" in text:
            return True
    return False


@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("surface", list(EXPECTED))
async def test_surface(cast: Cast, surface: str, visibility: str) -> None:
    world = cast.worlds[visibility]
    want = EXPECTED[surface][visibility]
    either = MAY.get((surface, visibility), frozenset())
    seen = {
        name
        for name in CALLERS
        if name not in either and await _sees(cast, surface, world, cast.people[name], name in want)
    }
    assert seen == set(want), (
        f"{surface} of a {visibility} community: seen by {sorted(seen)}, expected {sorted(want)}"
    )


def _normalised(resp: httpx.Response, *ids: str) -> bytes:
    body = resp.content
    for i in ids:
        body = body.replace(i.encode(), b"<id>")
    return body


@pytest.mark.parametrize("caller", ["non_member", "removed_member", "network_admin"])
async def test_secret_error_answers_match_made_up_ids(cast: Cast, caller: str) -> None:
    """For an outsider, every answer about a secret community and its post is byte-for-
    byte the answer about an id that does not exist."""
    world, who, client = cast.worlds["secret"], cast.people[caller], cast.client
    made_up, made_up_post = str(uuid.uuid4()), str(uuid.uuid4())
    for method, path, body in (
        ("GET", "/api/v1/communities/{c}", None),
        ("GET", "/api/v1/communities/{c}/members", None),
        ("GET", "/api/v1/communities/{c}/posts", None),
        ("POST", "/api/v1/communities/{c}/join", None),
        ("POST", "/api/v1/communities/{c}/members", {"person_id": who.id}),
        ("PATCH", "/api/v1/communities/{c}", {"description": "x"}),
        ("POST", "/api/v1/posts", {"text": "let me in", "community_id": "{c}"}),
        ("GET", "/api/v1/posts/{p}", None),
        ("GET", "/api/v1/posts/{p}/comments", None),
        ("POST", "/api/v1/posts/{p}/comments", {"text": "hello?"}),
        ("GET", "/api/v1/posts/{p}/reactions", None),
        ("PUT", "/api/v1/posts/{p}/reactions/like", None),
    ):
        answers = []
        for c, p in ((world.community_id, world.post_id), (made_up, made_up_post)):
            data = orjson.loads(orjson.dumps(body).replace(b"{c}", c.encode())) if body else None
            url = path.replace("{c}", c).replace("{p}", p)
            r = await client.request(method, url, headers=who.headers, json=data)
            assert r.status_code == 404, (method, url, r.status_code, r.text)
            answers.append(_normalised(r, c, p))
        assert answers[0] == answers[1], f"{method} {path}: {answers}"


async def _broad_records(system: System) -> list[dict]:
    out = []
    for name in ("post", "community", "membership"):
        for topic in (f"hallway.feed.{name}.v1", f"hallway.feed.{name}.state.v1"):
            for record in await testing.topic_records(system.topic_prefix + topic):
                if record.value is not None:
                    out.append(orjson.loads(record.value))
    return out


async def test_broad_topics_carry_only_what_everyone_may_read(system: System, cast: Cast) -> None:
    """Read raw from Kafka, as any integration could: a public community's post,
    members and entry are there; of a private one only the entry; of a secret one
    nothing at all, not even its id."""
    public = cast.worlds["public"]
    records: list[dict] = []

    async def public_there() -> bool:
        records[:] = await _broad_records(system)
        kinds = {r["type"] for r in records if r.get("community_id") == public.community_id}
        return {"hallway.feed.post.created", "hallway.feed.membership.created"} <= kinds

    await eventually(public_there, within=60, what="the public community on the broad topics")
    blob = orjson.dumps(records).decode()
    private, secret = cast.worlds["private"], cast.worlds["secret"]
    assert private.marker not in blob and private.post_id not in blob
    private_kinds = {r["type"] for r in records if r.get("community_id") == private.community_id}
    assert private_kinds <= {"hallway.feed.community.created", "hallway.feed.community.state"}
    assert private_kinds, "the private community's entry is listed for everyone"
    for value in (secret.marker, secret.post_id, secret.community_id, secret.name):
        assert value not in blob


async def test_narrowing_a_public_community_hides_it_everywhere(system: System, cast: Cast) -> None:
    client, p = cast.client, cast.people
    owner, member, outsider = p["community_admin"], p["member"], p["non_member"]
    run = uuid.uuid4().hex[:8]
    marker = f"privnarrow{run}"
    community = await _ok(
        client.post("/api/v1/communities", headers=owner.headers, json={"name": f"Narrow {run}"}),
        201,
    )
    cid = community["id"]
    await _ok(client.post(f"/api/v1/communities/{cid}/join", headers=member.headers))
    post = await _post(client, member, f"{marker} early notes", cid)
    await eventually(lambda: _search(cast, outsider, marker), within=60, what="public post indexed")
    assert (
        await client.get(f"/api/v1/posts/{post['id']}", headers=outsider.headers)
    ).status_code == 200

    narrowed = await _ok(
        client.patch(
            f"/api/v1/communities/{cid}", headers=owner.headers, json={"visibility": "private"}
        )
    )
    assert narrowed["visibility"] == "private"
    # In feed, at once.
    assert (
        await client.get(f"/api/v1/posts/{post['id']}", headers=outsider.headers)
    ).status_code == 404
    feed = await client.get(f"/api/v1/communities/{cid}/posts", headers=outsider.headers)
    assert feed.status_code == 403
    members = await client.get(f"/api/v1/communities/{cid}/members", headers=outsider.headers)
    assert members.status_code == 403
    timeline = await _ok(client.get(f"/api/v1/people/{member.id}/posts", headers=outsider.headers))
    assert post["id"] not in {x["id"] for x in timeline["items"]}
    assert (
        await client.get(f"/api/v1/posts/{post['id']}", headers=member.headers)
    ).status_code == 200
    # Everywhere else within the replica lag.

    async def gone_from_search() -> bool:
        return not await _search(cast, outsider, marker)

    await eventually(gone_from_search, within=60, what="the post gone from search")
    state = await testing.topic_state(system.topic_prefix + "hallway.feed.post.state.v1")
    assert post["id"] not in state
    widened = await client.patch(
        f"/api/v1/communities/{cid}", headers=owner.headers, json={"visibility": "public"}
    )
    assert widened.status_code == 422 and re.search("narrowed", widened.text)


async def _stream(client: httpx.AsyncClient, who: Person, out: list[str]) -> None:
    """Collect the raw `notification` events of one person's live stream."""
    headers = {**who.headers, "Accept": "text/event-stream"}
    async with client.stream("GET", "/api/v1/notifications/stream", headers=headers) as resp:
        assert resp.status_code == 200, await resp.aread()
        event = ""
        async for line in resp.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "notification":
                out.append(line)


async def test_live_streams_carry_restricted_content_to_readers_only(cast: Cast) -> None:
    """A new post in the secret community mentions a member and an outsider: the
    member's live stream gets it, the outsider's never does (a later public mention
    reaching the outsider's stream is the barrier)."""
    client, p = cast.client, cast.people
    world = cast.worlds["secret"]
    streams: dict[str, list[str]] = {"member": [], "non_member": []}
    tasks = [
        asyncio.create_task(_stream(client, p[name], lines)) for name, lines in streams.items()
    ]
    try:
        await asyncio.sleep(1)  # both streams are open (the first event is the unread count)
        marker = f"privlive{uuid.uuid4().hex[:8]}"
        mentions = f"@{p['member'].handle} @{p['non_member'].handle}"
        await _post(client, p["community_admin"], f"{marker} {mentions}", world.community_id)
        barrier = f"privlivebarrier{uuid.uuid4().hex[:8]}"
        await _post(client, cast.bystander, f"{barrier} @{p['non_member'].handle}")

        def arrived(name: str, word: str) -> bool:
            return any(word in line for line in streams[name])

        await eventually(lambda: arrived("member", marker), within=60, what="member's stream")
        await eventually(lambda: arrived("non_member", barrier), within=60, what="barrier")
        assert not arrived("non_member", marker)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
