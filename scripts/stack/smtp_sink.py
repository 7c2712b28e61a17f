"""SMTP sink for local runs and email tests: accepts every message on loopback
and stores it, unchanged, as one .eml file per message.

Layout (maildir-like, so readers never see half-written files):
    DIR/tmp/   a message while it is being written
    DIR/new/   finished messages, <epoch-ns>.<counter>.<pid>.eml

Each file is the message exactly as received (DATA), preceded by the envelope
in two added headers, as a mail delivery agent would:
    Return-Path: <sender>
    X-Envelope-To: rcpt1, rcpt2        (Bcc recipients appear only here)

Writing: tmp file, fsync, rename into new/ (atomic on one file system).

usage: python smtp_sink.py --dir DIR [--host 127.0.0.1] [--port 1025]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("smtp_sink")


class MaildirHandler:
    def __init__(self, root: Path) -> None:
        self.tmp = root / "tmp"
        self.new = root / "new"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.new.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count()

    def _store(self, name: str, data: bytes) -> None:
        tmp_path = self.tmp / name
        with open(tmp_path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp_path, self.new / name)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        header = (
            f"Return-Path: <{envelope.mail_from or ''}>\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        # Time-ordered names: sorting new/ lists messages in arrival order.
        name = f"{time.time_ns()}.{next(self._counter):06d}.{os.getpid()}.eml"
        # The reply ("250") goes out strictly after the message is durable.
        await asyncio.to_thread(self._store, name, header + content)
        log.info(
            "stored %s from=%s to=%s bytes=%d",
            name,
            envelope.mail_from,
            ",".join(envelope.rcpt_tos),
            len(content),
        )
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, root: Path) -> None:
    handler = MaildirHandler(root)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="hallway-smtp-sink",
            data_size_limit=25 * 1024 * 1024,
            enable_SMTPUTF8=True,
            decode_data=False,  # keep the bytes as sent
        ),
        host=host,
        port=port,
        reuse_address=True,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("listening on %s:%d, storing into %s", host, port, root / "new")
    async with server:
        await stop.wait()
    log.info("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True, help="maildir root")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO; keep only its problems.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    asyncio.run(serve(args.host, args.port, args.dir))


if __name__ == "__main__":
    main()
