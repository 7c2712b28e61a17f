"""Alert rules: promtool check rules, a promtool unit test per alert, metric names."""

from __future__ import annotations

import shutil

import pytest
import yaml
from deploy_tools import HERE, documented_metrics, promtool, run
from promql import alert_expressions, dashboard_expressions, metric_names, rules_file

pytestmark = pytest.mark.deploy

TESTS = HERE / "rules" / "hallway-alerts.test.yaml"
# Not Hallway's own, but always there: Prometheus' scrape health and the client
# library's process collector (the restart alert works without kube-state-metrics).
STANDARD_METRICS = {"up", "process_start_time_seconds"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory):
    """The shipped rules (default values, release/namespace hallway) next to the tests."""
    d = tmp_path_factory.mktemp("rules")
    rules = rules_file(namespace_scoped=True)
    (d / "hallway-rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    shutil.copy(TESTS, d / TESTS.name)
    return d


def test_promtool_check_rules(rules_dir):
    out = run([promtool(), "check", "rules", str(rules_dir / "hallway-rules.yaml")]).stdout
    assert "SUCCESS" in out


def test_promtool_unit_tests_pass(rules_dir):
    out = run([promtool(), "test", "rules", TESTS.name], cwd=rules_dir)
    assert "SUCCESS" in out.stdout + out.stderr


def test_every_alert_has_a_firing_unit_test():
    alerts = set(alert_expressions())
    tests = yaml.safe_load(TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for t in tests
        for case in t.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == fired, f"untested: {alerts - fired}; unknown: {fired - alerts}"
    assert len(alerts) >= 10


def test_every_alert_means_something_to_an_operator():
    for group in rules_file()["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
            for key in ("summary", "description", "runbook_url"):
                assert rule["annotations"].get(key), (rule["alert"], key)


def _documented(name: str) -> bool:
    known = documented_metrics() | STANDARD_METRICS
    if name in known:
        return True
    return any(name.endswith(s) and name[: -len(s)] in known for s in HISTOGRAM_SUFFIXES)


def test_alerts_and_panels_use_only_documented_metrics():
    """Metric names are a contract (docs/conventions.md); a typo here would never fire."""
    used = {}
    for name, expr in alert_expressions().items():
        used.update({m: f"alert {name}" for m in metric_names(expr)})
    for name, expr in dashboard_expressions():
        used.update({m: f"panel {name}" for m in metric_names(expr)})
    unknown = {m: where for m, where in used.items() if not _documented(m)}
    assert not unknown, unknown
    # the dashboard follows the whole flow
    for metric in (
        "hallway_http_requests_total",
        "hallway_outbox_published_total",
        "hallway_feed_fanout_rows_total",
        "hallway_search_indexed_total",
        "hallway_notifications_created_total",
        "hallway_consumer_lag_messages",
    ):
        assert metric in used, metric


def test_dashboard_queries_are_valid_promql(tmp_path):
    """promtool parses every panel query (as a recording rule)."""
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"hallway:panel_{i}", "expr": expr}
                    for i, (_, expr) in enumerate(dashboard_expressions())
                ],
            }
        ]
    }
    f = tmp_path / "dashboard-rules.yaml"
    f.write_text(yaml.safe_dump(rules))
    assert "SUCCESS" in run([promtool(), "check", "rules", str(f)]).stdout
