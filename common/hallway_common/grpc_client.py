"""gRPC client helper: every call carries a deadline, the caller's trace and identity.

Channels speak mutual TLS (``client_credentials``) unless a mesh provides it; the
identity token of the acting person travels per call in the metadata (the gateway
passes it explicitly, or ``identity`` supplies a default for every call).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc

from hallway_common.identity import METADATA_KEY
from hallway_common.tracing import current_traceparent

DEFAULT_DEADLINE_SECONDS = 3.0


IdentityProvider = Callable[[], Sequence[tuple[str, str]]]


class _Defaults(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, deadline: float, identity: IdentityProvider | None) -> None:
        self._deadline = deadline
        self._identity = identity

    def _details(self, details: grpc.aio.ClientCallDetails, streaming: bool) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata["traceparent"] = current_traceparent()
        if self._identity is not None and METADATA_KEY not in metadata:
            for key, value in self._identity():
                metadata[key] = value
        # Streams are long-lived by design; everything else gets the default deadline.
        timeout = details.timeout if details.timeout is not None or streaming else self._deadline
        return grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, streaming=False), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, streaming=True), request)


def client_credentials(cert_file: str, key_file: str, ca_file: str) -> grpc.ChannelCredentials:
    """Mutual TLS: present our certificate, trust servers signed by the CA."""
    return grpc.ssl_channel_credentials(
        root_certificates=Path(ca_file).read_bytes(),
        private_key=Path(key_file).read_bytes(),
        certificate_chain=Path(cert_file).read_bytes(),
    )


def channel(
    address: str,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
    *,
    credentials: grpc.ChannelCredentials | None = None,
    identity: IdentityProvider | None = None,
) -> grpc.aio.Channel:
    """A channel to a Hallway service: mTLS with ``credentials`` (plaintext only where a
    mesh provides mTLS), a default deadline, and ``identity`` metadata on every call."""
    options = [
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.enable_retries", 1),
        # A restarted service is reachable again within seconds, not minutes.
        ("grpc.initial_reconnect_backoff_ms", 500),
        ("grpc.max_reconnect_backoff_ms", 5000),
        ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ]
    interceptors = [_Defaults(deadline, identity)]
    if credentials is None:
        return grpc.aio.insecure_channel(address, interceptors=interceptors, options=options)
    return grpc.aio.secure_channel(address, credentials, interceptors=interceptors, options=options)
