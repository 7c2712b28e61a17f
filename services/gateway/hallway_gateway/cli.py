"""``python -m hallway_gateway serve`` and ``python -m hallway_gateway token <handle>``."""

from __future__ import annotations

import argparse
import asyncio
import sys

import grpc

from hallway.profile.v1 import profile_pb2
from hallway_common.config import load_settings, refuse
from hallway_common.logs import configure_logging
from hallway_gateway.auth import ADMIN, mint_token, parse_ttl
from hallway_gateway.backends import Backends
from hallway_gateway.settings import DEV_JWT_SECRET, GatewaySettings, settings_problems


def serve(settings: GatewaySettings) -> None:
    import uvicorn

    from hallway_gateway.app import create_app

    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        log_config=None,  # keep our JSON handlers on the root logger
        access_log=False,  # the gateway writes its own access lines with the route template
        proxy_headers=True,
        server_header=False,  # no product banner for scanners
        # h11 drops the connection on a header block over this size; below it our
        # middleware answers a clear 431 problem for anything over max_header_bytes.
        h11_max_incomplete_event_size=settings.max_header_bytes * 8,
        timeout_graceful_shutdown=10,
    )


async def lookup(settings: GatewaySettings, handle: str) -> profile_pb2.Person:
    backends = Backends.connect(settings).acting(None)  # the gateway itself, reading
    try:
        return await backends.profile.stub.GetPerson(
            profile_pb2.GetPersonRequest(handle=handle), metadata=backends.profile.metadata()
        )
    finally:
        await backends.close()


def token(settings: GatewaySettings, args: argparse.Namespace) -> int:
    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        sys.stderr.write(f"token: {exc}\n")
        return 2
    handle = args.handle.lstrip("@")
    if args.person_id:
        person_id = args.person_id
    else:
        try:
            person = asyncio.run(lookup(settings, handle))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                sys.stderr.write(f"token: no person has the handle {handle!r}\n")
            else:
                sys.stderr.write(
                    f"token: cannot look up {handle!r} at {settings.profile_addr}: "
                    f"{exc.code().name} {exc.details()}\n"
                )
            return 1
        person_id, handle = person.id, person.handle
    if settings.jwt_secret == DEV_JWT_SECRET:
        sys.stderr.write(
            "token: warning: signed with the development secret (HALLWAY_JWT_SECRET)\n"
        )
    print(
        mint_token(
            settings.jwt_secret,
            settings.jwt_issuer,
            person_id,
            handle,
            ttl,
            roles=[ADMIN] if args.admin else None,
        )
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hallway_gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (REST /api/v1, web page, SSE)")
    tok = sub.add_parser("token", help="mint a bearer token for the person with a handle")
    tok.add_argument("handle")
    tok.add_argument("--ttl", default="8h", help="lifetime: seconds or 30m, 8h, 7d (default 8h)")
    tok.add_argument("--admin", action="store_true", help='add roles: ["admin"]')
    tok.add_argument(
        "--person-id",
        default="",
        help="skip the profile lookup and use this id as sub (bootstrap, service accounts)",
    )
    args = parser.parse_args(argv)
    settings = load_settings(GatewaySettings)
    refuse(settings_problems(settings, serving=args.command == "serve"))
    if args.command == "serve":
        serve(settings)
        return
    sys.exit(token(settings, args))
