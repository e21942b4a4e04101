"""Metadata amendment: a filed record never changes in place; an edit is a new value and an audit entry.

Editable: title, principal, confidentiality, document_date, record_class (reclassification;
the registry number stays, it is the record's permanent reference), tags, parties, the
class-specific fields of the record's class (e.g. expiry, notice_days, employment_end,
direction), and event dates as `event.<name>` (e.g. event.superseded=2026-03-01), which can
start a retention clock. Retention is recomputed when the edit changes what it is computed from,
and the index refreshed after each edit.

Every edit's audit entry names each field with its old and new value (`FIELD.old`, `FIELD.new`;
values that can carry content, such as titles and parties, as keyed HMACs), in the transaction
that stores the new version. Retention never moves earlier silently: an edit that would move the
stored keep-until earlier (a backdated document or event date, a reclassification), or end a
permanent retention, needs a written justification, and with the home's two-person rule
(`require_second_approver`, records.safeguards) it waits as a pending edit until another person
approves it (`approve_edit`).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from records import checkpoints
from records.access import AccessScope, Permission, require_second_person
from records.dates import parse_amount, parse_day, parse_flag
from records.errors import AccessDenied, AmendmentRefused, RecordsError
from records.events import event, masked
from records.model import DETAIL_KINDS, Confidentiality, Details, Record, RecordId, State, details_from_dict, details_to_dict
from records.plan import Plan
from records.ports import CatalogTx, IndexDoc, Ports
from records.retention import EVENT_PREFIX, apply_schedule, shortening
from records.retrieval import text_of, visible_record

_PLAIN = ("title", "principal", "confidentiality", "document_date", "record_class", "tags", "parties")
# Fields whose values are dates, codes or numbers: written to the audit entry as they are. Every other
# value (title, principal, parties, sender, subject, amounts, ...) goes in as a keyed HMAC.
_AUDIT_CLEAR = frozenset({"document_date", "record_class", "confidentiality", "retention_until", "signed",
                          "effective", "expiry", "notice_days", "currency", "meeting_date", "direction",
                          "due_date", "employment_end", "paid_on", "auto_renewal", "reply_to"})
_EMPTY = "-"  # how an empty old or new value is written in the audit entry
PENDING_PREFIX = "amendment."
PENDING_OPEN = PENDING_PREFIX + "open"


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class PendingEdit:
    """An edit that moves retention earlier, waiting for a second person's approval."""

    edit_id: str
    record_id: RecordId
    changes: tuple[tuple[str, str], ...]
    reason: str
    proposed_by: str
    proposed_at: datetime
    shortening: str  # the sentence that says how it moves retention earlier


@dataclass(frozen=True, slots=True)
class EditResult:
    status: str  # "edited" | "proposed"
    record: Record  # the record as it stands now (unchanged while an edit is pending)
    fields: tuple[FieldChange, ...]
    note: str = ""  # the index could not be refreshed
    shortening: str = ""
    pending: PendingEdit | None = None


def edit_metadata(ports: Ports, plan: Plan, scope: AccessScope, record_id: RecordId,
                  changes: Mapping[str, str], *, jurisdiction: str, now: datetime, reason: str = "",
                  require_second_approver: bool = False, channel: str = "cli") -> EditResult:
    """Apply `changes` (field -> text value; "" clears), or store them for approval when they move retention
    earlier and the home requires a second person; such an edit without `reason` is refused."""
    if not scope.may(Permission.EDIT):
        raise AccessDenied(f"Your role ({scope.role}) may not edit records.")
    record = visible_record(ports, scope, record_id)
    if not changes:
        raise RecordsError("No field was changed: give at least one new value.")
    updated = _edited(record, plan, changes, jurisdiction)
    if not scope.can_see(updated):
        raise AccessDenied("After this edit you could no longer see the record: ask someone with a wider "
                           "clearance to make it.")
    short = shortening(record, updated, plan, today=now.date())
    reason = reason.strip()
    if short and not reason:
        raise AmendmentRefused(f"{short}, which needs a written justification: give it with --reason.")
    fields = field_changes(record, updated, changes)
    if short and require_second_approver:
        return _propose(ports, scope, record, changes, fields, reason=reason, short=short, now=now,
                        channel=channel)
    with ports.catalog.transaction() as tx:
        _commit(tx, ports, record, updated, fields, actor=scope.actor, approver="", reason=reason, short=short,
                now=now, channel=channel, identified_by=scope.identified_by)
    return EditResult(status="edited", record=updated, fields=fields, note=_reindex(ports, updated), shortening=short)


