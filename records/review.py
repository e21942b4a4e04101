"""The review queue: records whose class asks for a person's decision at the end of retention.

A due record whose action is `review` is never destroyed by `dispose`; a person with disposal rights
decides, with a written reason, one of:

- keep: N more years from the later of its keep-until and today (a stored lengthening, marked so that
  `verify` does not take it for a plan conflict);
- reclassify: a new class, through the audited edit use case (records.amendment), so a move that
  shortens retention needs its justification and, with the two-person rule, a second person;
- transfer: the record goes to an archive (`strongroom transfer`, records.transfer);
- destroy: a disposal proposal (or, with the two-person rule off, the destruction) follows at once.

Each decision is one `review.decide` audit entry with the old and new keep-until (and class).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from records import checkpoints, disposition, safeguards
from records.access import AccessScope, Permission
from records.amendment import edit_metadata
from records.disposition import ACTION_KEY, KEPT_KEY, DispositionResult
from records.errors import AccessDenied, RecordsError
from records.events import event, masked
from records.model import Record, RecordId
from records.plan import Action, Plan
from records.ports import CatalogTx, Ports
from records.retention import Decision, add_years
from records.retrieval import visible_record

MAX_YEARS = 100


class Choice(StrEnum):
    KEEP = "keep"
    RECLASSIFY = "reclassify"
    TRANSFER = "transfer"
    DESTROY = "destroy"


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    choice: Choice
    record_id: RecordId
    registry_number: str
    old_until: date | None
    new_until: date | None
    old_class: str
    new_class: str
    status: str  # "kept" | "reclassified" | "reclassification proposed" | "marked for transfer" | disposal status
    disposal: DispositionResult | None = None


def queue(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
          scope: AccessScope | None = None) -> list[Decision]:
    """The due records waiting for a person's review decision."""
    return [d for d in disposition.due(ports, plan, jurisdiction=jurisdiction, as_of=as_of, scope=scope)
            if d.action is Action.REVIEW]


def decide(ports: Ports, plan: Plan, scope: AccessScope, record_id: RecordId, choice: Choice, *, reason: str,
           jurisdiction: str, as_of: date, now: datetime, years: int | None = None, new_class: str = "",
           channel: str = "cli") -> ReviewOutcome:
    """Decide a record in the review queue (see the module docstring); audited with old and new retention."""
    if not scope.may(Permission.DISPOSE):
        raise AccessDenied(f"Your role ({scope.role}) may not decide retention reviews.")
    reason = reason.strip()
    if not reason:
        raise RecordsError("A review decision needs a written reason: give it with --reason.")
    record = visible_record(ports, scope, record_id)
    waiting = {d.record_id: d for d in queue(ports, plan, jurisdiction=jurisdiction, as_of=as_of)}
    decision = waiting.get(record.id)
    if decision is None:
        raise RecordsError(f"{record.registry_number} is not waiting for a review (its retention has not run "
                           "out, a hold covers it, or its class does not ask for one): "
                           "`strongroom review list` shows the queue.")
    if choice is Choice.KEEP:
        return _keep(ports, scope, record, decision, years, reason=reason, as_of=as_of, now=now, channel=channel)
    if choice is Choice.RECLASSIFY:
        return _reclassify(ports, plan, scope, record, decision, new_class, reason=reason,
                           jurisdiction=jurisdiction, now=now, channel=channel)
    marked = replace(record, extra=tuple(sorted({**dict(record.extra), ACTION_KEY: str(choice)}.items())))
    with ports.catalog.transaction() as tx:
        tx.replace(marked)
        _audit(tx, ports, scope, record, choice, decision.until, decision.until, reason=reason, now=now,
               channel=channel)
    outcome = ReviewOutcome(choice=choice, record_id=record.id, registry_number=record.registry_number,
                            old_until=decision.until, new_until=decision.until, old_class=record.record_class,
                            new_class=record.record_class, status="marked for transfer")
    if choice is Choice.TRANSFER:
        return outcome
    result = disposition.dispose(ports, plan, scope, [record.id], reason=reason, jurisdiction=jurisdiction,
                                 as_of=as_of, now=now, channel=channel)
    return replace(outcome, status=result.status, disposal=result)


def _keep(ports: Ports, scope: AccessScope, record: Record, decision: Decision, years: int | None, *,
          reason: str, as_of: date, now: datetime, channel: str) -> ReviewOutcome:
    if years is None or not 1 <= years <= MAX_YEARS:
        raise RecordsError(f"Keeping a record needs the number of further years (1 to {MAX_YEARS}): give --years.")
    start = max(decision.until or as_of, as_of)
    until = add_years(start, years)
    kept = replace(record, retention_until=until,
                   retention_basis=f"{decision.basis}; kept {years} more years by review on {now.date().isoformat()}",
                   extra=tuple(sorted({**dict(record.extra), KEPT_KEY: until.isoformat()}.items())))
    with ports.catalog.transaction() as tx:
        tx.replace(kept)
        _audit(tx, ports, scope, record, Choice.KEEP, decision.until, until, reason=reason, now=now,
               channel=channel, more=(("years", str(years)),))
    return ReviewOutcome(choice=Choice.KEEP, record_id=record.id, registry_number=record.registry_number,
                         old_until=decision.until, new_until=until, old_class=record.record_class,
                         new_class=record.record_class, status="kept")


def _reclassify(ports: Ports, plan: Plan, scope: AccessScope, record: Record, decision: Decision, new_class: str,
                *, reason: str, jurisdiction: str, now: datetime, channel: str) -> ReviewOutcome:
    if not new_class.strip():
        raise RecordsError("Reclassifying needs the new class: give --class.")
    code = plan.resolve(new_class).code
    result = edit_metadata(ports, plan, scope, record.id, {"record_class": code}, jurisdiction=jurisdiction,
                           now=now, reason=reason,
                           require_second_approver=safeguards.current(ports.catalog).require_second_approver,
                           channel=channel)
    new_until = result.record.retention_until if result.status == "edited" else decision.until
    with ports.catalog.transaction() as tx:
        _audit(tx, ports, scope, record, Choice.RECLASSIFY, decision.until, new_until, reason=reason, now=now,
               channel=channel, more=(("class.old", record.record_class), ("class.new", code),
                                      ("edit", result.pending.edit_id if result.pending else "")))
    return ReviewOutcome(choice=Choice.RECLASSIFY, record_id=record.id, registry_number=record.registry_number,
                         old_until=decision.until, new_until=new_until, old_class=record.record_class, new_class=code,
                         status="reclassified" if result.status == "edited" else "reclassification proposed")


def _audit(tx: CatalogTx, ports: Ports, scope: AccessScope, record: Record, choice: Choice, old: date | None,
           new: date | None, *, reason: str, now: datetime, channel: str,
           more: tuple[tuple[str, str], ...] = ()) -> None:
    checkpoints.append(tx, ports.signer, event(
        "review.decide", actor=scope.actor, now=now, record_id=record.id, channel=channel,
        details=(("decision", str(choice)), ("retention_until.old", _iso(old)), ("retention_until.new", _iso(new)),
                 *more, ("reason", masked(ports, reason)))))


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "-"
