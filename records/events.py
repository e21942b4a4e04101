"""Audit events the use cases emit: one constructor, with names and titles masked by a keyed HMAC."""

from __future__ import annotations

from datetime import datetime

from records.audit import AuditEvent
from records.ports import Ports


def masked(ports: Ports, value: str) -> str:
    """`hmac:<hex>` of a file name, title or query; "" when the home offers no audit HMAC."""
    if not value or ports.audit_hmac is None:
        return ""
    return ports.audit_hmac(value)


def event(action: str, *, actor: str, now: datetime, record_id: str | None = None, outcome: str = "ok",
          channel: str = "cli", details: tuple[tuple[str, str], ...] = ()) -> AuditEvent:
    """An audit event; empty detail values are dropped so the chain carries no noise."""
    return AuditEvent(ts=now, actor=actor, action=action, outcome=outcome, record_id=record_id,
                      channel=channel, details=tuple((k, v) for k, v in details if v))
