"""Quick fault suite, part of every `make test`: kill -9 feed and SIGSTOP notification
(8 s, past the gateway's 3 s gRPC deadline) under a small retried write load through
the gateway; every acknowledged write must then be everywhere exactly once.

See faults_harness.py for what is checked; kill -9 of a private PostgreSQL is in
test_faults_infra.py. `make faults` runs the full matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from faults_harness import run_fault

from hallway_dev.testing import System

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

POSTS = 20
LOAD_SECONDS = 8.0


@pytest.mark.parametrize("fault", ["kill -9 feed", "SIGSTOP notification 8s"])
async def test_no_acknowledged_write_lost_or_duplicated(
    fault: str, fault_system: System, unique: str, fault_mint: Callable[[str, str], str]
) -> None:
    r = await run_fault(fault_system, fault, unique, fault_mint, POSTS, LOAD_SECONDS)
    assert r.acknowledged >= POSTS
    assert r.lost == 0 and r.duplicated == 0, (
        f"{fault}: {r.lost} lost, {r.duplicated} duplicated of {r.acknowledged}:\n"
        + "\n".join(r.why[:40])
    )
