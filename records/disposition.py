"""Disposition: destroying records whose retention has run out, with a justification and (by default) a second
person, leaving stubs and a signed certificate.

Destruction crypto-shreds the record's data key (so every copy of its blobs becomes noise,
save where a catalogue copy taken earlier, e.g. an older backup, still holds the key: see
docs/backups.md), deletes the blobs and the index entry, and keeps a metadata stub
with state `disposed`. The stub keeps what a register needs to show that something existed
and was destroyed lawfully: id, registry number, class, principal, confidentiality, document
date, filing date and filer, retention trigger and until, holds history. It loses every
field that can carry document content: title, file name, parties, tags, class-specific
fields, free metadata, text note, signature facts (signers' names and identity codes), media type,
size and SHA-256 (a bare hash would answer "was this exact file ever here?").

A disposal names its records and a written justification. With the sealed two-person rule
(`require_second_approver`, on by default) it is a proposal another person with approval rights
carries out (`approve`); an office of one may switch the rule off (`strongroom settings set`, audited),
and every certificate states the rule in force. Only records whose action at the end of retention is
`destroy` are destroyed here: `review` records go to the review queue (records.review), `transfer`
records to an archive (records.transfer). Matter holds (records.matters) are evaluated every time.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from records import certificates, checkpoints, matters, safeguards
from records.access import AccessScope, Permission, require_second_person
from records.certificates import Certificate
from records.errors import AccessDenied, DispositionRefused, RecordNotFound, RecordsError
from records.events import event, masked
from records.matters import MatterHold
from records.model import Hold, Record, RecordId, State
from records.plan import Action, Plan
from records.ports import Ports
from records.retention import Decision, Status, evaluate
from records.retrieval import visible_record

# Record.extra keys a review decision or a transfer writes (records.review, records.transfer).
ACTION_KEY = "disposition.action"  # the action a review decided, overriding the class's
KEPT_KEY = "review.kept_until"  # the keep-until a review set: a lengthening, not a plan conflict
TRANSFER_KEY = "transfer.package"  # the E-ARK package the record went to an archive in
PROPOSAL_PREFIX = "disposal.proposal."


@dataclass(frozen=True, slots=True)
class Proposal:
    proposal_id: str
    record_ids: tuple[str, ...]
    proposed_by: str
    proposed_at: datetime
    as_of: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ProposalRow:
    """One record of a proposal as a records officer checks it: what it is and why it may go."""

    record_id: str
    registry_number: str
    title: str  # "" when the viewer may not see the record
    record_class: str
    class_name: str
    basis: str
    until: date | None
    status: str


@dataclass(frozen=True, slots=True)
class DispositionResult:
    status: str  # "disposed" | "proposed"
    record_ids: tuple[str, ...]
    certificate: Certificate | None = None
    proposal: Proposal | None = None


@dataclass(frozen=True, slots=True)
class HeldRecord:
    """A record some hold covers, whatever its retention status (permanent and waiting ones too)."""

    decision: Decision
    holds: tuple[Hold, ...]
    matter_holds: tuple[MatterHold, ...]


def action_of(record: Record, plan: Plan) -> Action:
    """The action at the end of the record's retention: a review's decision, else its class's."""
    decided = dict(record.extra).get(ACTION_KEY)
    return Action(decided) if decided in tuple(Action) else plan.resolve(record.record_class).action


def due(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
        scope: AccessScope | None = None) -> list[Decision]:
    """Records whose retention ran out by `as_of` and that no hold blocks (only those `scope` may see)."""
    return [d for d in review(ports, plan, jurisdiction=jurisdiction, as_of=as_of, scope=scope) if d.due]


def due_list(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
             scope: AccessScope | None = None) -> list[Decision]:
    """The due list a records officer reads: the due records, then the permanent ones and those waiting for
    their trigger event (as such, never left out)."""
    decisions = review(ports, plan, jurisdiction=jurisdiction, as_of=as_of, scope=scope)
    order = (Status.DUE, Status.PERMANENT, Status.MISSING_TRIGGER)
    return [d for status in order for d in decisions if d.status is status]


def review(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
           scope: AccessScope | None = None) -> list[Decision]:
    """A retention decision for every record `scope` may see (all records without a scope), with the matter
    holds applied and a review's decided action."""
    records = [r for r in ports.catalog.find() if scope is None or scope.can_see(r)]
    return _decisions(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of)


