"""Legal holds: a named freeze on a record that blocks disposition until it is released."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event, masked
from records.model import Hold, Record, RecordId, State
from records.ports import Ports
from records.retrieval import visible_record


def place_hold(ports: Ports, scope: AccessScope, record_id: RecordId, reason: str, *, now: datetime,
               channel: str = "cli") -> Hold:
    """Put a hold on a record the actor may see; the reason is required (it is the mandate)."""
    reason = reason.strip()
    if not reason:
        raise RecordsError("A hold needs a reason (the case, request or mandate behind it): give --reason.")
    record = _visible(ports, scope, record_id, Permission.HOLD)
    if record.state is State.DISPOSED:
        raise RecordsError(f"Record {record.registry_number} was already disposed of; there is nothing to hold.")
    hold = Hold(hold_id=uuid.uuid4().hex[:12], reason=reason, placed_by=scope.actor, placed_at=now)
    with ports.catalog.transaction() as tx:
        tx.replace(replace(record, holds=(*record.holds, hold)))
        checkpoints.append(tx, ports.signer, event("hold.add", actor=scope.actor, now=now, record_id=record.id,
                                                   channel=channel, details=(("hold", hold.hold_id),
                                                                             ("reason", masked(ports, reason)))))
    return hold


def release_hold(ports: Ports, scope: AccessScope, record_id: RecordId, *, now: datetime,
                 hold_id: str | None = None, channel: str = "cli") -> Hold:
    """Release one active hold (by id, or the only active one); the record keeps its history."""
    record = _visible(ports, scope, record_id, Permission.HOLD)
    active = [h for h in record.holds if h.active and (hold_id is None or h.hold_id == hold_id)]
    if not active:
        raise RecordsError(f"Record {record.registry_number} has no active hold"
                           f"{' ' + hold_id if hold_id else ''} to release.")
    if len(active) > 1:
        ids = ", ".join(h.hold_id for h in active)
        raise RecordsError(f"Record {record.registry_number} has several active holds ({ids}): "
                           "name the one to release.")
    released = replace(active[0], released_by=scope.actor, released_at=now)
    holds = tuple(released if h.hold_id == released.hold_id else h for h in record.holds)
    with ports.catalog.transaction() as tx:
        tx.replace(replace(record, holds=holds))
        checkpoints.append(tx, ports.signer, event("hold.release", actor=scope.actor, now=now, record_id=record.id,
                                                   channel=channel, details=(("hold", released.hold_id),)))
    return released


def _visible(ports: Ports, scope: AccessScope, record_id: RecordId, permission: Permission) -> Record:
    record = visible_record(ports, scope, record_id)
    if not scope.may(permission):
        raise AccessDenied(f"Your role ({scope.role}) may not {permission} records.")
    return record
