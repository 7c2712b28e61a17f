"""The trust material the chart generates works with the code that reads it, offline.

Renders the default values (tls.source=generate, generated identity keys), takes the
Secrets as the pods would see them, and checks: a service's mTLS server accepts the
gateway's certificate under the service's Service name and refuses a client without
one; the gateway's private.pem signs identity tokens the services' public.pem (a
certificate) verifies.
"""

from __future__ import annotations

import base64
from concurrent import futures

import grpc
import pytest
from deploy_tools import render
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from hallway_common.identity import (
    IdentitySigner,
    IdentityVerifier,
    load_private_key,
    load_public_key,
)

pytestmark = pytest.mark.deploy


def _secrets() -> dict[str, dict[str, bytes]]:
    return {
        d["metadata"]["name"]: {k: base64.b64decode(v) for k, v in d.get("data", {}).items()}
        for d in render()
        if d["kind"] == "Secret"
    }


def _check(port: int, creds: grpc.ChannelCredentials, name: str) -> int:
    options = [("grpc.ssl_target_name_override", name)]
    with grpc.secure_channel(f"127.0.0.1:{port}", creds, options=options) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return resp.status


def test_generated_certificates_give_mutual_tls():
    secrets = _secrets()
    feed, gateway = secrets["hallway-feed-tls"], secrets["hallway-gateway-tls"]
    assert feed["ca.crt"] == gateway["ca.crt"] == secrets["hallway-ca"]["tls.crt"]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    credentials = grpc.ssl_server_credentials(
        [(feed["tls.key"], feed["tls.crt"])],
        root_certificates=feed["ca.crt"],
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        client = grpc.ssl_channel_credentials(
            gateway["ca.crt"], gateway["tls.key"], gateway["tls.crt"]
        )
        # the gateway dials the Service name, HALLWAY_FEED_ADDR=hallway-feed:50052
        assert _check(port, client, "hallway-feed") == health_pb2.HealthCheckResponse.SERVING
        full_name = "hallway-feed.hallway.svc.cluster.local"
        assert _check(port, client, full_name) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError):
            _check(port, grpc.ssl_channel_credentials(gateway["ca.crt"]), "hallway-feed")
        with pytest.raises(grpc.RpcError):
            _check(port, client, "hallway-search")  # a name the certificate does not carry
    finally:
        server.stop(0)


def test_generated_identity_keys_sign_and_verify():
    trust = _secrets()["hallway-trust"]
    # genCAWithKey: public.pem is the certificate, which the services accept as the key
    assert b"BEGIN CERTIFICATE" in trust["public.pem"]
    assert b"BEGIN EC PRIVATE KEY" in trust["private.pem"]  # ES256, cheap per call
    signer = IdentitySigner(load_private_key(trust["private.pem"]))
    verifier = IdentityVerifier(load_public_key(trust["public.pem"]))
    person = "7d0f1c9e-2f4a-4c1b-9a53-0c8f5e1d2a3b"
    assert verifier.verify(signer.sign(person)).person_id == person
    assert len(trust["jwt-secret"]) >= 32
