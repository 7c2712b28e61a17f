"""docker/Dockerfile, lint level: one parameterised Dockerfile (ARG SERVICE), multi-stage,
non-root, nothing of the build (sources, tests, grpcio-tools, the development package) in
the runtime stage, a HEALTHCHECK and entry point per component from the catalogue."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

import pytest
import yaml
from deploy_tools import GRPC_SERVICES, ROOT, SERVICES, _tool, run

from hallway_common import catalogue

pytestmark = pytest.mark.deploy

DOCKERFILE = ROOT / "docker" / "Dockerfile"
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


@dataclass
class Stage:
    base: str
    name: str
    ins: list[tuple[str, str]] = field(default_factory=list)

    def args(self, op: str) -> list[str]:
        return [a for o, a in self.ins if o == op]


def stages(path=DOCKERFILE) -> tuple[list[tuple[str, str]], dict[str, Stage]]:
    """The instructions before the first FROM (global ARGs) and the stages by name."""
    ins = instructions(path)
    first = next(i for i, (op, _) in enumerate(ins) if op == "FROM")
    out: dict[str, Stage] = {}
    current = None
    for op, args in ins[first:]:
        if op == "FROM":
            base, _, name = args.partition(" AS ")
            current = Stage(base.strip(), name.strip())
            out[current.name] = current
        else:
            assert current is not None
            current.ins.append((op, args))
    return ins[:first], out


def labels(instrs) -> set[str]:
    return {
        m
        for op, args in instrs
        if op == "LABEL"
        for m in re.findall(r"org\.opencontainers\.image\.(\w+)=", args)
    }


@pytest.fixture(scope="module")
def parsed():
    return stages()


def test_one_dockerfile_replaces_the_per_service_ones():
    assert not (ROOT / "docker" / "base.Dockerfile").exists()
    for svc in SERVICES:
        assert not (ROOT / "services" / svc / "Dockerfile").exists(), svc


def test_build_argument_picks_the_component(parsed):
    global_args, by_name = parsed
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in global_args
    assert ("ARG", "SERVICE=unset") in global_args
    final = list(by_name.values())[-1]
    assert final.base == "service-${SERVICE}", "the last stage is the one SERVICE names"
    assert set(by_name) >= {f"service-{s}" for s in (*SERVICES, "unset")}
    # no SERVICE: a stage that fails with the list of components
    unset = by_name["service-unset"]
    assert any("exit 1" in a and "SERVICE=<" in a for a in unset.args("RUN"))


def test_build_stage_builds_generated_code_once_for_every_component(parsed):
    _, by_name = parsed
    build = by_name["build"]
    assert build.base == "${PYTHON_IMAGE}"
    # SERVICE is not declared there, so the five images share the build cache
    assert not any(a.startswith("SERVICE") for a in build.args("ARG"))
    run_cmds = " ".join(build.args("RUN"))
    assert "hallway_dev.protogen" in run_cmds, "generated gRPC code is built in"
    assert "pip install --no-deps ." in run_cmds
    assert "pip uninstall -y grpcio-tools" in run_cmds
    assert "import hallway_dev" in run_cmds, "the build fails if the dev package got in"


def test_runtime_stage_is_slim_non_root_and_has_only_the_virtualenv(parsed):
    _, by_name = parsed
    runtime = by_name["runtime"]
    assert runtime.base == "${PYTHON_IMAGE}"
    copies = runtime.args("COPY")
    assert copies == ["--from=build /opt/hallway /opt/hallway"], "no sources, tests or dev/"
    env = " ".join(runtime.args("ENV"))
    assert "/src" not in env and "hallway_dev" not in env
    users = runtime.args("USER")
    assert users and users[-1] == "10001:10001"
    assert set(OCI_LABELS) <= labels(runtime.ins)
    # the per-component stages and the image add metadata only: no RUN, COPY or ADD
    for name, stage in by_name.items():
        if (name.startswith("service-") and name != "service-unset") or name == "image":
            assert not {op for op, _ in stage.ins} & {"RUN", "COPY", "ADD"}, name


@pytest.mark.parametrize("svc", SERVICES)
def test_component_stage(parsed, svc):
    _, by_name = parsed
    cat = catalogue.service(svc)
    stage = by_name[f"service-{svc}"]
    assert stage.base == "runtime"
    assert stage.args("ENTRYPOINT") == [f'["python", "-m", "hallway_{svc}"]']
    assert [int(p) for p in " ".join(stage.args("EXPOSE")).split()] == list(cat.ports)
    (health,) = stage.args("HEALTHCHECK")
    options, _, cmd = health.partition(" CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = yaml.safe_load(cmd)
    assert argv[:3] == ["python", "-m", "hallway_common.healthcheck"]
    if svc in GRPC_SERVICES:
        assert argv[3:] == ["--grpc", f"127.0.0.1:{cat.grpc_port}"]
    else:
        assert argv[3:] == ["--http", f"http://127.0.0.1:{cat.http_port}/healthz"]
    assert {"title", "description"} <= labels(stage.ins)
    assert f'title="hallway-{svc}"' in " ".join(stage.args("LABEL"))


def test_image_runs_serve_as_non_root(parsed):
    _, by_name = parsed
    image = list(by_name.values())[-1]
    users = image.args("USER")
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert image.args("CMD") == ['["serve"]']


@functools.cache
def buildkit(*args: str) -> dict:
    """The image configuration BuildKit's own Dockerfile frontend makes of docker/Dockerfile
    (offline: scripts/tools/dockerfile-check), and its lint warnings."""
    out = run([_tool("dockerfile-check.sh"), *args, str(DOCKERFILE)]).stdout
    return json.loads(out)


@pytest.mark.parametrize("svc", SERVICES)
def test_buildkit_makes_each_component_image_from_the_build_argument(svc):
    cat = catalogue.service(svc)
    image = buildkit("-build-arg", f"SERVICE={svc}", "-build-arg", "VERSION=1.2.3")
    assert image["warnings"] == []
    assert image["entrypoint"] == ["python", "-m", f"hallway_{svc}"]
    assert image["cmd"] == ["serve"]
    assert image["user"] == "10001:10001"
    assert image["exposedPorts"] == sorted(f"{p}/tcp" for p in cat.ports)
    check = ["CMD", "python", "-m", "hallway_common.healthcheck"]
    if svc in GRPC_SERVICES:
        assert image["healthcheck"] == [*check, "--grpc", f"127.0.0.1:{cat.grpc_port}"]
    else:
        assert image["healthcheck"] == [
            *check,
            "--http",
            f"http://127.0.0.1:{cat.http_port}/healthz",
        ]
    labels = image["labels"]
    assert labels["org.opencontainers.image.title"] == f"hallway-{svc}"
    assert labels["org.opencontainers.image.version"] == "1.2.3"
    assert {f"org.opencontainers.image.{k}" for k in OCI_LABELS} <= set(labels)
    assert not any("/src" in e for e in image["env"]), "no source path in the runtime image"


def test_buildkit_builds_the_tool_stage_and_refuses_no_service():
    tools = buildkit("-target", "build")
    assert tools["workingDir"] == "/src" and tools["user"] == ""
    # without SERVICE the image is the stage that fails with the list of components
    unset = buildkit()
    assert unset["entrypoint"] is None and unset["healthcheck"] is None


def test_dockerignore_keeps_the_context_small():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    first_rule = next(ln for ln in lines if ln and not ln.startswith("#"))
    assert first_rule == "**"
    for needed in ("!pyproject.toml", "!proto/", "!common/", "!dev/", "!gen/", "!services/"):
        assert needed in lines
    assert "**/tests/" in lines, "tests never reach the build context"


def test_compose_builds_every_component_from_the_one_dockerfile():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for svc in SERVICES:
        build = services[svc]["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == "docker/Dockerfile"
        assert build["args"]["SERVICE"] == svc
        assert "target" not in build
    for svc in GRPC_SERVICES:
        assert services[f"migrate-{svc}"]["build"] == services[svc]["build"]
    # the PKI job runs the development package from the build stage
    pki = services["pki"]
    assert pki["build"]["dockerfile"] == "docker/Dockerfile"
    assert pki["build"]["target"] == "build"
    assert "hallway_dev.devpki" in " ".join(pki["entrypoint"])
    assert "base" not in services
