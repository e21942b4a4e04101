"""Disposition: destroying records whose retention has run out, after review, leaving stubs and a certificate.

Destruction crypto-shreds the record's data key (so every copy of its blobs becomes noise,
save where a catalogue copy taken earlier, e.g. an older backup, still holds the key: see
docs/backups.md), deletes the blobs and the index entry, and keeps a metadata stub
with state `disposed`. The stub keeps what a register needs to show that something existed
and was destroyed lawfully: id, registry number, class, principal, confidentiality, document
date, filing date and filer, retention trigger and until, holds history. It loses every
field that can carry document content: title, file name, parties, tags, class-specific
fields, free metadata, text note, signature facts (signers' names and identity codes), media type,
size and SHA-256 (a bare hash would answer "was this exact file ever here?").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from records import certificates, checkpoints
from records.access import AccessScope, Permission
from records.certificates import Certificate
from records.errors import AccessDenied, DispositionRefused, RecordsError
from records.events import event
from records.model import Record, RecordId, State
from records.plan import Plan
from records.ports import Ports
from records.retention import Decision, Status, decide, evaluate
from records.retrieval import visible_record

PROPOSAL_PREFIX = "disposal.proposal."


@dataclass(frozen=True, slots=True)
class Proposal:
    proposal_id: str
    record_ids: tuple[str, ...]
    proposed_by: str
    proposed_at: datetime
    as_of: date


@dataclass(frozen=True, slots=True)
class DispositionResult:
    status: str  # "disposed" | "proposed"
    record_ids: tuple[str, ...]
    certificate: Certificate | None = None
    proposal: Proposal | None = None


def due(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
        scope: AccessScope | None = None) -> list[Decision]:
    """Records whose retention ran out by `as_of` and that no hold blocks (only those `scope` may see)."""
    return [d for d in review(ports, plan, jurisdiction=jurisdiction, as_of=as_of, scope=scope) if d.due]


def review(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
           scope: AccessScope | None = None) -> list[Decision]:
    """A retention decision for every record `scope` may see (all records without a scope)."""
    records = [r for r in ports.catalog.find() if scope is None or scope.can_see(r)]
    return evaluate(records, plan, jurisdiction=jurisdiction, now=as_of)


def shortened(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
              scope: AccessScope | None = None) -> list[Decision]:
    """Records the plan would keep for less than their stored schedule (which applies): a plan edit
    tried to shorten their retention."""
    return [d for d in review(ports, plan, jurisdiction=jurisdiction, as_of=as_of, scope=scope)
            if d.shortened_by_plan]


def plan_conflicts(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date) -> list[str]:
    """For `verify`: one sentence per class whose records the plan would keep for less than their stored
    schedule."""
    by_class: dict[str, list[Decision]] = {}
    for d in shortened(ports, plan, jurisdiction=jurisdiction, as_of=as_of):
        by_class.setdefault(d.record_class, []).append(d)
    return [f"The plan would end the retention of {len(found)} record(s) of class {code} earlier than their "
            f"stored schedule (e.g. {found[0].registry_number}, kept {_kept(found[0])}); the stored dates "
            "apply: shorten a record's retention only with `strongroom edit --reason`, or restore the plan."
            for code, found in sorted(by_class.items())]


def _kept(d: Decision) -> str:
    return f"until {d.until.isoformat()}" if d.until else "with no end date"


def dispose(ports: Ports, plan: Plan, scope: AccessScope, ids: list[RecordId], *, jurisdiction: str,
            as_of: date, now: datetime, require_second_approver: bool = False,
            channel: str = "cli") -> DispositionResult:
    """Destroy due, unheld records now, or (when the home requires it) store a proposal for approval."""
    if not scope.may(Permission.DISPOSE):
        raise AccessDenied(f"Your role ({scope.role}) may not dispose of records.")
    records = _checked(ports, plan, scope, ids, jurisdiction=jurisdiction, as_of=as_of)
    if require_second_approver:
        return _propose(ports, scope, records, as_of=as_of, now=now, channel=channel)
    cert = _destroy(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of, now=now,
                    actor=scope.actor, approvers=(), channel=channel)
    return DispositionResult(status="disposed", record_ids=tuple(r.id for r in records), certificate=cert)


def approve(ports: Ports, plan: Plan, scope: AccessScope, proposal_id: str, *, jurisdiction: str,
            now: datetime, channel: str = "cli") -> DispositionResult:
    """A second person approves a proposal; the records are re-checked, then destroyed."""
    proposal = load_proposal(ports, proposal_id)
    if not scope.may(Permission.APPROVE):
        raise AccessDenied(f"Your role ({scope.role}) may not approve destruction.")
    if scope.actor == proposal.proposed_by:
        raise DispositionRefused("The person who proposed a destruction cannot approve it: ask a second "
                                 "person with approval rights.")
    records = _checked(ports, plan, scope, [RecordId(i) for i in proposal.record_ids],
                       jurisdiction=jurisdiction, as_of=proposal.as_of)
    cert = _destroy(ports, plan, records, jurisdiction=jurisdiction, as_of=proposal.as_of, now=now,
                    actor=proposal.proposed_by, approvers=(scope.actor,), channel=channel,
                    proposal_id=proposal_id)
    return DispositionResult(status="disposed", record_ids=proposal.record_ids, certificate=cert)


def proposals(ports: Ports) -> list[Proposal]:
    raw = ports.catalog.get_setting(PROPOSAL_PREFIX + "open")
    return [load_proposal(ports, pid) for pid in (json.loads(raw) if raw else [])]


def load_proposal(ports: Ports, proposal_id: str) -> Proposal:
    raw = ports.catalog.get_setting(PROPOSAL_PREFIX + proposal_id)
    if raw is None:
        raise RecordsError(f"There is no open destruction proposal {proposal_id}: it was approved already "
                           "or the id is wrong.")
    doc = json.loads(raw)
    return Proposal(proposal_id=proposal_id, record_ids=tuple(doc["record_ids"]), proposed_by=doc["proposed_by"],
                    proposed_at=datetime.fromisoformat(doc["proposed_at"]), as_of=date.fromisoformat(doc["as_of"]))


def _checked(ports: Ports, plan: Plan, scope: AccessScope, ids: list[RecordId], *, jurisdiction: str,
             as_of: date) -> list[Record]:
    """All the records, or DispositionRefused naming every one that may not be destroyed and why."""
    if not ids:
        raise DispositionRefused("No records were named: give the ids to dispose of "
                                 "(`strongroom retention due` lists them).")
    records = [visible_record(ports, scope, rid) for rid in dict.fromkeys(ids)]
    refusals = []
    for record in records:
        decision = decide(record, plan, jurisdiction=jurisdiction, now=as_of)
        if decision.status is not Status.DUE:
            refusals.append(f"{record.registry_number}: {decision.reason}")
    if refusals:
        raise DispositionRefused("Nothing was destroyed, because " + "; ".join(refusals))
    return records


def _propose(ports: Ports, scope: AccessScope, records: list[Record], *, as_of: date, now: datetime,
             channel: str) -> DispositionResult:
    proposal = Proposal(proposal_id=uuid.uuid4().hex[:12], record_ids=tuple(r.id for r in records),
                        proposed_by=scope.actor, proposed_at=now, as_of=as_of)
    open_ids = [p.proposal_id for p in proposals(ports)]
    with ports.catalog.transaction() as tx:
        tx.put_setting(PROPOSAL_PREFIX + proposal.proposal_id, json.dumps({
            "record_ids": list(proposal.record_ids), "proposed_by": proposal.proposed_by,
            "proposed_at": now.isoformat(), "as_of": as_of.isoformat()}))
        tx.put_setting(PROPOSAL_PREFIX + "open", json.dumps([*open_ids, proposal.proposal_id]))
        for record in records:
            checkpoints.append(tx, ports.signer, event("disposal.propose", actor=scope.actor, now=now,
                                                       record_id=record.id, channel=channel,
                                                       details=(("proposal", proposal.proposal_id),)))
    return DispositionResult(status="proposed", record_ids=proposal.record_ids, proposal=proposal)


def stub(record: Record, now: datetime) -> Record:
    """The metadata that outlives a destroyed record (see the module docstring for the choice)."""
    return replace(record, title="", original_name="", media_type="", size=0, sha256="", parties=(),
                   tags=(), details=None, blobs=(), text_note="", extra=(), signatures=(),
                   state=State.DISPOSED, disposed_at=now)


def _destroy(ports: Ports, plan: Plan, records: list[Record], *, jurisdiction: str, as_of: date,
             now: datetime, actor: str, approvers: tuple[str, ...], channel: str,
             proposal_id: str | None = None) -> Certificate:
    """Shred, stub, certify and delete under the home's maintenance lock (never during a backup)."""
    with ports.blobs.exclusive():
        return _destroy_locked(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of, now=now, actor=actor,
                               approvers=approvers, channel=channel, proposal_id=proposal_id)


