"""The e-mail digest: one e-mail per person and period listing unread notifications.

A background task like the immediate mailer (mailer.py), driven by ``digests``:

1. schedule: rows without ``due_at`` (new, or whose frequency changed) get
   ``period_start + period(frequency)``;
2. claim due rows with a lease (``FOR UPDATE SKIP LOCKED``, ``retry_at``), so replicas
   share the work and a crashed replica's claim is taken over when the lease ends;
3. per person, the unread in-app notifications no digest listed yet, and their
   address; send the digests over one SMTP connection (smtplib in a worker thread);
4. settle in one transaction: mark the listed notifications digested, record the
   sent period (``last_sent_at``, ``last_period_end``) and move the period on (the
   next one starts where this was due; one long missed is not made up for). SMTP
   trouble: a retry with backoff, same period.

A person with nothing new or no address gets no mail; their period moves on all the
same. Delivery is at least once: a crash between the SMTP server's "250" and step 4
sends that period's digest again, with the same Message-ID (made from person and
period), which mail clients show once. Restarting otherwise never sends a period
twice: the period moves on in the transaction that records the digest.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import asyncpg

from hallway_common.failures import is_transient
from hallway_common.logs import get_logger
from hallway_notification import prefs, texts
from hallway_notification.kinds import EMAIL
from hallway_notification.mailer import (
    PermanentFailure,
    SmtpConfig,
    Tokens,
    base_message,
    give_up,
    send_batch,
    sender_domain,
    unsubscribe_url,
)
from hallway_notification.metrics import DIGESTS_SENT

log = get_logger(__name__)

LEASE_SECONDS = 300
BATCH = 50
# Notifications listed in one digest; the rest are counted ("and N more").
LISTED = 20
# Notifications one digest accounts for; beyond that they wait for the next one.
MAX_PER_DIGEST = 1000
MAX_BACKOFF_SECONDS = 3600.0

SCHEDULE_SQL = """
WITH todo AS (
    SELECT person_id FROM digests
    WHERE due_at IS NULL AND frequency IS DISTINCT FROM 'off'
    LIMIT 1000 FOR UPDATE SKIP LOCKED)
UPDATE digests d SET due_at = d.period_start + make_interval(
        secs => CASE d.frequency WHEN 'daily' THEN $1::float8 ELSE $2::float8 END)
FROM todo WHERE d.person_id = todo.person_id
"""

CLAIM_SQL = """
WITH due AS (
    SELECT person_id FROM digests
    WHERE frequency IS DISTINCT FROM 'off' AND due_at <= now() AND retry_at <= now()
    ORDER BY due_at LIMIT $1
    FOR UPDATE SKIP LOCKED)
UPDATE digests d SET attempts = d.attempts + 1,
                     retry_at = now() + make_interval(secs => $2)
FROM due WHERE d.person_id = due.person_id
RETURNING d.person_id, d.frequency, d.due_at, d.attempts,
          (SELECT e.email FROM email_addresses e WHERE e.person_id = d.person_id) AS email
