"""Plan differences: what a new plan version changes, class by class and field by field, and for which records (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from records.model import Record, State
from records.plan import JURISDICTIONS, Plan, RecordClass
from records.retention import Decision, Status, decide, planned


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one class: `old` is "" for a class the new plan adds, `new` "" for one it removes."""

    code: str
    field: str
    old: str
    new: str

    def line(self) -> str:
        return f"    {self.field}: {self.old or '-'} -> {self.new or '-'}"


@dataclass(frozen=True, slots=True)
class PlanDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changes: tuple[FieldChange, ...]  # every field of changed classes (added ones too, with old "")
    shorter: tuple[str, ...]  # "01.1 SI: 10 -> 5 years", one per period the new plan cuts

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changes)

    @property
    def classes(self) -> tuple[str, ...]:
        """The codes of every class added or changed (in the new plan's order), then those removed."""
        return tuple(dict.fromkeys(c.code for c in self.changes)) + self.removed  # an added class's fields all change

    def lines(self) -> list[str]:
        """The diff as text: + added class, - removed class, ~ changed class with its fields."""
        out: list[str] = []
        for code in self.classes:
            mark = "+" if code in self.added else "-" if code in self.removed else "~"
            out.append(f"{mark} {code}")
            if code not in self.removed:
                out.extend(c.line() for c in self.changes if c.code == code)
        return out


def fields_of(cls: RecordClass) -> dict[str, str]:
    """A class as flat `field -> text` pairs; the trigger is the one each jurisdiction uses."""
    names = dict(cls.names)
    out = {"slug": cls.slug, **{f"names.{lang}": names.get(lang, "") for lang in ("sl", "et", "en")},
           "confidentiality": str(cls.confidentiality), "detail": cls.detail or "none", "action": str(cls.action),
           "unsorted": "true" if cls.unsorted else "false"}
    for jurisdiction, period in cls.retention:
        out[f"retention.{jurisdiction}.years"] = "permanent" if period.years is None else str(period.years)
        out[f"retention.{jurisdiction}.trigger"] = str(cls.trigger_in(jurisdiction))
        out[f"retention.{jurisdiction}.basis"] = period.basis
        out[f"retention.{jurisdiction}.policy"] = "true" if period.policy else "false"
    return out


def diff(old: Plan, new: Plan) -> PlanDiff:
    before, after = old.by_code(), new.by_code()
    added = tuple(c.code for c in new.classes if c.code not in before)
    removed = tuple(c.code for c in old.classes if c.code not in after)
    changes: list[FieldChange] = []
    shorter: list[str] = []
    for cls in new.classes:
        was = fields_of(before[cls.code]) if cls.code in before else {}
        now = fields_of(cls)
        changes.extend(FieldChange(cls.code, name, was.get(name, ""), value)
                       for name, value in now.items() if was.get(name, "") != value)
        if cls.code in before:
            shorter.extend(_cuts(before[cls.code], cls))
    return PlanDiff(added=added, removed=removed, changes=tuple(changes), shorter=tuple(shorter))


def _cuts(old: RecordClass, new: RecordClass) -> list[str]:
    out = []
    for jurisdiction in JURISDICTIONS:
        was, now = dict(old.retention)[jurisdiction].years, dict(new.retention)[jurisdiction].years
        if now is not None and (was is None or now < was):
            out.append(f"{new.code} {jurisdiction}: {'permanent' if was is None else f'{was} years'} -> {now} years")
    return out


@dataclass(frozen=True, slots=True)
class RecordEffect:
    """How a plan change moves one record's retention: `before` and `after` as the retention decision
    shows them (the stored keep-until a floor); `shortened` when the new plan alone would end it sooner
    than the old plan did."""

    record_id: str
    registry_number: str
    record_class: str
    before: str
    after: str
    shortened: bool
    floored: bool  # the stored keep-until holds the record longer than the new plan would

    def line(self) -> str:
        note = " (shorter; the stored keep-until applies)" if self.floored else " (shorter)" if self.shortened else ""
        return f"  {self.registry_number} [{self.record_class}]: {self.before} -> {self.after}{note}"


def effects(records: Iterable[Record], old: Plan, new: Plan, *, jurisdiction: str, today: date
            ) -> list[RecordEffect]:
    """The records (not disposed) whose retention the new plan changes or would shorten."""
    out = []
    for record in records:
        if record.state is State.DISPOSED:
            continue
        before, after = decide(record, old, jurisdiction=jurisdiction, now=today), decide(
            record, new, jurisdiction=jurisdiction, now=today)
        shortened = _end(planned(record, new, jurisdiction=jurisdiction, now=today)) < _end(
            planned(record, old, jurisdiction=jurisdiction, now=today))
        if shortened or _end(before) != _end(after):
            out.append(RecordEffect(record.id, record.registry_number, record.record_class, describe(before),
                                    describe(after), shortened, after.shortened_by_plan))
    return out


def _end(d: Decision) -> tuple[int, date]:
    """An order on retention ends: a date < waiting for the trigger event < permanent."""
    if d.status in (Status.PERMANENT, Status.UNSORTED):
        return 2, date.max
    if d.until is None:
        return 1, date.max
    return 0, d.until


def describe(d: Decision) -> str:
    """A retention decision's end in a few words: a date, "permanent" or "waiting for its event"."""
    if d.status in (Status.PERMANENT, Status.UNSORTED):
        return "permanent"
    if d.until is None:
        return "waiting for its trigger event"
    return f"kept until {d.until.isoformat()}"
