"""Prometheus metrics shared by every service (names are a contract: docs/conventions.md).

Two more rules of that contract, so what a process exposes means what it says:

- No ``*_created`` series. They double the series count of every counter and
  histogram, dashboards and alerts never use them, and Prometheus ingests them as
  ordinary gauges. ``disable_created_metrics()`` runs here, at the first import of the
  shared metrics, before any metric exists; the switch is read when a scrape is
  served, so it covers the services' own counters and histograms as well.
- A process exposes only the families it uses. Each family below joins the default
  registry the first time it is used (the gRPC server, a consumer subscribing, the
  lag monitor, the outbox relay and the security audit each create their series when
  they are set up), so the gateway has no gRPC or consumer families, search and
  notification no outbox gauges. A family therefore never shows up without a sample.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

disable_created_metrics()

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)

M = TypeVar("M", Counter, Gauge, Histogram)


class _OnFirstUse:
    """A metric family that is created, and so registered, when it is first used."""

    __slots__ = ("_lock", "_make", "_metric")

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._metric: Any = None
        self._lock = threading.Lock()

    def _family(self) -> Any:
        if self._metric is None:
            with self._lock:
                if self._metric is None:
                    self._metric = self._make()
        return self._metric

    def __getattr__(self, name: str) -> Any:  # only for names the proxy itself lacks
        return getattr(self._family(), name)


def _family(
    kind: type[M], name: str, documentation: str, labelnames: Sequence[str] = (), **kwargs: Any
) -> M:
    """A ``kind`` metric that registers itself on first use (typed as the metric)."""
    return cast(M, _OnFirstUse(lambda: kind(name, documentation, labelnames, **kwargs)))


# gRPC server, with the go-grpc-prometheus names dashboards already expect.
GRPC_STARTED = _family(
    Counter,
    "grpc_server_started_total",
    "RPCs started on the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
)
GRPC_HANDLED = _family(
    Counter,
    "grpc_server_handled_total",
    "RPCs completed on the server, regardless of success or failure.",
    ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
)
GRPC_LATENCY = _family(
    Histogram,
    "grpc_server_handling_seconds",
    "Response latency of RPCs handled by the server.",
    ["grpc_type", "grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)

# Kafka consumers.
CONSUMER_PROCESSED = _family(
    Counter,
    "hallway_consumer_processed_total",
    "Events whose effect is durable.",
    ["topic", "group"],
)
CONSUMER_DUPLICATES = _family(
    Counter,
    "hallway_consumer_duplicates_total",
    "Events skipped because their effect was already applied.",
    ["topic", "group"],
)
CONSUMER_FAILED = _family(
    Counter,
    "hallway_consumer_failed_total",
    "Handler attempts that raised (each retry counts).",
    ["topic", "group"],
)
CONSUMER_DEAD_LETTERED = _family(
    Counter,
    "hallway_consumer_dead_lettered_total",
    "Events parked on the dead-letter topic, by reason (invalid, rejected, bug).",
    ["topic", "group", "reason"],
)
# The unit is in the name (Prometheus naming: a count of messages, not seconds).
CONSUMER_LAG = _family(
    Gauge,
    "hallway_consumer_lag_messages",
    "Messages between the end of the partition and the group's committed offset.",
    ["topic", "partition", "group"],
)
CONSUMER_LAG_SAMPLE_AGE = _family(
    Gauge,
    "hallway_consumer_lag_sample_age_seconds",
    "Seconds since hallway_consumer_lag_messages was last sampled successfully "
    "(stale gauge alarm).",
    ["group"],
)
CONSUMER_SECONDS = _family(
    Histogram,
    "hallway_consumer_processing_seconds",
    "Time to apply one event, including retries.",
    ["topic", "group"],
    buckets=LATENCY_BUCKETS,
)

# Transactional outbox (only in processes that run the outbox relay).
OUTBOX_BACKLOG = _family(Gauge, "hallway_outbox_backlog", "Outbox rows not yet published.")
OUTBOX_OLDEST_AGE = _family(
    Gauge, "hallway_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row."
)
OUTBOX_PUBLISHED = _family(
    Counter, "hallway_outbox_published_total", "Outbox rows published to Kafka.", ["topic"]
)
# Outbox relay freshness (hallway_common.outbox): computed at scrape time, so it grows
# while the relay cannot read its outbox (PostgreSQL down) and the other gauges freeze.
OUTBOX_SAMPLE_AGE = _family(
    Gauge,
    "hallway_outbox_sample_age_seconds",
    "Seconds since the outbox gauges (backlog, oldest age) were last refreshed.",
)

# Security audit (hallway_common.audit): every record is also counted here.
SECURITY_EVENTS = _family(
    Counter,
    "hallway_security_events_total",
    "Security-relevant events (authentication, authorization, admin actions, rate limits).",
    ["event", "outcome"],
)


def start_metrics_server(port: int) -> None:
    """Serve /metrics on its own port (0 disables it, e.g. in unit tests)."""
    if port:
        start_http_server(port)
