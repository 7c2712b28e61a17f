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
RETIRED = Counter(
    "hallway_search_retired_total",
    "Documents tombstoned because what they belong to went: comments of a deleted or "
    "withdrawn post, posts of a community that stopped being public.",
    ["index"],
)
# A zero series per index from the start: no empty family.
for _index in ("people", "posts", "communities", "comments"):
    INDEXED.labels(_index)
for _index in ("posts", "comments"):
    RETIRED.labels(_index)
