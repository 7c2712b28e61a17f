"""Notification service metrics (names are a contract: docs/conventions.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

NOTIFICATIONS_CREATED = Counter(
    "hallway_notifications_created_total",
    "Notifications written to inboxes.",
    ["kind"],
)
STREAMS_ACTIVE = Gauge(
    "hallway_notification_streams_active",
    "Open StreamNotifications calls on this replica.",
)
EMAILS_SENT = Counter(
    "hallway_notification_emails_sent_total",
    "Notification emails accepted by the SMTP server.",
)
for _kind in ("mention", "new_follower"):  # a zero series per kind: no empty family
    NOTIFICATIONS_CREATED.labels(_kind)
