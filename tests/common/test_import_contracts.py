"""Architecture boundaries are checked by import-linter (contracts in pyproject.toml):
the tree keeps them, and each contract fails on the kind of import it forbids."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SERVICES = (
    "hallway_profile",
    "hallway_feed",
    "hallway_search",
    "hallway_notification",
    "hallway_gateway",
)


def _lint(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} missing: install the dev extra (make venv)")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_tree_keeps_every_contract() -> None:
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(_contracts())} kept, 0 broken" in r.stdout


def test_the_contracts_cover_what_the_architecture_promises() -> None:
    by_id = {c["id"]: c for c in _contracts()}
    assert set(by_id["services-independent"]["modules"]) == set(SERVICES)
    assert set(SERVICES) <= set(by_id["common-imports-no-service"]["forbidden_modules"])
    assert set(SERVICES) <= set(by_id["generated-imports-no-service"]["forbidden_modules"])
    shipped = by_id["shipped-imports-no-dev-tooling"]
    assert set(shipped["source_modules"]) == {"hallway", "hallway_common", *SERVICES}
    assert shipped["forbidden_modules"] == ["hallway_dev"]


def test_each_contract_breaks_on_a_forbidden_import(tmp_path: Path) -> None:
    """The same configuration on stand-in packages, each contract violated once."""
    roots = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "root_packages"
    ]
    for name in roots:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    violations = {
        "hallway_feed/timeline.py": "import hallway_search\n",
        "hallway_common/helper.py": "from hallway_profile import app\n",
        "hallway/stub.py": "import hallway_common\n",
        "hallway_gateway/web.py": "def later():\n    import hallway_dev  # even a lazy import\n",
    }
    for path, source in violations.items():
        (tmp_path / path).write_text(source)
    (tmp_path / "hallway_profile" / "app.py").write_text("")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    r = _lint(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"0 kept, {len(_contracts())} broken" in r.stdout, r.stdout
