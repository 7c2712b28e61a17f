"""Dockerfiles, lint level: multi-stage shared base, non-root, HEALTHCHECK, OCI labels."""

from __future__ import annotations

import re

import pytest
from deploy_tools import GRPC_SERVICES, ROOT, SERVICES

pytestmark = pytest.mark.deploy

BASE = ROOT / "docker" / "base.Dockerfile"
OCI_LABELS = ("title", "description", "source", "version", "revision", "licenses")


def instructions(path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and heredocs skipped."""
    text = path.read_text()
    text = re.sub(r"<<'?(\w+)'?\n.*?\n\1\n", "<<heredoc\n", text, flags=re.S)
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def labels(instrs) -> set[str]:
    return {
        m
        for op, args in instrs
        if op == "LABEL"
        for m in re.findall(r"org\.opencontainers\.image\.(\w+)=", args)
    }


def test_base_is_multi_stage_slim_and_non_root():
    ins = instructions(BASE)
    froms = [a for op, a in ins if op == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    assert any("PYTHON_IMAGE=python:3.11-slim" in a for op, a in ins if op == "ARG")
    assert froms[-1].endswith("AS runtime")
    # the last stage copies the finished venv only, and runs as uid 10001
    last = ins[max(i for i, (op, _) in enumerate(ins) if op == "FROM") :]
    assert ("COPY", "--from=build /opt/hallway /opt/hallway") in last
    assert not any(op == "COPY" and "--from" not in a for op, a in last), "no sources in runtime"
    users = [a for op, a in last if op == "USER"]
    assert users and users[-1].split(":")[0] == "10001"
    run_cmds = " ".join(a for op, a in ins if op == "RUN")
    assert "hallway_dev.protogen" in run_cmds, "generated gRPC code is built in"
    assert "pip uninstall -y grpcio-tools" in run_cmds
    assert set(OCI_LABELS) <= labels(ins)


@pytest.mark.parametrize("svc", SERVICES)
def test_service_dockerfile(svc):
    ins = instructions(ROOT / "services" / svc / "Dockerfile")
    froms = [a for op, a in ins if op == "FROM"]
    assert froms == ["${BASE_IMAGE}"]
    assert ("ARG", "BASE_IMAGE=hallway-base") in ins
    users = [a for op, a in ins if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    health = [a for op, a in ins if op == "HEALTHCHECK"]
    assert len(health) == 1
    assert "hallway_common.healthcheck" in health[0]
    if svc in GRPC_SERVICES:
        assert "--grpc" in health[0]
    else:
        assert "--http" in health[0] and "/healthz" in health[0]
    assert ("ENTRYPOINT", f'["python", "-m", "hallway_{svc}"]') in ins
    assert ("CMD", '["serve"]') in ins
    assert set(OCI_LABELS) <= labels(ins)
    assert not any(op == "RUN" for op, _ in ins), "service images add no build steps"


def test_dockerignore_keeps_the_context_small():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    first_rule = next(ln for ln in lines if ln and not ln.startswith("#"))
    assert first_rule == "**"
    for needed in ("!pyproject.toml", "!proto/", "!common/", "!gen/", "!services/"):
        assert needed in lines
