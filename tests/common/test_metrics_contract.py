"""The metrics contract of the shared library (docs/conventions.md): no ``*_created``
series, the unit in the consumer-lag gauge's name, and a family only in a process that
uses it, never without a sample. Each case runs in a fresh interpreter: the test
process's own registry already holds whatever other tests used."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

SHARED_MODULES = (
    "hallway_common.metrics",
    "hallway_common.audit",
    "hallway_common.consumer",
    "hallway_common.grpc_server",
    "hallway_common.kafka",
    "hallway_common.outbox",
    "hallway_common.runtime",
)


def _scrape(code: str) -> dict[str, list[Sample]]:
    """Run ``code`` in a fresh interpreter; the families of its /metrics by name."""
    script = "\n".join(
        [
            *(f"import {m}" for m in SHARED_MODULES),
            textwrap.dedent(code),
            "import sys, prometheus_client",
            "sys.stdout.write(prometheus_client.generate_latest().decode())",
        ]
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    return {f.name: f.samples for f in text_string_to_metric_families(out.stdout)}


def _ours(families: dict[str, list[Sample]]) -> set[str]:
    return {n for n in families if n.startswith(("hallway_", "grpc_"))}


def test_importing_the_library_exposes_no_family() -> None:
    families = _scrape("")
    assert _ours(families) == set(), "families registered at import time"
    assert "process_start_time_seconds" in families  # the standard collectors stay


def test_a_family_appears_with_its_first_series_and_without_created() -> None:
    families = _scrape(
        """
        from prometheus_client import Counter
        from hallway_common import metrics as m

        m.CONSUMER_PROCESSED.labels("hallway.feed.post.v1", "hallway-search")
        m.GRPC_LATENCY.labels("unary", "hallway.feed.v1.FeedService", "GetPost").observe(0.01)
        m.OUTBOX_PUBLISHED.labels("hallway.feed.post.v1").inc()
        m.OUTBOX_SAMPLE_AGE.set_function(lambda: 1.5)
        Counter("hallway_test_own_total", "A service's own counter.").inc()
        """
    )
    assert _ours(families) == {
        "hallway_consumer_processed",
        "grpc_server_handling_seconds",
        "hallway_outbox_published",
        "hallway_outbox_sample_age_seconds",
        "hallway_test_own",
    }
    assert all(samples for samples in families.values()), "a family without samples"
    created = [s.name for samples in families.values() for s in samples if "_created" in s.name]
    assert created == []
    processed = families["hallway_consumer_processed"]
    assert [(s.name, s.value) for s in processed] == [("hallway_consumer_processed_total", 0)]


def test_the_lag_gauge_names_its_unit_and_the_monitor_adds_only_what_it_measured() -> None:
    families = _scrape(
        """
        from hallway_common.config import ServiceSettings
        from hallway_common.kafka import LagMonitor
        from hallway_common.metrics import CONSUMER_LAG

        LagMonitor(ServiceSettings(), {"hallway-search": ["hallway.feed.post.v1"]})
        """
    )
    # Nothing sampled yet: the age is there (it grows), the lag is not (unknown, not 0).
    assert _ours(families) == {"hallway_consumer_lag_sample_age_seconds"}
    families = _scrape(
        """
        from hallway_common.metrics import CONSUMER_LAG

        CONSUMER_LAG.labels("hallway.feed.post.v1", "0", "hallway-search").set(7)
        """
    )
    assert [(s.name, s.value) for s in families["hallway_consumer_lag_messages"]] == [
        ("hallway_consumer_lag_messages", 7)
    ]
    assert "hallway_consumer_lag" not in families


def test_a_family_proxy_is_created_once_and_behaves_like_the_metric() -> None:
    from prometheus_client import REGISTRY

    from hallway_common.metrics import CONSUMER_FAILED

    child = CONSUMER_FAILED.labels("proxy-topic", "proxy-group")
    assert CONSUMER_FAILED.labels("proxy-topic", "proxy-group") is child
    before = child._value.get()
    child.inc()
    assert REGISTRY.get_sample_value(
        "hallway_consumer_failed_total", {"topic": "proxy-topic", "group": "proxy-group"}
    ) == (before + 1)
