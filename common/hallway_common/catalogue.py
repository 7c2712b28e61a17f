"""The service catalogue: every Hallway service, its ports, its store and its Kafka groups.

The one place where these facts are written. Everything else reads or renders them:

- the services take their default ports from here (``Service.defaults()``; the gateway
  its HTTP port and the services' addresses);
- ``scripts/dev/run.sh`` reads ``python -m hallway_common.catalogue --shell``;
- ``python -m hallway_dev.catalogue`` renders it into the Helm chart
  (``charts/hallway/files/catalogue.yaml``, read by the templates), into the per-service
  stages of ``docker/Dockerfile`` and into the ports table of ``docs/deploy.md``;
  ``--check`` fails when any of them is stale (tests/deploy runs it).

Consumer groups and topics are not written here: they come from
:mod:`hallway_common.contracts` (``CONSUMERS``, ``TOPICS``), the published event contract.

Ports are a contract with the chart, the images and the monitoring, not settings an
operator tunes: a deployment that needs another port sets ``HALLWAY_*_PORT`` (see
docs/conventions.md). The plaintext health port is listed for the chart's kubelet
probes; a service opens it only when ``HALLWAY_GRPC_HEALTH_PORT`` is set (the chart sets
it), so it is not among the defaults and two local processes of one service never
fight over it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Literal

from hallway_common.contracts import CONSUMERS, Topic, dlq_topic, produced_by


@dataclass(frozen=True)
class ConsumerGroup:
    """One Kafka consumer group of a service and the topics it reads (from contracts)."""

    name: str
    topics: tuple[Topic, ...]

    @property
    def dead_letter_topic(self) -> str:
        return dlq_topic(self.name)


@dataclass(frozen=True)
class Service:
    """One deployable component of Hallway."""

    name: str
    # Prometheus /metrics; the gateway serves it on its HTTP port.
    metrics_port: int
    # gRPC API (mutual TLS); None for the gateway.
    grpc_port: int | None = None
    # Plaintext grpc.health.v1 only (HALLWAY_GRPC_HEALTH_PORT), for Kubernetes' probes.
    grpc_health_port: int | None = None
    # HTTP (REST, web UI, /healthz, /readyz, /metrics); the gateway only.
    http_port: int | None = None
    # The store it owns; "migrate" prepares it (database schema, OpenSearch indices).
    store: Literal["postgresql", "opensearch"] | None = None
    # Sends e-mail over SMTP.
    smtp: bool = False
    # Components that call this service's gRPC API (NetworkPolicy peers).
    callers: tuple[str, ...] = ()
    summary: str = ""

    @property
    def kind(self) -> Literal["grpc", "http"]:
        return "http" if self.http_port is not None else "grpc"

    @property
    def package(self) -> str:
        """The Python package, run as ``python -m <package> serve|migrate``."""
        return f"hallway_{self.name}"

    @property
    def migrates(self) -> bool:
        return self.store is not None

    @property
    def groups(self) -> tuple[ConsumerGroup, ...]:
        """Its consumer groups, as hallway_common.contracts.CONSUMERS declares them."""
        return tuple(
            ConsumerGroup(group, topics)
            for group, (service, topics) in CONSUMERS.items()
            if service == self.name
        )

    @property
    def produces(self) -> tuple[Topic, ...]:
        """The topics it publishes (change topics and their state topics)."""
        return tuple(produced_by(self.name))

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port the process may listen on, distinct, in a fixed order."""
        found = (self.grpc_port, self.grpc_health_port, self.metrics_port, self.http_port)
        return tuple(dict.fromkeys(p for p in found if p is not None))

    def defaults(self) -> dict[str, int]:
        """The port settings a service passes to its settings as defaults."""
        if self.kind == "http":
            assert self.http_port is not None
            return {"http_port": self.http_port}
        assert self.grpc_port is not None
        return {"grpc_port": self.grpc_port, "metrics_port": self.metrics_port}

    def address(self, host: str = "localhost") -> str:
        """host:port of its gRPC API (what the gateway dials)."""
        if self.grpc_port is None:
            raise ValueError(f"{self.name} has no gRPC API")
        return f"{host}:{self.grpc_port}"