def held(ports: Ports, plan: Plan, *, jurisdiction: str, as_of: date,
         scope: AccessScope | None = None) -> list[HeldRecord]:
    """Every live record under an active hold (its own or a matter's), permanent and waiting ones included."""
    records = [r for r in ports.catalog.find() if r.state is not State.DISPOSED and (scope is None or scope.can_see(r))]
    covered = matters.covering(ports, records)
    chosen = [r for r in records if r.on_hold or r.id in covered]
    decisions = _decisions(ports, plan, chosen, jurisdiction=jurisdiction, as_of=as_of, covered=covered)
    return [HeldRecord(decision=d, holds=tuple(h for h in r.holds if h.active),
                       matter_holds=tuple(covered.get(r.id, ()))) for r, d in zip(chosen, decisions)]


def _decisions(ports: Ports, plan: Plan, records: list[Record], *, jurisdiction: str, as_of: date,
               covered: dict[RecordId, list[MatterHold]] | None = None) -> list[Decision]:
    if covered is None:
        covered = matters.covering(ports, records)
    out = []
    for record, d in zip(records, evaluate(records, plan, jurisdiction=jurisdiction, now=as_of)):
        action = action_of(record, plan)
        if d.action is not None and action != d.action:
            d = replace(d, action=action, reason=d.reason.replace(f"action: {d.action}", f"action: {action}"))
        kept = dict(record.extra).get(KEPT_KEY)
        if d.plan_note and record.retention_until is not None and kept == record.retention_until.isoformat():
            d = replace(d, plan_note="")  # a review kept it longer on purpose: no plan conflict
        holds = covered.get(record.id)
        if holds and d.status in (Status.DUE, Status.NOT_YET):
            d = replace(d, status=Status.ON_HOLD,
                        reason=f"The matter hold {holds[0].hold_id} covers it and blocks disposition until it "
                               "is released.")
        out.append(d)
    return out


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


def dispose(ports: Ports, plan: Plan, scope: AccessScope, ids: list[RecordId], *, reason: str, jurisdiction: str,
            as_of: date, now: datetime, channel: str = "cli") -> DispositionResult:
    """Propose the destruction of due, unheld records with a written justification; with the home's two-person
    rule off (an office of one), destroy them at once."""
    if not scope.may(Permission.DISPOSE):
        raise AccessDenied(f"Your role ({scope.role}) may not dispose of records.")
    reason = reason.strip()
    if not reason:
        raise DispositionRefused("Nothing was destroyed, because a disposal needs a written justification "
                                 "(why these records may go now): give it with --reason.")
    records = checked(ports, plan, scope, ids, jurisdiction=jurisdiction, as_of=as_of, allowed=(Action.DESTROY,))
    if safeguards.current(ports.catalog).require_second_approver:
        return _propose(ports, scope, records, reason=reason, as_of=as_of, now=now, channel=channel)
    cert = shred(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of, now=now, actor=scope.actor,
                 approvers=(), reason=reason, channel=channel)
    return DispositionResult(status="disposed", record_ids=tuple(r.id for r in records), certificate=cert)


def approve(ports: Ports, plan: Plan, scope: AccessScope, proposal_id: str, *, jurisdiction: str,
            now: datetime, channel: str = "cli") -> DispositionResult:
    """A second person approves a proposal; the records are re-checked (holds placed meanwhile, matter
    holds included, stop it), then destroyed."""
    proposal = load_proposal(ports, proposal_id)
    require_second_person(scope, proposal.proposed_by, approving="destruction", proposal="a destruction",
                          refused=DispositionRefused)
    records = checked(ports, plan, scope, [RecordId(i) for i in proposal.record_ids],
                      jurisdiction=jurisdiction, as_of=proposal.as_of, allowed=(Action.DESTROY,))
    cert = shred(ports, plan, records, jurisdiction=jurisdiction, as_of=proposal.as_of, now=now,
                 actor=proposal.proposed_by, approvers=(scope.actor,), reason=proposal.reason, channel=channel,
                 proposal_id=proposal_id)
    return DispositionResult(status="disposed", record_ids=proposal.record_ids, certificate=cert)


def proposals(ports: Ports) -> list[Proposal]:
    raw = ports.catalog.get_setting(PROPOSAL_PREFIX + "open")
    return [load_proposal(ports, pid) for pid in (json.loads(raw) if raw else [])]


