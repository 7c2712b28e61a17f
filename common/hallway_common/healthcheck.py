"""Container health check: ``python -m hallway_common.healthcheck --grpc HOST:PORT | --http URL``.

Exit 0 when the gRPC health service answers SERVING (or the URL answers 2xx).
"""

from __future__ import annotations

import argparse
import sys
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check_grpc(address: str, service: str = "", timeout: float = 2.0) -> bool:
    with grpc.insecure_channel(address) as ch:
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
    ok = check_grpc(args.grpc, args.service) if args.grpc else check_http(args.http)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
