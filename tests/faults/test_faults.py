"""Fault suite: kill -9 (or freeze) one part of the running system under a steady
write load through the gateway's public API, then check every acknowledged write.

The client behaves like a real one: every write is retried with the same
`Idempotency-Key` until a 2xx comes back, and only then counts as acknowledged.
After recovery each acknowledged post must be readable, in its author's and its
followers' home timelines, in search and in the mentioned person's inbox; each
acknowledged follow in the followee's followers and inbox; all exactly once.

`make test` runs the quick subset; `make faults` (HALLWAY_FAULTS=full) the matrix.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_common import testing
from hallway_common.testing import System, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

FULL = os.environ.get("HALLWAY_FAULTS") == "full"  # set by `make faults`
AUTHORS = 4  # everyone follows everyone: each post must reach 4 home timelines
POSTS = int(os.environ.get("HALLWAY_FAULTS_POSTS", "120" if FULL else "40"))
FOLLOWS = 6 if FULL else 4
WRITE_GIVE_UP = 180.0  # a write still unacknowledged after this fails the test
CONVERGE = 180.0  # bounded wait for every acknowledged write to show everywhere
FREEZE_SECONDS = 15.0  # past aiokafka's 10 s session timeout and the 3 s gRPC deadline


@dataclass
class Person:
    id: str
    handle: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Acked:
    """One acknowledged write."""

    kind: str  # "post" | "follow"
    actor: Person
    target: Person  # the mentioned person, or the followee
    post_id: str = ""
    attempts: int = 1


@dataclass
class Run:
    acked: list[Acked] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def _provision(system: System, handle: str, mint: Callable[[str, str], str]) -> Person:
    """People come from provisioning (profile's API), not self sign-up."""
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        p = await pb_grpc.ProfileServiceStub(ch).CreatePerson(
            pb.CreatePersonRequest(handle=handle, display_name=handle.title())
        )
    return Person(p.id, p.handle, mint(p.id, p.handle))


async def _write(
    client: httpx.AsyncClient, method: str, url: str, who: Person, key: str, body: dict | None
) -> tuple[httpx.Response, int]:
    """Retry with the same Idempotency-Key until a 2xx, as a real client does."""
    deadline = time.monotonic() + WRITE_GIVE_UP
    headers = {**who.auth, "Idempotency-Key": key}
    for attempt in itertools.count(1):
        try:
            r = await client.request(method, url, headers=headers, json=body, timeout=5)
            if r.is_success:
                return r, attempt
            # 4xx other than 429/409 means the request itself is wrong: retrying is useless.
            if 400 <= r.status_code < 500 and r.status_code not in (408, 409, 429):
                raise AssertionError(f"{method} {url}: {r.status_code} {r.text}")
        except httpx.TransportError:
            pass  # gateway down or timed out: the write may or may not have happened
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {url} unacknowledged after {WRITE_GIVE_UP}s")
        await asyncio.sleep(min(0.2 * attempt, 1.0))
    raise AssertionError("unreachable")


async def _all_pages(client: httpx.AsyncClient, url: str, who: Person, **params: str) -> list[dict]:
    items: list[dict] = []
    cursor = ""
    for _ in range(50):  # bounded: 50 pages of 100
        q = {**params, "limit": "100", **({"cursor": cursor} if cursor else {})}
        r = await client.get(url, params=q, headers=who.auth, timeout=10)
        assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text}"
        page = r.json()
        items += page["items"]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return items
    raise AssertionError(f"{url}: more than 50 pages")


@dataclass
class Scenario:
    """People and follow graph of one fault, fresh so faults never see each other's data."""

    tag: str
    authors: list[Person]
    fans: list[Person]


async def _scenario(
    system: System, client: httpx.AsyncClient, unique: str, mint: Callable[[str, str], str]
) -> Scenario:
    authors = [await _provision(system, f"a{i}{unique}", mint) for i in range(AUTHORS)]
    fans = [await _provision(system, f"f{i}{unique}", mint) for i in range(FOLLOWS)]
    for a, b in itertools.permutations(authors, 2):
        await _write(
            client, "POST", f"/api/v1/people/{b.id}/follow", a, f"setup-{a.id}-{b.id}", None
        )
    s = Scenario(f"t{unique}", authors, fans)
    # Warm-up: one post per author must reach every home timeline before the fault, so
    # feed's follow replica is complete and later misses are the fault's doing.
    probes = []
    for a in authors:
        r, _ = await _write(
            client, "POST", "/api/v1/posts", a, f"probe-{a.id}", {"text": f"probe {s.tag}"}
        )
        probes.append(r.json()["id"])

    async def warm() -> bool:
        for a in authors:
            home = await _all_pages(client, "/api/v1/timeline/home", a)
            if not set(probes) <= {p["id"] for p in home}:
                return False
        return True

    await eventually(warm, within=90, what="warm-up posts in every home timeline")
    return s


