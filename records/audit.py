"""The audit trail as a hash chain: canonical entries, each bound to the one before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64
ENTRY_VERSION = 1
# An exported entry whose document hash the exporter may not see carries this in place of the value
# and names the withheld details under "withheld" (records/export.py); only an export may do so.
WITHHELD = "withheld"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened. `details` never holds document text, titles or queries in the clear."""

    ts: datetime  # aware, UTC
    actor: str  # user name, or "system:watcher", "system:cli"
    action: str  # e.g. "record.file", "record.view", "search", "login", "hold.add"
    outcome: str = "ok"  # ok | denied | failed | duplicate | rejected
    record_id: str | None = None
    channel: str = "cli"  # cli | web | watcher | import
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int  # 1, 2, 3, ... contiguous
    event: AuditEvent
    prev_hash: str  # hex SHA-256 of the previous entry's canonical bytes; GENESIS for seq 1
    hash: str  # hex SHA-256 of this entry's canonical bytes

    def to_json(self) -> dict[str, Any]:
        doc = entry_document(self.seq, self.event, self.prev_hash)
        doc["hash"] = self.hash
        return doc


def entry_document(seq: int, event: AuditEvent, prev_hash: str) -> dict[str, Any]:
    return {
        "v": ENTRY_VERSION,
        "seq": seq,
        "ts": event.ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "action": event.action,
        "outcome": event.outcome,
        "record": event.record_id,
        "channel": event.channel,
        "details": {k: v for k, v in event.details},
        "prev": prev_hash,
    }


def canonical(doc: dict[str, Any]) -> bytes:
    """Canonical JSON: UTF-8, sorted keys, no insignificant whitespace."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain(seq: int, event: AuditEvent, prev_hash: str) -> AuditEntry:
    """The entry that follows `prev_hash` at position `seq`."""
    digest = hashlib.sha256(canonical(entry_document(seq, event, prev_hash))).hexdigest()
    return AuditEntry(seq=seq, event=event, prev_hash=prev_hash, hash=digest)


def event_from_json(doc: dict[str, Any]) -> AuditEvent:
    ts = datetime.strptime(doc["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return AuditEvent(ts=ts, actor=doc["actor"], action=doc["action"], outcome=doc["outcome"],
                      record_id=doc["record"], channel=doc["channel"],
                      details=tuple(sorted(doc["details"].items())))


def first_break(docs: Iterable[dict[str, Any]], *, start_prev: str | None = None, start_seq: int | None = None,
                withheld_ok: bool = False, on_entry: Callable[[int, str], None] | None = None) -> str | None:
    """Walk JSON entries (with their "hash"); return a phrase naming the first broken one, or None.

    `start_prev` and `start_seq` pin the first entry (its "prev" hash and its number) when known;
    `on_entry(seq, hash)` is told of each entry once it has verified. Callers use it through
    `records.checkpoints.ChainVerifier`, which also judges the signed checkpoints.
    `withheld_ok` (exports only, never the catalogue): an entry with withheld details cannot be
    rehashed, so its stated hash is taken as given; it must still link to the entry before it, and
    the entry after it must link to that hash.
    """
    prev = start_prev
    expected_seq = start_seq
    for doc in docs:
        seq = doc.get("seq")
        if expected_seq is not None and seq != expected_seq:
            return f"audit entry {expected_seq} is missing (found {seq} instead)"
        body = {k: v for k, v in doc.items() if k != "hash"}
        if prev is not None and body.get("prev") != prev:
            return f"audit entry {seq} does not link to the entry before it"
        if withheld_ok and "withheld" in body:
            if not _withheld_well_formed(body, doc.get("hash")):
                return f"audit entry {seq} withholds details in a malformed way"
            digest = str(doc["hash"])
        else:
            digest = hashlib.sha256(canonical(body)).hexdigest()
        if digest != doc.get("hash"):
            return f"audit entry {seq} was altered (its hash does not match)"
        if not isinstance(seq, int):
            after = "the start" if expected_seq is None else f"entry {expected_seq - 1}"
            return f"the audit entry after {after} has no valid sequence number"
        prev = digest
        expected_seq = seq + 1
        if on_entry is not None:
            on_entry(seq, digest)
    return None


def withhold(doc: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A copy of an entry document (with its "hash") whose `names` details read WITHHELD."""
    details = dict(doc.get("details") or {})
    hidden = sorted(n for n in names if n in details)
    if not hidden:
        return doc
    details.update({n: WITHHELD for n in hidden})
    return {**doc, "details": details, "withheld": hidden}


def _withheld_well_formed(body: dict[str, Any], digest: object) -> bool:
    names, details = body.get("withheld"), body.get("details")
    return (isinstance(names, list) and bool(names) and isinstance(details, dict)
            and all(isinstance(n, str) and details.get(n) == WITHHELD for n in names)
            and isinstance(digest, str) and len(digest) == 64)
