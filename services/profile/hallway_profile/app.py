"""The profile service process: directory + follow graph over gRPC, events via the outbox."""

from __future__ import annotations

from hallway.profile.v1 import profile_pb2, profile_pb2_grpc
from hallway_common import catalogue
from hallway_common.config import DatabaseSettings
from hallway_common.contracts import produced_by
from hallway_common.outbox import StateTable
from hallway_common.runtime import Runtime, republish_command, run
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


REPUBLISH_STATE = republish_command(
    StateTable(
        "people", f"SELECT {people.STATE_COLUMNS} FROM people", ("id",), people.person_state
    ),
    StateTable(
        "follow edges",
        "SELECT follower_id, followee_id, created_at FROM follows",
        ("follower_id", "followee_id"),
        people.follow_state,
    ),
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
