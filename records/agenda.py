"""The agenda: one user's deadlines (upcoming and overdue), holds, waiting files and recent filings.

Pure: records, the plan and `today` in, plain values out; every record is filtered by the user's
scope (AccessScope.can_see), so no count includes a record the user may not see. The start page
and the calendar feed both read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from records.access import AccessScope, Permission
from records.errors import RecordsError
from records.model import ContractFields, Hold, InvoiceFields, Record, State
from records.plan import Plan
from records.ports import Catalog, PendingFile
from records.registers import notice_deadline
from records.retention import Status, decide

WINDOW_DAYS = 30
RECENT = 10


class DeadlineKind(StrEnum):
    NOTICE = "notice"  # the last day to give notice of a contract (expiry - notice period)
    EXPIRY = "expiry"  # a contract ends
    INVOICE_DUE = "invoice_due"  # an invoice falls due
    RETENTION_REVIEW = "retention_review"  # the retention period ends: review for disposition


@dataclass(frozen=True, slots=True)
class Deadline:
    day: date
    kind: DeadlineKind
    record: Record

    def days_from(self, today: date) -> int:
        return (self.day - today).days


@dataclass(frozen=True, slots=True)
class HeldRecord:
    record: Record
    hold: Hold


@dataclass(frozen=True, slots=True)
class Agenda:
    today: date
    window_days: int
    upcoming: tuple[Deadline, ...]  # today .. today + window, soonest first
    overdue: tuple[Deadline, ...]  # before today and still open, oldest first
    holds: tuple[HeldRecord, ...]  # active holds on records the user may see
    unsorted: tuple[PendingFile, ...]  # inbox/_unsorted (only for those who file)
    rejected: tuple[PendingFile, ...]  # rejected/, each with its reason (only for those who file)
    recent: tuple[Record, ...]  # the newest filings the user may see


def deadlines(records: Iterable[Record], plan: Plan, *, jurisdiction: str, today: date) -> list[Deadline]:
    """Every dated deadline of the given records that is still open (past or future), by day.

    Open means: a notice deadline while the contract has not ended, an expiry, an invoice's due date
    unless it was paid (when the record knows a payment), and a retention review unless the record is
    on hold (a hold blocks disposition) or already disposed."""
    out: list[Deadline] = []
    for record in records:
        if record.state is State.DISPOSED:
            continue
        details = record.details
        if isinstance(details, ContractFields):
            notice = notice_deadline(details)
            if notice is not None and (details.expiry is None or details.expiry >= today):
                out.append(Deadline(notice, DeadlineKind.NOTICE, record))
            if details.expiry is not None and details.expiry >= today:
                out.append(Deadline(details.expiry, DeadlineKind.EXPIRY, record))
        if isinstance(details, InvoiceFields) and details.due_date is not None \
                and getattr(details, "paid_on", None) is None:
            out.append(Deadline(details.due_date, DeadlineKind.INVOICE_DUE, record))
        review = _review_day(record, plan, jurisdiction, today)
        if review is not None:
            out.append(Deadline(review, DeadlineKind.RETENTION_REVIEW, record))
    return sorted(out, key=lambda d: (d.day, d.kind, d.record.registry_number))


def agenda(catalog: Catalog, plan: Plan, scope: AccessScope, *, jurisdiction: str, today: date,
           unsorted: Sequence[PendingFile] = (), rejected: Sequence[PendingFile] = (),
           window_days: int = WINDOW_DAYS, recent: int = RECENT) -> Agenda:
    """The start page of `scope`: what falls due in the next `window_days`, what is overdue, what is on
    hold, which files wait (shown only to those who may file) and the newest filings."""
    visible = [r for r in catalog.find() if r.state is not State.DISPOSED and scope.can_see(r)] \
        if scope.may(Permission.READ) else []
    found = deadlines(visible, plan, jurisdiction=jurisdiction, today=today)
    horizon = today + timedelta(days=window_days)
    files = scope.may(Permission.FILE)
    held = [HeldRecord(r, h) for r in visible for h in r.holds if h.active]
    return Agenda(
        today=today, window_days=window_days,
        upcoming=tuple(d for d in found if today <= d.day <= horizon),
        overdue=tuple(d for d in found if d.day < today),
        holds=tuple(sorted(held, key=lambda h: h.hold.placed_at, reverse=True)),
        unsorted=tuple(unsorted) if files else (),
        rejected=tuple(rejected) if files else (),
        recent=tuple(sorted(visible, key=lambda r: r.filed_at, reverse=True)[:recent]))


def _review_day(record: Record, plan: Plan, jurisdiction: str, today: date) -> date | None:
    """The day after the record's retention ends (its review), when it is dated and not blocked by a hold."""
    try:
        decision = decide(record, plan, jurisdiction=jurisdiction, now=today)
    except RecordsError:
        return None  # a class no longer in the plan: the retention page names it
    if decision.status in (Status.DUE, Status.NOT_YET) and decision.until is not None:
        return decision.until + timedelta(days=1)  # kept until `until`; reviewed the day after
    return None
