"""docker-compose.yml, offline: Compose specification schema, topology, env contract."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml
from deploy_tools import GRPC_SERVICES, HERE, ROOT, SERVICES, documented_env_vars, render

from hallway_common import catalogue

pytestmark = pytest.mark.deploy

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_matches_the_compose_specification(compose):
    # tests/deploy/data/compose-spec.json: schema/compose-spec.json of
    # github.com/compose-spec/compose-spec (Apache-2.0), vendored as data.
    schema = json.loads((HERE / "data" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_compose_topology(compose):
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["postgres"]["image"] == "postgres:15"
    assert services["opensearch"]["image"] == "opensearchproject/opensearch:2.19.1"
    assert services["opensearch"]["environment"]["DISABLE_SECURITY_PLUGIN"] == "true"
    init = ROOT / "docker/postgres/init-databases.sql"
    assert set(re.findall(r"CREATE DATABASE (\w+)", init.read_text())) == {
        "profile",
        "feed",
        "notification",
    }
    for svc in GRPC_SERVICES:
        mig = services[f"migrate-{svc}"]
        assert mig["command"] == ["migrate"]
        assert mig["restart"] == "no"
        assert services[svc]["depends_on"][f"migrate-{svc}"] == {
            "condition": "service_completed_successfully"
        }
        assert services[svc]["image"] == mig["image"]
    for svc in SERVICES:
        build = services[svc]["build"]
        assert build["dockerfile"] == "docker/Dockerfile"
        assert build["args"]["SERVICE"] == svc
        assert services[svc]["read_only"] is True
    # development mode (anyone can sign in as anyone) is published on loopback only
    http = catalogue.GATEWAY.http_port
    assert services["gateway"]["ports"] == [f"127.0.0.1:{http}:{http}"]
    assert services["gateway"]["environment"]["HALLWAY_DEV_MODE"] == "true"
    for svc in GRPC_SERVICES:
        assert services["gateway"]["depends_on"][svc] == {"condition": "service_healthy"}


def _compose_env(compose) -> dict[str, set[str]]:
    return {
        name: set((svc.get("environment") or {}).keys())
        for name, svc in compose["services"].items()
    }


def _chart_env() -> set[str]:
    names = set()
    for values in ((), (HERE / "values-full.yaml",)):
        for doc in render(values):
            if doc["kind"] in ("Deployment", "Job"):
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    names |= {e["name"] for e in c.get("env", [])}
    return names


def test_every_hallway_env_var_is_documented(compose):
    documented = documented_env_vars()
    assert "HALLWAY_DATABASE_URL" in documented  # the parser works
    in_compose = {
        v for names in _compose_env(compose).values() for v in names if v.startswith("HALLWAY_")
    }
    in_chart = {v for v in _chart_env() if v.startswith("HALLWAY_")}
    assert in_compose - documented == set(), "compose sets undocumented variables"
    assert in_chart - documented == set(), "the chart sets undocumented variables"
    # compose and chart speak the same language: the chart covers what compose sets,
    # except development mode, which the local topology uses and the chart never sets
    # (the chart sets HALLWAY_DEV_LOGIN, to false)
    assert in_compose - in_chart == {"HALLWAY_DEV_MODE"}


def test_compose_gives_each_service_its_settings(compose):
    env = _compose_env(compose)
    for svc in ("profile", "feed", "notification"):
        assert "HALLWAY_DATABASE_URL" in env[svc]
        assert compose["services"][svc]["environment"]["HALLWAY_DATABASE_URL"].endswith(f"/{svc}")
    assert "HALLWAY_OPENSEARCH_URL" in env["search"]
    assert {"HALLWAY_SMTP_HOST", "HALLWAY_SMTP_PORT"} <= env["notification"]
    gw = compose["services"]["gateway"]["environment"]
    for svc in GRPC_SERVICES:
        # the gateway dials the catalogue's ports; the services listen on them by default
        assert gw[f"HALLWAY_{svc.upper()}_ADDR"] == catalogue.service(svc).address(svc)
        assert "HALLWAY_GRPC_PORT" not in env[svc], "the port is the image's default"
        assert "HALLWAY_KAFKA_BOOTSTRAP_SERVERS" in env[svc]
