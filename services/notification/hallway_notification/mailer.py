"""Immediate emails per notification, sent by a background task from ``email_outbox``.

The consumer only queues a row (in its transaction); this task claims due rows
with a lease (``FOR UPDATE SKIP LOCKED``, so replicas share the work), sends them
over one SMTP connection per batch in a worker thread (smtplib; the standard
library has no async client), then deletes sent rows or schedules a retry. SMTP
being down therefore never stops the consumer. Delivery is at least once: a crash
between the SMTP server's "250" and the delete sends that email again.

Every email carries a one-click unsubscribe link (RFC 8058: ``List-Unsubscribe`` with
an https URL of the gateway and ``List-Unsubscribe-Post``) whose token turns off
e-mail for that kind; the digest mailer (digest.py) sends through the same functions.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import quote

import asyncpg

from hallway_common.failures import is_transient
from hallway_common.logs import get_logger
from hallway_notification import prefs, texts
from hallway_notification.kinds import EMAIL, MENTION, NEW_FOLLOWER, default
from hallway_notification.metrics import EMAILS_SENT

log = get_logger(__name__)

MAX_ATTEMPTS = 8
LEASE_SECONDS = 300
BATCH = 50

CLAIM_SQL = """
WITH due AS (
    SELECT id FROM email_outbox
    WHERE failed_at IS NULL AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT $1
    FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE email_outbox q SET attempts = q.attempts + 1,
                              next_attempt_at = now() + make_interval(secs => $2)
    FROM due WHERE q.id = due.id
    RETURNING q.id, q.notification_id, q.attempts)
SELECT c.id, c.attempts, n.person_id, n.kind, n.snippet, n.post_id, n.comment_id,
       n.community_name, n.reaction, n.actor_count, a.display_name AS actor_name, e.email,
       p.enabled AS email_on
FROM claimed c
JOIN notifications n ON n.id = c.notification_id
LEFT JOIN email_addresses e ON e.person_id = n.person_id
LEFT JOIN email_addresses a ON a.person_id = n.actor_id
LEFT JOIN preferences p ON p.person_id = n.person_id AND p.kind = n.kind AND p.channel = 'email'
ORDER BY c.id
"""
# Subject and first line of the immediate email for the first kinds; the others (and
# these, given a headline) read as their headline (texts.headline).
TEXTS = {
    MENTION: ("You were mentioned on Hallway", "A colleague mentioned you in a post:"),
    NEW_FOLLOWER: ("You have a new follower on Hallway", "A colleague started following you."),
}
GENERIC_TEXT = ("You have a new notification on Hallway", "Something new happened for you:")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


class PermanentFailure(Exception):
    """Retrying will not help (bad address, rejected by the server)."""


class Tokens(Protocol):
    def sign(self, person_id: object, kind: str, channel: str = EMAIL) -> str: ...


def unsubscribe_url(public_url: str, token: str) -> str:
    """The gateway's one-click unsubscribe URL for ``token`` (empty without a token)."""
    if not token or not public_url:
        return ""
    return f"{public_url.rstrip('/')}/api/v1/unsubscribe?token={quote(token, safe='')}"


def base_message(
    sender: str, to: str, subject: str, unsubscribe: str = "", message_id: str = ""
) -> EmailMessage:
    """Headers every Hallway email has; the one-click unsubscribe pair when given a URL.

    EmailMessage refuses header values with line breaks, so an address cannot
    inject headers (ValueError, treated as a permanent failure).
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain=sender_domain(sender))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    if unsubscribe:
        # RFC 2369 + RFC 8058: mail clients offer a one-click button that POSTs
        # "List-Unsubscribe=One-Click" to the URL.
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return msg


def sender_domain(sender: str) -> str:
    return sender.rpartition("@")[2] or "hallway.local"


def notification_email(
    sender: str,
    to: str,
    kind: str,
    text: str,
    public_url: str,
    unsubscribe: str = "",
    headline: str = "",
) -> EmailMessage:
    """The immediate email for one notification: what happened (``headline``, e.g. "Ana
    and 12 others reacted to your post") and the start of the text it is about. The
    recipient may read that text: feed chose them among its readers, and a revoked
    access or a retraction deletes the notification, cancelling a pending e-mail."""
    subject, lead = TEXTS.get(kind, GENERIC_TEXT)
    if headline:
        lead = f"{headline}:" if text else f"{headline}."
        if kind not in TEXTS:
            subject = f"{headline} - Hallway"
    msg = base_message(sender, to, subject, unsubscribe)
    body = f"{lead}\n\n    {text}\n\n" if text else f"{lead}\n\n"
    if public_url:
        body += f"Open Hallway to read and reply: {public_url.rstrip('/')}/\n"
    if unsubscribe:
        body += f"\nStop these e-mails ({kind.replace('_', ' ')}): {unsubscribe}\n"
    msg.set_content(body)
    return msg


def mention_email(
    sender: str, to: str, text: str, public_url: str, unsubscribe: str = ""
) -> EmailMessage:
    """The email for one mention."""
    return notification_email(sender, to, MENTION, text, public_url, unsubscribe)


def _classify(exc: BaseException) -> BaseException:
    """Permanent for 5xx replies and refused recipients; everything else is retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | ValueError):
        return PermanentFailure(str(exc))
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
        return PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}")
    return exc


