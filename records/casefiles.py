"""Case files (zadeve, toimikud): records that share one registry number and open and close together.

A case file has its own registry number (`Z-<class>-<seq>/<year>`, from the registry sequence of its
class kept apart from the records' one, so `Z-03.3-4/2026` never looks like a record's `03.3-4/2026`),
a title, a class, a principal and a confidentiality level (the class's by default), the day it was
opened and the day it was closed, and the records in it. A record belongs to at most one case file:
the record carries the case file's id in `Record.extra` (`records.matters.CASEFILE_KEY`), so a matter
hold on the case file (`records.matters.MatterQuery.casefile`) covers every record in it, also ones
added after the hold, whenever retention is evaluated.

Case files live sealed in the catalogue's settings table (`casefile.<id>`, the ids under `casefiles`);
every change commits with its audit entry (`casefile.open`, `casefile.add`, `casefile.remove`; closing
and reopening in records.casefile_closing). Who may see a case file follows the record rules: its
confidentiality against the clearance, its principal against the user's principals. A user sees only
the records in it they may see, in lists and in counts.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from records import checkpoints, registry, retrieval
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordNotFound, RecordsError
from records.events import event, masked
from records.matters import CASEFILE_KEY
from records.model import Confidentiality, Record, RecordId, State
from records.plan import Plan
from records.ports import CatalogTx, Ports


KEY_PREFIX = "casefile."
INDEX_KEY = "casefiles"
NUMBER_PREFIX = "Z-"  # zadeva: keeps the case files' sequence and numbers apart from the records'
MAX_TITLE = 300


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One step in a case file's life: opened, closed or reopened (with the day and the reason)."""

    action: str  # opened | closed | reopened
    actor: str
    at: datetime
    day: date | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CaseFile:
    casefile_id: str
    number: str
    title: str
    record_class: str
    principal: str
    confidentiality: Confidentiality
    opened_on: date
    opened_by: str
    closed_on: date | None = None
    record_ids: tuple[RecordId, ...] = ()
    history: tuple[CaseEvent, ...] = ()

    @property
    def closed(self) -> bool:
        return self.closed_on is not None


@dataclass(frozen=True, slots=True)
class CaseFileRow:
    """A case file as one user sees it in a list: only the records they may see are counted."""

    casefile: CaseFile
    visible_records: int


def can_see(scope: AccessScope, casefile: CaseFile) -> bool:
    """The record rule applied to a case file: clearance against its level, principal against the user's."""
    if not scope.may(Permission.READ) or not scope.clearance.allows(casefile.confidentiality):
        return False
    return scope.principals is None or casefile.principal in scope.principals


def open_casefile(ports: Ports, plan: Plan, scope: AccessScope, *, title: str, record_class: str, principal: str,
                  now: datetime, confidentiality: Confidentiality | None = None, opened_on: date | None = None,
                  channel: str = "cli") -> CaseFile:
    """Open a case file with the next number of its class in the opening year; audited."""
    if not scope.may(Permission.FILE):
        raise AccessDenied(f"Your role ({scope.role}) may not open case files.")
    title = " ".join(title.split())
    if not title:
        raise RecordsError("A case file needs a title: give --title.")
    if len(title) > MAX_TITLE:
        raise RecordsError(f"The title is longer than {MAX_TITLE} characters: shorten it.")
    cls = plan.resolve(record_class)
    if cls.unsorted:
        raise RecordsError("A case file needs a real class, not the unsorted one: choose its class.")
    principal = principal.strip()
    opened = opened_on or now.date()
    if opened > now.date():
        raise RecordsError("A case file cannot be opened on a future day: give today or an earlier day.")
    level = confidentiality or cls.confidentiality
    casefile = CaseFile(casefile_id=uuid.uuid4().hex[:12], number="", title=title, record_class=cls.code,
                        principal=principal, confidentiality=level, opened_on=opened, opened_by=scope.actor,
                        history=(CaseEvent("opened", scope.actor, now, opened),))
    if not can_see(scope, casefile):
        raise AccessDenied("You could not see a case file with this principal or confidentiality: choose one "
                           "within your own access.")
    with ports.catalog.transaction() as tx:
        number = registry.assign(tx, NUMBER_PREFIX + cls.code, opened.year)
        casefile = replace(casefile, number=str(number))
        store(tx, casefile)
        tx.put_setting(INDEX_KEY, json.dumps([*_ids(ports), casefile.casefile_id]))
        checkpoints.append(tx, ports.signer, event(
            "casefile.open", actor=scope.actor, now=now, channel=channel,
            details=(("casefile", casefile.casefile_id), ("number", casefile.number), ("class", cls.code),
                     ("opened_on", opened.isoformat()), ("title", masked(ports, title)),
                     ("principal", masked(ports, principal)), ("identified_by", scope.identified_by))))
    return casefile


