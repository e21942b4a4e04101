"""Registers: the contracts register (expiry, notice deadline), the invoices register (due, paid) and the
correspondence book, as plain queries over what a person may see, and their spreadsheet (CSV) form.

A record of a class whose plan entry takes contract, invoice or correspondence fields belongs to
that register even before anyone has entered its fields (its row then shows what is missing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from records.access import AccessScope
from records.model import ContractFields, CorrespondenceFields, Direction, InvoiceFields, Record, RecordId, State
from records.plan import Plan
from records.ports import Catalog, RecordFilter
from records.spreadsheet import csv_lines


F = TypeVar("F", ContractFields, InvoiceFields, CorrespondenceFields)


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

    @property
    def next_deadline(self) -> date | None:
        """The soonest of the notice deadline and the expiry that is still ahead (today counts)."""
        ahead = [d for d, n in ((self.notice_deadline, self.days_to_notice),
                                (self.fields.expiry, self.days_to_expiry)) if d is not None and n is not None and n >= 0]
        return min(ahead, default=None)


@dataclass(frozen=True, slots=True)
class InvoiceEntry:
    record: Record
    fields: InvoiceFields
    overdue: bool  # unpaid and its due date has passed

    @property
    def paid(self) -> bool:
        return self.fields.paid_on is not None


@dataclass(frozen=True, slots=True)
class InvoiceTotal:
    """The sum of one principal's invoices in one currency, and how much of it is unpaid or overdue."""

    principal: str
    currency: str
    total: Decimal
    unpaid: Decimal
    overdue: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class CorrespondenceEntry:
    record: Record
    fields: CorrespondenceFields
    reply_to_id: RecordId | None = None  # the answered letter, when it is filed and visible

    @property
    def direction(self) -> Direction | None:
        return self.fields.direction


def notice_deadline(fields: ContractFields) -> date | None:
    if fields.expiry is None or fields.notice_days is None:
        return None
    return fields.expiry - timedelta(days=fields.notice_days)


def contracts(catalog: Catalog, scope: AccessScope, *, today: date, expiring_within: int | None = None,
              record_class: str | None = None, plan: Plan | None = None) -> list[ContractEntry]:
    """Live contracts `scope` may see, the next deadline (notice or expiry still ahead) first.

    With `expiring_within=N`, only contracts whose expiry or notice deadline falls between today
    and today + N days (an alert list: a missed notice deadline renews many contracts).
    """
    entries = []
    for record, fields in _of_kind(catalog, scope, record_class, plan, ContractFields):
        deadline = notice_deadline(fields)
        entry = ContractEntry(record=record, fields=fields, notice_deadline=deadline,
                              days_to_expiry=(fields.expiry - today).days if fields.expiry else None,
                              days_to_notice=(deadline - today).days if deadline else None)
        if expiring_within is not None and not _within(entry, expiring_within):
            continue
        entries.append(entry)
    return sorted(entries, key=_urgency)


def invoices(catalog: Catalog, scope: AccessScope, *, today: date, unpaid: bool = False, overdue: bool = False,
             record_class: str | None = None, plan: Plan | None = None) -> list[InvoiceEntry]:
    """Live invoices `scope` may see, soonest due date first (those without one last); `unpaid` keeps those
    not marked paid, `overdue` those unpaid past their due date."""
    out = []
    for record, fields in _of_kind(catalog, scope, record_class, plan, InvoiceFields):
        late = fields.paid_on is None and fields.due_date is not None and fields.due_date < today
        if (unpaid and fields.paid_on is not None) or (overdue and not late):
            continue
        out.append(InvoiceEntry(record=record, fields=fields, overdue=late))
    return sorted(out, key=lambda e: (e.fields.due_date is None, e.fields.due_date or today,
                                      e.record.registry_number))


def invoice_totals(entries: Iterable[InvoiceEntry]) -> list[InvoiceTotal]:
    """Totals per principal and currency (invoices without an amount are counted, not summed)."""
    sums: dict[tuple[str, str], list[Decimal]] = {}
    counts: dict[tuple[str, str], int] = {}
    for e in entries:
        key = (e.record.principal, e.fields.currency or "EUR")
        acc = sums.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
        counts[key] = counts.get(key, 0) + 1
        amount = e.fields.amount or Decimal(0)
        acc[0] += amount
        if not e.paid:
            acc[1] += amount
        if e.overdue:
            acc[2] += amount
    return [InvoiceTotal(principal=p, currency=c, total=v[0], unpaid=v[1], overdue=v[2], count=counts[(p, c)])
            for (p, c), v in sorted(sums.items())]


