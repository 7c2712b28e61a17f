"""The fault harness: one process of the running system is killed (kill -9, then
restarted) or frozen (SIGSTOP, then SIGCONT) under a steady write load through the
gateway's public REST API, and afterwards every acknowledged write is checked.

The client behaves like a real one: every write carries its own `Idempotency-Key`
and is retried with that same key on any error or timeout until a 2xx comes back
(bounded); only then does it count as acknowledged. After the load each acknowledged
post must be readable (GET /posts/{id}), in its author's and each follower's home
timeline exactly once, found by search exactly once, and in the mentioned person's
inbox as exactly one mention notification; each acknowledged follow must be in the
followee's followers and inbox exactly once; and each must be on its compacted state
topic, where a new integration loads it. A write missing anywhere is *lost*, one
present more than once anywhere is *duplicated*. *Recovery* is the time from the
fault until a post written after it is visible everywhere.

Only service processes are faulted (profile, feed, search, notification, gateway).
Infrastructure faults (Kafka, PostgreSQL, OpenSearch) run in test_faults_infra.py on
private servers: the shared ones serve other work on the machine and are never faulted.
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

import httpx

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually

PEOPLE = 6  # person i follows i+1 and i+2 before the load, and i+3 during it
WRITE_GIVE_UP = 120.0  # a write still unacknowledged after this fails the test
CONVERGE = 120.0  # bounded wait for every acknowledged write to show everywhere
FREEZE_SECONDS = 8.0  # longer than the gateway's 3 s gRPC deadline
WORKERS = 2

# Rows of the matrix, appended by each fault run and printed at the end of the session
# (conftest's terminal summary), so the table shows even without `-s`.
MATRIX: list[dict[str, object]] = []


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

    kind: str  # "post" | "follow" | "join"
    actor: Person  # the author, the follower, or the joining person
    target: Person  # the mentioned person, the followee, or the community's owner
    post_id: str = ""
    attempts: int = 1


@dataclass
class Run:
    acked: list[Acked] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    lost: set[str] = field(default_factory=set)
    dup: set[str] = field(default_factory=set)
    why: list[str] = field(default_factory=list)

    def miss(self, wid: str, why: str) -> None:
        self.lost.add(wid)
        self.why.append(f"LOST {wid}: {why}")

    def twice(self, wid: str, why: str) -> None:
        self.dup.add(wid)
        self.why.append(f"DUP {wid}: {why}")


@dataclass
class Result:
    fault: str
    acknowledged: int
    lost: int
    duplicated: int
    recovery: float
    retried: int
    why: list[str]


@dataclass
class Scenario:
    """People and follow graph of one fault run, fresh so runs never see each other's data."""

    tag: str
    people: list[Person]
    community: str = ""  # a public community owned by people[0]; the others join it

    def followers(self, author: int) -> list[Person]:
        """Who follows ``author`` from before the load (so sees all of its posts)."""
        return [self.people[(author - d) % PEOPLE] for d in (1, 2)]


Fault = Callable[[System], Awaitable[None]]


def kill(name: str) -> Fault:
    """kill -9 the service process, then start it again on the same ports."""

    async def inject(system: System) -> None:
        proc = system.processes[name]
        proc.kill()
        await asyncio.sleep(1.0)  # a moment down, as a node being rescheduled
        await asyncio.to_thread(proc.start, None, 90)

    return inject


