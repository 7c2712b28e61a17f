"""A real Prometheus scrapes the end-to-end stack; every metric the chart's alerts and
dashboard use must be there, every panel must show data and every alert must evaluate.
Each process's /metrics is also held to the metrics contract (docs/conventions.md):
no ``*_created`` series, and only the families that process uses, none without samples.

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
from prometheus_client.parser import text_string_to_metric_families

from hallway_common.contracts import CONSUMERS, produced_by
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


def _metrics_url(name: str, system: System) -> str:
    proc = system.processes[name]
    port = proc.http_port if name == "gateway" else proc.metrics_port
    return f"http://127.0.0.1:{port}/metrics"


async def test_each_process_exposes_only_the_families_it_uses(system: System) -> None:
    """No ``_created`` series and no family without a sample, in any process; the
    shared families only where they apply: the outbox where events are produced,
    consumer families where a service consumes, gRPC server families in services."""
    producers = {name for name in system.processes if produced_by(name)}
    consumers = {service for service, _ in CONSUMERS.values()}
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=10) as client:
        for name in system.processes:
            resp = await client.get(_metrics_url(name, system))
            assert resp.status_code == 200, (name, resp.status_code)
            families = {f.name: f for f in text_string_to_metric_families(resp.text)}
            created = sorted(
                s.name for f in families.values() for s in f.samples if s.name.endswith("_created")
            )
            if created:
                problems.append(f"{name}: _created series {created}")
            if empty := sorted(n for n, f in families.items() if not f.samples):
                problems.append(f"{name}: families without samples {empty}")
            expected = {
                "hallway_outbox_": name in producers,
                "hallway_consumer_": name in consumers,
                "grpc_server_": name != "gateway",
            }
            for prefix, wanted in expected.items():
                present = sorted(n for n in families if n.startswith(prefix))
                if wanted and not present:
                    problems.append(f"{name}: no {prefix}* family although it uses them")
                if present and not wanted:
                    problems.append(f"{name}: {present} although it has no use for them")
    assert problems == [], "\n".join(problems)
