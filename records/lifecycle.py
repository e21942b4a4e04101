"""Lifecycle events and payments: what happened to a record after it was filed, recorded as audited edits.

A lifecycle event (a contract ended or was terminated, an employee left, a case closed, a document
was superseded) is stored as the edit `event.<name>=DATE`; when the record's class starts its
retention clock from that event, the edit restamps the schedule (records.retention.event_date
prefers a recorded event over the date a class field foresaw, e.g. a contract's expiry). Marking
an invoice paid is the edit `paid_on=DATE, payment_reference=R`. Both go through
records.amendment.edit_metadata: one audit entry with each field's old and new value, the same
justification and two-person rule when the edit moves retention earlier.
"""

from __future__ import annotations

from datetime import date, datetime

from records.access import AccessScope
from records.amendment import EditResult, edit_metadata
from records.errors import RecordsError
from records.model import InvoiceFields, RecordId
from records.plan import Plan
from records.ports import Ports
from records.retention import EVENT_PREFIX
from records.retrieval import visible_record

# The lifecycle events a person records by hand, in the order the record page offers them.
EVENTS = ("contract_end", "employment_end", "case_closed", "superseded")


def event_names(plan: Plan) -> tuple[str, ...]:
    """The events a person may record: the usual four and any other event a class of the plan waits on."""
    extra = sorted({c.trigger.event for c in plan.classes if c.trigger.event} - set(EVENTS) - {"contract_expiry"})
    return (*EVENTS, *(e for e in extra if e is not None))


def class_event(plan: Plan, record_class: str) -> str | None:
    """The event this class's retention clock starts from, if it waits for one."""
    return plan.resolve(record_class).trigger.event


def record_event(ports: Ports, plan: Plan, scope: AccessScope, record_id: RecordId, name: str, day: date | None,
                 *, jurisdiction: str, now: datetime, reason: str = "", require_second_approver: bool = False,
                 channel: str = "cli") -> EditResult:
    """Record that event `name` happened on `day` (None clears it): an audited edit of event.<name>."""
    names = event_names(plan)
    if name not in names:
        raise RecordsError(f"There is no lifecycle event {name!r}: use one of {', '.join(names)}.")
    return edit_metadata(ports, plan, scope, record_id, {EVENT_PREFIX + name: day.isoformat() if day else ""},
                         jurisdiction=jurisdiction, now=now, reason=reason,
                         require_second_approver=require_second_approver, channel=channel)


def mark_paid(ports: Ports, plan: Plan, scope: AccessScope, record_id: RecordId, paid_on: date, *,
              reference: str = "", jurisdiction: str, now: datetime, channel: str = "cli") -> EditResult:
    """Mark an invoice paid on `paid_on`, with the payment reference: an audited edit."""
    record = visible_record(ports, scope, record_id)
    if not isinstance(record.details, InvoiceFields) and plan.resolve(record.record_class).detail != "invoice":
        raise RecordsError(f"{record.registry_number} is not an invoice, so it cannot be marked paid.")
    changes = {"paid_on": paid_on.isoformat()}
    if reference.strip():
        changes["payment_reference"] = reference.strip()
    return edit_metadata(ports, plan, scope, record_id, changes, jurisdiction=jurisdiction, now=now,
                         channel=channel)
