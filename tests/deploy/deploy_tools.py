"""Shared helpers for tests/deploy: tool discovery, chart rendering, the conventions."""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHART = ROOT / "charts" / "hallway"
VALUES_FULL = HERE / "values-full.yaml"
CONVENTIONS = ROOT / "docs" / "conventions.md"

# Rendered against a current Kubernetes (Helm 3 assumes 1.20 without --kube-version);
# kubernetes-validate ships strict schemas for it.
KUBE_VERSION = "1.33.0"
RELEASE = "hallway"
NAMESPACE = "hallway"
SERVICES = ("profile", "feed", "search", "notification", "gateway")
GRPC_SERVICES = ("profile", "feed", "search", "notification")


def _tool(script: str) -> str:
    """Install (idempotently) and locate a tool through scripts/tools/<script>."""
    proc = subprocess.run(
        [str(ROOT / "scripts" / "tools" / script)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/tools/{script} failed:\n{proc.stderr}")
    path = proc.stdout.strip().splitlines()[-1]
    if not Path(path).is_file():
        raise RuntimeError(f"scripts/tools/{script} printed {path!r}, which is not a file")
    return path


@functools.cache
def helm() -> str:
    return _tool("helm.sh")


@functools.cache
def promtool() -> str:
    return _tool("promtool.sh")


def run(
    cmd: Sequence[str], *, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def helm_template(
    values: Iterable[Path] = (),
    sets: Iterable[str] = (),
    *,
    extra: Iterable[str] = (),
    check: bool = True,
) -> subprocess.CompletedProcess:
    cmd = [
        helm(),
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
    ]
    for v in values:
        cmd += ["--values", str(v)]
    for s in sets:
        cmd += ["--set", s]
    cmd += list(extra)
    return run(cmd, check=check)


@functools.cache
def _render_cached(values: tuple[Path, ...], sets: tuple[str, ...]) -> str:
    return helm_template(values, sets).stdout


def render(values: Iterable[Path] = (), sets: Iterable[str] = ()) -> list[dict]:
    """Render the chart (tests included) and return the non-empty documents."""
    text = _render_cached(tuple(values), tuple(sets))
    return [d for d in yaml.safe_load_all(text) if d]


def containers(doc: dict) -> list[dict]:
    spec = doc["spec"]
    if doc["kind"] in ("Deployment", "Job"):
        spec = spec["template"]["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"] if doc["kind"] in ("Deployment", "Job") else doc["spec"]


@functools.cache
def documented_env_vars() -> frozenset[str]:
    return frozenset(re.findall(r"`(HALLWAY_[A-Z0-9_]+)`", CONVENTIONS.read_text()))


@functools.cache
def documented_metrics() -> frozenset[str]:
    """Metric names of the 'Metrics' section of docs/conventions.md."""
    text = CONVENTIONS.read_text()
    section = text[text.index("## Metrics") :]
    return frozenset(re.findall(r"`([a-z_:][a-z0-9_:]*)(?:\{[^`]*\})?`", section))
