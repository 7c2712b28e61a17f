"""One config loader for every process: environment variables prefixed HALLWAY_.

Settings are validated at start-up; a bad value stops the process with one line
naming the variable instead of a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HALLWAY_"


class TrustSettings(BaseSettings):
    """How a process proves itself to others: mutual TLS on gRPC, development mode."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # Development conveniences (the dev sign-in, the committed dev JWT secret) refuse
    # to run unless this is set. The local stack sets it; the Helm chart never does.
    dev_mode: bool = False
    # Mutual TLS between services. False only where a service mesh already gives mTLS
    # (the identity token is still required then).
    grpc_tls_enabled: bool = True
    grpc_tls_cert_file: str = ""
    grpc_tls_key_file: str = ""
    # CA that signed every Hallway service's certificate: servers require client
    # certificates it signed, clients verify servers against it.
    grpc_tls_ca_file: str = ""


def tls_problems(settings: TrustSettings) -> list[str]:
    """Why the TLS settings cannot work (empty when they can)."""
    if not settings.grpc_tls_enabled:
        return []
    problems = []
    for name in ("grpc_tls_cert_file", "grpc_tls_key_file", "grpc_tls_ca_file"):
        value = getattr(settings, name)
        if not value:
            problems.append(f"{ENV_PREFIX}{name.upper()} is required while mutual TLS is on")
        elif not Path(value).is_file():
            problems.append(f"{ENV_PREFIX}{name.upper()}: no such file {value!r}")
    if problems:
        problems.append(f"(set {ENV_PREFIX}GRPC_TLS_ENABLED=false only behind a mesh with mTLS)")
    return problems


def file_problems(name: str, value: str, why: str) -> list[str]:
    """Why the setting ``name`` (a required file path) is unusable; empty when it is fine."""
    if not value:
        return [f"{ENV_PREFIX}{name} is required: {why}"]
    if not Path(value).is_file():
        return [f"{ENV_PREFIX}{name}: no such file {value!r}"]
    return []


def refuse(problems: list[str]) -> None:
    """Stop the process with the configuration problems, one line, exit 2."""
    if problems:
        sys.stderr.write("invalid configuration: " + "; ".join(problems) + "\n")
        raise SystemExit(2)


class ServiceSettings(TrustSettings):
    """Settings every service process shares."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    # Loopback unless configured: the chart sets 0.0.0.0 inside the pod network.
    grpc_bind: str = "127.0.0.1"
    # A plaintext port serving only grpc.health.v1, for Kubernetes' gRPC probes (which
    # cannot present a client certificate). 0 = none.
    grpc_health_port: int = Field(default=0, ge=0, le=65535)
    # The gateway's public key (PEM public key or certificate) that verifies identity tokens.
    identity_public_key_file: str = ""
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
    # Absolute URI that prefixes the service name in every record's ce_source
    # (e.g. https://hallway.example.com/services/ -> .../services/profile).
    event_source_base: str = Field(default="urn:hallway:", pattern=r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

    def event_source(self, service: str) -> str:
        """The absolute ce_source of records this service publishes."""
        return f"{self.event_source_base}{service}"


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
