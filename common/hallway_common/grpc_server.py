"""The one gRPC server bootstrap: grpc.aio + mTLS + identity + health + reflection + metrics.

Every RPC except health checking and reflection must carry a gateway-signed
identity token (``hallway_common.identity``); the interceptor verifies it and sets
the acting person for the handler, or answers UNAUTHENTICATED. Transport is mutual
TLS unless a mesh provides it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

from hallway_common.audit import audit
from hallway_common.errors import HallwayError
from hallway_common.identity import METADATA_KEY, IdentityVerifier, set_actor
from hallway_common.logs import get_logger
from hallway_common.metrics import GRPC_HANDLED, GRPC_LATENCY, GRPC_STARTED
from hallway_common.text import check_request
from hallway_common.tracing import adopt

log = get_logger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def code_label(code: grpc.StatusCode) -> str:
    """The grpc_code label as go-grpc-prometheus writes it (Go's codes.Code.String())."""
    if code is grpc.StatusCode.CANCELLED:
        return "Canceled"
    return "OK" if code is grpc.StatusCode.OK else code.name.title().replace("_", "")


def _split(method: str) -> tuple[str, str]:
    _, service, name = method.split("/")
    return service, name


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """Identity, RED metrics with go-grpc-prometheus names, trace adoption, error mapping."""

    def __init__(self, verifier: IdentityVerifier) -> None:
        self._verifier = verifier

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(("/grpc.health", "/grpc.reflection")):
            return handler
        service, method = _split(details.method)
        metadata = dict(details.invocation_metadata or ())
        traceparent = metadata.get("traceparent")
        call = _Call(service, method, traceparent, self._verifier, metadata.get(METADATA_KEY))
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, call),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, call),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


class _Call:
    """What the wrappers need of one call: labels, trace and the identity to verify."""

    def __init__(
        self,
        service: str,
        method: str,
        traceparent: str | None,
        verifier: IdentityVerifier,
        token: str | None,
    ) -> None:
        self.service = service
        self.method = method
        self.traceparent = traceparent
        self.verifier = verifier
        self.token = token

    def begin(self) -> None:
        """Per RPC, in the handler's own context: trace, then the verified actor."""
        adopt(self.traceparent)
        set_actor(None)
        try:
            set_actor(self.verifier.verify(self.token))
        except HallwayError as exc:
            audit(
                "grpc.authn", "failure", target=f"{self.service}/{self.method}", reason=exc.message
            )
            raise


