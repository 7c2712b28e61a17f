"""Notification service metrics (names are a contract: docs/conventions.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from hallway_notification.kinds import GROUPED, KINDS

NOTIFICATIONS_CREATED = Counter(
    "hallway_notifications_created_total",
    "Notifications written to inboxes.",
    ["kind"],
)
NOTIFICATIONS_GROUPED = Counter(
    "hallway_notifications_grouped_total",
    "Notices folded into an open group (replies, reactions) instead of a new notification.",
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
DIGESTS_SENT = Counter(
    "hallway_notification_digests_sent_total",
    "Digest emails accepted by the SMTP server.",
)
UNSUBSCRIBES = Counter(
    "hallway_notification_unsubscribes_total",
    "Unsubscribe links followed (valid tokens), by what they turned off.",
    ["kind"],
)
for _kind in KINDS:  # a zero series per kind: no empty family
    NOTIFICATIONS_CREATED.labels(_kind)
for _kind in GROUPED:
    NOTIFICATIONS_GROUPED.labels(_kind)
for _kind in (*KINDS, "digest"):  # bounded: the known kinds and the digest
    UNSUBSCRIBES.labels(_kind)
