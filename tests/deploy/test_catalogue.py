"""The service catalogue (hallway_common.catalogue): sound, derived from the contracts,
the source of the services' defaults, and rendered everywhere it is read."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from deploy_tools import CHART, GRPC_SERVICES, ROOT, SERVICES

from hallway_common import catalogue
from hallway_common.contracts import CONSUMERS, TOPICS

pytestmark = pytest.mark.deploy


def test_catalogue_is_sound():
    assert catalogue.problems() == []
    assert tuple(s.name for s in catalogue.SERVICES) == SERVICES
    assert tuple(s.name for s in catalogue.GRPC_SERVICES) == GRPC_SERVICES


def test_groups_and_topics_come_from_the_contracts():
    groups = {g.name: (s.name, g.topics) for s in catalogue.SERVICES for g in s.groups}
    assert groups == CONSUMERS
    produced = [t for s in catalogue.SERVICES for t in s.produces]
    assert sorted(t.name for t in produced) == sorted(t.name for t in TOPICS)
    feed = catalogue.service("feed")
    assert [g.dead_letter_topic for g in feed.groups] == [
        "hallway.dlq.hallway-feed",
        "hallway.dlq.hallway-feed-fanout",
    ]


def test_services_take_their_default_ports_from_the_catalogue():
    from hallway_feed.app import DEFAULTS as FEED
    from hallway_gateway.settings import GatewaySettings
    from hallway_notification.app import DEFAULTS as NOTIFICATION
    from hallway_profile.app import DEFAULTS as PROFILE
    from hallway_search.app import DEFAULTS as SEARCH

    for name, defaults in (
        ("profile", PROFILE),
        ("feed", FEED),
        ("search", SEARCH),
        ("notification", NOTIFICATION),
    ):
        svc = catalogue.service(name)
        assert defaults["grpc_port"] == svc.grpc_port, name
        assert defaults["metrics_port"] == svc.metrics_port, name
        # the plaintext health port stays opt-in (HALLWAY_GRPC_HEALTH_PORT)
        assert "grpc_health_port" not in defaults, name
    fields = GatewaySettings.model_fields
    assert fields["http_port"].default == catalogue.GATEWAY.http_port
    for name in GRPC_SERVICES:
        assert fields[f"{name}_addr"].default == f"localhost:{catalogue.service(name).grpc_port}"


def test_shell_output_is_what_run_sh_evaluates():
    out = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$1"; echo "${CATALOGUE_GRPC_PORT[feed]} ${CATALOGUE_HTTP_PORT[gateway]}"',
            "-",
            catalogue.shell(),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(catalogue.FEED.grpc_port), str(catalogue.GATEWAY.http_port)]


def test_rendered_catalogue_and_docs_table_are_fresh():
    """charts/hallway/files/catalogue.yaml, docker/Dockerfile's per-service stages and the
    tables in docs/deploy.md and the chart README equal a fresh rendering."""
    proc = subprocess.run(
        [sys.executable, "-m", "hallway_dev.catalogue", "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_the_check_notices_a_stale_table(monkeypatch, tmp_path):
    from hallway_dev import catalogue as render

    doc = tmp_path / "deploy.md"
    doc.write_text(render.DEPLOY_DOC.read_text().replace("| 50052 |", "| 50099 |", 1))
    monkeypatch.setattr(render, "DEPLOY_DOC", doc)
    stale = [path.name for path, text in render.rendered().items() if path.read_text() != text]
    assert stale == ["deploy.md"]


def test_chart_catalogue_is_the_python_catalogue():
    data = yaml.safe_load((CHART / "files/catalogue.yaml").read_text())
    assert data["names"] == list(SERVICES)
    for svc in catalogue.SERVICES:
        entry = data["services"][svc.name]
        assert entry["metricsPort"] == svc.metrics_port
        assert entry.get("grpcPort") == svc.grpc_port
        assert entry.get("grpcHealthPort") == svc.grpc_health_port
        assert entry.get("httpPort") == svc.http_port
        assert [g["name"] for g in entry["groups"]] == [g.name for g in svc.groups]
    compacted = {t["name"] for t in data["topics"] if t["compacted"]}
    assert compacted == {t.name for t in TOPICS if t.compacted}
    for t in data["topics"]:
        assert (t["config"].get("cleanup.policy") == "compact") == t["compacted"]