def add_record(ports: Ports, scope: AccessScope, casefile_id: str, record_id: RecordId, *, now: datetime,
               channel: str = "cli") -> CaseFile:
    """Put a record the actor may see into an open case file; a record belongs to one case file at most."""
    _require_edit(scope)
    with ports.catalog.transaction() as tx:
        casefile = get(ports, scope, casefile_id)
        record = retrieval.visible_record(ports, scope, record_id)
        _require_open(casefile, "add records to it")
        if record.state is State.DISPOSED:
            raise RecordsError(f"Record {record.registry_number} was disposed of; it cannot join a case file.")
        current = dict(record.extra).get(CASEFILE_KEY)
        if current == casefile.casefile_id:
            raise RecordsError(f"Record {record.registry_number} is in this case file already.")
        if current:
            raise RecordsError(f"Record {record.registry_number} belongs to another case file already: remove it "
                               "there first.")
        tx.replace(_with_casefile(record, casefile.casefile_id))
        updated = replace(casefile, record_ids=(*casefile.record_ids, record.id))
        store(tx, updated)
        checkpoints.append(tx, ports.signer, event(
            "casefile.add", actor=scope.actor, now=now, channel=channel, record_id=record.id,
            details=(("casefile", casefile.casefile_id), ("number", casefile.number),
                     ("identified_by", scope.identified_by))))
    return updated


def remove_record(ports: Ports, scope: AccessScope, casefile_id: str, record_id: RecordId, *, now: datetime,
                  reason: str = "", channel: str = "cli") -> CaseFile:
    """Take a record out of an open case file (it was put there by mistake, say); audited."""
    _require_edit(scope)
    with ports.catalog.transaction() as tx:
        casefile = get(ports, scope, casefile_id)
        record = retrieval.visible_record(ports, scope, record_id)
        _require_open(casefile, "remove records from it")
        if record.id not in casefile.record_ids:
            raise RecordsError(f"Record {record.registry_number} is not in case file {casefile.number}.")
        tx.replace(_with_casefile(record, None))
        updated = replace(casefile, record_ids=tuple(r for r in casefile.record_ids if r != record.id))
        store(tx, updated)
        checkpoints.append(tx, ports.signer, event(
            "casefile.remove", actor=scope.actor, now=now, channel=channel, record_id=record.id,
            details=(("casefile", casefile.casefile_id), ("number", casefile.number),
                     ("reason", masked(ports, reason.strip())), ("identified_by", scope.identified_by))))
    return updated


def get(ports: Ports, scope: AccessScope, casefile_id: str) -> CaseFile:
    """The case file if it exists and the scope may see it (the same sentence either way)."""
    casefile = load(ports, casefile_id)
    if casefile is None or not can_see(scope, casefile):
        raise RecordNotFound(f"There is no case file {casefile_id} that you may see: `strongroom casefile list` "
                             "shows them.")
    return casefile


def resolve(ports: Ports, scope: AccessScope, text: str) -> CaseFile:
    """A case file by its id or its number (Z-03.3-4/2026)."""
    text = text.strip()
    if "/" not in text:
        return get(ports, scope, text)
    for casefile in all_casefiles(ports):
        if casefile.number == text and can_see(scope, casefile):
            return casefile
    raise RecordNotFound(f"There is no case file {text} that you may see: `strongroom casefile list` shows them.")


def listing(ports: Ports, scope: AccessScope, *, show: str = "all") -> list[CaseFileRow]:
    """The case files the scope may see, newest first; `show` open, closed or all; counts of visible records."""
    if show not in ("open", "closed", "all"):
        raise RecordsError(f"Show open, closed or all case files, not {show!r}.")
    rows = []
    for casefile in reversed(all_casefiles(ports)):
        if not can_see(scope, casefile) or (show == "open" and casefile.closed) or \
                (show == "closed" and not casefile.closed):
            continue
        rows.append(CaseFileRow(casefile, len(records_of(ports, scope, casefile))))
    return rows


