"""Is a Kafka broker really serving? Exit 0 if it answers a Metadata request
that lists at least one live broker and a controller, else 1.

A TCP connect is not enough: a KRaft broker accepts connections before it has
joined the quorum and been unfenced, and clients then get errors. This speaks
the wire protocol directly (Metadata v1, no topics) so it needs only the
standard library and starts in milliseconds, unlike a JVM-based admin tool.

usage: python kafka_probe.py HOST PORT [-v]
"""

import socket
import struct
import sys


def _string(buf: bytes, pos: int) -> tuple[str | None, int]:
    (length,) = struct.unpack_from(">h", buf, pos)
    pos += 2
    if length < 0:
        return None, pos
    return buf[pos : pos + length].decode(), pos + length


def metadata(host: str, port: int, timeout: float = 3.0) -> tuple[list, int]:
    client_id = b"hallway-stack-probe"
    # Request header v1 (api_key=3 Metadata, api_version=1, correlation id,
    # client id) + body v1 (topics: empty array = no topic metadata).
    body = struct.pack(">hhih", 3, 1, 42, len(client_id)) + client_id
    body += struct.pack(">i", 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv(sock, 4))[0]
        buf = _recv(sock, size)
    correlation_id, count = struct.unpack_from(">ii", buf, 0)
    if correlation_id != 42:
        raise ValueError("unexpected correlation id")
    pos = 8
    brokers = []
    for _ in range(count):
        (node_id,) = struct.unpack_from(">i", buf, pos)
        host_, pos = _string(buf, pos + 4)
        (port_,) = struct.unpack_from(">i", buf, pos)
        _rack, pos = _string(buf, pos + 4)
        brokers.append((node_id, host_, port_))
    (controller_id,) = struct.unpack_from(">i", buf, pos)
    return brokers, controller_id


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    verbose = "-v" in sys.argv[3:]
    try:
        brokers, controller_id = metadata(host, port)
    except (OSError, ValueError, struct.error) as exc:
        if verbose:
            print(f"not ready: {exc}", file=sys.stderr)
        return 1
    if verbose:
        print(f"brokers={brokers} controller={controller_id}")
    return 0 if brokers and controller_id >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
