"""The demo data `make up` seeds: it must run clean on an empty system (a newcomer's
first command depends on it), make what it says, and be skipped the second time."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from hallway.feed.v1 import community_pb2 as cpb
from hallway.feed.v1 import community_pb2_grpc as cpb_grpc
from hallway.profile.v1 import profile_pb2 as ppb
from hallway.profile.v1 import profile_pb2_grpc as ppb_grpc
from hallway_dev import testing
from hallway_dev.testing import ROOT, System

pytestmark = pytest.mark.e2e


async def _seed(system: System) -> tuple[int, str]:
    env = {
        **os.environ,
        "HALLWAY_DEV_PKI": str(testing.pki()),
        "HALLWAY_PROFILE_ADDR": system.processes["profile"].grpc_address,
        "HALLWAY_FEED_ADDR": system.processes["feed"].grpc_address,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "scripts" / "dev" / "seed.py"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    return proc.returncode or 0, out.decode()


@pytest.mark.timeout(600)
async def test_the_demo_seed_makes_an_organisation_with_communities(topic_prefix: str) -> None:
    system = System(topic_prefix + "seed.", "unused")
    try:
        await system.start("profile", "feed")
        code, out = await _seed(system)
        assert code == 0, out
        assert "seed: 36 people" in out and "seed: 4 communities" in out, out
        async with testing.service_channel(system.processes["feed"].grpc_address) as ch:
            ada = None
            async with testing.service_channel(system.processes["profile"].grpc_address) as pch:
                ada = await ppb_grpc.ProfileServiceStub(pch).GetPerson(
                    ppb.GetPersonRequest(handle="ada"), metadata=testing.as_admin()
                )
            listed = await cpb_grpc.CommunityServiceStub(ch).ListCommunities(
                cpb.ListCommunitiesRequest(), metadata=testing.as_person(ada.id)
            )
            # ada heads Engineering: she sees the public and private ones, not HR's secret one.
            names = {c.name for c in listed.communities}
            assert {"Platform guild", "Sales kickoff", "Site safety"} <= names
            assert "Reorg planning" not in names
        code, out = await _seed(system)
        assert code == 0 and "already present" in out, out
    finally:
        system.stop()