def correspondence(catalog: Catalog, scope: AccessScope, *, direction: Direction | None = None,
                   year: int | None = None, record_class: str | None = None,
                   plan: Plan | None = None) -> list[CorrespondenceEntry]:
    """Incoming and outgoing correspondence `scope` may see, by registry order (filing time), each with
    the letter it answers when that one is filed and visible."""
    found = _of_kind(catalog, scope, record_class, plan, CorrespondenceFields)
    by_number = {r.registry_number: r.id for r, _ in found}
    out = []
    for record, fields in found:
        if direction is not None and fields.direction != direction:
            continue
        if year is not None and record.year != year:
            continue
        out.append(CorrespondenceEntry(record=record, fields=fields, reply_to_id=by_number.get(fields.reply_to)))
    return out


# ---- the registers as spreadsheets --------------------------------------------------------------

CONTRACTS_HEADER = ("registry_number", "title", "principal", "parties", "signed", "effective", "expiry",
                    "notice_days", "notice_deadline", "auto_renewal", "value", "currency", "record_id")
INVOICES_HEADER = ("registry_number", "title", "principal", "supplier", "number", "amount", "currency",
                   "due_date", "paid_on", "payment_reference", "overdue", "record_id")
CORRESPONDENCE_HEADER = ("registry_number", "direction", "document_date", "sender", "recipients", "subject",
                         "reply_to", "title", "principal", "record_id")


def contracts_csv(entries: Iterable[ContractEntry], *, decimal_comma: bool = False) -> Iterator[bytes]:
    rows = ((e.record.registry_number, e.record.title, e.record.principal, e.fields.parties or e.record.parties,
             e.fields.signed, e.fields.effective, e.fields.expiry, e.fields.notice_days, e.notice_deadline,
             _yes_no(e.fields.auto_renewal), e.fields.value, e.fields.currency, e.record.id) for e in entries)
    return csv_lines(CONTRACTS_HEADER, rows, decimal_comma=decimal_comma)


def invoices_csv(entries: Iterable[InvoiceEntry], *, decimal_comma: bool = False) -> Iterator[bytes]:
    rows = ((e.record.registry_number, e.record.title, e.record.principal, e.fields.issuer, e.fields.number,
             e.fields.amount, e.fields.currency, e.fields.due_date, e.fields.paid_on, e.fields.payment_reference,
             _yes_no(e.overdue), e.record.id) for e in entries)
    return csv_lines(INVOICES_HEADER, rows, decimal_comma=decimal_comma)


def correspondence_csv(entries: Iterable[CorrespondenceEntry], *, decimal_comma: bool = False) -> Iterator[bytes]:
    rows = ((e.record.registry_number, e.fields.direction.value if e.fields.direction else "",
             e.record.document_date, e.fields.sender, e.fields.recipients, e.fields.subject, e.fields.reply_to,
             e.record.title, e.record.principal, e.record.id) for e in entries)
    return csv_lines(CORRESPONDENCE_HEADER, rows, decimal_comma=decimal_comma)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _of_kind(
        catalog: Catalog, scope: AccessScope, record_class: str | None, plan: Plan | None,
        kind: type[F]) -> list[tuple[Record, F]]:
    """Visible live records with `kind` fields, and (with the plan) those of a class that takes them but
    has none entered yet, with empty fields."""
    detail_classes = {c.code for c in plan.classes if c.detail == kind.kind} if plan is not None else set()
    out: list[tuple[Record, F]] = []
    for record in catalog.find(RecordFilter(record_class=record_class)):
        if record.state is State.DISPOSED or not scope.can_see(record):
            continue
        if isinstance(record.details, kind):
            out.append((record, record.details))
        elif record.details is None and record.record_class in detail_classes:
            out.append((record, kind()))
    return out


def _within(entry: ContractEntry, days: int) -> bool:
    return any(d is not None and 0 <= d <= days for d in (entry.days_to_expiry, entry.days_to_notice))


def _urgency(entry: ContractEntry) -> tuple[int, date, str]:
    """Contracts with a deadline ahead first (soonest first), then those whose dates have all passed, then
    those with no dates."""
    ahead = entry.next_deadline
    if ahead is not None:
        return (0, ahead, entry.record.registry_number)
    past = entry.fields.expiry
    return (1 if past is not None else 2, past or date.min, entry.record.registry_number)
