"""Container health check: ``python -m hallway_common.healthcheck --grpc HOST:PORT | --http URL``.

Exit 0 when the gRPC health service answers SERVING (or the URL answers 2xx). The
gRPC check speaks mutual TLS with the process's own certificate when
``HALLWAY_GRPC_TLS_*`` is set (the same environment as the service it checks), so a
Docker HEALTHCHECK or exec probe works unchanged; Kubernetes' native gRPC probes use
the plaintext health-only port (``HALLWAY_GRPC_HEALTH_PORT``) instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def tls_from_env(env: Mapping[str, str] = os.environ) -> grpc.ChannelCredentials | None:
    """Client credentials from HALLWAY_GRPC_TLS_* (None when TLS is off or not configured)."""
    if env.get("HALLWAY_GRPC_TLS_ENABLED", "true").lower() in ("false", "0", "no"):
        return None
    files = [env.get(f"HALLWAY_GRPC_TLS_{n}_FILE", "") for n in ("CA", "KEY", "CERT")]
    if not all(files):
        return None
    ca, key, cert = (Path(f).read_bytes() for f in files)
    return grpc.ssl_channel_credentials(ca, key, cert)


def check_grpc(
    address: str,
    service: str = "",
    timeout: float = 2.0,
    credentials: grpc.ChannelCredentials | None = None,
) -> bool:
    ch = (
        grpc.secure_channel(address, credentials)
        if credentials is not None
        else grpc.insecure_channel(address)
    )
    with ch:
        try:
            resp = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return resp.status == health_pb2.HealthCheckResponse.SERVING


def check_http(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--grpc", metavar="HOST:PORT")
    group.add_argument("--http", metavar="URL")
    parser.add_argument("--service", default="")
    args = parser.parse_args()
    if args.grpc:
        ok = check_grpc(args.grpc, args.service, credentials=tls_from_env())
    else:
        ok = check_http(args.http)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
