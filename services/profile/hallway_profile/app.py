"""The profile service process: directory + follow graph over gRPC, events via the outbox."""

from __future__ import annotations

from hallway.profile.v1 import profile_pb2, profile_pb2_grpc
from hallway_common.config import DatabaseSettings
from hallway_common.contracts import produced_by
from hallway_common.runtime import Runtime, run
from hallway_profile.grpc_api import ProfileServicer

SERVICE_NAME = profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name
DEFAULTS = {
    "grpc_port": 50051,
    "metrics_port": 9101,
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


def main(argv: list[str] | None = None) -> None:
    run(
        "profile",
        ProfileSettings,
        build,
        defaults=DEFAULTS,
        migrate_packages=["hallway_profile"],
        argv=argv,
    )
