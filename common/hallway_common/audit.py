"""Security audit records: one structured log line and one counter per event.

Every service reports security-relevant events through ``audit`` (failed
authentication, refused actions, admin actions, rate-limit hits), so operators
find them under one logger (``hallway.audit``) with the same fields everywhere,
and alert on ``hallway_security_events_total``.
"""

from __future__ import annotations

from typing import Literal

from hallway_common.logs import get_logger
from hallway_common.metrics import SECURITY_EVENTS

log = get_logger("hallway.audit")

Outcome = Literal["success", "failure", "denied"]


def audit(
    event: str,
    outcome: Outcome,
    *,
    actor: str = "",
    target: str = "",
    reason: str = "",
    **fields: object,
) -> None:
    """Record one security event, e.g. ``audit("authn.token", "failure", reason="expired")``.

    ``event`` is a short dotted name from a small fixed set (it is a metric label:
    never put ids or user input in it); ``actor`` is the acting person id (empty when
    unknown), ``target`` what was acted on.
    """
    SECURITY_EVENTS.labels(event, outcome).inc()
    method = log.warning if outcome != "success" else log.info
    method(
        "security event",
        audit=True,
        security_event=event,
        outcome=outcome,
        actor=actor,
        target=target,
        reason=reason,
        **fields,
    )
