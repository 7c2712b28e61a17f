"""Per-person preferences (kind x channel, digest frequency) and unsubscribe tokens.

Only choices a person made are stored (``preferences``, ``digests.frequency``);
everything else is the default below, so a new kind in ``kinds.KINDS`` needs no
migration. ``check_*`` validates, ``do_*`` writes (Zulip's naming, as in inbox.py).

An unsubscribe token is ``<payload>.<mac>``, both base64url without padding: the
payload is ``<person_id>:<kind or 'digest'>:<channel>`` and the mac its HMAC-SHA256
under the service's unsubscribe key (``HALLWAY_UNSUBSCRIBE_KEY_FILE``). Tokens do not
expire: an unsubscribe link must keep working as long as the mail is kept (RFC 8058).
Replacing the key invalidates every link already sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from hallway_common.errors import InvalidArgument, NotFound
from hallway_notification.kinds import CHANNELS, EMAIL, IN_APP, KINDS, default

# The unsubscribe "kind" of the digest e-mail.
DIGEST = "digest"
OFF, DAILY, WEEKLY = "off", "daily", "weekly"
FREQUENCIES = (OFF, DAILY, WEEKLY)
DEFAULT_FREQUENCY = WEEKLY
MAX_UPDATES = 100
MAX_TOKEN_CHARS = 512
# Domain separation: this key signs nothing else, but the tag makes sure of it.
_MAC_CONTEXT = b"hallway-unsubscribe-v1\x00"


@dataclass(frozen=True)
class Preferences:
    """Every kind x channel of one person (defaults filled in) and the digest frequency."""

    switches: dict[tuple[str, str], bool]
    digest: str

    def enabled(self, kind: str, channel: str) -> bool:
        return self.switches.get((kind, channel), default(kind, channel))


def merge(rows: Iterable[Mapping], digest: str | None) -> Preferences:
    """Defaults overlaid with the stored rows (kind, channel, enabled); unknown kinds ignored."""
    switches = {(k, c): default(k, c) for k in KINDS for c in CHANNELS}
    for row in rows:
        key = (row["kind"], row["channel"])
        if key in switches:
            switches[key] = row["enabled"]
    return Preferences(switches, digest or DEFAULT_FREQUENCY)


async def get(conn: asyncpg.Connection | asyncpg.Pool, person_id: uuid.UUID) -> Preferences:
    rows = await conn.fetch(
        "SELECT kind, channel, enabled FROM preferences WHERE person_id = $1", person_id
    )
    digest = await conn.fetchval("SELECT frequency FROM digests WHERE person_id = $1", person_id)
    return merge(rows, digest)


async def switches_for(
    conn: asyncpg.Connection, people: Sequence[uuid.UUID], kind: str
) -> dict[uuid.UUID, tuple[bool, bool]]:
    """(in_app, email) of each person for ``kind``, for the consumer deciding delivery."""
    rows = await conn.fetch(
        """SELECT person_id, channel, enabled FROM preferences
           WHERE person_id = ANY($1::uuid[]) AND kind = $2""",
        list(people),
        kind,
    )
    stored = {(r["person_id"], r["channel"]): r["enabled"] for r in rows}
    return {
        p: (
            stored.get((p, IN_APP), default(kind, IN_APP)),
            stored.get((p, EMAIL), default(kind, EMAIL)),
        )
        for p in people
    }


def check_update(
    entries: Sequence[tuple[str, str, bool]], digest: str | None
) -> tuple[list[tuple[str, str, bool]], str | None]:
    """Validated (kind, channel, enabled) entries and digest frequency (None: unchanged)."""
    if len(entries) > MAX_UPDATES:
        raise InvalidArgument(f"at most {MAX_UPDATES} preferences per call")
    seen: set[tuple[str, str]] = set()
    for kind, channel, _ in entries:
        if kind not in KINDS:
            raise InvalidArgument(f"unknown notification kind {kind[:40]!r}; one of {KINDS}")
        if channel not in CHANNELS:
            raise InvalidArgument(f"channel must be one of {CHANNELS}")
        if (kind, channel) in seen:
            raise InvalidArgument(f"{kind}/{channel} given twice")
        seen.add((kind, channel))
    if digest is not None and digest not in FREQUENCIES:
        raise InvalidArgument(f"digest must be one of {FREQUENCIES}")
    return list(entries), digest


async def set_digest(conn: asyncpg.Connection, person_id: uuid.UUID, frequency: str) -> None:
    """Change the digest frequency; the digest mailer reschedules (due_at NULL).

    Switching on again after 'off' starts a new period now, so the first digest
    after that does not arrive at once for an old period."""
    await conn.execute(
        """INSERT INTO digests (person_id, frequency) VALUES ($1, $2)
           ON CONFLICT (person_id) DO UPDATE SET
               frequency = EXCLUDED.frequency,
               period_start = CASE WHEN digests.frequency = 'off' THEN now()
                                   ELSE digests.period_start END,
               due_at = NULL, retry_at = '-infinity', attempts = 0, last_error = NULL,
               updated_at = now()
           WHERE digests.frequency IS DISTINCT FROM EXCLUDED.frequency""",
        person_id,
        frequency,
    )


async def do_update(
    pool: asyncpg.Pool,
    person_id: uuid.UUID,
    entries: Sequence[tuple[str, str, bool]],
    digest: str | None,
) -> Preferences:
    """Store the person's choices (one transaction) and return all their preferences."""
    async with pool.acquire() as conn, conn.transaction():
        if entries:
            await conn.executemany(
                """INSERT INTO preferences (person_id, kind, channel, enabled)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (person_id, kind, channel) DO UPDATE
                   SET enabled = EXCLUDED.enabled, updated_at = now()
                   WHERE preferences.enabled IS DISTINCT FROM EXCLUDED.enabled""",
                [(person_id, k, c, e) for k, c, e in entries],
            )
        if digest is not None:
            await set_digest(conn, person_id, digest)
        return await get(conn, person_id)


