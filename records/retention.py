"""Retention: when a record's clock starts, how long it runs, and whether it is due (pure, `now` passed in).

Conventions (golden-tested in tests/records/test_retention.py):
- `retention_until` is the last day the record must be kept; it is due from the day after.
- N years after 29 February is 28 February when the target year is not a leap year (the
  period must not end later than the law asks, and never on a day that does not exist).
- A `document_date` trigger without a document date falls back to the filing date (the record
  has no better "created" date); an event trigger without its event is never due and is listed
  by the missing-trigger report instead.
- A home set to SI+EE keeps each record for the longer period; permanent in either wins.
- The schedule stored with a filed record (`retention_until`, `retention_basis`, stamped by
  `apply_schedule` at filing and by audited edits) is a floor: the plan file may lengthen a
  record's retention but never shorten it. `decide` reports such a shortening in
  `Decision.plan_note` and keeps the stored date; only an edit with a written justification
  (records.amendment) moves a stored keep-until earlier. An empty stored `retention_until`
  (permanent, or the trigger event not yet recorded) has no end a plan edit could bring forward.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from records.model import ContractFields, HRFields, InvoiceFields, MinutesFields, Record, State
from records.plan import Action, Period, Plan, RecordClass, Trigger, TriggerKind, jurisdictions_of

EVENT_PREFIX = "event."
# The basis of records stored before the basis was kept with them (vault's codec reads it in): their
# stored schedule binds like any other, only its period's wording is unknown.
STORED_EARLIER = "as stored with the record"  # Record.extra key of an event date recorded by hand, e.g. event.superseded

# Events that live in class-specific fields rather than in `extra`.
_DETAIL_EVENTS = {
    "contract_end": (ContractFields, "expiry"),
    "contract_expiry": (ContractFields, "expiry"),
    "employment_end": (HRFields, "employment_end"),
    "meeting_date": (MinutesFields, "meeting_date"),
    "due_date": (InvoiceFields, "due_date"),
}


class Status(StrEnum):
    DUE = "due"
    NOT_YET = "not_yet"
    PERMANENT = "permanent"
    ON_HOLD = "on_hold"
    MISSING_TRIGGER = "missing_trigger"
    DISPOSED = "disposed"
    UNSORTED = "unsorted"


@dataclass(frozen=True, slots=True)
class Decision:
    record_id: str
    registry_number: str
    record_class: str
    status: Status
    reason: str  # one sentence
    trigger: date | None = None
    until: date | None = None
    action: Action | None = None
    basis: str = ""
    plan_note: str = ""  # one sentence when the plan would end retention earlier than the stored schedule

    @property
    def due(self) -> bool:
        return self.status is Status.DUE

    @property
    def shortened_by_plan(self) -> bool:
        return bool(self.plan_note)


def add_years(day: date, years: int) -> date:
    """`day` plus whole years; 29 February lands on 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def fiscal_year_end_of(day: date, month_day: tuple[int, int]) -> date:
    """The last day of the financial year that holds `day` (the year ends each year on month-day)."""
    month, dom = month_day
    end = date(day.year, month, dom)
    return end if day <= end else date(day.year + 1, month, dom)


def event_date(record: Record, name: str) -> date | None:
    """The recorded date of event `name`: the `extra` key event.<name> (an event recorded as it
    happened, e.g. a contract terminated before its expiry), else the class-specific field that
    foresees it (the contract's expiry, the employment end)."""
    if name == "document_date":
        return record.document_date or record.filed_at.date()
    if name == "filing_date":
        return record.filed_at.date()
    raw = dict(record.extra).get(EVENT_PREFIX + name)
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    kind = _DETAIL_EVENTS.get(name)
    if kind is not None and isinstance(record.details, kind[0]):
        value = getattr(record.details, kind[1])
        if isinstance(value, date):
            return value
    return None


def later_year_end_of(day: date, month_day: tuple[int, int]) -> date:
    """The later of 31 December of `day`'s year and the end of the financial year that holds `day`: the
    start of a period a law counts from the calendar year while the accounts close on another day."""
    return max(date(day.year, 12, 31), fiscal_year_end_of(day, month_day))