def _destroy_locked(ports: Ports, plan: Plan, records: list[Record], *, jurisdiction: str, as_of: date,
                    now: datetime, actor: str, approvers: tuple[str, ...], channel: str,
                    proposal_id: str | None) -> Certificate:
    certificate_id = uuid.uuid4().hex[:16]
    with ports.catalog.transaction() as tx:
        head = None
        for record in records:
            tx.shred_key(record.id)
            tx.replace(stub(record, now))
            head = checkpoints.append(tx, ports.signer, event(
                "record.dispose", actor=actor, now=now, record_id=record.id, channel=channel,
                details=(("registry", record.registry_number), ("certificate", certificate_id),
                         ("approvers", ",".join(approvers)))))
        if head is None:  # _checked refuses an empty list; this guards the invariant, not input
            raise DispositionRefused("No records were named: nothing was destroyed.")
        cert = certificates.sign(ports.signer, {
            "certificate_id": certificate_id, "time": now.isoformat(), "as_of": as_of.isoformat(),
            "jurisdiction": jurisdiction, "proposed_by": actor, "approvers": list(approvers),
            "records": [_line(plan, r, jurisdiction, as_of) for r in records],
            "chain_head": {"seq": head.seq, "hash": head.hash}})
        certificates.store(tx, ports.catalog, cert)
        if proposal_id is not None:
            remaining = [p.proposal_id for p in proposals(ports) if p.proposal_id != proposal_id]
            tx.put_setting(PROPOSAL_PREFIX + "open", json.dumps(remaining))
        checkpoints.seal_run(tx, ports.signer, event("disposition.run", actor=actor, now=now, channel=channel,
                                                     details=(("certificate", certificate_id),
                                                              ("records", str(len(records))))))
    # After the commit: the keys are gone, so these blobs are already unreadable noise; a crash
    # here leaves orphans that `verify` reports, never readable content.
    for record in records:
        for ref in record.blobs:
            try:
                ports.blobs.delete(ref)
            except OSError:
                pass
    if ports.index is not None:
        try:
            ports.index.remove([r.id for r in records])
        except Exception:  # noqa: BLE001 - a stale hit of a shredded record cannot be opened; reindex repairs
            pass
    return cert


def _line(plan: Plan, record: Record, jurisdiction: str, as_of: date) -> dict[str, str | None]:
    cls = plan.resolve(record.record_class)
    decision = decide(record, plan, jurisdiction=jurisdiction, now=as_of)
    return {"id": record.id, "registry_number": record.registry_number, "record_class": cls.code,
            "class_name": cls.name("en"), "document_date": _iso(record.document_date),
            "filed_at": record.filed_at.isoformat(), "retention_trigger": _iso(decision.trigger),
            "retention_until": _iso(decision.until), "basis": decision.basis,
            "action": str(cls.action)}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
