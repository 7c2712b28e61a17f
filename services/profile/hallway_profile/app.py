"""The profile service process: directory + follow graph over gRPC, events via the outbox."""

from __future__ import annotations

import argparse

from hallway.profile.v1 import profile_pb2, profile_pb2_grpc
from hallway_common import catalogue
from hallway_common.config import DatabaseSettings
from hallway_common.contracts import produced_by
from hallway_common.db import create_pool
from hallway_common.outbox import republish
from hallway_common.runtime import Command, Runtime, run
from hallway_profile import people
from hallway_profile.grpc_api import ProfileServicer

SERVICE_NAME = profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name
DEFAULTS = {
    # gRPC and metrics ports: the service catalogue's (docs/deploy.md#ports-consumer-groups-and-topics)
    **catalogue.service("profile").defaults(),
    "database_url": "postgresql://hallway:hallway@localhost:5433/profile",
}


class ProfileSettings(DatabaseSettings):
    pass


async def build(rt: Runtime[ProfileSettings]) -> None:
    assert rt.pool is not None
    rt.produces += produced_by("profile")
    rt.grpc.add(
        profile_pb2_grpc.add_ProfileServiceServicer_to_server,
        ProfileServicer(rt.pool, rt.settings.kafka_topic_prefix),
        SERVICE_NAME,
    )


async def _republish_state(settings: ProfileSettings, args: argparse.Namespace) -> int:
    """Enqueue the current state of every person and follow edge (a new state topic,
    or one to repair); the running service's outbox relay publishes it."""
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        prefix = settings.kafka_topic_prefix
        n_people = await republish(
            pool,
            prefix,
            f"SELECT {people.STATE_COLUMNS} FROM people",
            ("id",),
            lambda row: [people.person_state(row)],
        )
        n_edges = await republish(
            pool,
            prefix,
            "SELECT follower_id, followee_id, created_at FROM follows",
            ("follower_id", "followee_id"),
            lambda row: [people.follow_state(row)],
        )
    finally:
        await pool.close()
    print(f"enqueued the state of {n_people} people and {n_edges} follow edges")
    return 0


REPUBLISH_STATE = Command(
    help="publish the current state of every person and follow edge to the state topics",
    add_arguments=lambda parser: None,
    run=_republish_state,
)


def main(argv: list[str] | None = None) -> None:
    run(
        "profile",
        ProfileSettings,
        build,
        defaults=DEFAULTS,
        migrate_packages=["hallway_profile"],
        commands={"republish-state": REPUBLISH_STATE},
        argv=argv,
    )