def start_of(record: Record, trigger: Trigger, fiscal_year_end: tuple[int, int] = (12, 31)) -> date | None:
    """The date `trigger` starts the clock for `record`, or None (permanent, or its event not recorded)."""
    if trigger.kind is TriggerKind.PERMANENT:
        return None
    start = event_date(record, trigger.of)
    if start is None:
        return None
    if trigger.kind is TriggerKind.CALENDAR_YEAR_END:
        return date(start.year, 12, 31)
    if trigger.kind is TriggerKind.FISCAL_YEAR_END:
        return fiscal_year_end_of(start, fiscal_year_end)
    if trigger.kind is TriggerKind.LATER_YEAR_END:
        return later_year_end_of(start, fiscal_year_end)
    return start


@dataclass(frozen=True, slots=True)
class Schedule:
    """What a class's period means for one record in a home's jurisdiction(s): the period that governs
    (for SI+EE the one ending later; permanent in either wins), where its clock starts and when it ends.
    `start` None with a dated period: the trigger event is not recorded (`waiting_for` names it)."""

    period: Period
    trigger: Trigger
    start: date | None
    until: date | None
    waiting_for: str = ""


def schedule(record: Record, cls: RecordClass, jurisdiction: str,
             fiscal_year_end: tuple[int, int] = (12, 31)) -> Schedule:
    """The governing schedule of `record` in class `cls`; each jurisdiction counts from its own trigger."""
    found: list[Schedule] = []
    for name in jurisdictions_of(jurisdiction):
        period, trigger = dict(cls.retention)[name], cls.trigger_in(name)
        if period.permanent:
            return Schedule(period, trigger, None, None)
        start = start_of(record, trigger, fiscal_year_end)
        if start is None:
            found.append(Schedule(period, trigger, None, None, waiting_for=trigger.of or str(trigger)))
        else:
            found.append(Schedule(period, trigger, start, add_years(start, period.years or 0)))
    waiting = [s for s in found if s.start is None]
    if waiting:
        return waiting[0]  # a clock that has not started in one jurisdiction cannot have run out overall
    return max(found, key=lambda s: s.until or date.max)


def retention_trigger(record: Record, cls: RecordClass, fiscal_year_end: tuple[int, int] = (12, 31),
                      jurisdiction: str = "SI") -> date | None:
    """The date the retention clock starts, or None (permanent class, or event not recorded)."""
    return schedule(record, cls, jurisdiction, fiscal_year_end).start


def retention_until(record: Record, plan: Plan, jurisdiction: str) -> date | None:
    """The last day the record must be kept; None when permanent or when the trigger is unknown."""
    return schedule(record, plan.resolve(record.record_class), jurisdiction, plan.fiscal_year_end).until


def decide(record: Record, plan: Plan, *, jurisdiction: str, now: datetime | date) -> Decision:
    """The retention decision for one record, with its reason: the plan's decision, never earlier than the
    schedule stored with the record (see the module docstring)."""
    today = now.date() if isinstance(now, datetime) else now
    return _floored(planned(record, plan, jurisdiction=jurisdiction, now=today), record, today)


def planned(record: Record, plan: Plan, *, jurisdiction: str, now: datetime | date) -> Decision:
    """What the plan alone says of the record (its stored schedule ignored): golden-tested arithmetic."""
    today = now.date() if isinstance(now, datetime) else now
    cls = plan.resolve(record.record_class)
    governing = schedule(record, cls, jurisdiction, plan.fiscal_year_end)
    period = governing.period

    def decision(status: Status, reason: str, *, trigger: date | None = None,
                 until: date | None = None) -> Decision:
        return Decision(record_id=record.id, registry_number=record.registry_number,
                        record_class=cls.code, status=status, reason=reason, trigger=trigger,
                        until=until, action=cls.action, basis=period.describe())

    if record.state is State.DISPOSED:
        return decision(Status.DISPOSED, "The record was already disposed of.")
    if cls.unsorted:
        return decision(Status.UNSORTED, "Unsorted records are never disposed: classify "
                        "the record first.")
    if period.permanent:
        return decision(Status.PERMANENT, f"Class {cls.code} is kept permanently "
                        f"({period.basis}).")
    if governing.start is None or governing.until is None:
        return decision(Status.MISSING_TRIGGER, f"The retention clock has not started: "
                        f"the date of {governing.waiting_for.replace('_', ' ')} is not recorded.")
    start, until = governing.start, governing.until
    return _dated(decision(Status.NOT_YET, "", trigger=start, until=until), record, today,
                  f"{period.describe()}", f"action: {cls.action}")