def records_of(ports: Ports, scope: AccessScope, casefile: CaseFile) -> list[Record]:
    """The records of the case file that the scope may see, in the order they were added."""
    return retrieval.visible_records(ports, scope, casefile.record_ids)


def casefile_of(ports: Ports, scope: AccessScope, record: Record) -> CaseFile | None:
    """The case file the record belongs to, when there is one the scope may see."""
    cid = dict(record.extra).get(CASEFILE_KEY)
    if not cid:
        return None
    casefile = load(ports, cid)
    return casefile if casefile is not None and can_see(scope, casefile) else None


def numbers(ports: Ports, scope: AccessScope | None = None) -> dict[str, str]:
    """Case file id -> its number (Z-...), for naming a case file's hold: only the case files `scope` may
    see, or every one without a scope (the operator's `strongroom hold list`)."""
    return {c.casefile_id: c.number for c in all_casefiles(ports) if scope is None or can_see(scope, c)}


def all_casefiles(ports: Ports) -> list[CaseFile]:
    """Every case file, oldest first (no access filter: for the use cases, never for display)."""
    found = (load(ports, cid) for cid in _ids(ports))
    return [c for c in found if c is not None]


def load(ports: Ports, casefile_id: str) -> CaseFile | None:
    raw = ports.catalog.get_setting(KEY_PREFIX + casefile_id) if _plain_id(casefile_id) else None
    if raw is None:
        return None
    doc = json.loads(raw)
    return CaseFile(
        casefile_id=casefile_id, number=doc["number"], title=doc["title"], record_class=doc["record_class"],
        principal=doc["principal"], confidentiality=Confidentiality(doc["confidentiality"]),
        opened_on=date.fromisoformat(doc["opened_on"]), opened_by=doc["opened_by"],
        closed_on=date.fromisoformat(doc["closed_on"]) if doc["closed_on"] else None,
        record_ids=tuple(RecordId(r) for r in doc["record_ids"]),
        history=tuple(CaseEvent(action=h["action"], actor=h["actor"], at=datetime.fromisoformat(h["at"]),
                                day=date.fromisoformat(h["day"]) if h["day"] else None, reason=h["reason"])
                      for h in doc["history"]))


def store(tx: CatalogTx, casefile: CaseFile) -> None:
    """Write the case file inside the caller's transaction (the catalogue is sealed: nothing in clear)."""
    tx.put_setting(KEY_PREFIX + casefile.casefile_id, json.dumps({
        "number": casefile.number, "title": casefile.title, "record_class": casefile.record_class,
        "principal": casefile.principal, "confidentiality": str(casefile.confidentiality),
        "opened_on": casefile.opened_on.isoformat(), "opened_by": casefile.opened_by,
        "closed_on": casefile.closed_on.isoformat() if casefile.closed_on else None,
        "record_ids": list(casefile.record_ids),
        "history": [{"action": h.action, "actor": h.actor, "at": h.at.isoformat(),
                     "day": h.day.isoformat() if h.day else None, "reason": h.reason} for h in casefile.history],
    }, sort_keys=True))


def _with_casefile(record: Record, casefile_id: str | None) -> Record:
    extra = dict(record.extra)
    if casefile_id:
        extra[CASEFILE_KEY] = casefile_id
    else:
        extra.pop(CASEFILE_KEY, None)
    return replace(record, extra=tuple(sorted(extra.items())))


def _require_edit(scope: AccessScope) -> None:
    if not scope.may(Permission.EDIT):
        raise AccessDenied(f"Your role ({scope.role}) may not change case files.")


def _require_open(casefile: CaseFile, doing: str) -> None:
    if casefile.closed:
        raise RecordsError(f"Case file {casefile.number} is closed: reopen it to {doing}.")


def _plain_id(text: str) -> bool:
    return 0 < len(text) <= 32 and all(c in "0123456789abcdef" for c in text)


def _ids(ports: Ports) -> list[str]:
    raw = ports.catalog.get_setting(INDEX_KEY)
    return [str(x) for x in json.loads(raw)] if raw else []
