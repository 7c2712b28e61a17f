"""Forged and broken bearer tokens at the gateway: all 401 problem+json, nothing written.

Each forgery claims to be the owner (except where the point is the subject), is sent
as a bearer header and as the session cookie, and tries to post; the owner's posts
must be unchanged afterwards. Failed authentications are audit events counted in
``hallway_security_events_total``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hostile_support import ISSUER, JWT_SECRET, Cast, mint

from hallway_dev import testing
from hallway_dev.testing import System

pytestmark = pytest.mark.e2e


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(sub: str | None, **over: object) -> dict:
    now = int(time.time())
    claims: dict = {"sub": sub, "handle": "x", "iss": ISSUER, "iat": now, "exp": now + 600}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _identity_public_pem() -> bytes:
    return (testing.pki() / "identity.pub").read_bytes()


def _hs256_with_key_bytes(claims: dict, key: bytes) -> str:
    """HS256 keyed with a public key's PEM: the classic algorithm-confusion forgery
    (PyJWT refuses to encode it, so sign by hand)."""
    import hashlib
    import hmac

    head = _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(claims)
    sig = hmac.new(key, head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


# name -> builds the Authorization header value (given the owner's id)
FORGERIES: dict[str, Callable[[str], str]] = {
    "alg none": lambda me: (
        "Bearer "
        + _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64(_claims(me, roles=["admin"]))
        + "."
    ),
    "alg None uppercase": lambda me: (
        "Bearer " + _b64({"alg": "None", "typ": "JWT"}) + "." + _b64(_claims(me)) + "."
    ),
    "HS256 with another secret": lambda me: (
        "Bearer "
        + jwt.encode(_claims(me), "another-secret-0123456789abcdef0123", algorithm="HS256")
    ),
    "RS256 with an attacker's key": lambda me: (
        "Bearer " + jwt.encode(_claims(me), _rsa_pem(), algorithm="RS256")
    ),
    "HS256 keyed with the identity public key": lambda me: (
        "Bearer " + _hs256_with_key_bytes(_claims(me), _identity_public_pem())
    ),
    "wrong issuer": lambda me: (
        "Bearer " + jwt.encode(_claims(me, iss="evil"), JWT_SECRET, algorithm="HS256")
    ),
    "no issuer": lambda me: (
        "Bearer " + jwt.encode({k: v for k, v in _claims(me).items() if k != "iss"}, JWT_SECRET)
    ),
    "expired": lambda me: (
        "Bearer "
        + jwt.encode(
            _claims(me, iat=int(time.time()) - 7200, exp=int(time.time()) - 120), JWT_SECRET
        )
    ),
    "no expiry": lambda me: (
        "Bearer " + jwt.encode({k: v for k, v in _claims(me).items() if k != "exp"}, JWT_SECRET)
    ),
    "missing sub": lambda me: "Bearer " + jwt.encode(_claims(None), JWT_SECRET),
    "sub not a string": lambda me: "Bearer " + _hs_raw({**_claims(me), "sub": 12345}),
    "roles not a list": lambda me: "Bearer " + _hs_raw(_claims(me, roles="admin")),
    "signature stripped": lambda me: "Bearer " + mint(me).rsplit(".", 1)[0] + ".",
    "payload swapped under a valid signature": lambda me: (
        "Bearer " + _swap_payload(mint(me), _claims(me, roles=["admin"]))
    ),
    "malformed: two segments": lambda me: "Bearer abc.def",
    "malformed: not base64": lambda me: "Bearer !!!.@@@.###",
    "malformed: header not JSON": lambda me: (
        "Bearer " + base64.urlsafe_b64encode(b"{not json").decode().rstrip("=") + ".e30.sig"
    ),
    "malformed: empty bearer": lambda me: "Bearer",
    "malformed: Basic scheme": lambda me: "Basic " + base64.b64encode(b"owner:pw").decode(),
    "malformed: token without scheme": lambda me: mint(me),
}


def _hs_raw(claims: dict) -> str:
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def _swap_payload(token: str, claims: dict) -> str:
    head, _, sig = token.split(".")
    return f"{head}.{_b64(claims)}.{sig}"


def _owner_posts(client: httpx.Client, cast: Cast) -> list[str]:
    resp = client.get(f"/api/v1/people/{cast.owner.id}/posts", headers=cast.owner.headers)
    assert resp.status_code == 200, resp.text
    return [p["id"] for p in resp.json()["items"]]


def _failures(system: System) -> float:
    port = system.processes["gateway"].http_port
    return testing.metric(port, "hallway_security_events_total", outcome="failure")


def _assert_401(resp: httpx.Response, what: str) -> None:
    assert resp.status_code == 401, f"{what}: {resp.status_code} {resp.text}"
    assert resp.headers["content-type"].startswith("application/problem+json"), what
    assert resp.json()["status"] == 401
    assert resp.headers.get("www-authenticate", "").lower().startswith("bearer"), what


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_token_is_refused(client: httpx.Client, cast: Cast, name: str) -> None:
    header = FORGERIES[name](cast.owner.id)
    before = _owner_posts(client, cast)
    for method, path in [("GET", "/api/v1/me"), ("POST", "/api/v1/posts")]:
        resp = client.request(method, path, headers={"Authorization": header}, json={"text": "x"})
        _assert_401(resp, f"{name} {method} {path}")
    token = header.removeprefix("Bearer ").strip()
    if header.startswith("Bearer ") and token:
        # The same token as the session cookie (how the page and EventSource send it).
        client.cookies.set("hallway_token", token)
        try:
            _assert_401(client.get("/api/v1/me"), f"{name} as cookie")
            page = client.get("/")
            assert page.status_code == 303, f"{name}: a forged cookie must not open the page"
        finally:
            client.cookies.clear()
    assert _owner_posts(client, cast) == before, f"{name} wrote something"


NOBODY = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/timeline/home"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/posts"),
    ("POST", "/api/v1/people/{owner}/follow"),
    ("GET", "/api/v1/notifications/stream"),
]


@pytest.mark.parametrize(("method", "path"), NOBODY)
def test_token_of_a_person_who_does_not_exist(
    client: httpx.Client, cast: Cast, method: str, path: str
) -> None:
    """A validly signed token whose person does not exist (deleted, or never was).
    There is no person deletion yet, so a random id stands for a deleted person."""
    ghost = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {mint(ghost, 'ghost')}"}
    url = path.replace("{owner}", cast.owner.id)
    followers_before = client.get(
        f"/api/v1/people/{cast.owner.id}/followers", headers=cast.owner.headers
    ).json()
    if path.endswith("/stream"):
        with client.stream(method, url, headers=headers) as resp:
            if resp.status_code != 200:  # a refusal is a small problem document
                resp.read()
    else:
        resp = client.request(method, url, headers=headers, json={"text": "from a ghost"})
    followers_after = client.get(
        f"/api/v1/people/{cast.owner.id}/followers", headers=cast.owner.headers
    ).json()
    assert followers_after == followers_before
    _assert_401(resp, f"ghost {method} {path}")


def test_failed_authentications_are_counted(
    client: httpx.Client, cast: Cast, system: System
) -> None:
    """Every refused token is an audit event (hallway_security_events_total)."""
    before = _failures(system)
    for build in FORGERIES.values():
        _assert_401(client.get("/api/v1/me", headers={"Authorization": build(cast.owner.id)}), "")
    assert _failures(system) - before >= len(FORGERIES)