def _code_of(context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    return grpc.StatusCode.OK if code in (None, 0) else grpc.StatusCode(code)


async def _fail(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    if isinstance(exc, HallwayError):
        await context.abort(exc.code, exc.message)
    log.exception("unhandled error in rpc")
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


def _wrap_unary(behavior: Any, call: _Call) -> Any:
    labels = ("unary", call.service, call.method)

    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        GRPC_STARTED.labels(*labels).inc()
        start = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            try:
                call.begin()
                check_request(request)  # one text rule for every field of every service
                response = await behavior(request, context)
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _fail(context, exc)
            code = _code_of(context)
            return response
        except grpc.aio.AbortError:
            code = _code_of(context)
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        finally:
            GRPC_HANDLED.labels(*labels, code_label(code)).inc()
            GRPC_LATENCY.labels(*labels).observe(time.perf_counter() - start)

    return wrapper


def _wrap_stream(behavior: Any, call: _Call) -> Any:
    labels = ("server_stream", call.service, call.method)

    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        GRPC_STARTED.labels(*labels).inc()
        start = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            try:
                call.begin()
                check_request(request)
                async for item in behavior(request, context):
                    yield item
            except (grpc.aio.AbortError, GeneratorExit, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _fail(context, exc)
            code = _code_of(context)
        except grpc.aio.AbortError:
            code = _code_of(context)
            raise
        except (GeneratorExit, asyncio.CancelledError):
            code = grpc.StatusCode.CANCELLED  # the client went away
            raise
        finally:
            GRPC_HANDLED.labels(*labels, code_label(code)).inc()
            GRPC_LATENCY.labels(*labels).observe(time.perf_counter() - start)

    return wrapper


def _initialize_metrics(service_name: str) -> None:
    """Zero series for every method and code, as go-grpc-prometheus does, so error-ratio
    queries have data before the first error."""
    from google.protobuf import descriptor_pool

    service = descriptor_pool.Default().FindServiceByName(service_name)
    for method in service.methods:
        kind = "server_stream" if method.server_streaming else "unary"
        labels = (kind, service_name, method.name)
        GRPC_STARTED.labels(*labels)
        GRPC_LATENCY.labels(*labels)
        for code in grpc.StatusCode:
            GRPC_HANDLED.labels(*labels, code_label(code))


# grpcio-reflection (1.85) implements only grpc.reflection.v1alpha. v1 is the same
# protocol under another package name (identical messages and field numbers), so the
# package's own servicer answers v1 too, with the v1alpha message classes, and a copy
# of the descriptor renamed to v1 goes into the pool so reflection describes itself.
# Drop this once grpcio-reflection ships grpc_reflection.v1.
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
_REFLECTION_V1_FILE = "grpc/reflection/v1/reflection.proto"


def _add_reflection(server: grpc.aio.Server, service_names: list[str]) -> None:
    """Server reflection, v1 and v1alpha, over one servicer."""
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(_REFLECTION_V1_FILE)
    except KeyError:
        v1 = descriptor_pb2.FileDescriptorProto.FromString(reflection_pb2.DESCRIPTOR.serialized_pb)
        v1.name, v1.package = _REFLECTION_V1_FILE, "grpc.reflection.v1"
        v1.options.Clear()
        v1.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
        v1.options.java_package = "io.grpc.reflection.v1"
        v1.options.java_outer_classname = "ServerReflectionProto"
        v1.options.java_multiple_files = True
        old, new = ".grpc.reflection.v1alpha.", ".grpc.reflection.v1."
        for message in v1.message_type:
            for field in message.field:
                if field.type_name:
                    field.type_name = field.type_name.replace(old, new)
        for method in v1.service[0].method:
            method.input_type = method.input_type.replace(old, new)
            method.output_type = method.output_type.replace(old, new)
        pool.AddSerializedFile(v1.SerializeToString())
    servicer = reflection.aio.ReflectionServicer(
        [*service_names, reflection.SERVICE_NAME, REFLECTION_V1]
    )
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    info = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(REFLECTION_V1, {"ServerReflectionInfo": info}),)
    )


class GrpcServer:
    """A grpc.aio server with health checking and reflection for ``service_names``.

    ``credentials``: mutual-TLS server credentials (None only where a mesh gives
    mTLS). ``health_port``: an extra plaintext listener serving only the health
    service, for probes that cannot present a client certificate.
    """

    def __init__(
        self,
        port: int,
        verifier: IdentityVerifier,
        *,
        bind: str = "127.0.0.1",
        credentials: grpc.ServerCredentials | None = None,
        health_port: int = 0,
    ) -> None:
        self.server = grpc.aio.server(
            interceptors=[ServerInterceptor(verifier)],
            options=_SERVER_OPTIONS,
        )
        self.health = health.aio.HealthServicer()
        self.service_names: list[str] = []
        self.address = f"{bind}:{port}"
        self.port = port
        self.credentials = credentials
        self.health_address = f"{bind}:{health_port}" if health_port else ""
        self.health_server: grpc.aio.Server | None = None

    def add(
        self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any, name: str
    ) -> None:
        register(servicer, self.server)
        self.service_names.append(name)
        _initialize_metrics(name)

    async def start(self) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        _add_reflection(self.server, [*self.service_names, health.SERVICE_NAME])
        if self.credentials is None:
            self.port = self.server.add_insecure_port(self.address)
        else:
            self.port = self.server.add_secure_port(self.address, self.credentials)
        await self.server.start()
        if self.health_address:
            self.health_server = grpc.aio.server(options=_SERVER_OPTIONS)
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            self.health_server.add_insecure_port(self.health_address)
            await self.health_server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "grpc server listening",
            address=self.address,
            port=self.port,
            tls=self.credentials is not None,
            health_address=self.health_address or None,
            services=self.service_names,
        )

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING first so load balancers drain, then finish in-flight RPCs."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(0)


_SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.http2.max_pings_without_data", 0),
]


def server_credentials(cert_file: str, key_file: str, ca_file: str) -> grpc.ServerCredentials:
    """Mutual TLS: our certificate, and client certificates must be signed by the CA."""
    return grpc.ssl_server_credentials(
        [(Path(key_file).read_bytes(), Path(cert_file).read_bytes())],
        root_certificates=Path(ca_file).read_bytes(),
        require_client_auth=True,
    )