async def _load(client: httpx.AsyncClient, s: Scenario, run: Run, started: asyncio.Event) -> None:
    """Posts (@mention + #tag) and follows, a few in flight at a time."""
    plan: list[tuple[str, int]] = [("post", i) for i in range(POSTS)]
    # Spread the follows through the load so some of them meet the fault.
    for j in range(FOLLOWS):
        plan.insert((j + 1) * len(plan) // (FOLLOWS + 1), ("follow", j))
    queue: asyncio.Queue = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            kind, i = queue.get_nowait()
            if queue.qsize() < len(plan) * 3 // 4:
                started.set()  # a quarter of the load is out: time for the fault
            try:
                if kind == "post":
                    author = s.authors[i % AUTHORS]
                    mentioned = s.authors[(i + 1) % AUTHORS]
                    text = f"n{i}{s.tag} update with @{mentioned.handle} #{s.tag}"
                    r, n = await _write(
                        client, "POST", "/api/v1/posts", author, f"{s.tag}-p{i}", {"text": text}
                    )
                    run.acked.append(Acked("post", author, mentioned, r.json()["id"], n))
                else:
                    fan, followee = s.fans[i], s.authors[i % AUTHORS]
                    url = f"/api/v1/people/{followee.id}/follow"
                    _, n = await _write(client, "POST", url, fan, f"{s.tag}-f{i}", None)
                    run.acked.append(Acked("follow", fan, followee, attempts=n))
            except AssertionError as exc:
                run.failed.append(str(exc))
            await asyncio.sleep(0.1)  # steady, not a flood: ~10-20 writes/s on 2 workers

    await asyncio.gather(worker(), worker())
    started.set()


@dataclass
class Verdict:
    lost: set[str] = field(default_factory=set)
    dup: set[str] = field(default_factory=set)
    why: list[str] = field(default_factory=list)


async def _verify(client: httpx.AsyncClient, s: Scenario, run: Run) -> Verdict:
    """One pass over every acknowledged write; lost/dup are sets of write ids."""
    v = Verdict()
    posts = [a for a in run.acked if a.kind == "post"]
    follows = [a for a in run.acked if a.kind == "follow"]

    def miss(wid: str, why: str) -> None:
        v.lost.add(wid)
        v.why.append(f"{wid}: {why}")

    def twice(wid: str, why: str) -> None:
        v.dup.add(wid)
        v.why.append(f"{wid}: {why}")

    homes = {
        a.id: Counter(p["id"] for p in await _all_pages(client, "/api/v1/timeline/home", a))
        for a in s.authors
    }
    hits = Counter(
        h["post_id"]
        for h in await _all_pages(client, "/api/v1/search/posts", s.authors[0], q=f"#{s.tag}")
    )
    inbox = {a.id: await _all_pages(client, "/api/v1/notifications", a) for a in s.authors}
    for w in posts:
        r = await client.get(f"/api/v1/posts/{w.post_id}", headers=w.actor.auth, timeout=10)
        if r.status_code != 200:
            miss(w.post_id, f"GET /posts -> {r.status_code}")
        for reader in s.authors:  # authors follow each other, and see their own posts
            n = homes[reader.id][w.post_id]
            if n == 0:
                miss(w.post_id, f"not in {reader.handle}'s home timeline")
            elif n > 1:
                twice(w.post_id, f"{n}x in {reader.handle}'s home timeline")
        if hits[w.post_id] == 0:
            miss(w.post_id, "not found by search")
        elif hits[w.post_id] > 1:
            twice(w.post_id, f"{hits[w.post_id]} search hits")
        n = sum(
            1 for x in inbox[w.target.id] if x["kind"] == "mention" and x["post_id"] == w.post_id
        )
        if n == 0:
            miss(w.post_id, f"no mention notification for {w.target.handle}")
        elif n > 1:
            twice(w.post_id, f"{n} mention notifications for {w.target.handle}")
    # A retried create that made a second post (ignored key) shows as two ids for one text.
    for a in s.authors:
        own = await _all_pages(client, f"/api/v1/people/{a.id}/posts", a)
        for text, n in Counter(p["text"] for p in own).items():
            if n > 1 and "probe" not in text:
                twice(text.split()[0], f"{n} posts by {a.handle} with one idempotency key")
    for w in follows:
        wid = f"follow {w.actor.handle}->{w.target.handle}"
        followers = await _all_pages(client, f"/api/v1/people/{w.target.id}/followers", w.target)
        n = sum(1 for p in followers if p["id"] == w.actor.id)
        if n == 0:
            miss(wid, "not in followers")
        elif n > 1:
            twice(wid, f"{n}x in followers")
        n = sum(
            1
            for x in inbox[w.target.id]
            if x["kind"] == "new_follower" and x["actor_id"] == w.actor.id
        )
        if n == 0:
            miss(wid, "no new-follower notification")
        elif n > 1:
            twice(wid, f"{n} new-follower notifications")
    return v


# A fault gets the system under test and, for infrastructure faults, the private servers.
Fault = Callable[[System, Any], Awaitable[None]]


def kill(name: str) -> Fault:
    async def inject(system: System, infra: Any) -> None:
        proc = system.processes[name]
        proc.kill()
        await asyncio.sleep(1.0)  # a moment down, as a node being rescheduled
        await asyncio.to_thread(proc.start, None, 90)

    return inject


def freeze(name: str) -> Fault:
    async def inject(system: System, infra: Any) -> None:
        proc = system.processes[name]
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(FREEZE_SECONDS)
        finally:
            proc.proc.send_signal(signal.SIGCONT)

    return inject


def kill_infra(server: str) -> Fault:
    async def inject(system: System, infra: Any) -> None:
        infra.kill9(server)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(infra.script, server, "start")

    return inject


INFRA = {"kill -9 postgresql": kill_infra("postgres"), "kill -9 kafka": kill_infra("kafka")}
QUICK = {
    "kill -9 feed": kill("feed"),
    "kill -9 notification": kill("notification"),
    "kill -9 postgresql": INFRA["kill -9 postgresql"],
}
FAULTS: dict[str, Fault] = {
    "kill -9 profile": kill("profile"),
    **QUICK,
    "kill -9 search": kill("search"),
    "kill -9 gateway": kill("gateway"),
    "freeze feed": freeze("feed"),
    **INFRA,
}


async def _canary(client: httpx.AsyncClient, s: Scenario, run: Run, unique: str) -> None:
    """A write made after the fault that must show everywhere: its arrival is recovery."""
    a, b = s.authors[0], s.authors[1]
    text = f"c{unique} canary @{b.handle} #{s.tag}"
    r, n = await _write(client, "POST", "/api/v1/posts", a, f"{s.tag}-canary", {"text": text})
    pid = r.json()["id"]
    run.acked.append(Acked("post", a, b, pid, n))

    async def seen() -> bool:
        home = await _all_pages(client, "/api/v1/timeline/home", b)
        hits = await _all_pages(client, "/api/v1/search/posts", b, q=f"c{unique}")
        inbox = await _all_pages(client, "/api/v1/notifications", b)
        return (
            pid in {p["id"] for p in home}
            and pid in {h["post_id"] for h in hits}
            and any(x["post_id"] == pid for x in inbox)
        )

    await eventually(seen, within=CONVERGE, interval=0.5, what="canary written after the fault")


@pytest.fixture
def under_test(request: pytest.FixtureRequest) -> tuple[System, Any]:
    """The system and private servers a fault needs: infrastructure faults run on
    private servers, started only when such a fault is selected. (A sync fixture, so
    the async session fixtures are set up outside the running loop.)"""
    if request.node.callspec.params["fault"] in INFRA:
        return request.getfixturevalue("infra_system"), request.getfixturevalue("private_infra")
    return request.getfixturevalue("fault_system"), None


@pytest.mark.parametrize("fault", list(FAULTS if FULL else QUICK))
async def test_fault(
    fault: str,
    unique: str,
    matrix: list[dict],
    fault_mint: Callable[[str, str], str],
    under_test: tuple[System, Any],
) -> None:
    system, infra = under_test
    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway) as client:
        s = await _scenario(system, client, unique, fault_mint)
        run = Run()
        started = asyncio.Event()
        load = asyncio.create_task(_load(client, s, run, started))
        await asyncio.wait_for(started.wait(), 120)
        try:
            t0 = time.monotonic()
            await FAULTS[fault](system, infra)
            await _canary(client, s, run, unique)
            recovery = time.monotonic() - t0
            await asyncio.wait_for(load, WRITE_GIVE_UP + 60)
        finally:
            load.cancel()
        assert not run.failed, run.failed

        verdict = Verdict()

        async def converged() -> bool:
            nonlocal verdict
            verdict = await _verify(client, s, run)
            return not verdict.lost and not verdict.dup

        try:
            await eventually(
                converged, within=CONVERGE, interval=2, what="every acknowledged write"
            )
        except AssertionError:
            pass  # reported below with the counts
        matrix.append(
            {
                "fault": fault,
                "acked": len(run.acked),
                "lost": len(verdict.lost),
                "dup": len(verdict.dup),
                "recovery": recovery,
            }
        )
        assert not verdict.lost and not verdict.dup, "\n".join(verdict.why[:40])