PROFILE = Service(
    "profile",
    grpc_port=50051,
    grpc_health_port=51051,
    metrics_port=9101,
    store="postgresql",
    callers=("gateway",),
    summary="people, org chart, follows",
)
FEED = Service(
    "feed",
    grpc_port=50052,
    grpc_health_port=51052,
    metrics_port=9102,
    store="postgresql",
    callers=("gateway",),
    summary="posts and timelines",
)
SEARCH = Service(
    "search",
    grpc_port=50053,
    grpc_health_port=51053,
    metrics_port=9103,
    store="opensearch",
    callers=("gateway",),
    summary="search over posts and people",
)
NOTIFICATION = Service(
    "notification",
    grpc_port=50054,
    grpc_health_port=51054,
    metrics_port=9104,
    store="postgresql",
    smtp=True,
    callers=("gateway",),
    summary="inboxes, live streams, e-mail",
)
GATEWAY = Service(
    "gateway",
    http_port=8080,
    metrics_port=8080,
    summary="REST API, web UI, SSE; calls the services over gRPC",
)

# In start order: the gateway last, once the services it calls answer.
SERVICES: tuple[Service, ...] = (PROFILE, FEED, SEARCH, NOTIFICATION, GATEWAY)
GRPC_SERVICES: tuple[Service, ...] = tuple(s for s in SERVICES if s.kind == "grpc")


def service(name: str) -> Service:
    """The catalogue entry of one service (KeyError for an unknown name)."""
    for svc in SERVICES:
        if svc.name == name:
            return svc
    raise KeyError(name)


def problems() -> list[str]:
    """What is inconsistent in the catalogue (empty when it is sound); a test asserts it."""
    found: list[str] = []
    owners: dict[int, str] = {}
    for svc in SERVICES:
        for port in svc.ports:
            if not 1 <= port <= 65535:
                found.append(f"{svc.name}: port {port} out of range")
            if port in owners and owners[port] != svc.name:
                found.append(f"port {port} of {svc.name} is also {owners[port]}'s")
            owners[port] = svc.name
        if svc.kind == "grpc" and (svc.grpc_health_port is None or svc.grpc_port is None):
            found.append(f"{svc.name}: a gRPC service needs a gRPC and a health port")
        if svc.kind == "http" and svc.metrics_port != svc.http_port:
            found.append(f"{svc.name}: an HTTP component serves /metrics on its HTTP port")
        for caller in svc.callers:
            if caller not in {s.name for s in SERVICES}:
                found.append(f"{svc.name}: unknown caller {caller}")
    names = {s.name for s in SERVICES}
    for group, (owner, _) in CONSUMERS.items():
        if owner not in names:
            found.append(f"consumer group {group} belongs to {owner}, not in the catalogue")
    return found


def shell() -> str:
    """Bash assignments for scripts (``eval "$(python -m hallway_common.catalogue --shell)"``).

    Named CATALOGUE_*, not HALLWAY_*: those are the services' own settings."""

    def assoc(var: str, attr: str) -> str:
        pairs = " ".join(
            f"[{s.name}]={getattr(s, attr)}" for s in SERVICES if getattr(s, attr) is not None
        )
        return f"declare -A {var}=({pairs})"

    return "\n".join(
        [
            f"CATALOGUE_SERVICES=({' '.join(s.name for s in SERVICES)})",
            f"CATALOGUE_GRPC_SERVICES=({' '.join(s.name for s in GRPC_SERVICES)})",
            assoc("CATALOGUE_GRPC_PORT", "grpc_port"),
            assoc("CATALOGUE_GRPC_HEALTH_PORT", "grpc_health_port"),
            assoc("CATALOGUE_METRICS_PORT", "metrics_port"),
            assoc("CATALOGUE_HTTP_PORT", "http_port"),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hallway_common.catalogue",
        description="The service catalogue: ports and consumer groups of every service.",
    )
    parser.add_argument("--shell", action="store_true", help="bash assignments for scripts")
    args = parser.parse_args(argv)
    if args.shell:
        print(shell())
        return
    for svc in SERVICES:
        ports = ", ".join(
            f"{label} {port}"
            for label, port in (
                ("grpc", svc.grpc_port),
                ("health", svc.grpc_health_port),
                ("metrics", svc.metrics_port),
                ("http", svc.http_port),
            )
            if port is not None
        )
        groups = "; ".join(f"{g.name} <- {', '.join(t.name for t in g.topics)}" for g in svc.groups)
        print(f"{svc.name:<13} {ports}" + (f"  [{groups}]" if groups else ""))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