def load_proposal(ports: Ports, proposal_id: str) -> Proposal:
    raw = ports.catalog.get_setting(PROPOSAL_PREFIX + proposal_id)
    open_ids = json.loads(ports.catalog.get_setting(PROPOSAL_PREFIX + "open") or "[]")
    if raw is None or proposal_id not in open_ids:
        raise RecordsError(f"There is no open destruction proposal {proposal_id}: it was approved already "
                           "or the id is wrong (`strongroom retention proposals` lists them).")
    doc = json.loads(raw)
    return Proposal(proposal_id=proposal_id, record_ids=tuple(doc["record_ids"]), proposed_by=doc["proposed_by"],
                    proposed_at=datetime.fromisoformat(doc["proposed_at"]), as_of=date.fromisoformat(doc["as_of"]),
                    reason=str(doc.get("reason", "")))


def proposal_rows(ports: Ports, plan: Plan, scope: AccessScope, proposal: Proposal, *,
                  jurisdiction: str) -> list[ProposalRow]:
    """The proposal's records with title, class, basis and keep-until (the title only where `scope` may see
    the record), as the approver checks them."""
    rows = []
    for rid in proposal.record_ids:
        try:
            record = ports.catalog.get(RecordId(rid))
        except RecordNotFound:
            continue
        d = _decisions(ports, plan, [record], jurisdiction=jurisdiction, as_of=proposal.as_of)[0]
        cls = plan.resolve(record.record_class)
        rows.append(ProposalRow(record_id=rid, registry_number=record.registry_number,
                                title=record.title if scope.can_see(record) else "", record_class=cls.code,
                                class_name=cls.name("en"), basis=d.basis, until=d.until, status=str(d.status)))
    return rows


def checked(ports: Ports, plan: Plan, scope: AccessScope, ids: list[RecordId], *, jurisdiction: str,
            as_of: date, allowed: tuple[Action, ...]) -> list[Record]:
    """All the records, or DispositionRefused naming every one that may not go and why (not due, held by
    its own or a matter hold, or its action at the end of retention is another one)."""
    if not ids:
        raise DispositionRefused("No records were named: give the ids to dispose of "
                                 "(`strongroom retention due` lists them).")
    records = [visible_record(ports, scope, rid) for rid in dict.fromkeys(ids)]
    refusals = []
    for record, decision in zip(records, _decisions(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of)):
        if decision.status is not Status.DUE:
            refusals.append(f"{record.registry_number}: {decision.reason}")
        elif decision.action not in allowed:
            refusals.append(f"{record.registry_number}: {_other_way(decision.action)}")
    if refusals:
        raise DispositionRefused("Nothing was destroyed, because " + "; ".join(refusals))
    return records


def _other_way(action: Action | None) -> str:
    if action is Action.REVIEW:
        return ("its class asks for a review at the end of retention: decide it in the review queue "
                "(`strongroom review list`, `strongroom review decide`)")
    if action is Action.TRANSFER:
        return "its class hands it to an archive at the end of retention: use `strongroom transfer`"
    return f"its action at the end of retention is {action}, not destruction"


def _propose(ports: Ports, scope: AccessScope, records: list[Record], *, reason: str, as_of: date, now: datetime,
             channel: str) -> DispositionResult:
    proposal = Proposal(proposal_id=uuid.uuid4().hex[:12], record_ids=tuple(r.id for r in records),
                        proposed_by=scope.actor, proposed_at=now, as_of=as_of, reason=reason)
    open_ids = [p.proposal_id for p in proposals(ports)]
    with ports.catalog.transaction() as tx:
        tx.put_setting(PROPOSAL_PREFIX + proposal.proposal_id, json.dumps({
            "record_ids": list(proposal.record_ids), "proposed_by": proposal.proposed_by,
            "proposed_at": now.isoformat(), "as_of": as_of.isoformat(), "reason": reason}))
        tx.put_setting(PROPOSAL_PREFIX + "open", json.dumps([*open_ids, proposal.proposal_id]))
        for record in records:
            checkpoints.append(tx, ports.signer, event("disposal.propose", actor=scope.actor, now=now,
                                                       record_id=record.id, channel=channel,
                                                       details=(("proposal", proposal.proposal_id),
                                                                ("reason", masked(ports, reason)))))
    return DispositionResult(status="proposed", record_ids=proposal.record_ids, proposal=proposal)


def stub(record: Record, now: datetime) -> Record:
    """The metadata that outlives a destroyed record (see the module docstring for the choice)."""
    return replace(record, title="", original_name="", media_type="", size=0, sha256="", parties=(),
                   tags=(), details=None, blobs=(), text_note="", extra=(), signatures=(),
                   state=State.DISPOSED, disposed_at=now)


