"""``python -m hallway_search rebuild``: a fresh index from the state topics, swapped in
while search keeps answering (and answering right)."""

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
from hallway_dev.testing import System, eventually

pytestmark = pytest.mark.e2e


async def test_rebuild_swaps_in_a_fresh_index_while_search_answers(
    system: System, unique: str, mint: Any
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
        kept = (
            await client.post("/api/v1/posts", headers=headers, json={"text": f"{word} kept"})
        ).json()
        gone = (
            await client.post("/api/v1/posts", headers=headers, json={"text": f"{word} gone"})
        ).json()
        r = await client.delete(f"/api/v1/posts/{gone['id']}", headers=headers)
        assert r.status_code == 204

        async def hits() -> set[str]:
            r = await client.get("/api/v1/search/posts", params={"q": word}, headers=headers)
            assert r.status_code == 200, r.text
            return {h["post_id"] for h in r.json()["items"]}

        await eventually(lambda: _only(hits, {kept["id"]}), within=60, what="indexed live")

        search = system.processes["search"]
        rebuild = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hallway_search",
            "rebuild",
            env={**os.environ, **search.env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        answers: list[set[str]] = []
        started = time.monotonic()
        while rebuild.returncode is None and time.monotonic() - started < 120:
            answers.append(await hits())  # search keeps answering during the rebuild
            try:
                await asyncio.wait_for(rebuild.wait(), 0.05)
            except TimeoutError:
                pass
        out, err = await rebuild.communicate()
        assert rebuild.returncode == 0, err.decode()[-2000:]
        report = json.loads(out)
        print(f"\nrebuild: {report['records']}; {len(answers)} searches answered meanwhile")
        assert answers and all(a == {kept["id"]} for a in answers), "every answer was right"

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
        later = (
            await client.post("/api/v1/posts", headers=headers, json={"text": f"{word} later"})
        ).json()
        await eventually(
            lambda: _only(hits, {kept["id"], later["id"]}), within=60, what="indexed after swap"
        )


async def _only(hits: Any, expected: set[str]) -> bool:
    return await hits() == expected
