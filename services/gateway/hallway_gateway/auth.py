"""Bearer JWTs (HS256): minted by ``python -m hallway_gateway token`` or the dev sign-in.

A request authenticates with ``Authorization: Bearer <jwt>`` or with the same token
in the HttpOnly cookie ``hallway_token`` (the web page and EventSource cannot set
headers). Claims: ``sub`` = person id, ``handle``, ``iss``, ``iat``, ``exp`` and an
optional ``roles`` list (``admin`` may provision people and edit anyone).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt
from fastapi import Request

from hallway_common.audit import audit
from hallway_gateway.problems import Problem

COOKIE_NAME = "hallway_token"
ALGORITHM = "HS256"
ADMIN = "admin"
_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the person id (``sub``), their handle and roles."""

    person_id: str
    handle: str
    roles: frozenset[str] = field(default_factory=frozenset)
    via_cookie: bool = False

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


def parse_ttl(text: str) -> int:
    """``90``, ``30m``, ``8h``, ``7d`` -> seconds."""
    match = _TTL.match(text.strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"invalid ttl {text!r}: use e.g. 3600, 30m, 8h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def mint_token(
    secret: str,
    issuer: str,
    person_id: str,
    handle: str,
    ttl_seconds: int,
    roles: list[str] | None = None,
    now: int | None = None,
) -> str:
    issued = int(time.time()) if now is None else now
    claims: dict = {
        "sub": person_id,
        "handle": handle,
        "iss": issuer,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if roles:
        claims["roles"] = sorted(set(roles))
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, issuer: str) -> Principal:
    """The principal of a valid token; a 401 problem otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # pinned: never trust the token's own "alg"
            issuer=issuer,
            options={"require": ["sub", "exp", "iss"]},
            leeway=30,
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"the token is not valid: {exc}") from None
    roles = claims.get("roles") or []
    if not isinstance(claims["sub"], str) or not isinstance(roles, list):
        raise unauthorized("the token is not valid: malformed claims")
    return Principal(
        person_id=claims["sub"],
        handle=str(claims.get("handle", "")),
        roles=frozenset(str(r) for r in roles),
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        detail,
        slug="unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="hallway"'},
    )


def token_from_request(request: Request) -> tuple[str | None, bool]:
    """(token, came_from_cookie)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("use the Authorization: Bearer <token> scheme")
        return value.strip(), False
    cookie = request.cookies.get(COOKIE_NAME)
    return (cookie, True) if cookie else (None, False)


def _same_origin(request: Request) -> bool:
    """Cookie-authenticated writes must come from our own pages (CSRF defence in depth,
    on top of SameSite=Lax)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        # Browsers send Origin on cross-site fetch/form POSTs; its absence means a
        # non-browser client, which cannot have been tricked into using the cookie.
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def authenticate(request: Request) -> Principal:
    """The caller, or a 401 problem (missing, malformed, forged or expired token)."""
    settings = request.app.state.settings
    token, via_cookie = token_from_request(request)
    if not token:
        raise unauthorized("authentication required: send a bearer token")
    principal = decode_token(token, settings.jwt_secret, settings.jwt_issuer)
    if via_cookie:
        if request.method not in _SAFE_METHODS and not _same_origin(request):
            raise Problem(403, "cross-site request refused", slug="csrf")
        principal = Principal(principal.person_id, principal.handle, principal.roles, True)
    request.state.principal = principal
    return principal


def optional_principal(request: Request) -> Principal | None:
    """The caller when a valid token is present (web pages redirect otherwise)."""
    try:
        return authenticate(request)
    except Problem as exc:
        if request.cookies.get(COOKIE_NAME) or request.headers.get("authorization"):
            # A token was shown and refused (forged, expired): audited like the API's 401.
            audit(
                "authn", "failure", target=f"{request.method} {request.url.path}", reason=exc.detail
            )
        return None
