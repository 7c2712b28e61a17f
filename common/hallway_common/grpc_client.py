"""gRPC client helper: every call carries a deadline and the caller's trace."""

from __future__ import annotations

from typing import Any

import grpc

from hallway_common.tracing import current_traceparent

DEFAULT_DEADLINE_SECONDS = 3.0


class _Defaults(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def _details(self, details: grpc.aio.ClientCallDetails, streaming: bool) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata["traceparent"] = current_traceparent()
        # Streams are long-lived by design; everything else gets the default deadline.
        timeout = details.timeout if details.timeout is not None or streaming else self._deadline
        return grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, streaming=False), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, streaming=True), request)


def channel(address: str, deadline: float = DEFAULT_DEADLINE_SECONDS) -> grpc.aio.Channel:
    """An insecure channel (in-cluster traffic; mTLS is the mesh's job)."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=[_Defaults(deadline)],
        options=[
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.enable_retries", 1),
            # A restarted service is reachable again within seconds, not minutes.
            ("grpc.initial_reconnect_backoff_ms", 500),
            ("grpc.max_reconnect_backoff_ms", 5000),
            ("grpc.max_receive_message_length", 4 * 1024 * 1024),
        ],
    )