def give_up(error: BaseException, attempts: int) -> bool:
    """Whether an email that failed with ``error`` is marked failed for good.

    Permanent refusals at once; an SMTP outage (connection errors, 4xx) never, however
    long it lasts (the backoff is capped at an hour); anything else after MAX_ATTEMPTS.
    """
    if isinstance(error, PermanentFailure):
        return True
    return attempts >= MAX_ATTEMPTS and not is_transient(error)


def send_batch(config: SmtpConfig, messages: list[EmailMessage]) -> list[BaseException | None]:
    """Send over one connection (blocking; run in a thread). One result per message."""
    results: list[BaseException | None] = []
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password)
            for msg in messages:
                try:
                    smtp.send_message(msg)
                    results.append(None)
                except (smtplib.SMTPException, ValueError) as exc:
                    results.append(_classify(exc))
                    if isinstance(exc, smtplib.SMTPServerDisconnected):
                        break
    except (OSError, smtplib.SMTPException) as exc:
        # Connect, TLS or login failed (even with a 5xx such as 535): the server or our
        # configuration, never the messages. Retried for as long as it lasts.
        session = ConnectionError(f"SMTP session failed: {exc!r}")
        session.__cause__ = exc
        results += [session] * (len(messages) - len(results))
    results += [ConnectionError("not attempted")] * (len(messages) - len(results))
    return results


class Mailer:
    """Drains ``email_outbox`` for the life of the process."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        config: SmtpConfig,
        public_url: str = "",
        poll_seconds: float = 5.0,
        tokens: Tokens | None = None,
    ) -> None:
        self._pool = pool
        self._config = config
        self._public_url = public_url
        self._tokens: Tokens = tokens or prefs.NoTokens()
        self._poll = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A new notification was committed: look for due emails now."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                handled = await self.send_due()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("mailer could not reach its database", error=repr(exc))
                handled = 0
            if handled < BATCH:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                except TimeoutError:
                    pass

    async def send_due(self) -> int:
        """Claim, send and settle one batch; returns how many rows were handled."""
        rows = await self._pool.fetch(CLAIM_SQL, BATCH, float(LEASE_SECONDS))
        if not rows:
            return 0
        # Address removed, or e-mail for this kind switched off, since queueing.
        gone = [r["id"] for r in rows if not _wanted(r)]
        todo = [r for r in rows if _wanted(r)]
        outcome: dict[int, BaseException | None] = {}
        batch: list[tuple[int, EmailMessage]] = []
        for row in todo:
            try:
                link = unsubscribe_url(
                    self._public_url, self._tokens.sign(row["person_id"], row["kind"], EMAIL)
                )
                msg = notification_email(
                    self._config.sender,
                    row["email"],
                    row["kind"],
                    row["snippet"],
                    self._public_url,
                    link,
                    texts.headline(row),
                )
                batch.append((row["id"], msg))
            except ValueError as exc:  # an address that cannot be a header
                outcome[row["id"]] = PermanentFailure(str(exc))
        if batch:
            results = await asyncio.to_thread(send_batch, self._config, [m for _, m in batch])
            outcome.update(zip((i for i, _ in batch), results, strict=True))

        done = gone + [r["id"] for r in todo if outcome[r["id"]] is None]
        failed, retry = [], []
        for r in todo:
            error = outcome[r["id"]]
            if error is None:
                continue
            if give_up(error, r["attempts"]):
                failed.append((r["id"], str(error)[:1000]))
            else:
                backoff = min(3600.0, 10.0 * 2 ** (r["attempts"] - 1))
                retry.append((r["id"], str(error)[:1000], backoff))
        async with self._pool.acquire() as conn, conn.transaction():
            if done:
                await conn.execute("DELETE FROM email_outbox WHERE id = ANY($1::bigint[])", done)
            if failed:
                await conn.executemany(
                    "UPDATE email_outbox SET failed_at = now(), last_error = $2 WHERE id = $1",
                    failed,
                )
            if retry:
                await conn.executemany(
                    """UPDATE email_outbox SET last_error = $2,
                              next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1""",
                    retry,
                )
        sent_count = len(done) - len(gone)
        if sent_count:
            EMAILS_SENT.inc(sent_count)
        for row_id, error in failed:
            log.error("email given up", email_outbox_id=row_id, error=error)
        if retry:
            log.warning("emails will be retried", count=len(retry), error=retry[0][1])
        return len(rows)


def _wanted(row: asyncpg.Record) -> bool:
    """Still to send: an address, and e-mail for its kind on (explicitly or by default)."""
    if not row["email"]:
        return False
    on = row["email_on"]
    return default(row["kind"], EMAIL) if on is None else bool(on)
