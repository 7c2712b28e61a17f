"""The gRPC contract an outsider builds on: proto/ passes `buf lint`, every service, RPC,
message and enum is documented, every file names its Go and Java packages, and a
running server answers reflection v1 as well as v1alpha (grpcurl, Postman and newer
clients ask v1 first).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2

from hallway.profile.v1 import profile_pb2_grpc
from hallway_common.grpc_server import GrpcServer
from hallway_common.identity import IdentityVerifier

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
BUF = ROOT / "scripts" / "tools" / "buf.sh"
FILES = sorted(PROTO.rglob("*.proto"))

DECLARATION = re.compile(r"^\s*(service|rpc|message|enum)\s+(\w+)")


def undocumented(text: str) -> list[str]:
    """Declarations not directly preceded by a non-empty // comment (buf's rule too: a
    blank line in between detaches the comment)."""
    lines = text.splitlines()
    missing = []
    for number, line in enumerate(lines):
        match = DECLARATION.match(line)
        if not match:
            continue
        above = lines[number - 1].strip() if number else ""
        if not (above.startswith("//") and above.lstrip("/").strip()):
            missing.append(f"{match.group(1)} {match.group(2)} (line {number + 1})")
    return missing


def option(text: str, name: str) -> str | None:
    match = re.search(rf"^option\s+{name}\s*=\s*(\"[^\"]*\"|\w+)\s*;", text, re.MULTILINE)
    return match.group(1).strip('"') if match else None


def test_there_are_protos_to_check() -> None:
    assert len(FILES) >= 4, FILES


@pytest.mark.timeout(900)  # the first run builds buf with `go install`
def test_buf_lint_passes() -> None:
    result = subprocess.run(
        [str(BUF)], cwd=ROOT, capture_output=True, text=True, timeout=840, check=False
    )
    assert result.returncode == 0, f"buf lint failed:\n{result.stdout}\n{result.stderr}"


def test_the_documentation_check_catches_a_bare_declaration() -> None:
    sample = """// A documented service.
service S {
  // Documented.
  rpc A(R) returns (R);
  rpc B(R) returns (R);
}

// Detached by the blank line below.

message R {}
"""
    assert undocumented(sample) == ["rpc B (line 5)", "message R (line 10)"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PROTO)))
def test_every_service_rpc_message_and_enum_is_documented(path: Path) -> None:
    assert undocumented(path.read_text()) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PROTO)))
def test_every_file_names_its_go_and_java_packages(path: Path) -> None:
    text = path.read_text()
    declared = re.search(r"^package\s+([\w.]+)\s*;", text, re.MULTILINE)
    assert declared, "no package statement"
    package = declared.group(1)
    go_package = option(text, "go_package")
    java_package = option(text, "java_package")
    assert go_package, "option go_package missing"
    assert java_package, "option java_package missing"
    assert option(text, "java_multiple_files") == "true"
    # Generated code lands where the proto package says: .../hallway/feed/v1;feedv1
    directory = str(path.parent.relative_to(PROTO))
    assert go_package.split(";")[0].endswith("/" + directory), go_package
    assert java_package.endswith("." + package), java_package


def _string_field(number: int, value: str) -> bytes:
    """One length-delimited field, encoded by hand (values here are < 128 bytes)."""
    data = value.encode()
    assert len(data) < 128
    return bytes([number << 3 | 2, len(data)]) + data


# Requests encoded with the field numbers of grpc/reflection/v1/reflection.proto, not
# with any message class of ours: list_services = 7, file_containing_symbol = 4.
LIST_SERVICES = _string_field(7, "*")
PROFILE = "hallway.profile.v1.ProfileService"
V1 = "grpc.reflection.v1.ServerReflection"
V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"


async def _ask(channel: grpc.aio.Channel, version: str, *requests: bytes) -> list:
    call = channel.stream_stream(
        f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
        request_serializer=lambda raw: raw,
        # v1 and v1alpha messages are identical on the wire
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return [response async for response in call(iter(requests), timeout=10)]


def _files(response: reflection_pb2.ServerReflectionResponse) -> dict:
    assert response.WhichOneof("message_response") == "file_descriptor_response", response
    protos = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    return {p.name: p for p in protos}


async def test_a_server_answers_reflection_v1_and_v1alpha() -> None:
    # No identity token on these calls: reflection, like health, needs none.
    server = GrpcServer(0, IdentityVerifier(ed25519.Ed25519PrivateKey.generate().public_key()))
    server.add(
        profile_pb2_grpc.add_ProfileServiceServicer_to_server,
        profile_pb2_grpc.ProfileServiceServicer(),
        PROFILE,
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            for version in ("v1", "v1alpha"):
                listed, profile, v1 = await _ask(
                    channel,
                    version,
                    LIST_SERVICES,
                    _string_field(4, PROFILE),
                    _string_field(4, V1),
                )
                names = {s.name for s in listed.list_services_response.service}
                assert {PROFILE, "grpc.health.v1.Health", V1, V1ALPHA} <= names, version

                proto = _files(profile)["hallway/profile/v1/profile.proto"]
                assert proto.options.go_package and proto.options.java_package
                assert [m.name for m in proto.service[0].method][:2] == [
                    "CreatePerson",
                    "GetPerson",
                ]

                described = _files(v1)["grpc/reflection/v1/reflection.proto"]
                assert described.package == "grpc.reflection.v1"
                (method,) = described.service[0].method
                assert method.input_type == ".grpc.reflection.v1.ServerReflectionRequest"
                assert method.client_streaming and method.server_streaming
    finally:
        await server.stop(0)

    # The v1 messages the server describes are v1alpha's, field for field.
    pool = descriptor_pool.Default()
    for name in ("ServerReflectionRequest", "ServerReflectionResponse", "ErrorResponse"):
        v1_fields = pool.FindMessageTypeByName(f"grpc.reflection.v1.{name}").fields
        alpha_fields = pool.FindMessageTypeByName(f"grpc.reflection.v1alpha.{name}").fields
        assert [(f.name, f.number, f.type) for f in v1_fields] == [
            (f.name, f.number, f.type) for f in alpha_fields
        ]
