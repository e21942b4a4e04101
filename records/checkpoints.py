"""Signed checkpoints of the audit chain: every N entries and at each export or disposition run.

A checkpoint signs the text `origin`, `size`, `head` and time (one per line, after the
transparency-log "checkpoint" note format), so a copy of the chain can be checked offline
against the home's Ed25519 public key: entries up to `size` cannot change without the
head hash, and so the signature, failing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from records.audit import GENESIS, AuditEntry, AuditEvent, first_break
from records.ports import Catalog, CatalogTx, Checkpoint, Ports, Signer

ORIGIN = "strongroom.audit/v1"
CHECKPOINT_EVERY = 1000

SignatureCheck = Callable[[bytes, bytes, bytes], bool]  # (public key, message, signature) -> valid


def checkpoint_text(cp: Checkpoint) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    ts = cp.ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{ORIGIN}\n{cp.size}\n{cp.head}\n{ts}\n".encode()


def make_checkpoint(signer: Signer, entry: AuditEntry, ts: datetime) -> Checkpoint:
    unsigned = Checkpoint(size=entry.seq, head=entry.hash, ts=ts, signature=b"")
    return Checkpoint(size=entry.seq, head=entry.hash, ts=ts, signature=signer.sign(checkpoint_text(unsigned)))


def append(tx: CatalogTx, ports: Ports, event: AuditEvent, *, every: int = CHECKPOINT_EVERY) -> AuditEntry:
    """Append one audit entry; sign a checkpoint when `every` entries have passed since the last one."""
    entry = tx.append_audit(event)
    checkpoints = ports.catalog.checkpoints()
    last = checkpoints[-1].size if checkpoints else 0
    if entry.seq - last >= every:
        tx.add_checkpoint(make_checkpoint(ports.signer, entry, event.ts))
    return entry


def seal_run(tx: CatalogTx, ports: Ports, event: AuditEvent) -> AuditEntry:
    """Append the entry that closes an export or disposition run and checkpoint it at once."""
    entry = tx.append_audit(event)
    tx.add_checkpoint(make_checkpoint(ports.signer, entry, event.ts))
    return entry


def verify_chain(catalog: Catalog, public_key: bytes, signature_valid: SignatureCheck) -> list[str]:
    """Every problem with the audit chain and its checkpoints, one sentence each (empty: sound).

    `signature_valid` is the Ed25519 check (the records core does no cryptography itself).
    """
    docs = list(catalog.audit_documents())
    problems: list[str] = []
    if docs and docs[0].get("seq") != 1:
        problems.append(f"The audit trail does not start at entry 1 (it starts at {docs[0].get('seq')}): "
                        "entries were removed.")
    broken = first_break(docs, start_prev=GENESIS)
    if broken:
        problems.append(f"The audit trail is broken: {broken}.")
    by_seq = {int(d["seq"]): d for d in docs}
    for cp in catalog.checkpoints():
        doc = by_seq.get(cp.size)
        if doc is None or doc.get("hash") != cp.head:
            problems.append(f"Checkpoint at audit entry {cp.size} does not match the audit trail: "
                            "entries up to it were altered or removed.")
        elif not signature_valid(public_key, checkpoint_text(cp), cp.signature):
            problems.append(f"Checkpoint at audit entry {cp.size} has an invalid signature: it was forged "
                            "or altered.")
    return problems
