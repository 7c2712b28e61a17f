"""Every PromQL expression the chart ships: alert rules and Grafana panel queries.

For checks against a running Prometheus (the end-to-end stack): each expression must
evaluate to data there. Grafana variables are substituted so the queries run as-is:
$namespace -> .* (matches series without a namespace label too), $release -> hallway,
$__rate_interval -> 1m. The rules are rendered with namespaceScoped=false so they do not
require the namespace label a Kubernetes scrape adds; the job label must be
"<release>-<component>" (hallway-profile, ...), as the ServiceMonitors produce.

    .local/venv/bin/python tests/deploy/promql.py          # JSON: [{source, name, expr}]
    .local/venv/bin/python tests/deploy/promql.py --metrics # metric names used
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_tools import CHART, helm_template

DASHBOARD = CHART / "files" / "dashboards" / "hallway-flow.json"
GRAFANA_VARS = {"$namespace": ".*", "$release": "hallway", "$__rate_interval": "1m"}
# Names that look like metrics in a selector but are PromQL keywords/functions.
_NOT_METRICS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool"}


def rules_file(*, namespace_scoped: bool = False, sets: tuple[str, ...] = ()) -> dict:
    """The chart's PrometheusRule spec as a Prometheus rules file ({"groups": [...]})."""
    args = (
        "metrics.prometheusRule.enabled=true",
        f"metrics.prometheusRule.namespaceScoped={str(namespace_scoped).lower()}",
        *sets,
    )
    out = helm_template(sets=args, extra=["--show-only", "templates/prometheusrule.yaml"]).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    return {"groups": rule["spec"]["groups"]}


def alert_expressions(*, namespace_scoped: bool = False) -> dict[str, str]:
    return {
        r["alert"]: r["expr"]
        for g in rules_file(namespace_scoped=namespace_scoped)["groups"]
        for r in g["rules"]
        if "alert" in r
    }


def dashboard_expressions(*, substitute: bool = True) -> list[tuple[str, str]]:
    """(panel title / refId, expr) for every panel target of the dashboard."""
    board = json.loads(DASHBOARD.read_text())
    out = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            if substitute:
                for var, value in GRAFANA_VARS.items():
                    expr = expr.replace(var, value)
            out.append((f"{panel['title']} / {target['refId']}", expr))
    return out


def all_expressions() -> list[dict]:
    rows = [{"source": "alert", "name": n, "expr": e} for n, e in alert_expressions().items()]
    rows += [{"source": "dashboard", "name": n, "expr": e} for n, e in dashboard_expressions()]
    return rows


def metric_names(expr: str) -> set[str]:
    """Metric names used by an expression (every chart query selects with {...})."""
    names = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", expr))
    return names - _NOT_METRICS


if __name__ == "__main__":
    rows = all_expressions()
    if "--metrics" in sys.argv:
        print("\n".join(sorted(set().union(*(metric_names(r["expr"]) for r in rows)))))
    else:
        print(json.dumps(rows, indent=2))
