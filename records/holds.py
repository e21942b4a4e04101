"""Legal holds: a named freeze on a record that blocks disposition until it is released."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event, masked
from records.model import Hold, Record, RecordId, Role, State
from records.ports import Ports
from records.retrieval import visible_record


# Who may release whose hold: a hold is released by the placer's role or a higher one.
HOLD_RANK = {Role.SECRETARY: 1, Role.MANAGER: 2, Role.ADMIN: 3}


def place_hold(ports: Ports, scope: AccessScope, record_id: RecordId, reason: str, *, now: datetime,
               channel: str = "cli") -> Hold:
    """Put a hold on a record the actor may see; the reason is required (it is the mandate)."""
    reason = reason.strip()
    if not reason:
        raise RecordsError("A hold needs a reason (the case, request or mandate behind it): give --reason.")
    record = _visible(ports, scope, record_id, Permission.HOLD)
    if record.state is State.DISPOSED:
        raise RecordsError(f"Record {record.registry_number} was already disposed of; there is nothing to hold.")
    hold = Hold(hold_id=uuid.uuid4().hex[:12], reason=reason, placed_by=scope.actor, placed_at=now,
                placed_role=scope.role)
    with ports.catalog.transaction() as tx:
        tx.replace(replace(record, holds=(*record.holds, hold)))
        checkpoints.append(tx, ports.signer, event("hold.add", actor=scope.actor, now=now, record_id=record.id,
                                                   channel=channel, details=(("hold", hold.hold_id),
                                                                             ("reason", masked(ports, reason)))))
    return hold


def release_hold(ports: Ports, scope: AccessScope, record_id: RecordId, *, now: datetime, reason: str,
                 hold_id: str | None = None, channel: str = "cli") -> Hold:
    """Release one active hold (by id, or the only active one) with a reason; only a role at least as
    high as the placer's may (an admin's hold only an admin). The record keeps its history."""
    reason = reason.strip()
    if not reason:
        raise RecordsError("Releasing a hold needs a reason (the case closed, the request withdrawn): "
                           "give --reason.")
    record = _visible(ports, scope, record_id, Permission.HOLD)
    active = [h for h in record.holds if h.active and (hold_id is None or h.hold_id == hold_id)]
    if not active:
        raise RecordsError(f"Record {record.registry_number} has no active hold"
                           f"{' ' + hold_id if hold_id else ''} to release.")
    if len(active) > 1:
        ids = ", ".join(h.hold_id for h in active)
        raise RecordsError(f"Record {record.registry_number} has several active holds ({ids}): "
                           "name the one to release.")
    placer = placed_role(ports, active[0])
    if HOLD_RANK.get(scope.role, 0) < HOLD_RANK[placer]:
        raise AccessDenied(f"This hold was placed by a {placer}; only a {placer}"
                           f"{'' if placer is Role.ADMIN else ' or a higher role'} may release it.")
    released = replace(active[0], released_by=scope.actor, released_at=now, release_reason=reason)
    holds = tuple(released if h.hold_id == released.hold_id else h for h in record.holds)
    with ports.catalog.transaction() as tx:
        tx.replace(replace(record, holds=holds))
        checkpoints.append(tx, ports.signer, event("hold.release", actor=scope.actor, now=now, record_id=record.id,
                                                   channel=channel, details=(("hold", released.hold_id),
                                                                             ("placed_by", released.placed_by),
                                                                             ("reason", masked(ports, reason)))))
    return released


def placed_role(ports: Ports, hold: Hold) -> Role:
    """The role the placer had; for a hold from before roles were kept, the placer's role now, and an
    admin's when the placer is no user (the CLI's passphrase holder) or is gone."""
    if hold.placed_role is not None:
        return hold.placed_role
    user = ports.catalog.get_user(hold.placed_by)
    return user.role if user is not None else Role.ADMIN


def _visible(ports: Ports, scope: AccessScope, record_id: RecordId, permission: Permission) -> Record:
    record = visible_record(ports, scope, record_id)
    if not scope.may(permission):
        raise AccessDenied(f"Your role ({scope.role}) may not {permission} records.")
    return record