def freeze(name: str, seconds: float = FREEZE_SECONDS) -> Fault:
    """SIGSTOP the service process (a GC pause, a stuck node), then SIGCONT it."""

    async def inject(system: System) -> None:
        popen = system.processes[name].proc
        assert popen is not None and popen.poll() is None, f"{name} is not running"
        os.kill(popen.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(seconds)
        finally:
            os.kill(popen.pid, signal.SIGCONT)

    return inject


FAULTS: dict[str, Fault] = {
    "kill -9 profile": kill("profile"),
    "kill -9 feed": kill("feed"),
    "kill -9 search": kill("search"),
    "kill -9 notification": kill("notification"),
    "kill -9 gateway": kill("gateway"),
    "SIGSTOP feed 8s": freeze("feed"),
    "SIGSTOP notification 8s": freeze("notification"),
}


async def provision(system: System, handle: str, mint: Callable[[str, str], str]) -> Person:
    """People come from provisioning (profile's gRPC API, as the admin), not sign-up."""
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        p = await pb_grpc.ProfileServiceStub(ch).CreatePerson(
            pb.CreatePersonRequest(handle=handle, display_name=handle.title())
        )
    return Person(p.id, p.handle, mint(p.id, p.handle))


async def write(
    client: httpx.AsyncClient, method: str, url: str, who: Person, key: str, body: dict | None
) -> tuple[httpx.Response, int]:
    """Retry with the same Idempotency-Key until a 2xx, as a real client does."""
    deadline = time.monotonic() + WRITE_GIVE_UP
    headers = {**who.auth, "Idempotency-Key": key}
    last = ""
    for attempt in itertools.count(1):
        try:
            r = await client.request(method, url, headers=headers, json=body, timeout=5)
            if r.is_success:
                return r, attempt
            last = f"{r.status_code} {r.text[:200]}"
            # 4xx other than these means the request itself is wrong: retrying is useless.
            if 400 <= r.status_code < 500 and r.status_code not in (408, 409, 425, 429):
                raise AssertionError(f"{method} {url}: {last}")
        except httpx.TransportError as exc:
            last = repr(exc)  # gateway down or timed out: the write may or may not have happened
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {url} unacknowledged after {WRITE_GIVE_UP}s: {last}")
        await asyncio.sleep(min(0.2 * attempt, 1.0))
    raise AssertionError("unreachable")


async def all_pages(client: httpx.AsyncClient, url: str, who: Person, **params: str) -> list[dict]:
    """Every item of a keyset-paginated list (bounded: 50 pages of 100)."""
    items: list[dict] = []
    cursor = ""
    for _ in range(50):
        q = {**params, "limit": "100", **({"cursor": cursor} if cursor else {})}
        r = await client.get(url, params=q, headers=who.auth, timeout=10)
        assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:200]}"
        page = r.json()
        items += page["items"]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return items
    raise AssertionError(f"{url}: more than 50 pages")


async def scenario(
    system: System, client: httpx.AsyncClient, unique: str, mint: Callable[[str, str], str]
) -> Scenario:
    """Six fresh people, each following the next two, warmed up before any fault."""
    people = [await provision(system, f"p{i}{unique}", mint) for i in range(PEOPLE)]
    s = Scenario(f"t{unique}", people)
    for i, a in enumerate(people):
        for d in (1, 2):
            b = people[(i + d) % PEOPLE]
            url = f"/api/v1/people/{b.id}/follow"
            await write(client, "POST", url, a, f"setup-{a.id}-{b.id}", None)
    # Warm-up: one post per person must reach its followers' home timelines before the
    # fault, so feed's follow replica is complete and later misses are the fault's doing.
    probes: dict[int, str] = {}
    for i, a in enumerate(people):
        body = {"text": f"probe {s.tag}"}
        r, _ = await write(client, "POST", "/api/v1/posts", a, f"probe-{a.id}", body)
        probes[i] = r.json()["id"]

    async def warm() -> bool:
        for i, a in enumerate(people):
            home = {p["id"] for p in await all_pages(client, "/api/v1/timeline/home", a)}
            want = {probes[(i + d) % PEOPLE] for d in (1, 2)}
            if not want <= home:
                return False
        return True

    await eventually(warm, within=90, interval=0.5, what="warm-up posts in home timelines")
    made = await client.post(
        "/api/v1/communities", headers=people[0].auth, json={"name": f"guild {s.tag}"}
    )
    assert made.status_code == 201, made.text
    s.community = made.json()["id"]
    return s


