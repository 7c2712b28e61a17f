"""Who is acting: a short-lived token the gateway signs and every service verifies.

The gateway authenticates people (session cookie, bearer token; OIDC later) and
then calls services with ``x-hallway-identity: <JWT>`` in the gRPC metadata. The
token is signed with the gateway's private key (EdDSA, or ES256/RS256 by key type)
and services hold only the public key, so a compromised service cannot mint
identities. Services never take the acting person from a request field: handlers
ask ``require_person()`` / ``require_admin()``, which read the verified token.

Subjects are a person id, or ``service:<name>`` when the gateway acts as itself
(e.g. the development sign-in looking a handle up before anyone is signed in);
such an identity may read the directory but never write on anyone's behalf.
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from hallway_common.errors import PermissionDenied, Unauthenticated

METADATA_KEY = "x-hallway-identity"
ISSUER = "hallway-gateway"
AUDIENCE = "hallway-services"
TTL_SECONDS = 60
LEEWAY_SECONDS = 5
SERVICE_PREFIX = "service:"
ADMIN = "admin"

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Actor:
    """The verified caller of one RPC."""

    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_service(self) -> bool:
        return self.subject.startswith(SERVICE_PREFIX)

    @property
    def person_id(self) -> str | None:
        return None if self.is_service else self.subject

    @property
    def is_admin(self) -> bool:
        return not self.is_service and ADMIN in self.roles


def _algorithm(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ES256"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RS256"
    raise ValueError(f"unsupported identity key type {type(key).__name__}")


def load_private_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    _algorithm(key)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def load_public_key(pem: bytes) -> PublicKey:
    """A PEM public key, or an X.509 certificate PEM whose public key is used."""
    if b"BEGIN CERTIFICATE" in pem:
        key = x509.load_pem_x509_certificate(pem).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    _algorithm(key)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


class IdentitySigner:
    """The gateway's side: one token per call (cheap: Ed25519 signs in microseconds)."""

    def __init__(self, private_key: PrivateKey, ttl_seconds: int = TTL_SECONDS) -> None:
        self._key = private_key
        self._algorithm = _algorithm(private_key)
        self._ttl = ttl_seconds

    @classmethod
    def from_file(cls, path: str) -> IdentitySigner:
        return cls(load_private_key(Path(path).read_bytes()))

    def sign(self, subject: str, roles: frozenset[str] | list[str] = frozenset()) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + self._ttl,
            "jti": uuid.uuid4().hex,
        }
        if roles:
            claims["roles"] = sorted(roles)
        return jwt.encode(claims, self._key, algorithm=self._algorithm)

    def metadata(self, subject: str, roles: frozenset[str] | list[str] = frozenset()) -> tuple:
        return ((METADATA_KEY, self.sign(subject, roles)),)


class IdentityVerifier:
    """A service's side: the token's signature, issuer, audience and lifetime."""

    def __init__(self, public_key: PublicKey) -> None:
        self._key = public_key
        self._algorithm = _algorithm(public_key)

    @classmethod
    def from_file(cls, path: str) -> IdentityVerifier:
        return cls(load_public_key(Path(path).read_bytes()))

    def verify(self, token: str | None) -> Actor:
        if not token:
            raise Unauthenticated("no identity token: calls must come through the gateway")
        try:
            claims = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[self._algorithm],  # pinned: never the token's own "alg"
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the identity token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the identity token is not valid: {exc}") from None
        subject, roles = claims["sub"], claims.get("roles") or []
        if not isinstance(subject, str) or not isinstance(roles, list):
            raise Unauthenticated("the identity token is not valid: malformed claims")
        if claims["exp"] - claims["iat"] > 10 * TTL_SECONDS:
            raise Unauthenticated("the identity token lives too long")
        if not subject.startswith(SERVICE_PREFIX):
            try:
                uuid.UUID(subject)
            except ValueError:
                raise Unauthenticated("the identity token's subject is not a person id") from None
        return Actor(subject, frozenset(str(r) for r in roles))


_actor: ContextVar[Actor | None] = ContextVar("hallway_actor", default=None)


def set_actor(actor: Actor | None) -> None:
    """Called by the gRPC server for each RPC once the token is verified."""
    _actor.set(actor)


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is None:
        raise Unauthenticated("no verified identity for this call")
    return actor


def require_person() -> uuid.UUID:
    """The acting person's id; PERMISSION_DENIED for a service identity."""
    actor = current_actor()
    if actor.person_id is None:
        raise PermissionDenied("this call must be made on behalf of a person")
    return uuid.UUID(actor.person_id)


def require_admin() -> Actor:
    actor = current_actor()
    if not actor.is_admin:
        raise PermissionDenied("only an administrator may do this")
    return actor


__all__ = [
    "METADATA_KEY",
    "Actor",
    "IdentitySigner",
    "IdentityVerifier",
    "current_actor",
    "require_admin",
    "require_person",
    "set_actor",
]
