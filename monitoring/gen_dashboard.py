"""Generate charts/hallway/files/dashboards/hallway-flow.json (Grafana "Hallway / Flow").

The dashboard follows one write through the system, top to bottom:
writes (gateway, gRPC) -> events (outbox -> Kafka) -> consumers -> fan-out (feed)
-> index (search) -> notifications, then the health of the pods.
Every query uses only metric names from docs/conventions.md (plus Prometheus' `up` and
the client library's `process_start_time_seconds`).

    .local/venv/bin/python monitoring/gen_dashboard.py   # rewrites the JSON
tests/deploy checks the checked-in JSON equals this script's output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "charts/hallway/files/dashboards/hallway-flow.json"

NS = 'namespace=~"$namespace"'
JOBS = 'job=~"$release-(profile|feed|search|notification|gateway)"'
GRPC = f'{NS},grpc_service=~"hallway\\\\..+"'
RI = "$__rate_interval"

# (row title, [(panel title, unit, [(expr, legend)])])
ROWS: list[tuple[str, list[tuple[str, str, list[tuple[str, str]]]]]] = [
    (
        "1. Writes: gateway and gRPC",
        [
            (
                "Gateway requests/s by status",
                "reqps",
                [
                    (
                        f"sum by (status) (rate(hallway_http_requests_total{{{NS}}}[{RI}]))",
                        "{{status}}",
                    ),
                ],
            ),
            (
                "Gateway p99 latency by route",
                "s",
                [
                    (
                        "histogram_quantile(0.99, sum by (route, le) "
                        f"(rate(hallway_http_request_duration_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{route}}",
                    ),
                ],
            ),
            (
                "gRPC calls/s by service",
                "reqps",
                [
                    (
                        f"sum by (grpc_service) (rate(grpc_server_handled_total{{{GRPC}}}[{RI}]))",
                        "{{grpc_service}}",
                    ),
                ],
            ),
            (
                "gRPC server-error ratio by service",
                "percentunit",
                [
                    (
                        "sum by (grpc_service) (rate(grpc_server_handled_total{"
                        f'{GRPC},grpc_code=~"Unknown|Internal|Unavailable|DataLoss|DeadlineExceeded|Unimplemented"'
                        f"}}[{RI}])) / sum by (grpc_service) (rate(grpc_server_handled_total{{{GRPC}}}[{RI}]))",
                        "{{grpc_service}}",
                    ),
                ],
            ),
            (
                "gRPC p99 latency (unary) by service",
                "s",
                [
                    (
                        "histogram_quantile(0.99, sum by (grpc_service, le) (rate(grpc_server_handling_seconds_bucket{"
                        f'{GRPC},grpc_type="unary"}}[{RI}])))',
                        "{{grpc_service}}",
                    ),
                ],
            ),
            (
                "Posts created/s",
                "ops",
                [
                    (f"sum(rate(hallway_feed_posts_created_total{{{NS}}}[{RI}]))", "posts"),
                ],
            ),
            (
                "Communities and conversations/s",
                "ops",
                [
                    (
                        "sum by (change) "
                        f"(rate(hallway_feed_membership_changes_total{{{NS}}}[{RI}]))",
                        "membership {{change}}",
                    ),
                    (
                        f"sum by (change) (rate(hallway_feed_comments_total{{{NS}}}[{RI}]))",
                        "comment {{change}}",
                    ),
                    (
                        f"sum by (change) (rate(hallway_feed_reactions_total{{{NS}}}[{RI}]))",
                        "reaction {{change}}",
                    ),
                ],
            ),
        ],
    ),
    (
        "2. Events: transactional outbox to Kafka",
        [
            (
                "Events published/s by topic",
                "ops",
                [
                    (
                        f"sum by (topic) (rate(hallway_outbox_published_total{{{NS}}}[{RI}]))",
                        "{{topic}}",
                    ),
                ],
            ),
            (
                "Outbox backlog (unpublished rows)",
                "short",
                [
                    (f"max by (job) (hallway_outbox_backlog{{{NS}}})", "{{job}}"),
                ],
            ),
            (
                "Oldest unpublished event age",
                "s",
                [
                    (f"max by (job) (hallway_outbox_oldest_age_seconds{{{NS}}})", "{{job}}"),
                ],
            ),
            (
                "Outbox gauges' age (grows while the relay cannot read its outbox)",
                "s",
                [
                    (f"max by (job) (hallway_outbox_sample_age_seconds{{{NS}}})", "{{job}}"),
                ],
            ),
        ],
    ),
    (
        "3. Consumers: lag, throughput, failures",
        [
            (
                "Consumer lag (messages) by group and topic",
                "short",
                [
                    (
                        f"sum by (group, topic) (hallway_consumer_lag_messages{{{NS}}})",
                        "{{group}} / {{topic}}",
                    ),
                ],
            ),
            (
                "Lag sample age by group (grows while lag cannot be measured)",
                "s",
                [
                    (
                        f"max by (group) (hallway_consumer_lag_sample_age_seconds{{{NS}}})",
                        "{{group}}",
                    ),
                ],
            ),
            (
                "Processed/s by group",
                "ops",
                [
                    (
                        f"sum by (group) (rate(hallway_consumer_processed_total{{{NS}}}[{RI}]))",
                        "{{group}}",
                    ),
                    (
                        f"sum by (group) (rate(hallway_consumer_duplicates_total{{{NS}}}[{RI}]))",
                        "{{group}} duplicates",
                    ),
                ],
            ),
            (
                "Failures and dead letters by group",
                "short",
                [
                    (
                        f"sum by (group) (increase(hallway_consumer_failed_total{{{NS}}}[{RI}]))",
                        "{{group}} failed attempts",
                    ),
                    (
                        f"sum by (group) (increase(hallway_consumer_dead_lettered_total{{{NS}}}[{RI}]))",
                        "{{group}} dead-lettered",
                    ),
                ],
            ),
            (
                "Processing p99 by group",
                "s",
                [
                    (
                        "histogram_quantile(0.99, sum by (group, le) "
                        f"(rate(hallway_consumer_processing_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{group}}",
                    ),
                ],
            ),
        ],
    ),
    (
        "4. Fan-out: home timelines (feed)",
        [
            (
                "Timeline rows written/s",
                "ops",
                [
                    (f"sum(rate(hallway_feed_fanout_rows_total{{{NS}}}[{RI}]))", "rows"),
                ],
            ),
            (
                "Fan-out duration p50 / p99",
                "s",
                [
                    (
                        "histogram_quantile(0.5, sum by (le) "
                        f"(rate(hallway_feed_fanout_seconds_bucket{{{NS}}}[{RI}])))",
                        "p50",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(hallway_feed_fanout_seconds_bucket{{{NS}}}[{RI}])))",
                        "p99",
                    ),
                ],
            ),
            (
                "Fan-out consumer lag (messages)",
                "short",
                [
                    (
                        f'sum by (topic) (hallway_consumer_lag_messages{{{NS},group="hallway-feed-fanout"}})',
                        "{{topic}}",
                    ),
                ],
            ),
        ],
    ),
    (
        "5. Index: search (OpenSearch)",
        [
            (
                "Documents indexed/s by index",
                "ops",
                [
                    (
                        f"sum by (index) (rate(hallway_search_indexed_total{{{NS}}}[{RI}]))",
                        "{{index}}",
                    ),
                ],
            ),
            (
                "Event to searchable p50 / p99",
                "s",
                [
                    (
                        "histogram_quantile(0.5, sum by (le) "
                        f"(rate(hallway_search_indexing_lag_seconds_bucket{{{NS}}}[{RI}])))",
                        "p50",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(hallway_search_indexing_lag_seconds_bucket{{{NS}}}[{RI}])))",
                        "p99",
                    ),
                ],
            ),
            (
                "Search consumer lag (messages)",
                "short",
                [
                    (
                        f'sum by (topic) (hallway_consumer_lag_messages{{{NS},group="hallway-search"}})',
                        "{{topic}}",
                    ),
                ],
            ),
        ],
    ),
    (
        "6. Notifications",
        [
            (
                "Notifications created/s by kind",
                "ops",
                [
                    (
                        f"sum by (kind) (rate(hallway_notifications_created_total{{{NS}}}[{RI}]))",
                        "{{kind}}",
                    ),
                ],
            ),
            (
                "E-mails sent/s",
                "ops",
                [
                    (f"sum(rate(hallway_notification_emails_sent_total{{{NS}}}[{RI}]))", "e-mails"),
                ],
            ),
            (
                "Active real-time streams",
                "short",
                [
                    (f"sum(hallway_notification_streams_active{{{NS}}})", "streams"),
                ],
            ),
        ],
    ),
    (
        "7. Pods",
        [
            (
                "Targets up by job",
                "short",
                [
                    (f"sum by (job) (up{{{NS},{JOBS}}})", "{{job}}"),
                ],
            ),
            (
                "Process restarts (1h) by instance",
                "short",
                [
                    (
                        f"changes(process_start_time_seconds{{{NS},{JOBS}}}[1h])",
                        "{{job}} {{instance}}",
                    ),
                ],
            ),
        ],
    ),
]

DS = {"type": "prometheus", "uid": "${datasource}"}


def build() -> dict:
    panels: list[dict] = []
    pid = 1
    y = 0
    for row_title, row_panels in ROWS:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        pid += 1
        y += 1
        width = 24 // min(len(row_panels), 3)
        for i, (title, unit, targets) in enumerate(row_panels):
            panels.append(
                {
                    "id": pid,
                    "type": "timeseries",
                    "title": title,
                    "datasource": DS,
                    "gridPos": {"h": 8, "w": width, "x": (i % 3) * width, "y": y + (i // 3) * 8},
                    "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                    "options": {
                        "legend": {"displayMode": "list", "placement": "bottom"},
                        "tooltip": {"mode": "multi"},
                    },
                    "targets": [
                        {
                            "refId": chr(ord("A") + n),
                            "datasource": DS,
                            "expr": expr,
                            "legendFormat": legend,
                        }
                        for n, (expr, legend) in enumerate(targets)
                    ],
                }
            )
            pid += 1
        y += 8 * ((len(row_panels) + 2) // 3)
    return {
        "uid": "hallway-flow",
        "title": "Hallway / Flow",
        "description": "One write through Hallway: gateway and gRPC -> outbox events -> "
        "consumers -> fan-out -> search index -> notifications.",
        "tags": ["hallway"],
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "timezone": "",
        "graphTooltip": 1,
        "links": [],
        "annotations": {"list": []},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                },
                {
                    "name": "release",
                    "label": "Helm release",
                    "type": "textbox",
                    "query": "hallway",
                    "current": {"text": "hallway", "value": "hallway"},
                    "hide": 0,
                },
                {
                    "name": "namespace",
                    "label": "Namespace",
                    "type": "query",
                    "datasource": DS,
                    "query": {
                        "query": 'label_values(up{job=~"$release-.+"}, namespace)',
                        "refId": "namespace",
                    },
                    "definition": 'label_values(up{job=~"$release-.+"}, namespace)',
                    "includeAll": True,
                    "allValue": ".*",
                    "multi": True,
                    "refresh": 2,
                    "current": {},
                    "hide": 0,
                    "sort": 1,
                },
            ]
        },
        "panels": panels,
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render())
    print(OUT, file=sys.stderr)
