"""Trust primitives without the stack: the identity token's verifier, and the
refusals to start (development secret or sign-in outside development mode, mutual
TLS on without its files, a service without the gateway's public key)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from hallway_common.errors import PermissionDenied, Unauthenticated
from hallway_common.identity import (
    AUDIENCE,
    ISSUER,
    IdentitySigner,
    IdentityVerifier,
    load_public_key,
    require_admin,
    require_person,
    set_actor,
)

ME = str(uuid.uuid4())


def _pem_public(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    "make",
    [
        ed25519.Ed25519PrivateKey.generate,
        lambda: ec.generate_private_key(ec.SECP256R1()),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
    ids=["EdDSA", "ES256", "RS256"],
)
def test_the_algorithm_follows_the_key_type(make) -> None:  # type: ignore[no-untyped-def]
    key = make()
    token = IdentitySigner(key).sign(ME, ["admin"])
    actor = IdentityVerifier(load_public_key(_pem_public(key))).verify(token)
    assert actor.person_id == ME and actor.is_admin


def test_a_certificate_stands_for_its_public_key() -> None:
    # The chart may generate the pair with Helm's genCA: services get a certificate.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hallway-identity")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    verifier = IdentityVerifier(load_public_key(cert.public_bytes(serialization.Encoding.PEM)))
    assert verifier.verify(IdentitySigner(key).sign(ME)).person_id == ME


def test_forged_expired_and_unsigned_tokens_are_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    verifier = IdentityVerifier(key.public_key())
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": ME, "iat": now - 600, "exp": now - 60}
    _, body, _ = jwt.encode({**claims, "exp": now + 60}, "k" * 32).split(".")
    none_head = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    for token in (
        None,
        "",
        IdentitySigner(ed25519.Ed25519PrivateKey.generate()).sign(ME),  # another key
        jwt.encode(claims, key, algorithm="EdDSA"),  # expired
        f"{none_head}.{body}.",  # alg none, unsigned
    ):
        with pytest.raises(Unauthenticated):
            verifier.verify(token)


def test_a_service_identity_is_neither_a_person_nor_an_admin() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    actor = IdentityVerifier(key.public_key()).verify(
        IdentitySigner(key).sign("service:gateway", ["admin"])
    )
    set_actor(actor)
    try:
        with pytest.raises(PermissionDenied):
            require_person()
        with pytest.raises(PermissionDenied):
            require_admin()
    finally:
        set_actor(None)


def _run(module: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HALLWAY_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", module, "serve"],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _refused(result: subprocess.CompletedProcess[str], *names: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for name in names:
        assert name in lines[0]


def test_the_gateway_refuses_the_development_secret_outside_development_mode(
    tmp_path: Path,
) -> None:
    _refused(_run("hallway_gateway", tmp_path), "HALLWAY_JWT_SECRET")


def test_the_gateway_refuses_the_development_sign_in_outside_development_mode(
    tmp_path: Path,
) -> None:
    result = _run(
        "hallway_gateway", tmp_path, HALLWAY_JWT_SECRET="s" * 40, HALLWAY_DEV_LOGIN="true"
    )
    _refused(result, "HALLWAY_DEV_LOGIN")


def test_development_mode_does_not_waive_mutual_tls_or_the_identity_key(tmp_path: Path) -> None:
    result = _run("hallway_gateway", tmp_path, HALLWAY_DEV_MODE="true", HALLWAY_DEV_LOGIN="true")
    _refused(result, "HALLWAY_GRPC_TLS_CERT_FILE", "HALLWAY_IDENTITY_PRIVATE_KEY_FILE")


def test_a_service_refuses_to_start_without_its_certificates_and_the_public_key(
    tmp_path: Path,
) -> None:
    result = _run("hallway_search", tmp_path)
    _refused(result, "HALLWAY_GRPC_TLS_CA_FILE", "HALLWAY_IDENTITY_PUBLIC_KEY_FILE")
