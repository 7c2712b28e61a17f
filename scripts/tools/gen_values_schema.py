"""Generate charts/hallway/values.schema.json.

The five service blocks share most of their layout, so the schema is built here from
small parts instead of being written five times by hand. Objects are closed
(additionalProperties: false) wherever the chart owns the layout, so a typo such as
`replicas:` instead of `replicaCount:` fails `helm install` with a message naming the
key; Kubernetes-shaped values (resources, affinity, securityContext...) are open objects
that the API server validates.

    .local/venv/bin/python scripts/tools/gen_values_schema.py
tests/deploy checks the checked-in schema equals this script's output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "charts/hallway/values.schema.json"


def obj(props: dict, required: list[str] | None = None, desc: str | None = None) -> dict:
    out: dict = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    if desc:
        out["description"] = desc
    return out


def string(desc: str | None = None, **kw) -> dict:
    out = {"type": "string", **kw}
    if desc:
        out["description"] = desc
    return out


def enum(*values: str, desc: str | None = None) -> dict:
    out: dict = {"type": "string", "enum": list(values)}
    if desc:
        out["description"] = desc
    return out


BOOL = {"type": "boolean"}
INT = {"type": "integer"}
NONNEG = {"type": "integer", "minimum": 0}
POS = {"type": "integer", "minimum": 1}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
OPEN = {"type": "object"}  # Kubernetes-shaped; validated by the API server
STRMAP = {"type": "object", "additionalProperties": {"type": "string"}}
OPEN_LIST = {"type": "array", "items": {"type": "object"}}
DURATION = string("Prometheus duration, e.g. 30s", pattern="^[0-9]+(ms|s|m|h)$")
SECRET_NAME = string(
    "name of an existing Secret (empty: not used)", pattern="^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
)
SECRET_KEY = string("key in the Secret", pattern="^[-._a-zA-Z0-9]+$")
CERT_DURATION = string("Go duration, e.g. 2160h", pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$")
INT_OR_PERCENT = {"type": ["integer", "string", "null"], "pattern": "^[0-9]+%$"}

IMAGE = obj(
    {
        "registry": string("overrides global.image.registry"),
        "repository": string("image repository without registry", minLength=1),
        "tag": {"type": ["string", "number"], "description": "overrides global.image.tag"},
        "digest": string("sha256:<64 hex>, pins the image", pattern="^$|^sha256:[a-f0-9]{64}$"),
        "pullPolicy": enum("", "Always", "IfNotPresent", "Never"),
    },
    required=["repository"],
)

RESOURCES = obj({"requests": OPEN, "limits": OPEN, "claims": OPEN_LIST})

AUTOSCALING = obj(
    {
        "enabled": BOOL,
        "minReplicas": POS,
        "maxReplicas": POS,
        "targetCPUUtilizationPercentage": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 100,
        },
        "targetMemoryUtilizationPercentage": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 100,
        },
        "behavior": OPEN,
    },
    desc="HorizontalPodAutoscaler (autoscaling/v2)",
)

KEDA = obj(
    {
        "enabled": BOOL,
        "minReplicaCount": NONNEG,
        "maxReplicaCount": POS,
        "pollingInterval": POS,
        "cooldownPeriod": NONNEG,
        "lagThreshold": POS,
        "activationLagThreshold": NONNEG,
    },
    desc="KEDA ScaledObject on the Kafka lag of the service's consumer groups",
)

PDB = obj(
    {
        "enabled": BOOL,
        "minAvailable": INT_OR_PERCENT,
        "maxUnavailable": INT_OR_PERCENT,
    }
)

PROBE = obj(
    {
        "enabled": BOOL,
        "initialDelaySeconds": NONNEG,
        "periodSeconds": POS,
        "timeoutSeconds": POS,
        "failureThreshold": POS,
        "successThreshold": POS,
        "terminationGracePeriodSeconds": POS,
    }
)
PROBES = obj({"startup": PROBE, "liveness": PROBE, "readiness": PROBE})

SERVICE_ACCOUNT = obj(
    {
        "create": BOOL,
        "name": string(),
        "annotations": STRMAP,
        "automountServiceAccountToken": BOOL,
    }
)

ENV_LIST = {
    "type": "array",
    "items": {"type": "object", "required": ["name"], "properties": {"name": string(minLength=1)}},
}

MIGRATION = obj(
    {
        "enabled": BOOL,
        "backoffLimit": NONNEG,
        "activeDeadlineSeconds": POS,
        "serviceAccountName": string(),
        "resources": RESOURCES,
    },
    desc="pre-install/pre-upgrade hook Job running `python -m hallway_<service> migrate`",
)

GRPC_SERVICE = obj(
    {
        "type": enum("ClusterIP", "NodePort", "LoadBalancer"),
        "annotations": STRMAP,
        "labels": STRMAP,
    }
)


def workload(repository: str, *, consumer: bool, gateway: bool = False) -> dict:
    props = {
        "enabled": BOOL,
        "replicaCount": NONNEG,
        "image": IMAGE,
        "logLevel": enum("", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        "resources": RESOURCES,
        "autoscaling": AUTOSCALING,
        "podDisruptionBudget": PDB,
        "updateStrategy": OPEN,
        "nodeSelector": STRMAP,
        "tolerations": OPEN_LIST,
        "affinity": OPEN,
        "topologySpreadConstraints": OPEN_LIST,
        "priorityClassName": string(),
        "terminationGracePeriodSeconds": NONNEG,
        "podAnnotations": STRMAP,
        "podLabels": STRMAP,
        "podSecurityContext": OPEN,
        "securityContext": OPEN,
        "probes": PROBES,
        "serviceAccount": SERVICE_ACCOUNT,
        "extraEnv": ENV_LIST,
        "extraEnvFrom": OPEN_LIST,
        "extraVolumes": OPEN_LIST,
        "extraVolumeMounts": OPEN_LIST,
    }
    if consumer:
        props["keda"] = KEDA
    if gateway:
        props["service"] = obj(
            {
                "type": enum("ClusterIP", "NodePort", "LoadBalancer"),
                "port": PORT,
                "nodePort": {"type": ["integer", "null"], "minimum": 30000, "maximum": 32767},
                "loadBalancerSourceRanges": {"type": "array", "items": string()},
                "annotations": STRMAP,
                "labels": STRMAP,
            }
        )
        props["ingress"] = obj(
            {
                "enabled": BOOL,
                "className": string(),
                "annotations": STRMAP,
                "hosts": {
                    "type": "array",
                    "items": obj(
                        {
                            "host": string(),
                            "paths": {
                                "type": "array",
                                "items": obj(
                                    {
                                        "path": string(pattern="^/"),
                                        "pathType": enum(
                                            "Prefix", "Exact", "ImplementationSpecific"
                                        ),
                                    },
                                    required=["path", "pathType"],
                                ),
                            },
                        },
                        required=["host", "paths"],
                    ),
                },
                "tls": OPEN_LIST,
            }
        )
        props["jwt"] = obj(
            {
                "existingSecret": SECRET_NAME,
                "existingSecretKey": SECRET_KEY,
                "secret": string(
                    "inline JWT secret for evaluation; at least 32 characters",
                    pattern="^$|^.{32,}$",
                ),
                "issuer": string(minLength=1),
            }
        )
        props["grpcDeadlineSeconds"] = {"type": "number", "exclusiveMinimum": 0}
        props["cookieSecure"] = BOOL
        props["networkPolicy"] = obj({"from": OPEN_LIST})
    else:
        props["service"] = GRPC_SERVICE
        props["healthPort"] = {
            **PORT,
            "type": ["integer", "null"],
            "description": "plaintext grpc.health.v1 port for kubelet probes "
            "(HALLWAY_GRPC_HEALTH_PORT); null: the service catalogue's",
        }
        props["networkPolicy"] = obj({"extraFrom": OPEN_LIST})
        props["migration"] = MIGRATION
    return obj(props, desc=f"the {repository} component")


PG = obj(
    {
        "existingSecret": SECRET_NAME,
        "existingSecretKey": SECRET_KEY,
        "url": string("inline DSN for evaluation", pattern="^$|^postgres(ql)?://"),
        "poolMax": {"type": ["integer", "null"], "minimum": 1},
    }
)

TOPIC_CONFIG = {
    "type": "object",
    "additionalProperties": {"type": ["string", "integer", "number", "boolean"]},
}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Hallway chart values",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "global": obj(
            {
                "image": obj(
                    {
                        "registry": string(),
                        "tag": {"type": ["string", "number"]},
                        "pullPolicy": enum("Always", "IfNotPresent", "Never"),
                    }
                ),
                "imagePullSecrets": {
                    "type": "array",
                    "items": {
                        "anyOf": [string(minLength=1), obj({"name": string(minLength=1)}, ["name"])]
                    },
                },
                "commonLabels": STRMAP,
                "logLevel": enum("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
                "tmpSizeLimit": string(pattern="^[0-9]+(Ki|Mi|Gi)?$"),
            }
        ),
        "nameOverride": string(),
        "fullnameOverride": string(),
        "kafka": {
            **obj(
                {
                    "bootstrapServers": string(
                        "host:port[,host:port...]", pattern="^[^,\\s]+:[0-9]+(,[^,\\s]+:[0-9]+)*$"
                    ),
                    "securityProtocol": enum("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
                    "sasl": obj(
                        {
                            "mechanism": enum("", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
                            "existingSecret": SECRET_NAME,
                            "usernameKey": SECRET_KEY,
                            "passwordKey": SECRET_KEY,
                            "username": string(),
                            "password": string(),
                        }
                    ),
                    "tls": obj({"caSecret": obj({"name": SECRET_NAME, "key": SECRET_KEY})}),
                    "eventSourceBase": string(
                        "absolute URI prefix of ce_source", pattern="^[a-zA-Z][a-zA-Z0-9+.-]*:"
                    ),
                    "createTopics": BOOL,
                    "topics": obj(
                        {
                            "partitions": POS,
                            "replicas": POS,
                            "config": TOPIC_CONFIG,
                            "deadLetter": obj({"partitions": POS, "config": TOPIC_CONFIG}),
                            "overrides": {
                                "type": "object",
                                "propertyNames": {"pattern": "^hallway\\.[a-z0-9.-]+$"},
                                "additionalProperties": obj(
                                    {"partitions": POS, "replicas": POS, "config": TOPIC_CONFIG}
                                ),
                            },
                            "strimzi": obj(
                                {
                                    "enabled": BOOL,
                                    "clusterName": string(minLength=1),
                                    "namespace": string(),
                                    "labels": STRMAP,
                                }
                            ),
                        }
                    ),
                },
                required=["bootstrapServers"],
            ),
            # SASL needs a SASL_* protocol: say so instead of failing at runtime.
            "if": {
                "properties": {
                    "sasl": {
                        "properties": {"mechanism": {"minLength": 1}},
                        "required": ["mechanism"],
                    }
                },
                "required": ["sasl"],
            },
            "then": {
                "properties": {
                    "securityProtocol": {
                        "enum": ["SASL_PLAINTEXT", "SASL_SSL"],
                        "description": "kafka.sasl.mechanism is set: use SASL_PLAINTEXT or SASL_SSL",
                    }
                }
            },
        },
        "postgresql": obj(
            {
                "poolMax": POS,
                "profile": PG,
                "feed": PG,
                "notification": PG,
            }
        ),
        "opensearch": obj(
            {
                "url": string("http(s)://host:port", pattern="^https?://"),
                "verifyCerts": BOOL,
                "indexPrefix": string(pattern="^[a-z0-9][a-z0-9_-]*$"),
                "existingSecret": SECRET_NAME,
                "usernameKey": SECRET_KEY,
                "passwordKey": SECRET_KEY,
                "username": string(),
                "password": string(),
            },
            required=["url"],
        ),
        "smtp": obj(
            {
                "host": string(minLength=1),
                "port": PORT,
                "from": string(minLength=3),
                "linkBaseUrl": string(pattern="^https?://"),
                "unsubscribeKey": obj(
                    {"existingSecret": string(), "existingSecretKey": string(minLength=1)}
                ),
            }
        ),
        "profile": workload("profile", consumer=False),
        "feed": workload("feed", consumer=True),
        "search": workload("search", consumer=True),
        "notification": workload("notification", consumer=True),
        "gateway": workload("gateway", consumer=False, gateway=True),
        "metrics": obj(
            {
                "serviceMonitor": obj(
                    {
                        "enabled": BOOL,
                        "namespace": string(),
                        "labels": STRMAP,
                        "interval": DURATION,
                        "scrapeTimeout": DURATION,
                        "honorLabels": BOOL,
                        "relabelings": OPEN_LIST,
                        "metricRelabelings": OPEN_LIST,
                    }
                ),
                "prometheusRule": obj(
                    {
                        "enabled": BOOL,
                        "namespace": string(),
                        "labels": STRMAP,
                        "namespaceScoped": BOOL,
                        "runbookBaseUrl": string(),
                        "disabled": {
                            "type": "array",
                            "items": string(pattern="^Hallway[A-Za-z0-9]+$"),
                        },
                        "longLivedRoutes": string(),
                        "additionalLabels": STRMAP,
                        "thresholds": obj(
                            {
                                "consumerLag": {"type": "number", "minimum": 0},
                                "outboxBacklog": {"type": "number", "minimum": 0},
                                "outboxOldestAgeSeconds": {"type": "number", "minimum": 0},
                                "outboxSampleAgeSeconds": {"type": "number", "minimum": 0},
                                "lagSampleAgeSeconds": {"type": "number", "minimum": 0},
                                "grpcErrorRatio": {"type": "number", "minimum": 0, "maximum": 1},
                                "grpcLatencyP99Seconds": {"type": "number", "exclusiveMinimum": 0},
                                "httpErrorRatio": {"type": "number", "minimum": 0, "maximum": 1},
                                "httpLatencyP99Seconds": {"type": "number", "exclusiveMinimum": 0},
                                "searchIndexingLagP99Seconds": {
                                    "type": "number",
                                    "exclusiveMinimum": 0,
                                },
                                "restarts": POS,
                            }
                        ),
                        "extraRules": OPEN_LIST,
                    }
                ),
                "dashboard": obj(
                    {
                        "enabled": BOOL,
                        "namespace": string(),
                        "labels": STRMAP,
                        "annotations": STRMAP,
                    }
                ),
            }
        ),
        "tls": obj(
            {
                "enabled": BOOL,
                "source": {"enum": ["generate", "certManager", "existingSecrets"]},
                "certManager": obj(
                    {
                        "selfSignedCA": obj(
                            {"enabled": BOOL, "duration": CERT_DURATION},
                            desc="the chart's own chain: selfSigned Issuer -> CA Certificate -> CA Issuer",
                        ),
                        "clusterDomain": string(minLength=1),
                        "issuerRef": obj(
                            {
                                "name": {"type": "string"},
                                "kind": {"type": "string"},
                                "group": {"type": "string"},
                            }
                        ),
                        "duration": CERT_DURATION,
                        "renewBefore": CERT_DURATION,
                    }
                ),
                "existingSecrets": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        n: {"type": "string"}
                        for n in ("profile", "feed", "search", "notification", "gateway")
                    },
                },
            },
            desc="Mutual TLS between the components (docs/deploy.md#trust).",
        ),
        "identity": obj(
            {"existingSecret": {"type": "string"}},
            desc="Identity-token keys: private.pem (gateway) and public.pem (services).",
        ),
        "networkPolicy": obj(
            {
                "enabled": BOOL,
                "metrics": obj({"namespaceSelector": OPEN, "podSelector": OPEN}),
            }
        ),
        "tests": obj({"enabled": BOOL, "resources": RESOURCES}),
    },
}


def render() -> str:
    return json.dumps(SCHEMA, indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(OUT, file=sys.stderr)
