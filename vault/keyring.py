"""The sub-keys of an unlocked home, each derived from the master key by HKDF with its own label."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class KeyPurpose(StrEnum):
    CATALOG = "catalog"  # SQLCipher raw key
    INDEX = "index"  # sealed Whoosh files (the indexer's business)
    KEK = "kek"  # wraps the per-record data keys
    DEDUP = "dedup"  # HMAC of plaintext for duplicate detection
    AUDIT_HMAC = "audit-hmac"  # HMAC of strings the audit trail must not hold in the clear
    AUDIT_SIGNING = "audit-signing"  # Ed25519 seed for checkpoints and certificates
    BACKUP = "backup-mac"  # HMAC of a backup's manifest (vault/backupmanifest.py)
    ANCHOR = "anchor"  # seals the rollback anchor outside the catalogue (vault/anchor.py)


def derive_subkey(master: bytes, vault_id: str, purpose: KeyPurpose) -> bytes:
    # Distinct info labels give independent keys (domain separation); binding the vault id
    # means two homes never share a sub-key even if a master key were ever reused.
    info = f"strongroom/v1/{purpose}|{vault_id}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


@dataclass(frozen=True, slots=True, repr=False)
class Keyring:
    """All sub-keys of one unlocked home. `repr` is hidden so a key never lands in a log."""

    vault_id: str
    catalog: bytes
    index: bytes
    kek: bytes
    dedup: bytes
    audit_hmac: bytes
    audit_signing_seed: bytes
    backup_mac: bytes
    anchor: bytes

    @classmethod
    def from_master(cls, master: bytes, vault_id: str) -> Keyring:
        def sub(p: KeyPurpose) -> bytes:
            return derive_subkey(master, vault_id, p)
        return cls(vault_id=vault_id, catalog=sub(KeyPurpose.CATALOG), index=sub(KeyPurpose.INDEX),
                   kek=sub(KeyPurpose.KEK), dedup=sub(KeyPurpose.DEDUP),
                   audit_hmac=sub(KeyPurpose.AUDIT_HMAC), audit_signing_seed=sub(KeyPurpose.AUDIT_SIGNING),
                   backup_mac=sub(KeyPurpose.BACKUP), anchor=sub(KeyPurpose.ANCHOR))

    def audit_mac(self, value: str) -> str:
        """`hmac:<hex>` of a string the audit trail may correlate but must not reveal."""
        return "hmac:" + hmac.new(self.audit_hmac, value.encode(), sha256).hexdigest()

    def __repr__(self) -> str:
        return f"Keyring(vault_id={self.vault_id!r}, <keys hidden>)"
