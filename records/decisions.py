"""The decisions register (odločbe, otsused): each decision issued in a case file, with its own number.

A decision's number is its case file's number and the next number of the decisions issued in it
(`Z-03.3-4/2026-1`), taken from the registry sequence machinery (a sequence named by the case file),
as Slovene offices number a document within its zadeva. A row names the day it was issued, the case
file, the addressee, the subject and the decision's own record (a filed document, which joins the case
file if it is in none). Rows live sealed in the catalogue's settings (`decision.<id>`, the ids under
`decisions`) and issuing one is audited in the same transaction. A person sees a row only when they may
see both the case file and the decision's record; the CSV is the registers' kind (records.spreadsheet).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime

from records import casefiles, checkpoints
from records.access import AccessScope, Permission
from records.casefiles import CaseFile
from records.errors import AccessDenied, RecordNotFound, RecordsError
from records.events import event, masked
from records.matters import CASEFILE_KEY
from records.model import Record, RecordId, State
from records.ports import Ports
from records.retrieval import visible_record
from records.spreadsheet import csv_lines

KEY_PREFIX = "decision."
INDEX_KEY = "decisions"
CSV_HEADER = ("number", "issued_on", "casefile_number", "casefile_title", "addressee", "subject",
              "record_registry_number", "issued_by", "record_id")
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class IssuedDecision:
    decision_id: str
    number: str
    issued_on: date
    casefile_id: str
    addressee: str
    subject: str
    record_id: RecordId
    issued_by: str
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A row of the register as one person sees it."""

    decision: IssuedDecision
    casefile: CaseFile
    record: Record


def issue(ports: Ports, scope: AccessScope, casefile_id: str, record_id: RecordId, *, addressee: str,
          subject: str, issued_on: date, now: datetime, channel: str = "cli") -> IssuedDecision:
    """Enter a decision issued in an open case file into the register, with the next number; audited."""
    if not scope.may(Permission.FILE) or not scope.may(Permission.EDIT):
        raise AccessDenied(f"Your role ({scope.role}) may not enter decisions.")
    addressee, subject = " ".join(addressee.split()), " ".join(subject.split())
    if not addressee or not subject:
        raise RecordsError("A decision needs its addressee and its subject: give --addressee and --subject.")
    if len(addressee) > MAX_TEXT or len(subject) > MAX_TEXT:
        raise RecordsError(f"The addressee and the subject take at most {MAX_TEXT} characters each.")
    if issued_on > now.date():
        raise RecordsError("A decision cannot be issued on a future day: give today or an earlier day.")
    with ports.catalog.transaction() as tx:
        casefile = casefiles.get(ports, scope, casefile_id)
        record = visible_record(ports, scope, record_id)
        if casefile.closed:
            raise RecordsError(f"Case file {casefile.number} is closed: reopen it to enter a decision in it.")
        if issued_on < casefile.opened_on:
            raise RecordsError(f"Case file {casefile.number} was opened on {casefile.opened_on.isoformat()}; a "
                               "decision in it cannot be older.")
        if record.state is State.DISPOSED:
            raise RecordsError(f"Record {record.registry_number} was disposed of; it cannot be a decision.")
        if any(d.record_id == record.id for d in _all(ports)):
            raise RecordsError(f"Record {record.registry_number} is in the decisions register already.")
        member = dict(record.extra).get(CASEFILE_KEY)
        if member and member != casefile.casefile_id:
            raise RecordsError(f"Record {record.registry_number} belongs to another case file: a decision is "
                               "entered in its own case file.")
        if not member:  # the decision joins its case file, in this same transaction
            extra = {**dict(record.extra), CASEFILE_KEY: casefile.casefile_id}
            tx.replace(replace(record, extra=tuple(sorted(extra.items()))))
            casefiles.store(tx, replace(casefile, record_ids=(*casefile.record_ids, record.id)))
        seq = tx.next_registry_seq(casefile.number, casefile.opened_on.year)
        decision = IssuedDecision(decision_id=uuid.uuid4().hex[:12], number=f"{casefile.number}-{seq}",
                                  issued_on=issued_on, casefile_id=casefile.casefile_id, addressee=addressee,
                                  subject=subject, record_id=record.id, issued_by=scope.actor, issued_at=now)
        tx.put_setting(KEY_PREFIX + decision.decision_id, _dump(decision))
        tx.put_setting(INDEX_KEY, json.dumps([*_ids(ports), decision.decision_id]))
        checkpoints.append(tx, ports.signer, event(
            "decision.issue", actor=scope.actor, now=now, channel=channel, record_id=record.id,
            details=(("decision", decision.decision_id), ("number", decision.number),
                     ("casefile", casefile.casefile_id), ("issued_on", issued_on.isoformat()),
                     ("addressee", masked(ports, addressee)), ("subject", masked(ports, subject)),
                     ("joined_casefile", "" if member else "yes"), ("identified_by", scope.identified_by))))
    return decision


def register(ports: Ports, scope: AccessScope, *, year: int | None = None, casefile_id: str = "") -> list[DecisionRow]:
    """The decisions the scope may see (their case file and their record both), newest number first."""
    rows = []
    cache: dict[str, CaseFile | None] = {}
    for decision in reversed(_all(ports)):  # newest entered first, then by the day issued
        if (year is not None and decision.issued_on.year != year) or (casefile_id and decision.casefile_id != casefile_id):
            continue
        if decision.casefile_id not in cache:
            cache[decision.casefile_id] = casefiles.load(ports, decision.casefile_id)
        casefile = cache[decision.casefile_id]
        if casefile is None or not casefiles.can_see(scope, casefile):
            continue
        try:
            record = ports.catalog.get(decision.record_id)
        except RecordNotFound:
            continue
        if scope.can_see(record):
            rows.append(DecisionRow(decision, casefile, record))
    return sorted(rows, key=lambda r: r.decision.issued_on, reverse=True)


def register_csv(rows: list[DecisionRow]) -> Iterator[bytes]:
    """The register as a CSV that Excel opens in sl/et (UTF-8 with BOM, `;`, CRLF, formulas neutralised)."""
    return csv_lines(CSV_HEADER, ([r.decision.number, r.decision.issued_on, r.casefile.number, r.casefile.title,
                                   r.decision.addressee, r.decision.subject, r.record.registry_number,
                                   r.decision.issued_by, r.record.id] for r in rows))


def _all(ports: Ports) -> list[IssuedDecision]:
    out = []
    for did in _ids(ports):
        raw = ports.catalog.get_setting(KEY_PREFIX + did)
        if raw is None:
            continue
        doc = json.loads(raw)
        out.append(IssuedDecision(decision_id=did, number=doc["number"], issued_on=date.fromisoformat(doc["issued_on"]),
                                  casefile_id=doc["casefile_id"], addressee=doc["addressee"], subject=doc["subject"],
                                  record_id=RecordId(doc["record_id"]), issued_by=doc["issued_by"],
                                  issued_at=datetime.fromisoformat(doc["issued_at"])))
    return out


def _dump(decision: IssuedDecision) -> str:
    return json.dumps({"number": decision.number, "issued_on": decision.issued_on.isoformat(),
                       "casefile_id": decision.casefile_id, "addressee": decision.addressee,
                       "subject": decision.subject, "record_id": decision.record_id,
                       "issued_by": decision.issued_by, "issued_at": decision.issued_at.isoformat()}, sort_keys=True)


def _ids(ports: Ports) -> list[str]:
    raw = ports.catalog.get_setting(INDEX_KEY)
    return [str(x) for x in json.loads(raw)] if raw else []
