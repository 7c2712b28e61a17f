"""Development PKI: a CA, a certificate per process, the identity key pair and the
notification service's unsubscribe-link key.

For the local stack (``scripts/dev/run.sh``) and the test suite only; production
gets its certificates from cert-manager (or its own CA) and its identity keys from a
Secret (see docs/deploy.md). ``python -m hallway_dev.devpki DIR`` creates what is
missing in DIR and leaves existing files alone, so restarts keep their keys.

Each certificate carries both server and client auth: a service serves with it,
and the health check and tests call services with it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PROCESSES = ("profile", "feed", "search", "notification", "gateway", "client")
_VALID_DAYS = 825


def _pem_key(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hallway development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    crt, key = folder / "ca.crt", folder / "ca.key"
    if crt.is_file() and key.is_file():
        ca_key = serialization.load_pem_private_key(key.read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        return x509.load_pem_x509_certificate(crt.read_bytes()), ca_key
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Hallway development CA"))
        .issuer_name(_name("Hallway development CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(key, _pem_key(ca_key), private=True)
    _write(crt, cert.public_bytes(serialization.Encoding.PEM))
    return cert, ca_key


def _leaf(
    folder: Path, name: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    crt, key = folder / f"{name}.crt", folder / f"{name}.key"
    if crt.is_file() and key.is_file():
        return
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName(name),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(key, _pem_key(leaf_key), private=True)
    _write(crt, cert.public_bytes(serialization.Encoding.PEM))


def _identity(folder: Path) -> None:
    private, public = folder / "identity.key", folder / "identity.pub"
    if private.is_file() and public.is_file():
        return
    key = ed25519.Ed25519PrivateKey.generate()
    _write(private, _pem_key(key), private=True)
    _write(
        public,
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


def _unsubscribe_key(folder: Path) -> None:
    """The secret that signs unsubscribe links in e-mails (32 random bytes, hex)."""
    path = folder / "unsubscribe.key"
    if not path.is_file():
        _write(path, secrets.token_hex(32).encode() + b"\n", private=True)


def ensure(folder: Path) -> Path:
    """Create the CA, one certificate per process and the keys, if missing."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _ca(folder)
    for name in PROCESSES:
        _leaf(folder, name, ca, ca_key)
    _identity(folder)
    _unsubscribe_key(folder)
    return folder


def env(folder: Path, name: str) -> dict[str, str]:
    """The HALLWAY_* variables that give process ``name`` its certificate and keys."""
    values = {
        "HALLWAY_GRPC_TLS_ENABLED": "true",
        "HALLWAY_GRPC_TLS_CERT_FILE": str(folder / f"{name}.crt"),
        "HALLWAY_GRPC_TLS_KEY_FILE": str(folder / f"{name}.key"),
        "HALLWAY_GRPC_TLS_CA_FILE": str(folder / "ca.crt"),
    }
    if name == "gateway":
        values["HALLWAY_IDENTITY_PRIVATE_KEY_FILE"] = str(folder / "identity.key")
    else:
        values["HALLWAY_IDENTITY_PUBLIC_KEY_FILE"] = str(folder / "identity.pub")
    if name == "notification":
        values["HALLWAY_UNSUBSCRIBE_KEY_FILE"] = str(folder / "unsubscribe.key")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hallway_dev.devpki")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--env", metavar="PROCESS", help="print its variables as KEY=VALUE lines")
    args = parser.parse_args()
    folder = ensure(args.folder.resolve())
    if args.env:
        for key, value in env(folder, args.env).items():
            print(f"{key}={value}")


if __name__ == "__main__":
    main()