def _dated(d: Decision, record: Record, today: date, length: str, action: str) -> Decision:
    """`d` (which has an end date) with the status and reason that date gives on `today`."""
    until = d.until or today
    if record.on_hold:
        return replace(d, status=Status.ON_HOLD, reason="A legal hold blocks disposition until it is released.")
    if today <= until:
        return replace(d, status=Status.NOT_YET, reason=f"Kept until {until.isoformat()} ({length}).")
    return replace(d, status=Status.DUE, reason=f"Retention ended on {until.isoformat()}; {action}.")


def stored_permanent(record: Record) -> bool:
    """True when the record's stored schedule keeps it permanently (Period.describe() starts so)."""
    return record.retention_until is None and record.retention_basis.startswith("permanent")


def _floored(d: Decision, record: Record, today: date) -> Decision:
    """The plan's decision `d`, or the stored schedule's where the plan would end retention earlier."""
    if d.until is None or d.status in (Status.DISPOSED, Status.UNSORTED):
        return d  # permanent, or waiting for its event: nothing is longer than that
    stored = record.retention_until
    if stored is not None:
        if d.until >= stored:
            return d  # the plan keeps it as long or longer: a lengthening applies
        note = (f"The plan now ends the retention of {record.registry_number} on {d.until.isoformat()}, earlier "
                f"than the {stored.isoformat()} stored with it, so the stored date applies.")
        basis = record.retention_basis or STORED_EARLIER
        floored = replace(d, until=stored, trigger=record.retention_trigger, basis=basis, plan_note=note)
        return _dated(floored, record, today, basis, f"action: {d.action}")
    if not record.retention_basis:
        return d  # a record value no schedule was ever applied to (built in code): the plan alone decides
    note = (f"The plan now ends the retention of {record.registry_number} on {d.until.isoformat()}, but its "
            "stored schedule has no end date, so it is kept.")
    if stored_permanent(record):
        return replace(d, status=Status.PERMANENT, until=None, trigger=None, basis=record.retention_basis,
                       plan_note=note, reason=f"Kept permanently as stored with the record ({record.retention_basis}).")
    return replace(d, status=Status.MISSING_TRIGGER, until=None, trigger=None, basis=record.retention_basis,
                   plan_note=note, reason="The retention clock has not started: its trigger event was not "
                   "recorded when the record was scheduled (record it with `strongroom edit`).")


def evaluate(records: Iterable[Record], plan: Plan, *, jurisdiction: str, now: datetime | date
             ) -> list[Decision]:
    """One decision per record, in the order given."""
    return [decide(r, plan, jurisdiction=jurisdiction, now=now) for r in records]


def missing_trigger(decisions: Iterable[Decision]) -> list[Decision]:
    """The records whose retention clock cannot start until someone records their event."""
    return [d for d in decisions if d.status is Status.MISSING_TRIGGER]


def apply_schedule(record: Record, plan: Plan, jurisdiction: str) -> Record:
    """The record with its retention trigger, retention-until and basis computed from its class."""
    governing = schedule(record, plan.resolve(record.record_class), jurisdiction, plan.fiscal_year_end)
    return replace(record, retention_trigger=governing.start, retention_until=governing.until,
                   retention_basis=governing.period.describe())


def shortening(old: Record, new: Record, plan: Plan, *, today: date) -> str:
    """One sentence when `new`'s stored keep-until is earlier than `old`'s, or when recording a first
    end date makes the record due at once; "" otherwise (pure). Classifying an unsorted record and
    recording a trigger event that lies ahead are no shortening."""
    until = new.retention_until
    if until is None or new.state is State.DISPOSED:
        return ""
    before = old.retention_until
    if before is not None:
        if until < before:
            return (f"This edit moves the keep-until of {old.registry_number} from {before.isoformat()} to "
                    f"{until.isoformat()}")
        return ""
    if stored_permanent(old) and not plan.resolve(old.record_class).unsorted:
        return f"This edit ends the permanent retention of {old.registry_number} on {until.isoformat()}"
    if until < today:
        return (f"This edit makes {old.registry_number} due for disposition at once (kept until "
                f"{until.isoformat()})")
    return ""
