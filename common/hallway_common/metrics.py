"""Prometheus metrics shared by every service (names are a contract: docs/conventions.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)

# gRPC server, with the go-grpc-prometheus names dashboards already expect.
GRPC_STARTED = Counter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
)
GRPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, regardless of success or failure.",
    ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
)
GRPC_LATENCY = Histogram(
    "grpc_server_handling_seconds",
    "Response latency of RPCs handled by the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)

# Kafka consumers.
CONSUMER_PROCESSED = Counter(
    "hallway_consumer_processed_total",
    "Events whose effect is durable.",
    ["topic", "group"],
)
CONSUMER_DUPLICATES = Counter(
    "hallway_consumer_duplicates_total",
    "Events skipped because their effect was already applied.",
    ["topic", "group"],
)
CONSUMER_FAILED = Counter(
    "hallway_consumer_failed_total",
    "Handler attempts that raised (each retry counts).",
    ["topic", "group"],
)
CONSUMER_DEAD_LETTERED = Counter(
    "hallway_consumer_dead_lettered_total",
    "Events parked on the dead-letter topic, by reason (invalid, rejected, bug).",
    ["topic", "group", "reason"],
)
CONSUMER_LAG = Gauge(
    "hallway_consumer_lag",
    "Messages between the end of the partition and the group's committed offset.",
    ["topic", "partition", "group"],
)
CONSUMER_LAG_SAMPLE_AGE = Gauge(
    "hallway_consumer_lag_sample_age_seconds",
    "Seconds since hallway_consumer_lag was last sampled successfully (stale gauge alarm).",
    ["group"],
)
CONSUMER_SECONDS = Histogram(
    "hallway_consumer_processing_seconds",
    "Time to apply one event, including retries.",
    ["topic", "group"],
    buckets=LATENCY_BUCKETS,
)

# Transactional outbox.
OUTBOX_BACKLOG = Gauge("hallway_outbox_backlog", "Outbox rows not yet published.")
OUTBOX_OLDEST_AGE = Gauge(
    "hallway_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row."
)
OUTBOX_PUBLISHED = Counter(
    "hallway_outbox_published_total", "Outbox rows published to Kafka.", ["topic"]
)


def start_metrics_server(port: int) -> None:
    """Serve /metrics on its own port (0 disables it, e.g. in unit tests)."""
    if port:
        start_http_server(port)


# Security audit (hallway_common.audit): every record is also counted here.
SECURITY_EVENTS = Counter(
    "hallway_security_events_total",
    "Security-relevant events (authentication, authorization, admin actions, rate limits).",
    ["event", "outcome"],
)


# Outbox relay freshness (hallway_common.outbox): computed at scrape time, so it grows
# while the relay cannot read its outbox (PostgreSQL down) and the other gauges freeze.
OUTBOX_SAMPLE_AGE = Gauge(
    "hallway_outbox_sample_age_seconds",
    "Seconds since the outbox gauges (backlog, oldest age) were last refreshed.",
)
