"""charts/hallway: helm lint/template, Kubernetes schemas, CRD schemas, values schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_tools import (
    CHART,
    GRPC_SERVICES,
    HERE,
    KUBE_VERSION,
    ROOT,
    SERVICES,
    VALUES_FULL,
    containers,
    helm,
    helm_template,
    pod_spec,
    render,
    run,
)

from hallway_common import catalogue
from hallway_common.contracts import CONSUMERS, TOPICS, dlq_topic
from hallway_common.kafka import topic_config

pytestmark = pytest.mark.deploy

VALUES_CERT_MANAGER = HERE / "values-cert-manager.yaml"
VARIANTS = {"default": (), "full": (VALUES_FULL,), "cert-manager": (VALUES_CERT_MANAGER,)}
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.json",
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "kafkatopic.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication.json",
    ("cert-manager.io/v1", "Certificate"): "certificate.json",
    ("cert-manager.io/v1", "Issuer"): "issuer.json",
}


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("variant", VARIANTS)
def test_helm_lint(variant):
    cmd = [helm(), "lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION]
    for v in VARIANTS[variant]:
        cmd += ["--values", str(v)]
    out = run(cmd).stdout
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize("variant", VARIANTS)
def test_rendered_manifests_match_kubernetes_schemas(variant):
    """Every built-in kind validates strictly against Kubernetes' own JSON schemas."""
    docs = render(VARIANTS[variant])
    assert docs
    errors, unknown = [], []
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unknown.append(key)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {e.message}")
    assert not errors, "\n".join(errors)
    # The only kinds kubernetes-validate does not know are the CRDs we check ourselves.
    assert set(unknown) <= set(CRD_SCHEMAS), set(unknown) - set(CRD_SCHEMAS)


def test_custom_resources_match_checked_in_crd_schemas():
    """ServiceMonitor, PrometheusRule, KafkaTopic, ScaledObject, TriggerAuthentication,
    cert-manager's Certificate and Issuer (not in kubernetes-validate) against
    tests/deploy/crds/*.json: the fields we use."""
    docs = render([VALUES_FULL]) + render([VALUES_CERT_MANAGER])
    seen = set()
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        if key not in CRD_SCHEMAS:
            continue
        seen.add(key)
        schema = json.loads((HERE / "crds" / CRD_SCHEMAS[key]).read_text())
        jsonschema.Draft202012Validator(schema).validate(doc)
    assert seen == set(CRD_SCHEMAS), "the full and cert-manager values render every CRD kind"
    for topic in by_kind(docs, "KafkaTopic").values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "hallway"


def test_default_render_has_every_service_and_no_optional_crds():
    docs = render()
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {f"hallway-{s}" for s in SERVICES}
    kinds = {d["kind"] for d in docs}
    assert not kinds & {k for _, k in CRD_SCHEMAS}, "CRDs are opt-in"
    assert set(by_kind(docs, "Job")) == {f"hallway-{s}-migrate" for s in GRPC_SERVICES}


def test_full_render_has_every_optional_feature():
    docs = render([VALUES_FULL])
    kinds = {d["kind"] for d in docs}
    for kind in (
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "ServiceMonitor",
        "PrometheusRule",
        "ConfigMap",
        "KafkaTopic",
        "ScaledObject",
        "TriggerAuthentication",
    ):
        assert kind in kinds, kind
    kafka_topics = {t["spec"]["topicName"]: t for t in by_kind(docs, "KafkaTopic").values()}
    # every topic of the contract (change and state topics) and one DLQ per consumer group
    assert set(kafka_topics) == {t.name for t in TOPICS} | {dlq_topic(g) for g in CONSUMERS}
    assert "hallway.feed.post.state.v1" in kafka_topics
    for topic in TOPICS:
        config = kafka_topics[topic.name]["spec"]["config"]
        # the state topics get the compaction settings the services create them with
        assert {k: str(v) for k, v in config.items()}.items() >= topic_config(
            topic.compacted
        ).items()
        assert (config.get("cleanup.policy") == "compact") == topic.compacted, topic
    post = next(
        t
        for t in by_kind(docs, "KafkaTopic").values()
        if t["spec"]["topicName"] == "hallway.feed.post.v1"
    )
    assert post["spec"]["partitions"] == 24
    assert post["spec"]["config"]["retention.ms"] == 2592000000
    # KEDA replaces the HPA of a consumer; no Deployment fixes replicas when scaled.
    assert set(by_kind(docs, "ScaledObject")) == {
        "hallway-feed",
        "hallway-search",
        "hallway-notification",
    }
    assert set(by_kind(docs, "HorizontalPodAutoscaler")) == {"hallway-profile", "hallway-gateway"}
    feed_triggers = by_kind(docs, "ScaledObject")["hallway-feed"]["spec"]["triggers"]
    assert [t["metadata"]["consumerGroup"] for t in feed_triggers] == [
        "hallway-feed",
        "hallway-feed-fanout",
    ]
    for name, dep in by_kind(docs, "Deployment").items():
        if name != "hallway-notification":  # fixed replicas without HPA/KEDA
            assert "replicas" not in dep["spec"], name
    # Strimzi owns the topics: the services must not create them.
    for dep in by_kind(docs, "Deployment").values():
        env = {e["name"]: e for e in containers(dep)[0]["env"]}
        if "HALLWAY_KAFKA_CREATE_TOPICS" in env:
            assert env["HALLWAY_KAFKA_CREATE_TOPICS"]["value"] == "false"
    board = by_kind(docs, "ConfigMap")["hallway-dashboard"]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(board["data"]["hallway-flow.json"])["uid"] == "hallway-flow"


