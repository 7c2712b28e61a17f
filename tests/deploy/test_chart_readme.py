"""charts/hallway/README.md: its parameter tables are generated from the `## @param`
comments of values.yaml by readme-generator-for-helm (scripts/tools/readme-generator.sh);
every value must carry one and the checked-in README must be what the tool writes."""

from __future__ import annotations

import functools
import shutil

import pytest
from deploy_tools import CHART, _tool, run

pytestmark = pytest.mark.deploy

README = CHART / "README.md"
VALUES = CHART / "values.yaml"


@functools.cache
def readme_generator() -> str:
    return _tool("readme-generator.sh")


def generate(tmp_path, values_text: str | None = None):
    """Run the generator on copies of values.yaml and README.md in tmp_path."""
    values, readme = tmp_path / "values.yaml", tmp_path / "README.md"
    values.write_text(values_text if values_text is not None else VALUES.read_text())
    shutil.copy(README, readme)
    proc = run([readme_generator(), "--values", str(values), "--readme", str(readme)], check=False)
    return proc, readme


def test_readme_parameters_are_generated_from_values(tmp_path):
    proc, readme = generate(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Metadata is correct" in proc.stdout, "every value has a ## @param comment"
    assert readme.read_text() == README.read_text(), (
        'README.md is stale: run "$(scripts/tools/readme-generator.sh)" '
        "-v charts/hallway/values.yaml -r charts/hallway/README.md"
    )


def test_a_value_without_a_param_comment_fails(tmp_path):
    text = "\n".join(
        line for line in VALUES.read_text().splitlines() if "@param feed.logLevel " not in line
    )
    proc, _ = generate(tmp_path, text + "\n")
    assert proc.returncode != 0
    assert "Missing metadata for key: feed.logLevel" in proc.stdout


def test_readme_lists_sections_and_the_catalogue():
    text = README.read_text()
    for section in (
        "### Global parameters",
        "### Kafka",
        "### Profile service",
        "### Gateway",
        "### Trust",
        "### Monitoring",
    ):
        assert section in text, section
    assert "| `gateway.service.port`" in text
    assert "<!-- catalogue:begin" in text  # the ports table (tests/deploy/test_catalogue.py)
