"""REST API: notification preferences and the one-click unsubscribe link of e-mails.

``/me/notification-preferences`` is the signed-in person's (kind x channel switches and
the digest frequency). ``/unsubscribe?token=...`` is the link in the
``List-Unsubscribe`` header and footer of every e-mail: no sign-in, the token (signed
by the notification service, which verifies it) is the authentication, so the gateway
calls the service as itself. GET never changes anything (mail scanners prefetch
links): it shows a page whose button POSTs; POST is RFC 8058's one-click unsubscribe
(body ``List-Unsubscribe=One-Click``, which is not required) and answers JSON, or the
confirmation page to a browser that asks for HTML.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from hallway.notification.v1 import notification_pb2 as pb
from hallway_gateway import web
from hallway_gateway.backends import Backends
from hallway_gateway.deps import Caller, Services, WriteLimited
from hallway_gateway.models import ProblemDetails
from hallway_gateway.models_preferences import (
    ChannelSwitches,
    NotificationPreferences,
    NotificationPreferencesUpdate,
    Unsubscribed,
)
from hallway_gateway.problems import PROBLEM_JSON, Problem

CHANNELS = {
    pb.NOTIFICATION_CHANNEL_IN_APP: "in_app",
    pb.NOTIFICATION_CHANNEL_EMAIL: "email",
}
CHANNEL_TO_PROTO = {v: k for k, v in CHANNELS.items()}
DIGEST = {
    pb.DIGEST_FREQUENCY_OFF: "off",
    pb.DIGEST_FREQUENCY_DAILY: "daily",
    pb.DIGEST_FREQUENCY_WEEKLY: "weekly",
}
DIGEST_TO_PROTO = {v: k for k, v in DIGEST.items()}
# How an unsubscribe page names what stops; other kinds read "e-mails about <kind>".
WHAT = {
    "digest": "the e-mail digest of your unread notifications",
    "mention": "e-mails when someone mentions you",
    "new_follower": "e-mails when someone follows you",
}
MAX_TOKEN = 512
# What the notification service's tokens are made of (base64url and a dot); anything
# else is a link it never sent: the same 404, without asking it.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_.=-]+")
NO_STORE = {"Cache-Control": "no-store"}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}}
        for code in (422, 503, 504, *codes)
    }


router = APIRouter(prefix="/api/v1", responses=_problems())

Token = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_TOKEN,
        description="The token of the link in the e-mail's List-Unsubscribe header.",
    ),
]


def _preferences(resp: Any) -> NotificationPreferences:
    kinds: dict[str, dict[str, bool]] = {}
    for item in resp.preferences:
        channel = CHANNELS.get(item.channel)
        if channel:
            kinds.setdefault(item.kind, {"in_app": True, "email": False})[channel] = item.enabled
    return NotificationPreferences(
        kinds={k: ChannelSwitches(**v) for k, v in kinds.items()},
        digest=DIGEST.get(resp.digest, "weekly"),  # type: ignore[arg-type]
    )


@router.get(
    "/me/notification-preferences",
    tags=["notifications"],
    response_model=NotificationPreferences,
    responses=_problems(401),
)
async def get_preferences(caller: Caller, backends: Services) -> NotificationPreferences:
    """The caller's notification preferences: every kind x channel, and the digest."""
    resp = await backends.notification.GetPreferences(pb.GetPreferencesRequest())
    return _preferences(resp)


@router.put(
    "/me/notification-preferences",
    tags=["notifications"],
    response_model=NotificationPreferences,
    responses=_problems(400, 401, 429),
    dependencies=[WriteLimited],
)
async def put_preferences(
    body: NotificationPreferencesUpdate, caller: Caller, backends: Services
) -> NotificationPreferences:
    """Change the caller's notification preferences; answers all of them, as GET.

    Only the kinds and channels given change (null or absent: unchanged), and the digest
    when given. 400 for an unknown kind; nothing changes then."""
    items = [
        pb.Preference(kind=kind, channel=CHANNEL_TO_PROTO[channel], enabled=value)
        for kind, switches in body.kinds.items()
        for channel, value in switches.model_dump().items()
        if value is not None
    ]
    resp = await backends.notification.UpdatePreferences(
        pb.UpdatePreferencesRequest(
            preferences=items,
            digest=DIGEST_TO_PROTO[body.digest] if body.digest else 0,
        )
    )
    return _preferences(resp)


def _as_gateway(request: Request) -> Backends:
    """The services called by the gateway as itself: the token, not a caller, is the
    authority (a bearer token or cookie sent along is ignored)."""
    return request.app.state.backends.acting(None)


def limit_unsubscribes(request: Request, token: Token) -> None:
    """One-click POSTs count against a bucket per link (no caller to count against):
    a stuck client or mail system retrying one link is stopped; forging links needs
    the notification service's key, so spraying tokens gains nothing."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    request.app.state.limiter.check(f"unsubscribe:{digest}")


async def _unsubscribe(request: Request, token: str, validate_only: bool) -> Unsubscribed:
    if not TOKEN_SHAPE.fullmatch(token):
        raise Problem(404, "no such unsubscribe link", slug="not-found")
    resp = await _as_gateway(request).notification.Unsubscribe(
        pb.UnsubscribeRequest(token=token, validate_only=validate_only)
    )
    return Unsubscribed(
        kind=resp.kind,
        channel=CHANNELS.get(resp.channel, "email"),  # type: ignore[arg-type]
        unsubscribed=not validate_only,
    )


def _page(request: Request, token: str, what: Unsubscribed, status: int = 200) -> Response:
    label = WHAT.get(what.kind, f"e-mails about {what.kind.replace('_', ' ')}")
    response = web.templates.TemplateResponse(
        request,
        "unsubscribe.html",
        {"token": token, "what": label, "done": what.unsubscribed},
        status_code=status,
    )
    response.headers.update(NO_STORE)
    return response


@router.get(
    "/unsubscribe",
    tags=["notifications"],
    response_class=HTMLResponse,
    responses={
        200: {
            "content": {"text/html": {}},
            "description": "A page naming what the link turns off, with a button that POSTs.",
        },
        **_problems(404),
    },
)
async def unsubscribe_page(request: Request, token: Token) -> Response:
    """The page an unsubscribe link opens. No sign-in: the token is the authentication.

    Changes nothing (mail scanners open links): its button POSTs to the same URL.
    404 for a token the notification service did not sign."""
    what = await _unsubscribe(request, token, validate_only=True)
    return _page(request, token, what)


@router.post(
    "/unsubscribe",
    tags=["notifications"],
    response_model=Unsubscribed,
    responses={
        200: {
            "content": {"text/html": {}},
            "description": "JSON, or the confirmation page when the client accepts text/html "
            "and not JSON (the button of the GET page).",
        },
        **_problems(404, 429),
    },
    dependencies=[Depends(limit_unsubscribes)],
)
async def unsubscribe(request: Request, token: Token) -> Any:
    """RFC 8058 one-click unsubscribe: turns off the e-mails the token names.

    No sign-in: the token is the authentication. Any body is accepted (mail systems send
    `List-Unsubscribe=One-Click`). Idempotent. 404 for a token the notification service
    did not sign; nothing changes then."""
    what = await _unsubscribe(request, token, validate_only=False)
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        return _page(request, token, what)
    return Response(what.model_dump_json(), media_type="application/json", headers=NO_STORE)
