"""The backup manifest: each file and object of a backup with its size and SHA-256, under an HMAC."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from records.audit import canonical
from vault.errors import BackupDamaged

MANIFEST_FILE = "backup.json"
FORMAT = "strongroom-backup"
VERSION = 1
# The MAC covers a fixed label before the canonical JSON, so a manifest MAC can never be
# confused with any other HMAC the home makes (the key is its own HKDF label besides).
_MAC_LABEL = b"strongroom backup manifest v1\n"


@dataclass(frozen=True, slots=True)
class Entry:
    """One backed-up file: its size in bytes and the SHA-256 of its (sealed or encrypted) bytes."""

    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """What one backup holds. `files` are top-level (catalog.db, keys.json, ...); `objects` by id."""

    vault_id: str
    created: str  # ISO 8601, UTC
    files: Mapping[str, Entry]
    objects: Mapping[str, Entry]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "vault_id": self.vault_id, "created": self.created,
                "files": _entries_json(self.files), "objects": _entries_json(self.objects)}


def seal_manifest(manifest: Manifest, key: bytes) -> bytes:
    """The manifest's file: its JSON and an HMAC-SHA256 of the canonical form under the backup key."""
    doc = manifest.to_json()
    return json.dumps({"manifest": doc, "mac": _mac(key, doc)}, indent=1, sort_keys=True).encode() + b"\n"


def peek_vault_id(raw: bytes) -> str | None:
    """The vault id a manifest claims, unauthenticated: only to refuse another home's backup early."""
    try:
        return str(json.loads(raw)["manifest"]["vault_id"])
    except (ValueError, KeyError, TypeError):
        return None


def open_manifest(raw: bytes, key: bytes, vault_id: str) -> Manifest:
    """The authenticated manifest; BackupDamaged (naming backup.json) when it was altered."""
    try:
        outer = json.loads(raw)
        doc, mac = outer["manifest"], str(outer["mac"])
    except (ValueError, KeyError, TypeError):
        raise BackupDamaged(f"{MANIFEST_FILE} is not readable: the backup cannot be checked; "
                            "use another backup.") from None
    if not isinstance(doc, dict) or not hmac.compare_digest(mac, _mac(key, doc)):
        raise BackupDamaged(f"{MANIFEST_FILE} was altered or belongs to another home: its authentication "
                            "code does not match, so nothing in this backup can be trusted.")
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise BackupDamaged(f"{MANIFEST_FILE} has format version {doc.get('version')!r}, which this version "
                            "of Strongroom does not read: use the Strongroom that made it.")
    if doc.get("vault_id") != vault_id:
        raise BackupDamaged(f"{MANIFEST_FILE} belongs to another home than this backup's keys.json.")
    return Manifest(vault_id=vault_id, created=str(doc["created"]),
                    files=_entries(doc["files"]), objects=_entries(doc["objects"]))


def _mac(key: bytes, doc: dict[str, Any]) -> str:
    return hmac.new(key, _MAC_LABEL + canonical(doc), sha256).hexdigest()


def _entries_json(entries: Mapping[str, Entry]) -> dict[str, dict[str, Any]]:
    return {name: {"size": e.size, "sha256": e.sha256} for name, e in sorted(entries.items())}


def _entries(doc: dict[str, Any]) -> dict[str, Entry]:
    return {str(name): Entry(size=int(e["size"]), sha256=str(e["sha256"])) for name, e in doc.items()}
