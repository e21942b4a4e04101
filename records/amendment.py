"""Metadata amendment: a filed record never changes in place; an edit is a new value and an audit entry.

Editable: title, principal, confidentiality, document_date, record_class (reclassification;
the registry number stays, it is the record's permanent reference), tags, parties, the
class-specific fields of the record's class (e.g. expiry, notice_days, employment_end,
direction), and event dates as `event.<name>` (e.g. event.superseded=2026-03-01), which can
start a retention clock. Retention is recomputed and the index refreshed after each edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event
from records.model import DETAIL_KINDS, Confidentiality, Details, Record, RecordId, State, details_from_dict, details_to_dict
from records.plan import Plan
from records.ports import IndexDoc, Ports
from records.retention import EVENT_PREFIX, apply_schedule
from records.retrieval import text_of, visible_record

_PLAIN = ("title", "principal", "confidentiality", "document_date", "record_class", "tags", "parties")


def edit_metadata(ports: Ports, plan: Plan, scope: AccessScope, record_id: RecordId,
                  changes: Mapping[str, str], *, jurisdiction: str, now: datetime,
                  channel: str = "cli") -> tuple[Record, str]:
    """Apply `changes` (field -> text value; "" clears); returns the new record and an index note."""
    if not scope.may(Permission.EDIT):
        raise AccessDenied(f"Your role ({scope.role}) may not edit records.")
    record = visible_record(ports, scope, record_id)
    if record.state is State.DISPOSED:
        raise RecordsError(f"Record {record.registry_number} was disposed of; its stub cannot be edited.")
    if not changes:
        raise RecordsError("No changes were given: use --set FIELD=VALUE.")
    updated = apply_changes(record, plan, changes)
    updated = apply_schedule(updated, plan, jurisdiction)
    if not scope.can_see(updated):
        raise AccessDenied("After this edit you could no longer see the record: ask someone with a wider "
                           "clearance to make it.")
    with ports.catalog.transaction() as tx:
        tx.replace(updated)
        checkpoints.append(tx, ports.signer, event("record.edit", actor=scope.actor, now=now, record_id=record.id,
                                                   channel=channel, details=(("fields", ",".join(sorted(changes))),)))
    return updated, _reindex(ports, updated)


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
            _event_date(name, value)
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
    for name, value in changes.items():
        doc[name] = [v.strip() for v in value.split(",") if v.strip()] if name in ("parties", "recipients") \
            else (value or None)
    try:
        details = details_from_dict(doc)
    except (ValueError, ArithmeticError) as exc:
        raise RecordsError(f"A {kind} field has a value of the wrong form ({exc}): dates are YYYY-MM-DD, "
                           "numbers plain digits.") from None
    if details is None:
        raise RecordsError(f"The {kind} fields could not be set.")
    return details


def _event_date(name: str, value: str) -> None:
    if value:
        _date(name, value)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecordsError(f"{name} must be a date such as 2026-03-31, not {value!r}.") from None


def _reindex(ports: Ports, record: Record) -> str:
    if ports.index is None:
        return ""
    try:
        ports.index.upsert([IndexDoc(record=record, text=text_of(ports, record.id))])
    except Exception as exc:  # noqa: BLE001 - the edit is committed; the index is derived
        return f"The edit is saved but the search index could not be updated ({type(exc).__name__}); " \
               "run `strongroom reindex`."
    return ""