async def load(
    client: httpx.AsyncClient,
    s: Scenario,
    run: Run,
    posts: int,
    seconds: float,
    started: asyncio.Event,
) -> None:
    """``posts`` posts (each with an @mention and a #tag; the community's owner posts
    every other one of theirs into the community) plus one follow per person and one
    community join per other person, paced to last about ``seconds`` when nothing
    fails; ``started`` is set once a quarter of the writes are out, which is when the
    fault is injected."""
    plan: list[tuple[str, int]] = [("post", i) for i in range(posts)]
    # Spread the follows and joins through the load so some of them meet the fault.
    extra = [("follow", j) for j in range(PEOPLE)] + [("join", j) for j in range(1, PEOPLE)]
    for n, item in enumerate(extra):
        plan.insert((n + 1) * len(plan) // (len(extra) + 1), item)
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    pause = seconds * WORKERS / len(plan)

    async def post(i: int) -> None:
        a = i % PEOPLE
        author = s.people[a]
        mentioned = s.people[(a + 1 + (i // PEOPLE) % (PEOPLE - 1)) % PEOPLE]
        text = f"n{i}{s.tag} hello @{mentioned.handle} #{s.tag} #{s.tag}p{i}"
        key = f"{s.tag}-post-{i}"
        body = {"text": text}
        if a == 0 and (i // PEOPLE) % 2 == 0:
            body["community_id"] = s.community
        r, n = await write(client, "POST", "/api/v1/posts", author, key, body)
        run.acked.append(Acked("post", author, mentioned, r.json()["id"], n))

    async def follow(j: int) -> None:
        fan, followee = s.people[j], s.people[(j + 3) % PEOPLE]
        url = f"/api/v1/people/{followee.id}/follow"
        _, n = await write(client, "POST", url, fan, f"{s.tag}-follow-{j}", None)
        run.acked.append(Acked("follow", fan, followee, attempts=n))

    async def join(j: int) -> None:
        # Joining is idempotent by itself: a retry after a lost answer joins once.
        url = f"/api/v1/communities/{s.community}/join"
        _, n = await write(client, "POST", url, s.people[j], f"{s.tag}-join-{j}", None)
        run.acked.append(Acked("join", s.people[j], s.people[0], attempts=n))

    async def worker() -> None:
        actions = {"post": post, "follow": follow, "join": join}
        while not queue.empty():
            kind, i = queue.get_nowait()
            if queue.qsize() <= len(plan) * 3 // 4:
                started.set()
            try:
                await actions[kind](i)
            except AssertionError as exc:
                run.failed.append(str(exc))
            await asyncio.sleep(pause)

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    started.set()


async def verify(client: httpx.AsyncClient, s: Scenario, run: Run, system: System) -> Verdict:
    """One pass over every acknowledged write; lost/dup are sets of write ids.

    Besides what people see (timelines, search, inboxes), every acknowledged post and
    follow must be on its state topic, where a new integration loads it from."""
    v = Verdict()
    kafka = system.processes["feed"].env.get("HALLWAY_KAFKA_BOOTSTRAP_SERVERS", testing.KAFKA)
    prefix = system.topic_prefix
    post_states = await testing.topic_state(f"{prefix}hallway.feed.post.state.v1", kafka)
    edge_states = await testing.topic_state(f"{prefix}hallway.profile.follow.state.v1", kafka)
    member_states = await testing.topic_state(f"{prefix}hallway.feed.membership.state.v1", kafka)
    posts = [a for a in run.acked if a.kind == "post"]
    follows = [a for a in run.acked if a.kind == "follow"]
    joins = [a for a in run.acked if a.kind == "join"]
    members = await all_pages(client, f"/api/v1/communities/{s.community}/members", s.people[0])
    member_ids = Counter(m["person"]["id"] for m in members)
    index = {p.id: i for i, p in enumerate(s.people)}
    homes = {
        p.id: Counter(x["id"] for x in await all_pages(client, "/api/v1/timeline/home", p))
        for p in s.people
    }
    hits = Counter(
        h["post_id"]
        for h in await all_pages(client, "/api/v1/search/posts", s.people[0], q=f"#{s.tag}")
    )
    inbox = {p.id: await all_pages(client, "/api/v1/notifications", p) for p in s.people}
    for w in posts:
        pid = w.post_id
        r = await client.get(f"/api/v1/posts/{pid}", headers=w.actor.auth, timeout=10)
        if r.status_code != 200:
            v.miss(pid, f"GET /posts/{pid} -> {r.status_code}")
        readers = [w.actor, *s.followers(index[w.actor.id])]
        if r.status_code == 200 and r.json().get("community_id"):
            readers += [j.actor for j in joins]  # merged in by membership
        for reader in readers:
            if homes[reader.id][pid] == 0:
                v.miss(pid, f"not in {reader.handle}'s home timeline")
        for reader in s.people:  # nowhere more than once, whoever sees it
            if homes[reader.id][pid] > 1:
                v.twice(pid, f"{homes[reader.id][pid]}x in {reader.handle}'s home timeline")
        if pid not in post_states:
            v.miss(pid, "not on the post state topic")
        if hits[pid] == 0:
            v.miss(pid, "not found by search")
        elif hits[pid] > 1:
            v.twice(pid, f"{hits[pid]} search hits")
        n = sum(1 for x in inbox[w.target.id] if x["kind"] == "mention" and x["post_id"] == pid)
        if n == 0:
            v.miss(pid, f"no mention notification for {w.target.handle}")
        elif n > 1:
            v.twice(pid, f"{n} mention notifications for {w.target.handle}")
    # A retried create that made a second post (key not honoured) shows as two ids for
    # one text (each text is unique to one idempotency key).
    for p in s.people:
        own = await all_pages(client, f"/api/v1/people/{p.id}/posts", p)
        for text, n in Counter(x["text"] for x in own).items():
            if n > 1 and not text.startswith("probe"):
                v.twice(text.split()[0], f"{n} posts by {p.handle} for one idempotency key")
    for w in follows:
        wid = f"follow {w.actor.handle}->{w.target.handle}"
        if f"{w.actor.id}:{w.target.id}" not in edge_states:
            v.miss(wid, "not on the follow state topic")
        followers = await all_pages(client, f"/api/v1/people/{w.target.id}/followers", w.target)
        n = sum(1 for x in followers if x["id"] == w.actor.id)
        if n == 0:
            v.miss(wid, "not in followers")
        elif n > 1:
            v.twice(wid, f"{n}x in followers")
        n = sum(
            1
            for x in inbox[w.target.id]
            if x["kind"] == "new_follower" and x["actor_id"] == w.actor.id
        )
        if n == 0:
            v.miss(wid, "no new-follower notification")
        elif n > 1:
            v.twice(wid, f"{n} new-follower notifications")
    for w in joins:
        wid = f"join {w.actor.handle}"
        if f"{s.community}:{w.actor.id}" not in member_states:
            v.miss(wid, "not on the membership state topic")
        if member_ids[w.actor.id] == 0:
            v.miss(wid, "not in the member list")
        elif member_ids[w.actor.id] > 1:
            v.twice(wid, f"{member_ids[w.actor.id]}x in the member list")
    page = await client.get(f"/api/v1/communities/{s.community}", headers=s.people[0].auth)
    if page.status_code == 200 and page.json()["member_count"] != len(members):
        v.twice(
            "member count",
            f"member_count {page.json()['member_count']} for {len(members)} members",
        )
    return v


async def canary(client: httpx.AsyncClient, s: Scenario, run: Run) -> None:
    """A post written after the fault that must show everywhere: its arrival is recovery."""
    a, b = s.people[0], s.people[1]  # b is mentioned; a's follower people[-1] reads it
    reader = s.followers(0)[0]
    text = f"c{s.tag} canary @{b.handle} #{s.tag}"
    r, n = await write(client, "POST", "/api/v1/posts", a, f"{s.tag}-canary", {"text": text})
    pid = r.json()["id"]
    run.acked.append(Acked("post", a, b, pid, n))

    async def seen() -> bool:
        home = await all_pages(client, "/api/v1/timeline/home", reader)
        hits = await all_pages(client, "/api/v1/search/posts", b, q=f"c{s.tag}")
        inbox = await all_pages(client, "/api/v1/notifications", b)
        return (
            pid in {p["id"] for p in home}
            and pid in {h["post_id"] for h in hits}
            and any(x["post_id"] == pid for x in inbox)
        )

    await eventually(seen, within=CONVERGE, interval=0.5, what="canary written after the fault")


async def run_fault(
    system: System,
    fault: str,
    unique: str,
    mint: Callable[[str, str], str],
    posts: int,
    load_seconds: float,
) -> Result:
    """Warm up, run the load, inject ``fault`` a quarter into it, then verify (bounded)."""
    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway) as client:
        s = await scenario(system, client, unique, mint)
        run = Run()
        started = asyncio.Event()
        writes = asyncio.create_task(load(client, s, run, posts, load_seconds, started))
        try:
            await asyncio.wait_for(started.wait(), 120)
            t0 = time.monotonic()
            await FAULTS[fault](system)
            await canary(client, s, run)
            recovery = time.monotonic() - t0
            await asyncio.wait_for(writes, WRITE_GIVE_UP + 60)
        finally:
            writes.cancel()
        assert not run.failed, run.failed

        verdict = Verdict()

        async def converged() -> bool:
            nonlocal verdict
            verdict = await verify(client, s, run, system)
            return not verdict.lost and not verdict.dup

        try:
            await eventually(converged, within=CONVERGE, interval=2, what="acknowledged writes")
        except AssertionError:
            pass  # reported with the counts by the caller
    result = Result(
        fault=fault,
        acknowledged=len(run.acked),
        lost=len(verdict.lost),
        duplicated=len(verdict.dup),
        recovery=recovery,
        retried=sum(1 for a in run.acked if a.attempts > 1),
        why=verdict.why,
    )
    MATRIX.append(
        {
            "fault": fault,
            "acknowledged": result.acknowledged,
            "lost": result.lost,
            "duplicated": result.duplicated,
            "recovery": result.recovery,
            "retried": result.retried,
        }
    )
    return result


def table(rows: list[dict[str, object]]) -> str:
    """The matrix: fault | acknowledged | lost | duplicated | recovery s | retried writes."""
    cols = ["fault", "acknowledged", "lost", "duplicated", "recovery s", "retried"]
    cells = [
        [
            str(r["fault"]),
            str(r["acknowledged"]),
            str(r["lost"]),
            str(r["duplicated"]),
            f"{r['recovery']:.1f}",
            str(r["retried"]),
        ]
        for r in rows
    ]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True)]
        return "| " + " | ".join([first, *rest]) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cols), sep, *(line(row) for row in cells)])
