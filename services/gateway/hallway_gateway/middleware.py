"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer SSE and lose contextvars)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallway_common.logs import get_logger
from hallway_common.metrics import LATENCY_BUCKETS
from hallway_common.tracing import adopt
from hallway_gateway.problems import Problem, problem_response

log = get_logger("hallway_gateway.access")

HTTP_REQUESTS = Counter(
    "hallway_http_requests_total",
    "HTTP requests handled by the gateway, by route template.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "hallway_http_request_duration_seconds",
    "Time to answer an HTTP request (for streams: the stream's whole life).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)

_QUIET = {"/healthz", "/readyz", "/metrics"}


def route_label(scope: Scope) -> str:
    """The matched route's template (``/api/v1/posts/{post_id}``), never the raw path:
    raw paths would make one time series per post id."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is not None:
        return path or "/"
    if scope.get("path", "").startswith("/static/"):
        return "/static/{path}"  # the mount does not record itself as the route
    return "unmatched"


class ObservabilityMiddleware:
    """Trace context, RED metrics by route template and one access-log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        trace_id = adopt((headers.get(b"traceparent") or b"").decode("latin-1") or None)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-trace-id", trace_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            method = scope["method"]
            route = route_label(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(elapsed)
            if scope["path"] not in _QUIET:
                emit = log.info if status >= 400 else log.debug
                emit(
                    "http request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )


class BodyLimitMiddleware:
    """413 for request bodies over ``max_bytes``, declared (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._reject(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._problem()
            return message

        await self.app(scope, limited_receive, send)

    def _problem(self) -> Problem:
        return Problem(
            413,
            f"request body is larger than {self.max_bytes} bytes",
            slug="payload-too-large",
        )

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.requests import Request

        response = problem_response(Request(scope), self._problem())
        response.headers["connection"] = "close"
        await response(scope, receive, send)


# No inline script or style anywhere (app.js and app.css are files), so the policy can
# forbid them; nothing is framed, and nothing loads from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """Browser hardening on every response, and a limit on request header size (431)."""

    def __init__(self, app: ASGIApp, max_header_bytes: int, hsts: bool) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:  # only where the cookie is Secure, i.e. the site is served over HTTPS
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != b"server"),
                    *self.headers,
                ]
            await send(message)

        size = sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or ())
        if size > self.max_header_bytes:
            from starlette.requests import Request

            response = problem_response(
                Request(scope),
                Problem(
                    431,
                    f"request headers are larger than {self.max_header_bytes} bytes",
                    slug="headers-too-large",
                ),
            )
            response.headers["connection"] = "close"
            await response(scope, receive, send_wrapper)
            return
        await self.app(scope, receive, send_wrapper)
