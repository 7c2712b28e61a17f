"""deploy/k8s: the checked-in plain manifests equal a fresh render of the chart."""

from __future__ import annotations

import pytest
import yaml
from deploy_tools import KUBE_VERSION, ROOT, run

pytestmark = pytest.mark.deploy

K8S = ROOT / "deploy" / "k8s"


def test_deploy_k8s_equals_fresh_render(tmp_path):
    run([str(ROOT / "scripts/tools/render-manifests.sh"), str(tmp_path)])
    for name in ("hallway.yaml", "monitoring.yaml"):
        fresh = (tmp_path / name).read_text()
        assert (K8S / name).read_text() == fresh, (
            f"deploy/k8s/{name} is stale: run scripts/tools/render-manifests.sh (make manifests)"
        )


def test_plain_manifests_validate():
    import kubernetes_validate

    docs = [d for d in yaml.safe_load_all((K8S / "hallway.yaml").read_text()) if d]
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "NetworkPolicy", "Job"} <= kinds
    assert "Pod" not in kinds, "no helm test pod in plain manifests"
    for d in docs:
        kubernetes_validate.validate(d, KUBE_VERSION, strict=True)
    assert all(d["metadata"]["namespace"] == "hallway" for d in docs)
