"""The gateway ASGI application: REST /api/v1, SSE, the web page, health and metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from hallway_common.logs import get_logger
from hallway_gateway import (
    api,
    api_communities,
    api_conversations,
    api_preferences,
    api_search,
    problems,
    web,
)
from hallway_gateway.backends import Backends, record_backend_health, watch_backends
from hallway_gateway.middleware import (
    BodyLimitMiddleware,
    ObservabilityMiddleware,
    SecurityHeadersMiddleware,
)
from hallway_gateway.ratelimit import TokenBucketLimiter
from hallway_gateway.settings import GatewaySettings

log = get_logger(__name__)

PACKAGE = Path(__file__).parent
OPENAPI_URL = "/api/v1/openapi.json"
STATUS_MAX_AGE_SECONDS = 1.0

DESCRIPTION = """\
The public REST API of Hallway, the internal social network.

**Authentication**: `Authorization: Bearer <JWT>` (mint one with
`python -m hallway_gateway token <handle>`), or the web page's `hallway_token` cookie.

**Pagination**: lists return `{"items": [...], "next_cursor": "..." | null}`; pass
`next_cursor` back as `cursor`.

**Errors**: RFC 9457 `application/problem+json` with `type`, `title`, `status`,
`detail`, `instance`.

**Limits**: request bodies up to 64 KiB (413), writes rate-limited per person (429
with `Retry-After`; per gateway replica).
"""


def create_app(
    settings: GatewaySettings,
    backends: Backends | None = None,
    limiter: TokenBucketLimiter | None = None,
) -> FastAPI:
    """The application; ``backends`` is injected by tests, built from settings otherwise."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.backends is None
        if owned:
            app.state.backends = Backends.connect(settings)
        if settings.dev_mode:
            log.warning(
                "HALLWAY_DEV_MODE is on: development sign-in and secrets are allowed "
                "(never in production)"
            )
        watcher = asyncio.create_task(
            watch_backends(app.state.backends, settings.grpc_deadline_seconds)
        )
        try:
            yield
        finally:
            watcher.cancel()
            if owned:
                await app.state.backends.close()

    app = FastAPI(
        title="Hallway API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,  # the bundled Swagger UI loads from a CDN; see /api/v1/docs
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.backends = backends
    app.state.limiter = limiter or TokenBucketLimiter(settings.write_rate_per_minute)

    problems.install(app)
    # Last added is outermost: metrics see every answer, including 413s.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        SecurityHeadersMiddleware,
        max_header_bytes=settings.max_header_bytes,
        hsts=settings.cookie_secure,
    )
    app.add_middleware(ObservabilityMiddleware)

    app.include_router(api.router)
    app.include_router(api_preferences.router)
    app.include_router(api_communities.router)
    app.include_router(api_conversations.router)
    app.include_router(api_search.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")

    @app.get("/api/v1/docs", include_in_schema=False, response_class=HTMLResponse)
    async def api_docs(request: Request) -> Response:
        """A self-contained reference page rendered from the OpenAPI document."""
        return web.templates.TemplateResponse(
            request, "api_docs.html", {"spec": app.openapi(), "openapi_url": OPENAPI_URL}
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """The process is alive (no dependency is checked: restarting would not help)."""
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """This process can serve. Backends are NOT checked: one sick service must not
        take every gateway pod out of the load balancer at once (each endpoint answers
        503 naming its service instead; backend health is in /statusz and metrics)."""
        return JSONResponse({"status": "ready"})

    # /statusz is public: however often it is asked, backends see at most one round of
    # health checks per STATUS_MAX_AGE_SECONDS from this process.
    status_lock = asyncio.Lock()
    last_status: list[tuple[float, dict[str, str]]] = [(float("-inf"), {})]

    @app.get("/statusz", include_in_schema=False)
    async def statusz() -> JSONResponse:
        """Each backend's gRPC health status, at most a second old (for humans and smoke tests)."""
        async with status_lock:
            checked_at, status = last_status[0]
            if time.monotonic() - checked_at >= STATUS_MAX_AGE_SECONDS:
                status = await app.state.backends.readiness(settings.grpc_deadline_seconds)
                record_backend_health(status)
                last_status[0] = (time.monotonic(), status)
        return JSONResponse({"services": status})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