@dataclass(frozen=True, slots=True)
class EditPreview:
    """What an edit would do, before it is saved: for a confirmation step (pure)."""

    record: Record  # as it stands
    updated: Record  # as it would be
    fields: tuple[FieldChange, ...]
    shortening: str  # "" unless the edit moves retention earlier

    @property
    def reclassified(self) -> bool:
        return self.record.record_class != self.updated.record_class


def preview_edit(record: Record, plan: Plan, changes: Mapping[str, str], *, jurisdiction: str,
                 today: date) -> EditPreview:
    """The record as `changes` would leave it, with the retention consequence; nothing is stored."""
    updated = _edited(record, plan, changes, jurisdiction)
    return EditPreview(record=record, updated=updated, fields=field_changes(record, updated, changes),
                       shortening=shortening(record, updated, plan, today=today))


def approve_edit(ports: Ports, plan: Plan, scope: AccessScope, edit_id: str, *, jurisdiction: str, now: datetime,
                 channel: str = "cli") -> EditResult:
    """A second person approves a pending edit: it is applied to the record as it stands now."""
    pending = load_pending(ports, edit_id)
    require_second_person(scope, pending.proposed_by, approving="edits that move retention earlier",
                          proposal="an edit", refused=AmendmentRefused)
    record = visible_record(ports, scope, pending.record_id)
    changes = dict(pending.changes)
    updated = _edited(record, plan, changes, jurisdiction)
    fields = field_changes(record, updated, changes)
    short = shortening(record, updated, plan, today=now.date())
    with ports.catalog.transaction() as tx:
        _commit(tx, ports, record, updated, fields, actor=pending.proposed_by, approver=scope.actor,
                reason=pending.reason, short=short, now=now, channel=channel, edit_id=edit_id,
                identified_by=scope.identified_by)
        tx.put_setting(PENDING_OPEN, json.dumps([p.edit_id for p in pending_edits(ports) if p.edit_id != edit_id]))
    return EditResult(status="edited", record=updated, fields=fields, note=_reindex(ports, updated), shortening=short)


def pending_edits(ports: Ports) -> list[PendingEdit]:
    """The edits waiting for a second person, oldest first."""
    raw = ports.catalog.get_setting(PENDING_OPEN)
    return [load_pending(ports, eid) for eid in (json.loads(raw) if raw else [])]


def load_pending(ports: Ports, edit_id: str) -> PendingEdit:
    raw = ports.catalog.get_setting(PENDING_PREFIX + edit_id)
    open_ids = json.loads(ports.catalog.get_setting(PENDING_OPEN) or "[]")
    if raw is None or edit_id not in open_ids:
        raise RecordsError(f"There is no pending edit {edit_id}: it was approved already or the id is wrong "
                           "(`strongroom edits pending` lists them).")
    doc = json.loads(raw)
    return PendingEdit(edit_id=edit_id, record_id=RecordId(doc["record_id"]),
                       changes=tuple((str(k), str(v)) for k, v in doc["changes"]), reason=doc["reason"],
                       proposed_by=doc["proposed_by"], proposed_at=datetime.fromisoformat(doc["proposed_at"]),
                       shortening=doc["shortening"])


def field_changes(old: Record, new: Record, changes: Mapping[str, str]) -> tuple[FieldChange, ...]:
    """Each edited field with its value before and after (as text), and retention_until when it moved."""
    names = sorted(changes)
    if old.retention_until != new.retention_until:
        names.append("retention_until")
    return tuple(FieldChange(n, field_value(old, n), field_value(new, n)) for n in names)


