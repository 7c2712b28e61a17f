"""Search service metrics (names are a contract: docs/conventions.md)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from hallway_common.metrics import LAG_BUCKETS

INDEXING_LAG = Histogram(
    "hallway_search_indexing_lag_seconds",
    "Time from an event happening at its source to its document being indexed.",
    buckets=LAG_BUCKETS,
)
INDEXED = Counter(
    "hallway_search_indexed_total",
    "Documents written to the search index (replays that were already applied excluded).",
    ["index"],
)
for _index in ("people", "posts"):  # a zero series per index from the start: no empty family
    INDEXED.labels(_index)
