"""Registers: the contracts register (expiry, notice deadline) and the correspondence book, as plain queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from records.access import AccessScope
from records.model import ContractFields, CorrespondenceFields, Direction, Record, State
from records.ports import Catalog, RecordFilter


@dataclass(frozen=True, slots=True)
class ContractEntry:
    record: Record
    fields: ContractFields
    notice_deadline: date | None  # expiry - notice_days: the last day to give notice
    days_to_expiry: int | None
    days_to_notice: int | None

    @property
    def expired(self) -> bool:
        return self.days_to_expiry is not None and self.days_to_expiry < 0


@dataclass(frozen=True, slots=True)
class CorrespondenceEntry:
    record: Record
    fields: CorrespondenceFields

    @property
    def direction(self) -> Direction | None:
        return self.fields.direction


def notice_deadline(fields: ContractFields) -> date | None:
    if fields.expiry is None or fields.notice_days is None:
        return None
    return fields.expiry - timedelta(days=fields.notice_days)


def contracts(catalog: Catalog, scope: AccessScope, *, today: date, expiring_within: int | None = None,
              record_class: str | None = None) -> list[ContractEntry]:
    """Live records with contract fields that `scope` may see, soonest notice deadline or expiry first.

    With `expiring_within=N`, only contracts whose expiry or notice deadline falls between today
    and today + N days (an alert list: a missed notice deadline renews many contracts).
    """
    entries = []
    for record in _visible(catalog, scope, record_class):
        if not isinstance(record.details, ContractFields):
            continue
        fields = record.details
        deadline = notice_deadline(fields)
        entry = ContractEntry(record=record, fields=fields, notice_deadline=deadline,
                              days_to_expiry=(fields.expiry - today).days if fields.expiry else None,
                              days_to_notice=(deadline - today).days if deadline else None)
        if expiring_within is not None and not _within(entry, expiring_within):
            continue
        entries.append(entry)
    return sorted(entries, key=_urgency)


def correspondence(catalog: Catalog, scope: AccessScope, *, direction: Direction | None = None,
                   year: int | None = None, record_class: str | None = None) -> list[CorrespondenceEntry]:
    """Incoming and outgoing correspondence `scope` may see, by registry order (filing time)."""
    out = []
    for record in _visible(catalog, scope, record_class):
        if not isinstance(record.details, CorrespondenceFields):
            continue
        if direction is not None and record.details.direction != direction:
            continue
        if year is not None and record.year != year:
            continue
        out.append(CorrespondenceEntry(record=record, fields=record.details))
    return out


def _visible(catalog: Catalog, scope: AccessScope, record_class: str | None) -> list[Record]:
    return [r for r in catalog.find(RecordFilter(record_class=record_class))
            if r.state is not State.DISPOSED and scope.can_see(r)]


def _within(entry: ContractEntry, days: int) -> bool:
    return any(d is not None and 0 <= d <= days for d in (entry.days_to_expiry, entry.days_to_notice))


def _urgency(entry: ContractEntry) -> tuple[int, int, str]:
    soonest = min((d for d in (entry.days_to_notice, entry.days_to_expiry) if d is not None), default=None)
    return (0 if soonest is not None else 1, soonest if soonest is not None else 0,
            entry.record.registry_number)
