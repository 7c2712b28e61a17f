"""Feed service metrics (names are a contract: docs/conventions.md)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from hallway_common.metrics import LATENCY_BUCKETS

POSTS_CREATED = Counter("hallway_feed_posts_created_total", "Posts created (not retries).")
FANOUT_ROWS = Counter(
    "hallway_feed_fanout_rows_total", "Rows written into home timelines by the fan-out."
)
FANOUT_SECONDS = Histogram(
    "hallway_feed_fanout_seconds",
    "Time to fan one post out into its followers' home timelines.",
    buckets=LATENCY_BUCKETS,
)
MEMBERSHIP_CHANGES = Counter(
    "hallway_feed_membership_changes_total",
    "Community membership changes: joined, requested, invited, approved, left, removed.",
    ["change"],
)
for _change in ("joined", "requested", "invited", "approved", "left", "removed"):
    MEMBERSHIP_CHANGES.labels(_change)  # zero series from the start
COMMENTS_WRITTEN = Counter(
    "hallway_feed_comments_total", "Comments written, edited and deleted.", ["change"]
)
for _change in ("created", "edited", "deleted"):
    COMMENTS_WRITTEN.labels(_change)
REACTIONS_CHANGED = Counter(
    "hallway_feed_reactions_total", "Reactions added and taken back.", ["change"]
)
for _change in ("added", "removed"):
    REACTIONS_CHANGED.labels(_change)
