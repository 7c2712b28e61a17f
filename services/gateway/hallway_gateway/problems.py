"""RFC 9457 problem details: every error the gateway returns is application/problem+json.

Service errors arrive as gRPC status codes; the mapping to HTTP lives here, once.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import grpc
import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hallway_common.audit import audit
from hallway_common.logs import get_logger

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hallway.dev/problems/"

# gRPC status -> (HTTP status, problem type slug).
GRPC_TO_HTTP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid-argument"),
    grpc.StatusCode.OUT_OF_RANGE: (400, "invalid-argument"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "unauthenticated"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "permission-denied"),
    grpc.StatusCode.NOT_FOUND: (404, "not-found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "already-exists"),
    grpc.StatusCode.ABORTED: (409, "conflict"),
    # The request is well formed but the state of the world forbids it.
    grpc.StatusCode.FAILED_PRECONDITION: (422, "failed-precondition"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rate-limited"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "not-implemented"),
    grpc.StatusCode.UNAVAILABLE: (503, "service-unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "deadline-exceeded"),
    grpc.StatusCode.CANCELLED: (499, "cancelled"),
}

# Codes whose details may carry internals; the client gets a generic sentence.
_OPAQUE = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}


class Problem(HTTPException):
    """Raise anywhere in a request to answer with a problem document.

    An HTTPException subclass so that FastAPI re-raises it untouched from body
    parsing (the body-size limit fires there)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.status = status
        self.detail = detail
        self.slug = slug or _slug(status)
        self.title = title or _title(status)
        self.headers = headers or {}
        self.extra = extra or {}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Client Closed Request" if status == 499 else "Error"


def _slug(status: int) -> str:
    return _title(status).lower().replace(" ", "-").replace("'", "")


def problem_response(request: Request | None, problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path if request is not None else "",
        **problem.extra,
    }
    return Response(
        orjson.dumps(body),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def from_rpc_error(exc: grpc.aio.AioRpcError | grpc.RpcError, service: str = "") -> Problem:
    """The problem a failed gRPC call becomes."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    status, slug = GRPC_TO_HTTP.get(code, (502, "upstream-error"))
    if code in _OPAQUE:
        where = f"the {service} service" if service else "a backing service"
        detail = {
            503: f"{where} is unavailable; try again shortly",
            504: f"{where} did not answer in time",
        }.get(status, f"{where} failed to handle the request")
        extra = {"service": service} if service else {}
        headers = {"Retry-After": "1"} if status == 503 else {}
        return Problem(status, detail, slug=slug, headers=headers, extra=extra)
    details = exc.details() if hasattr(exc, "details") else ""
    return Problem(status, details or _title(status), slug=slug)


# Refusals that are security events, by status: who was refused what, and why.
_AUDITED = {401: "authn", 403: "authz", 429: "ratelimit"}


def _audit_refusal(request: Request, exc: Problem) -> None:
    event = _AUDITED.get(exc.status)
    if event is None:
        return
    principal = getattr(request.state, "principal", None)
    audit(
        event,
        "failure" if exc.status == 401 else "denied",
        actor=principal.person_id if principal else "",
        target=f"{request.method} {request.url.path}",
        reason=exc.detail,
    )


def install(app: FastAPI) -> None:
    """Turn every error path (ours, FastAPI's, Starlette's, gRPC's) into problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        _audit_refusal(request, exc)
        return problem_response(request, exc)

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _rpc(request: Request, exc: grpc.aio.AioRpcError) -> Response:
        problem = from_rpc_error(exc)
        _audit_refusal(request, problem)
        if problem.status >= 500:
            log.warning("backend call failed", code=exc.code().name, details=exc.details())
        return problem_response(request, problem)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return problem_response(
            request,
            Problem(
                422,
                f"{where}: {first['msg']}" if where else first["msg"],
                slug="validation-error",
                extra={"errors": errors},
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
        return problem_response(
            request, Problem(exc.status_code, detail, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(request, Problem(500, "internal error"))
