"""Gateway settings: environment variables prefixed HALLWAY_ (docs/conventions.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hallway_common.config import ENV_PREFIX

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production"


class GatewaySettings(BaseSettings):
    """The gateway owns no store and no Kafka client: HTTP in, gRPC out."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=1, le=65535)

    jwt_secret: str = Field(default=DEV_JWT_SECRET, min_length=16)
    jwt_issuer: str = "hallway"
    # Lifetime of the cookie minted by the development sign-in form.
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    # Sets the Secure flag on the session cookie; on wherever TLS terminates in front.
    cookie_secure: bool = False
    # The "sign in as a person" form of the web page. MUST be false in production:
    # anyone who can reach the page could become anyone (production uses OIDC).
    dev_login: bool = True

    profile_addr: str = "localhost:50051"
    feed_addr: str = "localhost:50052"
    search_addr: str = "localhost:50053"
    notification_addr: str = "localhost:50054"
    grpc_deadline_seconds: float = Field(default=3.0, gt=0, le=60)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Writes (posts, follows, profile changes) per person per minute, per replica.
    write_rate_per_minute: int = Field(default=30, ge=1, le=100_000)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