def field_value(record: Record, name: str) -> str:
    """One field of the record as text ("" when empty): plain fields, event.<name>, class-specific fields."""
    if name.startswith(EVENT_PREFIX):
        return dict(record.extra).get(name, "")
    if name in _PLAIN or name == "retention_until":
        value = getattr(record, name)
    else:
        value = (details_to_dict(record.details) or {}).get(name)
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return value.isoformat() if isinstance(value, date) else str(value)


def _edited(record: Record, plan: Plan, changes: Mapping[str, str], jurisdiction: str) -> Record:
    """The record with `changes` applied; its schedule recomputed only when the edit changes what the
    schedule is computed from (a title edit keeps the stored schedule whatever the plan file says now)."""
    if record.state is State.DISPOSED:
        raise RecordsError(f"Record {record.registry_number} was disposed of; its stub cannot be edited.")
    updated = apply_changes(record, plan, changes)
    rescheduled = apply_schedule(updated, plan, jurisdiction)
    before = apply_schedule(record, plan, jurisdiction)
    if (before.retention_trigger, before.retention_until, before.retention_basis) == (
            rescheduled.retention_trigger, rescheduled.retention_until, rescheduled.retention_basis):
        return replace(updated, retention_trigger=record.retention_trigger,
                       retention_until=record.retention_until, retention_basis=record.retention_basis)
    return rescheduled


def _audit_details(ports: Ports, fields: tuple[FieldChange, ...], *, reason: str, short: str
             ) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = [("fields", ",".join(f.name for f in fields if f.name != "retention_until"))]
    for f in fields:
        clear = f.name in _AUDIT_CLEAR or f.name.startswith(EVENT_PREFIX)
        for which, value in (("old", f.old), ("new", f.new)):
            out.append((f"{f.name}.{which}", (value if clear else masked(ports, value)) or _EMPTY))
    out.append(("reason", masked(ports, reason)))
    out.append(("retention", "earlier" if short else ""))
    return tuple(out)


def _commit(tx: CatalogTx, ports: Ports, record: Record, updated: Record, fields: tuple[FieldChange, ...], *,
            actor: str, approver: str, reason: str, short: str, now: datetime, channel: str,
            edit_id: str = "", identified_by: str = "") -> None:
    tx.replace(updated)
    checkpoints.append(tx, ports.signer, event("record.edit", actor=actor, now=now, record_id=record.id, channel=channel,
                                        details=(*_audit_details(ports, fields, reason=reason, short=short),
                                                 ("approver", approver), ("edit", edit_id),
                                                 ("identified_by", identified_by))))


def _propose(ports: Ports, scope: AccessScope, record: Record, changes: Mapping[str, str],
             fields: tuple[FieldChange, ...], *, reason: str, short: str, now: datetime, channel: str) -> EditResult:
    pending = PendingEdit(edit_id=uuid.uuid4().hex[:12], record_id=record.id,
                          changes=tuple(sorted(changes.items())), reason=reason, proposed_by=scope.actor,
                          proposed_at=now, shortening=short)
    open_ids = [p.edit_id for p in pending_edits(ports)]
    with ports.catalog.transaction() as tx:
        tx.put_setting(PENDING_PREFIX + pending.edit_id, json.dumps({
            "record_id": record.id, "changes": [list(c) for c in pending.changes], "reason": reason,
            "proposed_by": scope.actor, "proposed_at": now.isoformat(), "shortening": short}))
        tx.put_setting(PENDING_OPEN, json.dumps([*open_ids, pending.edit_id]))
        checkpoints.append(tx, ports.signer, event("record.edit.propose", actor=scope.actor, now=now, record_id=record.id,
                                            channel=channel,
                                            details=(*_audit_details(ports, fields, reason=reason, short=short),
                                                     ("edit", pending.edit_id),
                                                     ("identified_by", scope.identified_by))))
    return EditResult(status="proposed", record=record, fields=fields, shortening=short, pending=pending)