# -- unsubscribe tokens -------------------------------------------------------------


@dataclass(frozen=True)
class Unsubscription:
    """What an unsubscribe token names."""

    person_id: uuid.UUID
    kind: str  # a notification kind, or DIGEST
    channel: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UnsubscribeTokens:
    """Signs and verifies unsubscribe tokens with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the unsubscribe key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_file(cls, path: str) -> UnsubscribeTokens:
        return cls(Path(path).read_bytes().strip())

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _MAC_CONTEXT + payload, hashlib.sha256).digest()

    def sign(self, person_id: uuid.UUID, kind: str, channel: str = EMAIL) -> str:
        payload = f"{person_id}:{kind}:{channel}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str) -> Unsubscription:
        """What the token names; NOT_FOUND (saying nothing more) when this key did not sign it."""
        refused = NotFound("no such unsubscribe link")
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise refused
        body, mac = token.split(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            raise refused from None
        if not hmac.compare_digest(given, self._mac(payload)):
            raise refused
        try:
            person, kind, channel = payload.decode().split(":")
            person_id = uuid.UUID(person)
        except ValueError:
            raise refused from None
        if channel not in CHANNELS or (kind not in KINDS and kind != DIGEST):
            raise refused  # signed by us, for a kind this version no longer knows
        return Unsubscription(person_id, kind, channel)


class NoTokens:
    """Stands in when no key is configured: no links in mail, every token refused."""

    def sign(self, person_id: uuid.UUID, kind: str, channel: str = EMAIL) -> str:
        return ""

    def verify(self, token: str) -> Unsubscription:
        raise NotFound("no such unsubscribe link")


async def do_unsubscribe(pool: asyncpg.Pool, what: Unsubscription) -> None:
    """Turn off what the token names (idempotent)."""
    async with pool.acquire() as conn, conn.transaction():
        if what.kind == DIGEST:
            await set_digest(conn, what.person_id, OFF)
        else:
            await conn.execute(
                """INSERT INTO preferences (person_id, kind, channel, enabled)
                   VALUES ($1, $2, $3, false)
                   ON CONFLICT (person_id, kind, channel) DO UPDATE
                   SET enabled = false, updated_at = now() WHERE preferences.enabled""",
                what.person_id,
                what.kind,
                what.channel,
            )


async def do_forget_person(conn: asyncpg.Connection, person_id: uuid.UUID) -> None:
    """A removed person's choices and digest schedule (idempotent)."""
    await conn.execute("DELETE FROM preferences WHERE person_id = $1", person_id)
    await conn.execute("DELETE FROM digests WHERE person_id = $1", person_id)
