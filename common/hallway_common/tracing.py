"""W3C trace context carried through gRPC metadata and Kafka headers.

Only propagation, no exporter: each request or event gets a trace id that logs
and outgoing events carry, so one user action can be followed across services.
"""

from __future__ import annotations

import contextvars
import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
event_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("event_id", default=None)


def new_traceparent(trace_id: str | None = None) -> str:
    """A traceparent for a new span, in the given trace or a fresh one."""
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def parse_trace_id(traceparent: str | None) -> str | None:
    """The trace id of a traceparent header, or None when it is malformed."""
    if not traceparent:
        return None
    match = _TRACEPARENT.match(traceparent.strip().lower())
    if not match or match.group(1) == "0" * 32:
        return None
    return match.group(1)


def current_traceparent() -> str:
    """A child traceparent of the current trace (starting one if there is none)."""
    trace_id = trace_id_var.get()
    if trace_id is None:
        trace_id = secrets.token_hex(16)
        trace_id_var.set(trace_id)
    return new_traceparent(trace_id)


def adopt(traceparent: str | None) -> str:
    """Continue the caller's trace (or start one) in the current context."""
    trace_id = parse_trace_id(traceparent) or secrets.token_hex(16)
    trace_id_var.set(trace_id)
    return trace_id