"""

ITEMS_SQL = """
SELECT unread.*, a.display_name AS actor_name FROM (
    SELECT id, person_id, kind, snippet, created_at, actor_id, comment_id, community_name,
           reaction, actor_count,
           row_number() OVER (PARTITION BY person_id ORDER BY created_at DESC, id DESC) AS n
    FROM notifications
    WHERE person_id = ANY($1::uuid[]) AND read_at IS NULL AND in_app AND digested_at IS NULL
) AS unread
LEFT JOIN email_addresses a ON a.person_id = unread.actor_id
WHERE unread.n <= $2
ORDER BY unread.person_id, unread.created_at DESC, unread.id DESC
"""


@dataclass(frozen=True)
class Periods:
    """Seconds in a digest period (settings; tests use seconds, not days)."""

    daily: float = 86400.0
    weekly: float = 7 * 86400.0

    def of(self, frequency: str | None) -> float:
        return self.daily if frequency == prefs.DAILY else self.weekly


def next_due(due_at: datetime, period: float, now: datetime) -> datetime:
    """The end of the period after the one due at ``due_at``; never in the past (a
    period missed while nothing ran is not made up for with a burst of digests)."""
    step = timedelta(seconds=period)
    following = due_at + step
    return following if following > now else now + step


def line(row: Mapping[str, Any] | Any) -> str:
    """How one notification reads in a digest: what happened, and the start of its text
    ("Ana and 12 others reacted to your post", "Bo mentioned you in a comment: ...")."""
    what = texts.headline(row)
    text = row["snippet"]
    return f"{what}: {text}" if text else what


def digest_email(
    sender: str,
    to: str,
    person_id: uuid.UUID,
    due_at: datetime,
    items: list[asyncpg.Record],
    public_url: str,
    unsubscribe: str = "",
) -> EmailMessage:
    """One digest: a count, the newest LISTED notifications, links to Hallway and to stop.

    The Message-ID is made from person and period, so a digest sent again after a
    crash is the same message to the receiving mail system."""
    stamp = int(due_at.timestamp())
    message_id = f"<digest.{person_id}.{stamp}@{sender_domain(sender)}>"
    count = len(items)
    noun = "notification" if count == 1 else "notifications"
    msg = base_message(
        sender, to, f"Your Hallway digest: {count} unread {noun}", unsubscribe, message_id
    )
    lines = [f"You have {count} unread {noun} on Hallway since your last digest:", ""]
    for row in items[:LISTED]:
        when = row["created_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"  - {when}  {line(row)}")
    if count > LISTED:
        lines.append(f"  ... and {count - LISTED} more")
    lines.append("")
    if public_url:
        lines.append(f"Open Hallway to read them: {public_url.rstrip('/')}/")
    if unsubscribe:
        lines.append(f"Stop these digests: {unsubscribe}")
    msg.set_content("\n".join(lines) + "\n")
    return msg


class DigestMailer:
    """Schedules, sends and settles digests for the life of the process."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        config: SmtpConfig,
        periods: Periods,
        public_url: str = "",
        poll_seconds: float = 60.0,
        tokens: Tokens | None = None,
    ) -> None:
        self._pool = pool
        self._config = config
        self._periods = periods
        self._public_url = public_url
        self._poll = poll_seconds
        self._tokens: Tokens = tokens or prefs.NoTokens()

    async def run(self) -> None:
        while True:
            try:
                await self.schedule()
                handled = await self.send_due()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("digest mailer could not reach its database", error=repr(exc))
                handled = 0
            if handled < BATCH:
                await asyncio.sleep(self._poll)

    async def schedule(self) -> int:
        """Give every unscheduled row its due time; returns how many were scheduled."""
        total = 0
        while True:
            status = await self._pool.execute(
                SCHEDULE_SQL, float(self._periods.daily), float(self._periods.weekly)
            )
            done = int(status.split()[-1])
            total += done
            if done < 1000:
                return total

    async def send_due(self) -> int:
        """Claim, send and settle one batch of due digests; returns how many were claimed."""
        claimed = await self._pool.fetch(CLAIM_SQL, BATCH, float(LEASE_SECONDS))
        if not claimed:
            return 0
        people = [r["person_id"] for r in claimed]
        items: dict[uuid.UUID, list[asyncpg.Record]] = {p: [] for p in people}
        for row in await self._pool.fetch(ITEMS_SQL, people, MAX_PER_DIGEST):
            items[row["person_id"]].append(row)

        outcome: dict[uuid.UUID, BaseException | None] = {}
        batch: list[tuple[uuid.UUID, EmailMessage]] = []
        for row in claimed:
            person = row["person_id"]
            if not row["email"] or not items[person]:
                continue  # nothing to say, or nowhere to say it: the period moves on
            try:
                link = unsubscribe_url(
                    self._public_url, self._tokens.sign(person, prefs.DIGEST, EMAIL)
                )
                msg = digest_email(
                    self._config.sender,
                    row["email"],
                    person,
                    row["due_at"],
                    items[person],
                    self._public_url,
                    link,
                )
                batch.append((person, msg))
            except ValueError as exc:  # an address that cannot be a header
                outcome[person] = PermanentFailure(str(exc))
        if batch:
            results = await asyncio.to_thread(send_batch, self._config, [m for _, m in batch])
            outcome.update(zip((p for p, _ in batch), results, strict=True))
        await self._settle(claimed, items, outcome)
        return len(claimed)

    async def _settle(
        self,
        claimed: list[asyncpg.Record],
        items: dict[uuid.UUID, list[asyncpg.Record]],
        outcome: dict[uuid.UUID, BaseException | None],
    ) -> None:
        now = datetime.now(UTC)
        advance, retry, digested = [], [], []
        sent = 0
        for row in claimed:
            person = row["person_id"]
            error = outcome.get(person)
            was_sent = person in outcome and error is None
            if error is not None and not give_up(error, row["attempts"]):
                backoff = min(MAX_BACKOFF_SECONDS, 10.0 * 2 ** (row["attempts"] - 1))
                retry.append((person, str(error)[:1000], backoff))
                continue
            if error is not None:
                log.error("digest given up for this period", person_id=str(person), error=error)
            if was_sent:
                sent += 1
                digested += [i["id"] for i in items[person]]
            due = next_due(row["due_at"], self._periods.of(row["frequency"]), now)
            advance.append(
                (person, row["due_at"], due, was_sent, str(error)[:1000] if error else None)
            )
        async with self._pool.acquire() as conn, conn.transaction():
            if digested:
                await conn.execute(
                    "UPDATE notifications SET digested_at = now() WHERE id = ANY($1::uuid[])",
                    digested,
                )
            if advance:
                # Guarded by due_at: a frequency changed meanwhile keeps its new schedule.
                await conn.executemany(
                    """UPDATE digests SET period_start = $2, due_at = $3,
                              last_period_end = $2,
                              last_sent_at = CASE WHEN $4 THEN now() ELSE last_sent_at END,
                              last_error = $5, attempts = 0, retry_at = '-infinity'
                       WHERE person_id = $1 AND due_at = $2""",
                    advance,
                )
            if retry:
                await conn.executemany(
                    """UPDATE digests SET last_error = $2,
                              retry_at = now() + make_interval(secs => $3)
                       WHERE person_id = $1""",
                    retry,
                )
        if sent:
            DIGESTS_SENT.inc(sent)
        if retry:
            log.warning("digests will be retried", count=len(retry), error=retry[0][1])