def apply_changes(record: Record, plan: Plan, changes: Mapping[str, str]) -> Record:
    """The record with `changes` applied and validated (pure)."""
    plain: dict[str, Any] = {}
    detail_changes: dict[str, str] = {}
    extra = dict(record.extra)
    for name, value in changes.items():
        value = value.strip()
        if name in _PLAIN:
            plain[name] = _plain_value(plan, name, value)
        elif name.startswith(EVENT_PREFIX):
            value = _event_date(name, value)
            if value:
                extra[name] = value
            else:
                extra.pop(name, None)
        else:
            detail_changes[name] = value
    updated = replace(record, **plain, extra=tuple(sorted(extra.items())))
    cls = plan.resolve(updated.record_class)
    if updated.details is not None and cls.detail is not None and updated.details.kind != cls.detail:
        raise RecordsError(f"Class {cls.code} takes {cls.detail} fields, but the record has "
                           f"{updated.details.kind} fields: clear them or choose another class.")
    if detail_changes:
        updated = replace(updated, details=_details(updated.details, cls.detail, detail_changes))
    if not updated.title:
        raise RecordsError("The title cannot be empty.")
    return updated


def _plain_value(plan: Plan, name: str, value: str) -> Any:
    if name == "confidentiality":
        try:
            return Confidentiality(value)
        except ValueError:
            raise RecordsError(f"Confidentiality {value!r} is unknown: use "
                               f"{', '.join(c.value for c in Confidentiality)}.") from None
    if name == "document_date":
        return _date(name, value) if value else None
    if name == "record_class":
        return plan.resolve(value).code
    if name in ("tags", "parties"):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def _details(current: Details | None, kind: str | None, changes: dict[str, str]) -> Details:
    kind = current.kind if current is not None else kind
    if kind is None:
        raise RecordsError(f"This record's class has no class-specific fields, so {', '.join(sorted(changes))} "
                           "cannot be set.")
    known = {f.name for f in dataclasses.fields(DETAIL_KINDS[kind])}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise RecordsError(f"{', '.join(unknown)} is not a field of {kind} records: use one of "
                           f"{', '.join(sorted(known | set(_PLAIN)))} or event.NAME.")
    doc = details_to_dict(current) or {"kind": kind}
    types = {f.name: str(f.type) for f in dataclasses.fields(DETAIL_KINDS[kind])}
    for name, value in changes.items():
        doc[name] = _detail_value(name, types[name], value)
    try:
        details = details_from_dict(doc)
    except (ValueError, ArithmeticError) as exc:
        raise RecordsError(f"A {kind} field has a value of the wrong form ({exc}): dates are YYYY-MM-DD, "
                           "numbers plain digits.") from None
    if details is None:
        raise RecordsError(f"The {kind} fields could not be set.")
    return details


def _detail_value(name: str, type_name: str, value: str) -> Any:
    """A typed field value in its JSON form: dates ISO (typed ISO or 31.12.2031), amounts with a decimal
    point (typed with a comma or a point), yes/no, whole days."""
    if name in ("parties", "recipients"):
        return [v.strip() for v in value.split(",") if v.strip()]
    if "bool" in type_name:
        return parse_flag(value, name)
    if not value:
        return None
    if "date" in type_name:
        return parse_day(value, name).isoformat()
    if "Decimal" in type_name:
        return str(parse_amount(value, name))
    if "int" in type_name:
        if not value.isdigit():
            raise RecordsError(f"{name} must be a whole number of days, not {value!r}.")
        return int(value)
    if name == "currency":
        if len(value) != 3 or not value.isalpha():
            raise RecordsError(f"The currency is a three-letter code such as EUR, not {value!r}.")
        return value.upper()
    if "Direction" in type_name and value not in ("in", "out"):
        raise RecordsError(f"{name} is in (incoming) or out (outgoing), not {value!r}.")
    return value


def _event_date(name: str, value: str) -> str:
    """The event's day in ISO form ("" clears it)."""
    return _date(name, value).isoformat() if value else ""


def _date(name: str, value: str) -> date:
    return parse_day(value, name)


def _reindex(ports: Ports, record: Record) -> str:
    if ports.index is None:
        return ""
    try:
        ports.index.upsert([IndexDoc(record=record, text=text_of(ports, record.id))])
    except Exception as exc:  # noqa: BLE001 - the edit is committed; the index is derived
        return f"The edit is saved but the search index could not be updated ({type(exc).__name__}); " \
               "run `strongroom reindex`."
    return ""