def shred(ports: Ports, plan: Plan, records: list[Record], *, jurisdiction: str, as_of: date, now: datetime,
          actor: str, approvers: tuple[str, ...], reason: str, channel: str, proposal_id: str | None = None,
          kind: str = "destruction", receipts: dict[str, dict[str, str]] | None = None) -> Certificate:
    """Crypto-shred `records` (already checked) and sign the certificate, in one transaction, under the
    home's maintenance lock (never while a backup runs). `receipts`: for a transfer, each record's
    package and the archive's receipt reference."""
    with ports.blobs.exclusive():
        return _shred_locked(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of, now=now, actor=actor,
                             approvers=approvers, reason=reason, channel=channel, proposal_id=proposal_id,
                             kind=kind, receipts=receipts)


def _shred_locked(ports: Ports, plan: Plan, records: list[Record], *, jurisdiction: str, as_of: date,
                  now: datetime, actor: str, approvers: tuple[str, ...], reason: str, channel: str,
                  proposal_id: str | None, kind: str, receipts: dict[str, dict[str, str]] | None) -> Certificate:
    certificate_id = uuid.uuid4().hex[:16]
    sealed = safeguards.current(ports.catalog)
    two_person = "on" if sealed.require_second_approver else "off"
    lines = [_line(ports, plan, r, jurisdiction, as_of, now, (receipts or {}).get(r.id)) for r in records]
    with ports.catalog.transaction() as tx:
        head = None
        for record in records:
            tx.shred_key(record.id)
            tx.replace(stub(record, now))
            head = checkpoints.append(tx, ports.signer, event(
                "record.dispose", actor=actor, now=now, record_id=record.id, channel=channel,
                details=(("registry", record.registry_number), ("certificate", certificate_id),
                         ("approvers", ",".join(approvers)), ("two_person", two_person), ("kind", kind),
                         ("reason", masked(ports, reason)))))
        if head is None:  # checked() refuses an empty list; this guards the invariant, not input
            raise DispositionRefused("No records were named: nothing was destroyed.")
        cert = certificates.sign(ports.signer, {
            "certificate_id": certificate_id, "kind": kind, "time": now.isoformat(), "as_of": as_of.isoformat(),
            "jurisdiction": jurisdiction, "proposed_by": actor, "proposal": proposal_id,
            "approvers": list(approvers), "justification": reason, "two_person_rule": two_person,
            "backup_keep_days": sealed.backup_keep_days,
            "gone_from_backups_after": (now.date() + timedelta(days=sealed.backup_keep_days)).isoformat(),
            "records": lines, "chain_head": {"seq": head.seq, "hash": head.hash}})
        certificates.store(tx, ports.catalog, cert)
        if proposal_id is not None:
            remaining = [p.proposal_id for p in proposals(ports) if p.proposal_id != proposal_id]
            tx.put_setting(PROPOSAL_PREFIX + "open", json.dumps(remaining))
        checkpoints.seal_run(tx, ports.signer, event("disposition.run", actor=actor, now=now, channel=channel,
                                                     details=(("certificate", certificate_id),
                                                              ("records", str(len(records))), ("kind", kind))))
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


def _line(ports: Ports, plan: Plan, record: Record, jurisdiction: str, as_of: date, now: datetime,
          receipt: dict[str, str] | None) -> dict[str, object]:
    """The record's metadata stub on the certificate: what it was and why it could go (never its title)."""
    cls = plan.resolve(record.record_class)
    decision = _decisions(ports, plan, [record], jurisdiction=jurisdiction, as_of=as_of, covered={})[0]
    line: dict[str, object] = {
        "id": record.id, "registry_number": record.registry_number, "record_class": cls.code,
        "class_name": cls.name("en"), "principal": record.principal, "confidentiality": str(record.confidentiality),
        "document_date": _iso(record.document_date), "filed_at": record.filed_at.isoformat(),
        "filed_by": record.filed_by, "retention_trigger": _iso(decision.trigger),
        "retention_until": _iso(decision.until), "basis": decision.basis, "action": str(decision.action),
        "disposed_at": now.isoformat(),
        "holds": [{"hold": h.hold_id, "placed_at": h.placed_at.isoformat(),
                   "released_at": h.released_at.isoformat() if h.released_at else None} for h in record.holds]}
    if receipt:
        line["transfer"] = receipt
    return line


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def titles(ports: Ports, scope: AccessScope) -> dict[str, str]:
    """Record id -> title of every live record `scope` may see (the due and review lists name them)."""
    return {r.id: r.title for r in ports.catalog.find() if r.state is not State.DISPOSED and scope.can_see(r)}
