"""Closing and reopening a case file, and the retention that closing starts; holds on a case file.

Closing a case file is the event that starts the retention of its records: the plan says which
classes wait for it, namely every class whose trigger (or one country's own trigger) names the event
`case_closed` (`event:case_closed`, or a year end of it). Closing records `event.case_closed` = the
closing day on each such record and restamps its schedule, exactly as recording the event by hand
would (records.lifecycle); records of other classes keep their own clocks (a contract's end, a
judgment becoming final) and the preview says so. Reopening clears the event the closing recorded,
so their clocks wait again. Both are audited: one entry for the case file and one per record whose
schedule changed, in the transaction that stores them.

A closing that would move a record's stored keep-until earlier, or make it due at once (a closing
day far back), needs a written reason; with the two-person rule on it is refused, and that record's
event goes through `strongroom event` and its approval instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from records import casefiles, checkpoints, matters
from records.access import AccessScope, Permission
from records.casefiles import CaseEvent, CaseFile
from records.errors import AccessDenied, AmendmentRefused, RecordNotFound, RecordsError
from records.events import event, masked
from records.matters import MatterHold, MatterQuery
from records.model import Record, State
from records.plan import JURISDICTIONS, Plan, RecordClass
from records.ports import CatalogTx, IndexDoc, Ports
from records.retention import EVENT_PREFIX, apply_schedule, shortening
from records.retrieval import text_of

CLOSING_EVENT = "case_closed"
_KEY = EVENT_PREFIX + CLOSING_EVENT


@dataclass(frozen=True, slots=True)
class Consequence:
    """What closing (or reopening) does to one record's retention."""

    record: Record
    before: Record  # as stored now
    after: Record  # as it would be stored
    starts: bool  # the record's class waits for the case file's closing
    shortening: str = ""  # "" unless the change moves its keep-until earlier

    @property
    def changed(self) -> bool:
        return (self.before.retention_trigger, self.before.retention_until, self.before.extra) != (
            self.after.retention_trigger, self.after.retention_until, self.after.extra)


@dataclass(frozen=True, slots=True)
class ClosingResult:
    casefile: CaseFile
    consequences: tuple[Consequence, ...]  # only the records the actor may see
    note: str = ""  # the search index could not be refreshed


def closed_by_casefile(cls: RecordClass) -> bool:
    """Does this class's retention clock start when its case file closes (in either country)?"""
    return any(cls.trigger_in(j).of == CLOSING_EVENT for j in JURISDICTIONS)


def preview_close(ports: Ports, plan: Plan, scope: AccessScope, casefile: CaseFile, closed_on: date, *,
                  jurisdiction: str, today: date) -> list[Consequence]:
    """What closing on `closed_on` would do to each record of the case file the scope may see (pure reads)."""
    return [c for c in _consequences(ports, plan, casefile, closed_on, jurisdiction, today) if scope.can_see(c.record)]


def preview_reopen(ports: Ports, plan: Plan, scope: AccessScope, casefile: CaseFile, *, jurisdiction: str,
                   today: date) -> list[Consequence]:
    return [c for c in _consequences(ports, plan, casefile, None, jurisdiction, today) if scope.can_see(c.record)]


def close(ports: Ports, plan: Plan, scope: AccessScope, casefile_id: str, closed_on: date, *, jurisdiction: str,
          now: datetime, reason: str = "", require_second_approver: bool = False,
          channel: str = "cli") -> ClosingResult:
    """Close the case file on `closed_on` and start the retention of the records whose class waits for it."""
    _require(scope)
    if closed_on > now.date():
        raise RecordsError("A case file cannot be closed on a future day: give today or an earlier day.")
    reason = reason.strip()
    with ports.catalog.transaction() as tx:
        casefile = casefiles.get(ports, scope, casefile_id)
        if casefile.closed:
            raise RecordsError(f"Case file {casefile.number} is closed already (on {casefile.closed_on}).")
        if closed_on < casefile.opened_on:
            raise RecordsError(f"Case file {casefile.number} was opened on {casefile.opened_on.isoformat()}; it "
                               "cannot close before that.")
        found = _consequences(ports, plan, casefile, closed_on, jurisdiction, now.date())
        short = next((c.shortening for c in found if c.shortening), "")
        if short and not reason:
            raise AmendmentRefused(f"{short}, which needs a written justification: give it with --reason.")
        if short and require_second_approver:
            raise AmendmentRefused(f"{short}; with the two-person rule on, close the case file today or record "
                                   "that record's case_closed event with `strongroom event` for approval.")
        closed = replace(casefile, closed_on=closed_on,
                         history=(*casefile.history, CaseEvent("closed", scope.actor, now, closed_on, reason)))
        _store_audited(tx, ports, scope, closed, found, action="casefile.close", record_action="casefile.close.record",
                       now=now, channel=channel, reason=reason, extra=(("closed_on", closed_on.isoformat()),))
    return ClosingResult(closed, tuple(c for c in found if scope.can_see(c.record)), _reindex(ports, found))


