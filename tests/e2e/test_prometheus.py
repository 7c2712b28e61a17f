"""A real Prometheus scrapes the end-to-end stack; every metric the chart's alerts and
dashboard use must be there, every panel must show data and every alert must evaluate.

Runs after the journey test (file order), so the stack has seen real traffic.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from hallway_dev.testing import LOGS, System, eventually, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
import promql
from deploy_tools import promtool

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def prometheus(system: System) -> Iterator[str]:
    binary = Path(promtool()).with_name("prometheus")  # same Debian package
    assert binary.is_file(), f"{binary} missing: the prometheus package ships it"
    jobs = []
    # The test run namespaces topics and groups with a prefix; strip it as an operator
    # with prefixed topics would, so the chart's queries see the canonical names.
    unprefix = [
        {
            "source_labels": [label],
            "regex": re.escape(system.topic_prefix) + "(.*)",
            "target_label": label,
            "replacement": "$1",
        }
        for label in ("topic", "group")
    ]
    for name, proc in system.processes.items():
        port = proc.http_port if name == "gateway" else proc.metrics_port
        jobs.append(
            {
                "job_name": f"hallway-{name}",
                "scrape_interval": "1s",
                "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                "metric_relabel_configs": unprefix,
            }
        )
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "prometheus.yml"
        config.write_text(
            yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs})
        )
        LOGS.mkdir(parents=True, exist_ok=True)
        log = (LOGS / "prometheus.log").open("ab")
        proc = subprocess.Popen(
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(20)


async def _query(client: httpx.AsyncClient, expr: str) -> list:
    resp = await client.get("/api/v1/query", params={"query": expr})
    body = resp.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]


# Labels whose values depend on what happened (errors), not on what is exported:
# a healthy stack legitimately has no 5xx series.
OUTCOME_LABELS = ("status", "grpc_code")


def _selectors(expr: str) -> list[str]:
    """Every `metric{labels}` selector of an expression, without outcome matchers."""
    out = []
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}", expr):
        if m.group(1) in promql._NOT_METRICS:
            continue
        matchers = [
            part
            for part in re.findall(r'[a-zA-Z_]+\s*[=!~]+\s*"[^"]*"', m.group(2))
            if not part.startswith(OUTCOME_LABELS)
        ]
        out.append(f"{m.group(1)}{{{','.join(matchers)}}}")
    return out


async def test_every_alert_and_panel_has_data(system: System, prometheus: str) -> None:
    async with httpx.AsyncClient(base_url=prometheus, timeout=10) as client:
        targets = len(system.processes)

        async def all_up() -> bool:
            try:
                up = await _query(client, "up == 1")
            except httpx.HTTPError:
                return False
            return len(up) == targets

        await eventually(all_up, within=60, what="Prometheus scrapes every process")
        # rate() over a window needs at least two samples of every series.
        await eventually(
            lambda: _query(client, "count(count_over_time(up[1m]) >= 5) == " + str(targets)),
            within=60,
            what="a few scrapes of every target",
        )

        missing = []
        for row in promql.all_expressions():
            for selector in _selectors(row["expr"]):
                if not await _query(client, selector):
                    missing.append(f"{row['source']} {row['name']}: {selector}")
        assert missing == [], (
            "metrics the chart uses but the services do not export:\n" + "\n".join(missing)
        )

        empty_panels = [
            name for name, expr in promql.dashboard_expressions() if not await _query(client, expr)
        ]
        assert empty_panels == [], "dashboard panels without data on the live stack"

        for expr in promql.alert_expressions().values():
            await _query(client, expr)  # evaluates (firing or not) without error
