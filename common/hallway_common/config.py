"""One config loader for every process: environment variables prefixed HALLWAY_.

Settings are validated at start-up; a bad value stops the process with one line
naming the variable instead of a traceback.
"""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HALLWAY_"


class ServiceSettings(BaseSettings):
    """Settings every service process shares."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    metrics_port: int = Field(default=9100, ge=0, le=65535)
    grpc_shutdown_grace_seconds: float = Field(default=5.0, ge=0)

    kafka_bootstrap_servers: str = "localhost:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_cafile: str = ""
    kafka_create_topics: bool = True
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_topic_replication: int = Field(default=1, ge=1)
    # Namespaces topics and consumer groups, so test runs never share a topic or a
    # group with a running local stack on the same broker.
    kafka_topic_prefix: str = Field(default="", pattern=r"^[a-zA-Z0-9._-]*$")


class DatabaseSettings(ServiceSettings):
    """Settings of a service that owns a PostgreSQL database."""

    database_url: str = "postgresql://hallway:hallway@localhost:5433/postgres"
    database_pool_max: int = Field(default=10, ge=1, le=200)
    outbox_relay_enabled: bool = True
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Consumed event ids are kept for dedup well beyond any redelivery (Kafka retention).
    processed_events_retention_days: int = Field(default=14, ge=1)


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], **defaults: object) -> S:
    """Read settings from the environment; exit with a clear message when invalid.

    ``defaults`` are service-specific defaults (e.g. its own port) that the
    environment still overrides.
    """
    try:
        return cls(**_without_env_overrides(cls, defaults))
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            lines.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']} (got {err.get('input')!r})")
        sys.stderr.write("invalid configuration: " + "; ".join(lines) + "\n")
        raise SystemExit(2) from None


def _without_env_overrides(cls: type[BaseSettings], defaults: dict[str, object]) -> dict:
    """Drop defaults the environment sets, so env always wins over code defaults."""
    import os

    prefix = cls.model_config.get("env_prefix", "")
    return {k: v for k, v in defaults.items() if f"{prefix}{k}".upper() not in os.environ}