def reopen(ports: Ports, plan: Plan, scope: AccessScope, casefile_id: str, *, reason: str, jurisdiction: str,
           now: datetime, channel: str = "cli") -> ClosingResult:
    """Reopen a closed case file (a reason is required): the retention its closing started waits again."""
    _require(scope)
    reason = reason.strip()
    if not reason:
        raise RecordsError("Reopening a case file needs a reason (an appeal, a new claim): give --reason.")
    with ports.catalog.transaction() as tx:
        casefile = casefiles.get(ports, scope, casefile_id)
        if not casefile.closed:
            raise RecordsError(f"Case file {casefile.number} is open; there is nothing to reopen.")
        found = _consequences(ports, plan, casefile, None, jurisdiction, now.date())
        opened = replace(casefile, closed_on=None,
                         history=(*casefile.history, CaseEvent("reopened", scope.actor, now, now.date(), reason)))
        _store_audited(tx, ports, scope, opened, found, action="casefile.reopen",
                       record_action="casefile.reopen.record", now=now, channel=channel, reason=reason,
                       extra=(("was_closed_on", casefile.closed_on.isoformat() if casefile.closed_on else ""),))
    return ClosingResult(opened, tuple(c for c in found if scope.can_see(c.record)), _reindex(ports, found))


def hold(ports: Ports, plan: Plan, scope: AccessScope, casefile_id: str, reason: str, *, now: datetime,
         channel: str = "cli") -> MatterHold:
    """A legal hold on every record of the case file, present and future: a matter hold on the case file."""
    casefile = casefiles.get(ports, scope, casefile_id)
    return matters.place(ports, plan, scope, MatterQuery(casefile=casefile.casefile_id), reason, now=now,
                         channel=channel)


def holds_of(ports: Ports, casefile: CaseFile) -> list[MatterHold]:
    """The matter holds placed on the case file, released ones included, oldest first."""
    return [h for h in matters.all_holds(ports) if h.query.casefile == casefile.casefile_id]


def _require(scope: AccessScope) -> None:
    if not scope.may(Permission.EDIT):
        raise AccessDenied(f"Your role ({scope.role}) may not close or reopen case files.")


def _consequences(ports: Ports, plan: Plan, casefile: CaseFile, closed_on: date | None, jurisdiction: str,
                  today: date) -> list[Consequence]:
    """Each record of the case file before and after its closing (closed_on) or reopening (None)."""
    out = []
    for rid in casefile.record_ids:
        try:
            record = ports.catalog.get(rid)
        except RecordNotFound:
            continue
        starts = closed_by_casefile(plan.resolve(record.record_class))
        after = record
        if starts and record.state is not State.DISPOSED:
            after = _scheduled(record, plan, closed_on, casefile, jurisdiction)
        short = shortening(record, after, plan, today=today) if after is not record else ""
        out.append(Consequence(record=record, before=record, after=after, starts=starts, shortening=short))
    return out


def _scheduled(record: Record, plan: Plan, closed_on: date | None, casefile: CaseFile, jurisdiction: str) -> Record:
    extra = dict(record.extra)
    if closed_on is not None:
        extra[_KEY] = closed_on.isoformat()
    elif casefile.closed_on is not None and extra.get(_KEY) == casefile.closed_on.isoformat():
        extra.pop(_KEY)  # only the event this case file's closing recorded; a date set by hand stays
    else:
        return record
    return apply_schedule(replace(record, extra=tuple(sorted(extra.items()))), plan, jurisdiction)


def _store_audited(tx: CatalogTx, ports: Ports, scope: AccessScope, casefile: CaseFile, found: list[Consequence], *,
                   action: str, record_action: str, now: datetime, channel: str, reason: str,
                   extra: tuple[tuple[str, str], ...]) -> None:
    changed = [c for c in found if c.changed]
    casefiles.store(tx, casefile)
    checkpoints.append(tx, ports.signer, event(
        action, actor=scope.actor, now=now, channel=channel,
        details=(("casefile", casefile.casefile_id), ("number", casefile.number), *extra,
                 ("records", str(len(casefile.record_ids))), ("restamped", str(len(changed))),
                 ("reason", masked(ports, reason)), ("identified_by", scope.identified_by))))
    for c in changed:
        tx.replace(c.after)
        checkpoints.append(tx, ports.signer, event(
            record_action, actor=scope.actor, now=now, channel=channel, record_id=c.record.id,
            details=(("casefile", casefile.casefile_id), ("number", casefile.number),
                     (f"{_KEY}.old", dict(c.before.extra).get(_KEY, "") or "-"),
                     (f"{_KEY}.new", dict(c.after.extra).get(_KEY, "") or "-"),
                     ("retention_until.old", _day(c.before.retention_until)),
                     ("retention_until.new", _day(c.after.retention_until)),
                     ("retention", "earlier" if c.shortening else ""))))


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _reindex(ports: Ports, found: list[Consequence]) -> str:
    changed = [c.after for c in found if c.changed]
    if ports.index is None or not changed:
        return ""
    try:
        ports.index.upsert([IndexDoc(record=r, text=text_of(ports, r.id)) for r in changed])
    except Exception as exc:  # noqa: BLE001 - the closing is committed; the index is derived
        return (f"The case file is saved but the search index could not be updated ({type(exc).__name__}); "
                "run `strongroom reindex`.")
    return ""