@pytest.mark.parametrize("variant", VARIANTS)
def test_pods_are_hardened(variant):
    for doc in render(VARIANTS[variant]):
        if doc["kind"] not in ("Deployment", "Job", "Pod"):
            continue
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for c in containers(doc):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "resources" in c and c["resources"].get("limits"), name


@pytest.mark.parametrize("variant", VARIANTS)
def test_probes_use_grpc_health_and_http_endpoints(variant):
    """gRPC probes hit the plaintext health-only port (the catalogue's, gRPC port + 1000,
    unless <service>.healthPort says otherwise): kubelet cannot present a client
    certificate to the mTLS port."""
    deployments = by_kind(render(VARIANTS[variant]), "Deployment")
    overrides = {"profile": 52051} if variant == "full" else {}  # values-full.yaml
    for svc in GRPC_SERVICES:
        port = overrides.get(svc, catalogue.service(svc).grpc_health_port)
        c = containers(deployments[f"hallway-{svc}"])[0]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert c[probe]["grpc"] == {"port": port}, (svc, probe)
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert env["HALLWAY_GRPC_HEALTH_PORT"] == str(port)
        assert {"name": "health", "containerPort": port, "protocol": "TCP"} in c["ports"]
    gw = containers(deployments["hallway-gateway"])[0]
    assert gw["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gw["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_migration_jobs_are_pre_install_and_pre_upgrade_hooks():
    jobs = by_kind(render([VALUES_FULL]), "Job")
    assert set(jobs) == {f"hallway-{s}-migrate" for s in GRPC_SERVICES}
    for name, job in jobs.items():
        ann = job["metadata"]["annotations"]
        assert ann["helm.sh/hook"] == "pre-install,pre-upgrade", name
        assert containers(job)[0]["args"] == ["migrate"], name
    search_env = {e["name"] for e in containers(jobs["hallway-search-migrate"])[0]["env"]}
    assert "HALLWAY_OPENSEARCH_URL" in search_env


def test_secrets_come_from_existing_secrets():
    deployments = by_kind(render([VALUES_FULL]), "Deployment")

    def env(svc):
        return {e["name"]: e for e in containers(deployments[f"hallway-{svc}"])[0]["env"]}

    assert env("feed")["HALLWAY_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "hallway-feed-db",
        "key": "dsn",
    }
    assert env("feed")["HALLWAY_DATABASE_POOL_MAX"]["value"] == "40"
    assert env("search")["HALLWAY_OPENSEARCH_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "hallway-opensearch",
        "key": "password",
    }
    assert env("gateway")["HALLWAY_JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "hallway-gateway-jwt",
        "key": "secret",
    }
    assert env("profile")["HALLWAY_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "hallway-kafka-user",
        "key": "password",
    }
    assert env("profile")["HALLWAY_KAFKA_SSL_CAFILE"]["value"] == "/etc/hallway/kafka-ca/ca.crt"
    # notification signs unsubscribe links with the key from the operator's Secret
    notification = deployments["hallway-notification"]
    assert env("notification")["HALLWAY_UNSUBSCRIBE_KEY_FILE"]["value"] == (
        "/etc/hallway/unsubscribe/key"
    )
    assert env("notification")["HALLWAY_PUBLIC_URL"]["value"] == "https://hallway.example.com"
    volumes = {v["name"]: v for v in notification["spec"]["template"]["spec"]["volumes"]}
    assert volumes["unsubscribe"]["secret"]["secretName"] == "hallway-unsubscribe"
    assert "HALLWAY_UNSUBSCRIBE_KEY_FILE" not in env("feed")
    # extraEnv replaces the chart's entry instead of duplicating it
    names = [e["name"] for e in containers(deployments["hallway-profile"])[0]["env"]]
    assert names.count("HALLWAY_LOG_LEVEL") == 1
    assert env("profile")["HALLWAY_LOG_LEVEL"]["value"] == "DEBUG"
    assert (
        env("gateway")["HALLWAY_FEED_ADDR"]["value"] == f"hallway-feed:{catalogue.FEED.grpc_port}"
    )
    assert not by_kind(render([VALUES_FULL]), "Secret"), "no chart-made Secret with existingSecrets"


def test_inline_credentials_land_in_a_hook_secret():
    docs = render(
        sets=(
            "postgresql.feed.url=postgresql://u:p@db:5432/feed",
            "gateway.jwt.secret=0123456789abcdef0123456789abcdef",
        )
    )
    secret = by_kind(docs, "Secret")["hallway-credentials"]
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert secret["stringData"] == {
        "feed-database-url": "postgresql://u:p@db:5432/feed",
        "jwt-secret": "0123456789abcdef0123456789abcdef",
    }


def test_network_policies_admit_only_the_callers():
    docs = render([VALUES_FULL])
    policies = by_kind(docs, "NetworkPolicy")
    assert set(policies) == {f"hallway-{s}" for s in SERVICES}
    for svc in GRPC_SERVICES:
        grpc_rule, metrics_rule = policies[f"hallway-{svc}"]["spec"]["ingress"]
        assert grpc_rule["ports"] == [{"port": "grpc", "protocol": "TCP"}]
        components = {
            p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
            for p in grpc_rule["from"]
            if "podSelector" in p
        }
        assert components == {"gateway", "test"}, svc
        assert metrics_rule["ports"] == [
            {"port": "metrics", "protocol": "TCP"},
            {"port": "health", "protocol": "TCP"},
        ]
        assert metrics_rule["from"][0]["namespaceSelector"] == {
            "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
        }
    gw_rules = policies["hallway-gateway"]["spec"]["ingress"]
    assert gw_rules[0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"
    }


def test_helm_test_pod_checks_every_service():
    docs = render()
    (pod,) = by_kind(docs, "Pod").values()
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    checks = {c["name"]: c["args"] for c in pod["spec"]["containers"]}
    assert checks["gateway"] == ["--http", "http://hallway-gateway:8080/readyz"]
    for svc in GRPC_SERVICES:
        assert checks[svc] == ["--grpc", f"hallway-{svc}:{catalogue.service(svc).grpc_port}"]
    for c in pod["spec"]["containers"]:
        assert c["command"] == ["python", "-m", "hallway_common.healthcheck"]
        if c["name"] != "gateway":  # over mTLS, with the gateway's certificate
            assert {e["name"] for e in c["env"]} >= {"HALLWAY_GRPC_TLS_CA_FILE"}
    assert pod["spec"]["volumes"][0]["secret"]["secretName"] == "hallway-gateway-tls"


def test_helm_test_without_gateway_uses_a_service_certificate():
    docs = render(sets=("gateway.enabled=false",))
    (pod,) = by_kind(docs, "Pod").values()
    (volume,) = pod["spec"]["volumes"]
    assert volume["secret"]["secretName"] == "hallway-profile-tls"
    assert "hallway-profile-tls" in by_kind(docs, "Secret")


def test_services_can_be_turned_off_one_by_one():
    docs = render(sets=("search.enabled=false", "notification.enabled=false"))
    assert set(by_kind(docs, "Deployment")) == {
        "hallway-profile",
        "hallway-feed",
        "hallway-gateway",
    }
    assert "hallway-search-migrate" not in by_kind(docs, "Job")


def test_image_reference_with_registry_tag_and_digest():
    deployments = by_kind(render([VALUES_FULL]), "Deployment")
    assert containers(deployments["hallway-profile"])[0]["image"] == (
        "registry.example.com/hallway/hallway/profile:0.1.0@sha256:" + "0" * 63 + "1"
    )
    assert containers(deployments["hallway-feed"])[0]["image"] == (
        "registry.example.com/hallway/hallway/feed:0.1.0"
    )


BAD_VALUES = """\
profile:
  replicas: 3            # typo of replicaCount
  replicaCount: "two"    # wrong type
feed:
  image:
    pullPolicy: Sometimes
kafka:
  securityProtocol: SSL
  sasl:
    mechanism: PLAIN     # SASL needs SASL_PLAINTEXT or SASL_SSL
opensearch:
  url: opensearch:9200   # no scheme
"""


def test_values_schema_rejects_bad_values_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(BAD_VALUES)
    proc = helm_template([bad], check=False)
    assert proc.returncode != 0
    err = proc.stderr
    print(err)  # shown with -rA: what an operator sees
    assert "values don't meet the specifications of the schema" in err
    assert "additional properties 'replicas' not allowed" in err
    assert "/profile/replicaCount" in err and "want integer" in err
    assert "/feed/image/pullPolicy" in err
    assert "/kafka/securityProtocol" in err
    assert "/opensearch/url" in err


def test_values_yaml_passes_its_own_schema():
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(values)


def test_values_schema_is_generated():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy,sys; m=runpy.run_path(sys.argv[1]); sys.stdout.write(m['render']())",
            str(ROOT / "scripts/tools/gen_values_schema.py"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == (CHART / "values.schema.json").read_text(), (
        "run scripts/tools/gen_values_schema.py"
    )


def test_dashboard_json_is_generated():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy,sys; m=runpy.run_path(sys.argv[1]); sys.stdout.write(m['render']())",
            str(ROOT / "monitoring/gen_dashboard.py"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == (CHART / "files/dashboards/hallway-flow.json").read_text(), (
        "run monitoring/gen_dashboard.py"
    )


NOTES_PROBE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
data:
  notes: |
{{ include (print $.Template.BasePath "/NOTES.txt") . | indent 4 }}
"""


def test_notes_tell_how_to_reach_ui_and_metrics(tmp_path):
    # helm template does not print NOTES.txt (and install --dry-run wants a cluster):
    # render it through a probe template in a copy of the chart.
    chart = tmp_path / "hallway"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "zz-notes-probe.yaml").write_text(NOTES_PROBE)
    out = run(
        [
            helm(),
            "template",
            "hallway",
            str(chart),
            "--namespace",
            "hallway",
            "--kube-version",
            KUBE_VERSION,
            "--show-only",
            "templates/zz-notes-probe.yaml",
        ]
    )
    notes = yaml.safe_load(out.stdout)["data"]["notes"]
    assert "port-forward svc/hallway-gateway 8080:8080" in notes
    for svc in catalogue.SERVICES:
        assert f"hallway-{svc.name}:{svc.metrics_port}/metrics" in notes
    assert "helm test hallway" in notes
    assert "gateway.jwt.existingSecret is not set" in notes
    assert "mutual TLS between gateway and services (certificates: generate)" in notes
    assert "NetworkPolicies on" in notes


def _env(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_trust_is_on_by_default_mtls_identity_networkpolicy_secure_cookie():
    docs = render([])
    deployments = by_kind(docs, "Deployment")
    secrets = by_kind(docs, "Secret")
    assert by_kind(docs, "NetworkPolicy"), "NetworkPolicies are on by default"
    assert {"hallway-ca", "hallway-trust"} <= set(secrets)
    for svc in (*GRPC_SERVICES, "gateway"):
        c = containers(deployments[f"hallway-{svc}"])[0]
        env = _env(c)
        assert env["HALLWAY_GRPC_TLS_ENABLED"] == "true", svc
        assert env["HALLWAY_GRPC_TLS_CA_FILE"] == "/etc/hallway/tls/ca.crt", svc
        assert f"hallway-{svc}-tls" in secrets, svc
        volumes = {
            v["name"]: v
            for v in deployments[f"hallway-{svc}"]["spec"]["template"]["spec"]["volumes"]
        }
        assert volumes["tls"]["secret"]["secretName"] == f"hallway-{svc}-tls"
        # Each side gets only its half of the identity key pair.
        [item] = volumes["identity"]["secret"]["items"]
        if svc == "gateway":
            assert item["key"] == "private.pem"
            assert env["HALLWAY_IDENTITY_PRIVATE_KEY_FILE"] == "/etc/hallway/identity/private.pem"
            assert env["HALLWAY_COOKIE_SECURE"] == "true"
            assert env["HALLWAY_JWT_SECRET"]["secretKeyRef"] == {
                "name": "hallway-trust",
                "key": "jwt-secret",
            }
        else:
            assert item["key"] == "public.pem"
            assert env["HALLWAY_IDENTITY_PUBLIC_KEY_FILE"] == "/etc/hallway/identity/public.pem"
            assert env["HALLWAY_GRPC_BIND"] == "0.0.0.0"
    # Unsubscribe links are signed out of the box: a generated key, kept in the trust Secret.
    assert "unsubscribe.key" in secrets["hallway-trust"]["data"]
    notification = deployments["hallway-notification"]["spec"]["template"]["spec"]
    [item] = {v["name"]: v for v in notification["volumes"]}["unsubscribe"]["secret"]["items"]
    assert item["key"] == "unsubscribe.key"


def _dev_jwt_secret() -> str:
    """settings.DEV_JWT_SECRET, read from the source (the string the gateway refuses)."""
    text = (ROOT / "services/gateway/hallway_gateway/settings.py").read_text()
    (secret,) = re.findall(r'^DEV_JWT_SECRET = "([^"]+)"', text, flags=re.M)
    return secret


@pytest.mark.parametrize("variant", VARIANTS)
def test_development_switches_never_render(variant):
    """The chart never sets development mode, sets the development sign-in off, and
    never carries the committed development JWT secret."""
    docs = render(VARIANTS[variant])
    text = yaml.safe_dump_all(docs)
    assert "HALLWAY_DEV_MODE" not in text
    assert _dev_jwt_secret() not in text
    gateway = containers(by_kind(docs, "Deployment")["hallway-gateway"])[0]
    dev_login = [e for e in gateway["env"] if e["name"] == "HALLWAY_DEV_LOGIN"]
    assert dev_login == [{"name": "HALLWAY_DEV_LOGIN", "value": "false"}]
    for doc in docs:
        for c in containers(doc) if doc["kind"] in ("Deployment", "Job", "Pod") else ():
            for e in c.get("env", []):
                if e["name"] == "HALLWAY_DEV_LOGIN":
                    assert e == {"name": "HALLWAY_DEV_LOGIN", "value": "false"}, doc["kind"]


def test_plain_manifests_and_values_never_carry_development_switches():
    secret = _dev_jwt_secret()
    files = [
        ROOT / "deploy/k8s/hallway.yaml",
        ROOT / "deploy/k8s/values.yaml",
        CHART / "values.yaml",
        VALUES_FULL,
        VALUES_CERT_MANAGER,
    ]
    for path in files:
        text = path.read_text()
        assert "HALLWAY_DEV_MODE" not in text, path
        assert secret not in text, path
        assert not re.search(r"HALLWAY_DEV_LOGIN\s*\n\s*value:\s*\"?true", text), path


@pytest.mark.parametrize("variant", VARIANTS)
def test_migration_jobs_mount_no_trust_material(variant):
    """The migration Jobs are pre-install hooks: they run before the certificate and
    identity Secrets (release resources, or cert-manager's output) exist, so they must
    not mount them (a pod waiting for a missing Secret would fail the install)."""
    for name, job in by_kind(render(VARIANTS[variant]), "Job").items():
        volumes = {v["name"] for v in pod_spec(job)["volumes"]}
        assert not volumes & {"tls", "identity"}, name
        env = {e["name"] for e in containers(job)[0]["env"]}
        assert not {e for e in env if e.startswith(("HALLWAY_GRPC_TLS", "HALLWAY_IDENTITY"))}, name


def test_health_port_is_a_value():
    docs = render(sets=("feed.healthPort=9999",))
    feed = containers(by_kind(docs, "Deployment")["hallway-feed"])[0]
    assert feed["readinessProbe"]["grpc"] == {"port": 9999}
    assert {"name": "health", "containerPort": 9999, "protocol": "TCP"} in feed["ports"]
    assert {"name": "HALLWAY_GRPC_HEALTH_PORT", "value": "9999"} in feed["env"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_readiness_never_depends_on_another_service(variant):
    """Readiness means "this process can serve": gRPC services answer the overall
    health of their own server (no per-service name), the gateway its /readyz, which
    does not call the backends. No probe names another component."""
    deployments = by_kind(render(VARIANTS[variant]), "Deployment")
    for name, dep in deployments.items():
        c = containers(dep)[0]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            p = c[probe]
            assert "exec" not in p and "tcpSocket" not in p, (name, probe)
            if "grpc" in p:
                assert set(p["grpc"]) == {"port"}, (name, probe)
            else:
                assert p["httpGet"]["port"] == "http" and "host" not in p["httpGet"], name


def test_mesh_mode_turns_builtin_tls_off_but_keeps_identity(tmp_path):
    values = tmp_path / "mesh.yaml"
    values.write_text("tls:\n  enabled: false\n")
    docs = render([values])
    assert not {n for n in by_kind(docs, "Secret") if n.endswith("-tls")}
    for name, deployment in by_kind(docs, "Deployment").items():
        env = _env(containers(deployment)[0])
        assert env["HALLWAY_GRPC_TLS_ENABLED"] == "false", name
        assert "HALLWAY_GRPC_TLS_CERT_FILE" not in env, name
        assert any(k.startswith("HALLWAY_IDENTITY_") for k in env), name


def test_cert_manager_issues_one_certificate_per_component():
    docs = render([VALUES_CERT_MANAGER])
    certs = by_kind(docs, "Certificate")
    components = {f"hallway-{s}" for s in (*GRPC_SERVICES, "gateway")}
    assert set(certs) == components | {"hallway-ca"}
    for name in components:
        spec = certs[name]["spec"]
        assert spec["secretName"] == f"{name}-tls"
        assert spec["dnsNames"] == [
            name,
            f"{name}.hallway.svc",
            f"{name}.hallway.svc.cluster.local",
        ]
        assert spec["issuerRef"] == {
            "name": "hallway-ca",
            "kind": "Issuer",
            "group": "cert-manager.io",
        }
        assert "client auth" in spec["usages"]
        # the gateway only calls: a client certificate
        assert ("server auth" in spec["usages"]) == (name != "hallway-gateway"), name
    # quick-start chain: selfSigned Issuer -> CA Certificate -> CA Issuer
    issuers = by_kind(docs, "Issuer")
    assert issuers["hallway-selfsigned"]["spec"] == {"selfSigned": {}}
    assert certs["hallway-ca"]["spec"]["isCA"] is True
    assert certs["hallway-ca"]["spec"]["issuerRef"]["name"] == "hallway-selfsigned"
    assert issuers["hallway-ca"]["spec"] == {"ca": {"secretName": "hallway-ca"}}
    # the pods mount what cert-manager writes; nothing is generated by Helm
    assert not {n for n in by_kind(docs, "Secret") if n.endswith(("-tls", "-ca"))}
    volumes = {
        v["name"]: v for v in pod_spec(by_kind(docs, "Deployment")["hallway-feed"])["volumes"]
    }
    assert volumes["tls"]["secret"]["secretName"] == "hallway-feed-tls"


def test_cert_manager_with_your_issuer(tmp_path):
    values = tmp_path / "issuer.yaml"
    values.write_text(
        "tls:\n  source: certManager\n  certManager:\n    selfSignedCA: {enabled: false}\n"
        "    issuerRef: {name: corp-ca, kind: ClusterIssuer}\n"
    )
    docs = render([values])
    assert not by_kind(docs, "Issuer")
    certs = by_kind(docs, "Certificate")
    assert set(certs) == {f"hallway-{s}" for s in (*GRPC_SERVICES, "gateway")}
    assert certs["hallway-profile"]["spec"]["issuerRef"] == {
        "name": "corp-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    values.write_text(
        "tls:\n  source: certManager\n  certManager:\n    selfSignedCA: {enabled: false}\n"
    )
    proc = helm_template([values], check=False)
    assert proc.returncode != 0
    assert "tls.certManager.issuerRef.name is required" in proc.stderr


def test_network_policies_are_on_by_default_and_cover_every_port():
    """Default render: each component's policy lists exactly the ports its container
    opens, so a port added later needs a decision about who may reach it."""
    docs = render()
    policies = by_kind(docs, "NetworkPolicy")
    for name, dep in by_kind(docs, "Deployment").items():
        opened = {p["name"] for p in containers(dep)[0]["ports"]}
        rules = policies[name]["spec"]["ingress"]
        admitted = {p["port"] for rule in rules for p in rule["ports"]}
        assert opened == admitted, (name, opened ^ admitted)
        assert policies[name]["spec"]["policyTypes"] == ["Ingress"]
