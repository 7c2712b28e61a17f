"""Gateway settings: environment variables prefixed HALLWAY_ (docs/conventions.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hallway_common import catalogue
from hallway_common.config import ENV_PREFIX, TrustSettings, file_problems, tls_problems

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production"


class GatewaySettings(TrustSettings):
    """The gateway owns no store and no Kafka client: HTTP in, gRPC out."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    http_host: str = "0.0.0.0"
    # Ports and addresses default to the service catalogue's (hallway_common.catalogue).
    http_port: int = Field(default=catalogue.GATEWAY.http_port, ge=1, le=65535)

    jwt_secret: str = Field(default=DEV_JWT_SECRET, min_length=16)
    jwt_issuer: str = "hallway"
    # Lifetime of the cookie minted by the development sign-in form.
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    # Sets the Secure flag on the session cookie; on wherever TLS terminates in front.
    cookie_secure: bool = False
    # The "sign in as a person" form of the web page: anyone who can reach the page
    # could become anyone, so it refuses to run without HALLWAY_DEV_MODE.
    dev_login: bool = False
    # The private key (PEM; Ed25519, P-256 or RSA) that signs the identity token the
    # services verify on every call.
    identity_private_key_file: str = ""

    profile_addr: str = catalogue.PROFILE.address()
    feed_addr: str = catalogue.FEED.address()
    search_addr: str = catalogue.SEARCH.address()
    notification_addr: str = catalogue.NOTIFICATION.address()
    grpc_deadline_seconds: float = Field(default=3.0, gt=0, le=60)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # All request headers together (cookies included); larger requests get 431.
    max_header_bytes: int = Field(default=16 * 1024, ge=2048, le=256 * 1024)
    # Writes (posts, follows, profile changes) per person per minute, per replica.
    write_rate_per_minute: int = Field(default=30, ge=1, le=100_000)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)


def settings_problems(settings: GatewaySettings, serving: bool = True) -> list[str]:
    """Why these settings must not run (empty when they may); the token command
    (``serving=False``) needs only the secret checks.

    The development secret and the development sign-in would let anyone become
    anyone; they run only in an explicit development mode, which the Helm chart
    never sets.
    """
    problems: list[str] = []
    if not settings.dev_mode:
        if settings.jwt_secret == DEV_JWT_SECRET:
            problems.append(
                f"{ENV_PREFIX}JWT_SECRET is the committed development secret: set a secret "
                f"of at least 32 random bytes (or {ENV_PREFIX}DEV_MODE=true on a laptop)"
            )
        if settings.dev_login:
            problems.append(
                f"{ENV_PREFIX}DEV_LOGIN lets anyone sign in as anyone: it needs "
                f"{ENV_PREFIX}DEV_MODE=true, which production never sets"
            )
    if not serving:
        return problems
    problems += tls_problems(settings)
    problems += file_problems(
        "IDENTITY_PRIVATE_KEY_FILE",
        settings.identity_private_key_file,
        "the key that signs the acting person's identity for the services",
    )
    return problems
