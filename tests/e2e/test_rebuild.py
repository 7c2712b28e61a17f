"""Rebuilding derived stores from the state topics while they keep serving:
``python -m hallway_search rebuild`` (fresh indices, alias swap) and ``python -m
hallway_feed rebuild`` (fresh replica and timeline tables, renamed in)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
import pytest
from opensearchpy import AsyncOpenSearch

from hallway.profile.v1 import profile_pb2 as pb
from hallway.profile.v1 import profile_pb2_grpc as pb_grpc
from hallway_dev import testing
from hallway_dev.testing import System, eventually, metric

pytestmark = pytest.mark.e2e


async def test_rebuild_swaps_in_a_fresh_index_while_search_answers(
    system: System, unique: str, mint: Any, create_post: Any
) -> None:
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        ann = await profile.CreatePerson(
            pb.CreatePersonRequest(handle=f"rb{unique}", display_name="Ann")
        )
    headers = {"Authorization": f"Bearer {mint(ann.id, ann.handle)}"}
    word = f"rebuildword{unique}"
    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        kept = await create_post(client, headers, f"{word} kept")
        gone = await create_post(client, headers, f"{word} gone")
        r = await client.delete(f"/api/v1/posts/{gone['id']}", headers=headers)
        assert r.status_code == 204

        async def hits() -> set[str]:
            r = await client.get("/api/v1/search/posts", params={"q": word}, headers=headers)
            assert r.status_code == 200, r.text
            return {h["post_id"] for h in r.json()["items"]}

        # A community (private: its entry is discoverable) and a comment, for the
        # communities and comments indices.
        r = await client.post(
            "/api/v1/communities",
            json={"name": f"Rebuild {word}", "visibility": "private"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        community = r.json()["id"]
        r = await client.post(
            f"/api/v1/posts/{kept['id']}/comments", json={"text": f"{word} said"}, headers=headers
        )
        assert r.status_code == 201, r.text
        comment = r.json()["id"]

        async def everything() -> tuple[set[str], set[str], set[str]]:
            found = []
            for what in ("communities", "comments"):
                r = await client.get(f"/api/v1/search/{what}", params={"q": word}, headers=headers)
                assert r.status_code == 200, r.text
                key = "community_id" if what == "communities" else "comment_id"
                found.append({h[key] for h in r.json()["items"]})
            return await hits(), found[0], found[1]

        expected = ({kept["id"]}, {community}, {comment})
        await eventually(lambda: _equals(everything, expected), within=60, what="indexed live")

        search = system.processes["search"]
        report, answers = await _run_while(["hallway_search", "rebuild"], search.env, everything)
        print(f"\nrebuild: {report['records']}; {len(answers)} searches answered meanwhile")
        assert answers and all(a == expected for a in answers), "every answer was right"
        assert len(report["indices"]) == 4, report

        # Served by the new indices now, with the same results.
        prefix = search.env["HALLWAY_OPENSEARCH_INDEX_PREFIX"]
        os_client = AsyncOpenSearch(hosts=[testing.OPENSEARCH])
        try:
            for alias, index in report["indices"].items():
                assert alias.startswith(prefix)
                assert list(await os_client.indices.get_alias(name=alias)) == [index]
            for replaced in report["deleted"]:
                assert not await os_client.indices.exists(index=replaced)
        finally:
            await os_client.close()
        await eventually(lambda: _only(hits, {kept["id"]}), within=10, what="same answer after")

        # And the live consumer goes on writing through the alias into the new index.
        later = await create_post(client, headers, f"{word} later")
        await eventually(
            lambda: _only(hits, {kept["id"], later["id"]}), within=60, what="indexed after swap"
        )


async def _run_while(command: list[str], env: dict[str, str], probe: Any) -> tuple[dict, list]:
    """Run an operator command, calling ``probe`` until it exits; (report, probe results)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *command,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    answers: list = []
    started = time.monotonic()
    while proc.returncode is None and time.monotonic() - started < 120:
        answers.append(await probe())
        try:
            await asyncio.wait_for(proc.wait(), 0.05)
        except TimeoutError:
            pass
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out), answers


async def test_feed_rebuild_swaps_in_fresh_timelines_while_they_are_read(
    system: System, unique: str, mint: Any, create_post: Any
) -> None:
    async with testing.service_channel(system.processes["profile"].grpc_address) as ch:
        profile = pb_grpc.ProfileServiceStub(ch)
        ann, bob, cat = [
            await profile.CreatePerson(
                pb.CreatePersonRequest(handle=f"{n}{unique}", display_name=n)
            )
            for n in ("fra", "fbo", "fca")
        ]
    gateway = f"http://127.0.0.1:{system.processes['gateway'].http_port}"

    def auth(p: pb.Person) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(p.id, p.handle)}"}

    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        posts = {}
        for author, text in ((bob, "before"), (cat, "cat's"), (bob, "gone")):
            posts[text] = (await create_post(client, auth(author), text))["id"]
        follows = f"{system.topic_prefix}hallway.profile.follow.v1"
        feed_metrics = system.processes["feed"].metrics_port
        consumed = metric(feed_metrics, "hallway_consumer_processed_total", topic=follows)
        for followee in (bob, cat):
            r = await client.post(f"/api/v1/people/{followee.id}/follow", headers=auth(ann))
            assert r.status_code == 200
        r = await client.delete(f"/api/v1/people/{cat.id}/follow", headers=auth(ann))
        assert r.status_code == 200
        r = await client.delete(f"/api/v1/posts/{posts['gone']}", headers=auth(bob))
        assert r.status_code == 204

        async def home() -> list[str]:
            r = await client.get("/api/v1/timeline/home", headers=auth(ann))
            assert r.status_code == 200, r.text
            return [p["id"] for p in r.json()["items"]]

        # Only once feed has applied all three follow events is the timeline settled
        # (in between it may show cat's post, backfilled by the follow of cat).
        await eventually(
            lambda: (
                metric(feed_metrics, "hallway_consumer_processed_total", topic=follows)
                >= consumed + 3
            ),
            within=60,
            what="feed applied the follows",
        )
        await eventually(
            lambda: _equals(home, [posts["before"]]), within=60, what="ann's home timeline"
        )
        report, answers = await _run_while(
            ["hallway_feed", "rebuild"], system.processes["feed"].env, home
        )
        print(f"\nfeed rebuild: {report}; {len(answers)} timeline reads meanwhile")
        assert report["rows"]["follows"] >= 1
        assert answers and all(a == [posts["before"]] for a in answers), "every read was right"
        assert await home() == [posts["before"]]

        # The fan-out goes on into the new tables.
        after = (await create_post(client, auth(bob), "after"))["id"]
        await eventually(
            lambda: _equals(home, [after, posts["before"]]), within=60, what="fanned out after"
        )


async def _equals(probe: Any, expected: Any) -> bool:
    return await probe() == expected


async def _only(hits: Any, expected: set[str]) -> bool:
    return await hits() == expected
