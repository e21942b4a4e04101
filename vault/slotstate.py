"""Slot state: the key slots the catalogue last saw, so no change to keys.json goes unaudited.

keys.json is a file and the audit trail lives in the catalogue, so no transaction spans both. A
key change writes keys.json inside its catalogue transaction and records the new slot state there
too (`record`); a process killed between the file's rename and the COMMIT, or anyone swapping
keys.json offline (an old copy holding a removed person's passphrase, say), leaves the two apart.
Every open compares them (`reconcile`) and appends one `key.slots.unrecorded` entry naming the
slots added, removed or changed, then records what it found.

The state is one catalogue setting: per slot id its kind and a short SHA-256 of the slot's JSON
(so a slot rewritten under the same id counts as changed). No secret: the wrapped keys are
already on disk in keys.json, and the catalogue is encrypted.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from records import checkpoints
from records.audit import AuditEntry, AuditEvent
from records.ports import CatalogTx, Signer
from vault import keyslots
from vault.catalog import SqlCipherCatalog
from vault.keyslots import KeyFile

SETTING = "keys.slots"
UNRECORDED = "key.slots.unrecorded"  # keys.json changed without its audit entry
BASELINE = "key.slots.recorded"  # a home made before slot states were kept: the first one seen
ACTOR = "system:vault"


def state_of(keyfile: KeyFile) -> dict[str, str]:
    """{slot id: "kind:fingerprint"} of every slot in `keyfile`."""
    return {s.slot_id: f"{s.kind}:{_fingerprint(s.to_json())}" for s in keyfile.slots}


def record(tx: CatalogTx, keyfile: KeyFile) -> None:
    """Note `keyfile`'s slots in the same transaction as the key change's audit entry."""
    tx.put_setting(SETTING, json.dumps(state_of(keyfile), sort_keys=True))


def reconcile(catalog: SqlCipherCatalog, signer: Signer, keys_path: Path, *,
              channel: str = "cli") -> AuditEntry | None:
    """Audit and record a keys.json the catalogue has not seen; None (and no write) when they agree."""
    if _recorded(catalog) == state_of(keyslots.load(keys_path)):
        return None
    with catalog.transaction() as tx:
        # Read both again under the write lock: a key change holds it from its keys.json rename to its
        # COMMIT, so a difference seen here was left by a change that died or by a hand outside Strongroom.
        current, recorded = state_of(keyslots.load(keys_path)), _recorded(catalog)
        if recorded == current:
            return None
        tx.put_setting(SETTING, json.dumps(current, sort_keys=True))
        return checkpoints.append(tx, signer, _event(recorded, current, channel))


def _event(recorded: dict[str, str] | None, current: dict[str, str], channel: str) -> AuditEvent:
    now = datetime.now(timezone.utc)
    if recorded is None:
        return AuditEvent(ts=now, actor=ACTOR, action=BASELINE, channel=channel,
                          details=(("slots", _names(current)),))
    added = _names({i: k for i, k in current.items() if i not in recorded})
    removed = _names({i: k for i, k in recorded.items() if i not in current})
    changed = _names({i: k for i, k in current.items() if i in recorded and recorded[i] != k})
    details = (("added", added), ("removed", removed), ("changed", changed))
    return AuditEvent(ts=now, actor=ACTOR, action=UNRECORDED, outcome="recovered", channel=channel,
                      details=tuple(d for d in details if d[1]))


def _names(slots: dict[str, str]) -> str:
    """"id:kind,id:kind" sorted by id (the fingerprints stay in the setting)."""
    return ",".join(f"{slot_id}:{value.split(':')[0]}" for slot_id, value in sorted(slots.items()))


def _recorded(catalog: SqlCipherCatalog) -> dict[str, str] | None:
    """The recorded state; None if none was ever recorded. A malformed value reads as no slots, so
    every slot of keys.json is then reported as added."""
    value = catalog.get_setting(SETTING)
    if value is None:
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}


def _fingerprint(slot_json: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(slot_json, sort_keys=True).encode()).hexdigest()[:16]
