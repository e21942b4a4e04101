"""The audit chain's one write path and its one verifier, with signed checkpoints.

Every audit entry is written by `append` (or `seal_run`, which closes an export or disposition
run) inside the caller's catalogue transaction, so an entry commits with the change it records
or not at all, and the checkpoint it may trigger commits with it.

A checkpoint signs the text `origin`, `size`, `head` and time (one per line, after the
transparency-log "checkpoint" note format), so a copy of the chain can be checked offline
against the home's Ed25519 public key: entries up to `size` cannot change without the
head hash, and so the signature, failing. `ChainVerifier` checks the home's chain
(`strongroom verify`) and an export's slice of it (`verify-export`) alike.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from records.audit import GENESIS, AuditEntry, AuditEvent, first_break
from records.errors import VerificationUnavailable
from records.ports import Catalog, CatalogTx, Checkpoint, Signer

ORIGIN = "strongroom.audit/v1"
CHECKPOINT_EVERY = 1000
_TS = "%Y-%m-%dT%H:%M:%S.%fZ"

SignatureCheck = Callable[[bytes, bytes, bytes], bool]  # (public key, message, signature) -> valid


def checkpoint_text(cp: Checkpoint) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    ts = cp.ts.astimezone(timezone.utc).strftime(_TS)
    return f"{ORIGIN}\n{cp.size}\n{cp.head}\n{ts}\n".encode()


def parse_checkpoint(text: bytes, signature: bytes) -> Checkpoint:
    """The checkpoint whose signed text is `text`; ValueError unless `text` is exactly such a text."""
    origin, size, head, ts, rest = text.decode("utf-8").split("\n")
    if origin != ORIGIN or rest or not size.isdigit():
        raise ValueError("not a Strongroom checkpoint")
    cp = Checkpoint(size=int(size), head=head, ts=datetime.strptime(ts, _TS).replace(tzinfo=timezone.utc),
                    signature=signature)
    if checkpoint_text(cp) != text:
        raise ValueError("not a canonical checkpoint text")
    return cp


def make_checkpoint(signer: Signer, entry: AuditEntry, ts: datetime) -> Checkpoint:
    unsigned = Checkpoint(size=entry.seq, head=entry.hash, ts=ts, signature=b"")
    return Checkpoint(size=entry.seq, head=entry.hash, ts=ts, signature=signer.sign(checkpoint_text(unsigned)))


def append(tx: CatalogTx, signer: Signer, event: AuditEvent, *, every: int = CHECKPOINT_EVERY) -> AuditEntry:
    """Append one audit entry in `tx`, the transaction of the change it records; sign a checkpoint in
    the same transaction when `every` entries have passed since the last one."""
    if not callable(getattr(signer, "sign", None)):
        # A caller handing in something else would otherwise fail only at its thousandth entry.
        raise TypeError(f"checkpoints.append needs the home's Signer, not {type(signer).__name__}")
    entry = tx.append_audit(event)
    if entry.seq - tx.last_checkpoint_size() >= every:
        tx.add_checkpoint(make_checkpoint(signer, entry, event.ts))
    return entry


def seal_run(tx: CatalogTx, signer: Signer, event: AuditEvent) -> AuditEntry:
    """Append the entry that closes an export or disposition run and checkpoint it at once."""
    entry = tx.append_audit(event)
    tx.add_checkpoint(make_checkpoint(signer, entry, event.ts))
    return entry


class Verdict(StrEnum):
    """What a signed checkpoint says about the chain walked."""

    SOUND = "sound"
    UNMATCHED = "unmatched"  # it names a head the walked chain does not have
    FORGED = "forged"  # its signature does not verify under the key given


class ChainVerifier:
    """The one audit-chain verifier: walks entries, then judges signed checkpoints against them.

    `signature_valid` is the Ed25519 check, handed in by the shell or the vault (the records core
    does no cryptography). Without one the verifier refuses to start: a missing signature
    dependency is an error, never a chain reported sound with its signatures unchecked.
    `remember` limits which entries' hashes are kept for judging (default: all of them).
    """

    def __init__(self, signature_valid: SignatureCheck | None, *, remember: Container[int] | None = None) -> None:
        if signature_valid is None or not callable(signature_valid):
            raise VerificationUnavailable(
                "The audit trail's signatures cannot be checked because no Ed25519 verifier is available "
                "(is the cryptography package installed?): nothing was verified.")
        self._valid = signature_valid
        self._remember = remember
        self.seen: dict[int, str] = {}  # seq -> hash of each remembered entry that verified

    def note(self, seq: int, digest: str) -> None:
        """Remember a point known good from elsewhere (an anchor, or the previous export's head)."""
        if self._remember is None or seq in self._remember:
            self.seen[seq] = digest

    def walk(self, docs: Iterable[dict[str, Any]], *, after: int = 0, after_hash: str = GENESIS,
             withheld_ok: bool = False) -> str | None:
        """The first break (a phrase) in the entries that follow entry `after` (whose hash is
        `after_hash`; by default the chain's start), or None when every one links and verifies.
        `withheld_ok` only for exports (see `records.audit.first_break`), never for the catalogue."""
        self.note(after, after_hash)
        try:
            return first_break(docs, start_prev=after_hash, start_seq=after + 1, withheld_ok=withheld_ok,
                               on_entry=self.note)
        except (TypeError, ValueError, KeyError, AttributeError):
            return f"an audit entry after {max(self.seen, default=after)} is malformed"

    def judge(self, cp: Checkpoint, public_key: bytes) -> Verdict:
        """Does `cp` name a head the walk saw, signed by `public_key`?"""
        if self.seen.get(cp.size) != cp.head:
            return Verdict.UNMATCHED
        if not self._valid(public_key, checkpoint_text(cp), cp.signature):
            return Verdict.FORGED
        return Verdict.SOUND


def verify_chain(catalog: Catalog, public_key: bytes, signature_valid: SignatureCheck | None) -> list[str]:
    """Every problem with the home's audit chain and its checkpoints, one sentence each (empty: sound).

    Raises VerificationUnavailable when `signature_valid` is missing."""
    cps = catalog.checkpoints()
    verifier = ChainVerifier(signature_valid, remember={cp.size for cp in cps})
    broken = verifier.walk(catalog.audit_documents())
    problems = [f"The audit trail is broken: {broken}."] if broken else []
    for cp in cps:
        verdict = verifier.judge(cp, public_key)
        if verdict is Verdict.UNMATCHED:
            problems.append(f"Checkpoint at audit entry {cp.size} does not match the audit trail: "
                            "entries up to it were altered or removed.")
        elif verdict is Verdict.FORGED:
            problems.append(f"Checkpoint at audit entry {cp.size} has an invalid signature: it was forged "
                            "or altered.")
    return problems
