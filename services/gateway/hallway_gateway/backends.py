"""The four services the gateway calls, each over one gRPC channel with a deadline.

Every unary call goes through ``Guarded`` so a failed RPC becomes a problem
response naming the service; tests swap the stubs for small fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import Gauge

from hallway.feed.v1 import community_pb2_grpc, conversation_pb2_grpc, feed_pb2_grpc
from hallway.notification.v1 import notification_pb2_grpc
from hallway.profile.v1 import profile_pb2_grpc
from hallway.search.v1 import search_pb2_grpc
from hallway_common.grpc_client import channel, client_credentials
from hallway_common.identity import METADATA_KEY as IDENTITY_KEY
from hallway_common.identity import SERVICE_PREFIX, IdentitySigner
from hallway_gateway.auth import Principal
from hallway_gateway.problems import from_rpc_error
from hallway_gateway.settings import GatewaySettings

SERVICES = ("profile", "feed", "search", "notification")
FEED_HOSTED = ("communities", "conversations", "topics")
# Who the gateway is when it calls for nobody in particular (e.g. the sign-in page).
GATEWAY_SUBJECT = SERVICE_PREFIX + "gateway"
HEALTH_INTERVAL_SECONDS = 10.0

BACKEND_UP = Gauge(
    "hallway_gateway_backend_up",
    "1 when the service answered SERVING to the gateway's last health check, else 0.",
    ["service"],
)


Metadata = Callable[[], tuple[tuple[str, str], ...]]


class Guarded:
    """Proxy of a stub: ``await g.Method(request)``; gRPC errors become problems.

    ``metadata`` supplies the identity token of whoever the gateway acts for, per call.
    """

    def __init__(self, name: str, stub: Any, metadata: Metadata | None = None) -> None:
        self.name = name
        self.stub = stub
        self.metadata = metadata

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        fn = getattr(self.stub, method)

        async def call(request: Any, **kwargs: Any) -> Any:
            if self.metadata is not None:
                kwargs.setdefault("metadata", self.metadata())
            try:
                return await fn(request, **kwargs)
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc, self.name) from None

        return call


HealthCheck = Callable[[float], Awaitable[str]]


@dataclass
class Backends:
    profile: Guarded
    feed: Guarded
    search: Guarded
    notification: Guarded
    # Further services hosted by feed, on its channel.
    communities: Guarded
    conversations: Guarded
    topics: Guarded
    # name -> check(timeout) returning the serving status name ("SERVING", ...).
    health: dict[str, HealthCheck] = field(default_factory=dict)
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    signer: IdentitySigner | None = None

    def acting(self, principal: Principal | None) -> Backends:
        """The same channels, calling as ``principal`` (or as the gateway itself)."""
        if principal is None:
            subject, roles = GATEWAY_SUBJECT, frozenset[str]()
        else:
            subject, roles = principal.person_id, principal.roles
        signer = self.signer

        def metadata() -> tuple[tuple[str, str], ...]:
            return signer.metadata(subject, roles) if signer else ((IDENTITY_KEY, subject),)

        stubs = {name: getattr(self, name) for name in (*SERVICES, *FEED_HOSTED)}
        return replace(
            self,
            **{name: Guarded(g.name, g.stub, metadata) for name, g in stubs.items()},
        )

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Backends:
        """Channels connect lazily, so the gateway starts before the services do."""
        deadline = settings.grpc_deadline_seconds
        addresses = {
            "profile": settings.profile_addr,
            "feed": settings.feed_addr,
            "search": settings.search_addr,
            "notification": settings.notification_addr,
        }
        credentials = None
        if settings.grpc_tls_enabled:
            credentials = client_credentials(
                settings.grpc_tls_cert_file, settings.grpc_tls_key_file, settings.grpc_tls_ca_file
            )
        channels = {
            name: channel(addr, deadline, credentials=credentials)
            for name, addr in addresses.items()
        }
        return cls(
            profile=Guarded("profile", profile_pb2_grpc.ProfileServiceStub(channels["profile"])),
            feed=Guarded("feed", feed_pb2_grpc.FeedServiceStub(channels["feed"])),
            communities=Guarded("feed", community_pb2_grpc.CommunityServiceStub(channels["feed"])),
            conversations=Guarded(
                "feed", conversation_pb2_grpc.ConversationServiceStub(channels["feed"])
            ),
            topics=Guarded("feed", conversation_pb2_grpc.TopicServiceStub(channels["feed"])),
            search=Guarded("search", search_pb2_grpc.SearchServiceStub(channels["search"])),
            notification=Guarded(
                "notification",
                notification_pb2_grpc.NotificationServiceStub(channels["notification"]),
            ),
            health={name: _health_check(ch) for name, ch in channels.items()},
            channels=list(channels.values()),
            signer=IdentitySigner.from_file(settings.identity_private_key_file),
        )

    async def readiness(self, deadline: float) -> dict[str, str]:
        """Each service's health status (or why it could not be had), concurrently."""

        async def one(check: HealthCheck) -> str:
            try:
                return await asyncio.wait_for(check(deadline), deadline)
            except grpc.aio.AioRpcError as exc:
                return exc.code().name
            except TimeoutError:
                return "DEADLINE_EXCEEDED"

        names = list(self.health)
        results = await asyncio.gather(*(one(self.health[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def close(self) -> None:
        await asyncio.gather(*(ch.close() for ch in self.channels), return_exceptions=True)


def _health_check(ch: grpc.aio.Channel) -> HealthCheck:
    stub = health_pb2_grpc.HealthStub(ch)

    async def check(deadline: float) -> str:
        resp = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=deadline)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)

    return check


def record_backend_health(status: dict[str, str]) -> None:
    for name, value in status.items():
        BACKEND_UP.labels(name).set(1 if value == "SERVING" else 0)


async def watch_backends(backends: Backends, deadline: float) -> None:
    """Keep ``hallway_gateway_backend_up`` current for the life of the process."""
    while True:
        record_backend_health(await backends.readiness(deadline))
        await asyncio.sleep(HEALTH_INTERVAL_SECONDS)
