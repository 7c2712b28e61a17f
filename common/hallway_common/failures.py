"""One classification of failures: a dependency that is unavailable, or a bad message.

The consumer base and the outbox relay ask ``is_transient(exc)``; an outage of any
length (PostgreSQL restarting, OpenSearch or Kafka down, SMTP refusing for now) is
waited out and never dead-lettered. Everything else is the message's fault (it is
invalid, or the handler raised ``Rejected`` on purpose) or a bug in our code; the
consumer base decides what each of those does.

The whole exception chain is examined (``raise X from Y`` and implicit context), so
a library that wraps a connection reset in its own error is still recognised.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl

import asyncpg

try:  # each service installs the same dependencies, but keep the base importable alone
    from opensearchpy.exceptions import ConnectionError as _OpenSearchConnectionError
    from opensearchpy.exceptions import TransportError as _OpenSearchTransportError
except ImportError:  # pragma: no cover
    _OpenSearchConnectionError = _OpenSearchTransportError = ()  # type: ignore[assignment,misc]

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError


class Rejected(Exception):
    """A handler's deliberate verdict that this message can never be applied.

    Raised on purpose (e.g. an event that contradicts the domain's rules); the
    message is dead-lettered at once, without retries.
    """


# SQLSTATE classes/codes that mean "the database cannot serve right now":
# 08 connection exception, 53 insufficient resources, 57 operator intervention
# (admin shutdown, crash shutdown, "the database system is starting up"),
# 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 58 system error.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}

# OpenSearch answers that mean "busy or restarting", not "bad document".
_TRANSIENT_HTTP = {429, 502, 503, 504}

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,  # reset, refused, aborted, broken pipe
    TimeoutError,
    asyncio.TimeoutError,
    socket.gaierror,  # DNS: the dependency's name does not resolve right now
    ssl.SSLError,  # a handshake problem is the connection's, never the message's
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.PostgresConnectionError,
    KafkaConnectionError,
    KafkaTimeoutError,
)


def _one_is_transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPException):  # before OSError: SMTPException is one
        if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
            return True
        if isinstance(exc, smtplib.SMTPResponseException):
            return 400 <= exc.smtp_code < 500  # 4xx: try again later
        return False  # refused recipients or sender: the message's fault
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if type(exc) is OSError:
        # Socket errors without a specific subclass, e.g. asyncio's "Multiple exceptions:
        # Connect call failed" (errno None); file errors have subclasses and are bugs.
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        # "the underlying connection is closed" / "pool is closing"; other interface
        # errors ("another operation is in progress") are our bugs.
        return "closed" in str(exc) or "closing" in str(exc)
    if isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", "") or ""
        return state in _TRANSIENT_SQLSTATES or state[:2] in _TRANSIENT_SQLSTATE_CLASSES
    if _OpenSearchConnectionError and isinstance(exc, _OpenSearchConnectionError):
        return True  # also ConnectionTimeout and SSL errors (subclasses)
    if _OpenSearchTransportError and isinstance(exc, _OpenSearchTransportError):
        return exc.status_code in _TRANSIENT_HTTP or exc.status_code == "N/A"
    if isinstance(exc, KafkaError):
        return bool(getattr(exc, "retriable", False))
    return False


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or anything it was raised from) means a dependency is unavailable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Rejected):
            return False
        if _one_is_transient(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def classify(exc: BaseException, extra_transient: tuple[type[BaseException], ...] = ()) -> str:
    """``transient`` | ``rejected`` | ``bug``: how the consumer base treats ``exc``."""
    if isinstance(exc, Rejected):
        return "rejected"
    if (extra_transient and isinstance(exc, extra_transient)) or is_transient(exc):
        return "transient"
    return "bug"


__all__ = ["Rejected", "classify", "is_transient"]
