"""keys.json: the key slots that each wrap the master key, one per passphrase plus a recovery slot."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault import kdf
from vault.atomicfile import write_atomic
from vault.errors import (KEYS_RECOVERY_DOC, KeyFileInvalid, KeyFileMissing, SlotError, WrongPassphrase,
                          WrongRecoveryKey)
from vault.kdf import KdfParams

MAGIC = "strongroom-keys"
VERSION = 1
MASTER_KEY_BYTES = 32
_NONCE_BYTES = 12


class SlotKind(StrEnum):
    PASSPHRASE = "passphrase"
    RECOVERY = "recovery"


@dataclass(frozen=True, slots=True)
class Slot:
    slot_id: str
    kind: SlotKind
    kdf: KdfParams | None  # passphrase slots; the recovery slot uses HKDF with `salt`
    salt: bytes  # recovery slot salt (the KDF salt lives in `kdf` for passphrase slots)
    nonce: bytes
    wrapped: bytes  # AES-256-GCM(master key) under the slot key
    created: str

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.slot_id, "type": str(self.kind), "created": self.created,
                               "nonce": self.nonce.hex(), "wrapped": self.wrapped.hex()}
        if self.kdf is not None:
            doc["kdf"] = self.kdf.to_json()
        else:
            doc["kdf"] = {"alg": "hkdf-sha256", "salt": self.salt.hex()}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Slot:
        kind = SlotKind(doc["type"])
        if kind is SlotKind.PASSPHRASE:
            params: KdfParams | None = KdfParams.from_json(doc["kdf"])
            salt = b""
        else:
            if doc["kdf"]["alg"] != "hkdf-sha256":
                raise ValueError("unknown recovery KDF")
            params, salt = None, bytes.fromhex(doc["kdf"]["salt"])
        slot = cls(slot_id=str(doc["id"]), kind=kind, kdf=params, salt=salt,
                   nonce=bytes.fromhex(doc["nonce"]), wrapped=bytes.fromhex(doc["wrapped"]),
                   created=str(doc.get("created", "")))
        if len(slot.nonce) != _NONCE_BYTES or len(slot.wrapped) != MASTER_KEY_BYTES + 16:
            raise ValueError("bad nonce or wrapped key length")
        return slot


@dataclass(frozen=True, slots=True)
class KeyFile:
    vault_id: str  # 32 hex digits, random; names this home in every associated-data string
    slots: tuple[Slot, ...]

    def passphrase_slots(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if s.kind is SlotKind.PASSPHRASE)

    def to_bytes(self) -> bytes:
        doc = {"magic": MAGIC, "version": VERSION, "vault_id": self.vault_id,
               "slots": [s.to_json() for s in self.slots]}
        return (json.dumps(doc, indent=2) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyFile:
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise KeyFileInvalid("keys.json is not readable: restore it from a backup of this home as "
                                 f"{KEYS_RECOVERY_DOC} describes.") from exc
        if not isinstance(doc, dict) or doc.get("magic") != MAGIC:
            raise KeyFileInvalid("keys.json is not a Strongroom key file: restore it from a backup as "
                                 f"{KEYS_RECOVERY_DOC} describes.")
        if doc.get("version") != VERSION:
            raise KeyFileInvalid(f"keys.json has format version {doc.get('version')!r}, which this "
                                 "version of Strongroom cannot read: upgrade Strongroom.")
        try:
            vault_id = str(doc["vault_id"])
            bytes.fromhex(vault_id)
            slots = tuple(Slot.from_json(s) for s in doc["slots"])
        except KeyFileInvalid:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFileInvalid("keys.json has a malformed key slot: restore it from a backup as "
                                 f"{KEYS_RECOVERY_DOC} describes.") from exc
        return cls(vault_id=vault_id, slots=slots)


def load(path: Path) -> KeyFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileMissing(str(path)) from None
    return KeyFile.from_bytes(data)


def save(path: Path, keyfile: KeyFile) -> None:
    """Replace keys.json atomically: a crash leaves the old file or the new one, never a mix."""
    write_atomic(path, keyfile.to_bytes(), mode=0o600)


def new_keyfile() -> tuple[KeyFile, bytes]:
    """An empty key file for a new home and its random master key."""
    return KeyFile(vault_id=secrets.token_hex(16), slots=()), os.urandom(MASTER_KEY_BYTES)


def add_passphrase(keyfile: KeyFile, master: bytes, passphrase: str, params: KdfParams) -> tuple[KeyFile, str]:
    params.check()
    slot_id = _new_slot_id(keyfile)
    slot_key = kdf.derive(passphrase.encode(), params)
    slot = _wrap(keyfile.vault_id, slot_id, SlotKind.PASSPHRASE, slot_key, master, params, b"")
    return replace(keyfile, slots=keyfile.slots + (slot,)), slot_id


def set_recovery(keyfile: KeyFile, master: bytes, recovery_key: bytes) -> KeyFile:
    """Add the recovery slot, replacing an existing one (the old printed key stops working)."""
    salt = os.urandom(32)
    slot_id = _new_slot_id(keyfile)
    slot = _wrap(keyfile.vault_id, slot_id, SlotKind.RECOVERY, _recovery_kek(recovery_key, salt),
                 master, None, salt)
    kept = tuple(s for s in keyfile.slots if s.kind is not SlotKind.RECOVERY)
    return replace(keyfile, slots=kept + (slot,))


def remove_slot(keyfile: KeyFile, slot_id: str) -> KeyFile:
    target = next((s for s in keyfile.slots if s.slot_id == slot_id), None)
    if target is None:
        raise SlotError(f"There is no key slot {slot_id!r}: `strongroom passphrase list` shows them.")
    if target.kind is SlotKind.PASSPHRASE and len(keyfile.passphrase_slots()) == 1:
        raise SlotError("This is the last passphrase: add another one before removing it.")
    return replace(keyfile, slots=tuple(s for s in keyfile.slots if s.slot_id != slot_id))


def unlock_passphrase(keyfile: KeyFile, passphrase: str) -> tuple[bytes, str]:
    """The master key and the id of the slot the passphrase opened; WrongPassphrase otherwise."""
    slots = [(s, s.kdf) for s in keyfile.passphrase_slots() if s.kdf is not None]
    for _, params in slots:  # validate every slot's bounds before running any KDF
        params.check()
    for slot, params in slots:
        master = _unwrap(keyfile.vault_id, slot, kdf.derive(passphrase.encode(), params))
        if master is not None:
            return master, slot.slot_id
    raise WrongPassphrase()


def unlock_recovery(keyfile: KeyFile, recovery_key: bytes) -> bytes:
    for slot in keyfile.slots:
        if slot.kind is SlotKind.RECOVERY:
            master = _unwrap(keyfile.vault_id, slot, _recovery_kek(recovery_key, slot.salt))
            if master is not None:
                return master
    raise WrongRecoveryKey()


def _associated_data(vault_id: str, slot_id: str, kind: SlotKind) -> bytes:
    # Binds the wrapped key to this file format, this home and this slot: a slot copied
    # from another home, or relabelled from recovery to passphrase, fails to unwrap.
    return f"{MAGIC}|{VERSION}|{vault_id}|{slot_id}|{kind}".encode()


def _wrap(vault_id: str, slot_id: str, kind: SlotKind, slot_key: bytes, master: bytes,
          params: KdfParams | None, salt: bytes) -> Slot:
    nonce = os.urandom(_NONCE_BYTES)  # a fresh slot key per slot: a random nonce is safe
    wrapped = AESGCM(slot_key).encrypt(nonce, master, _associated_data(vault_id, slot_id, kind))
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Slot(slot_id=slot_id, kind=kind, kdf=params, salt=salt, nonce=nonce, wrapped=wrapped,
                created=created)


def _unwrap(vault_id: str, slot: Slot, slot_key: bytes) -> bytes | None:
    try:
        return AESGCM(slot_key).decrypt(slot.nonce, slot.wrapped,
                                        _associated_data(vault_id, slot.slot_id, slot.kind))
    except InvalidTag:
        return None


def _recovery_kek(recovery_key: bytes, salt: bytes) -> bytes:
    # The recovery key is 256 uniformly random bits, so a slow KDF adds nothing: HKDF suffices.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                info=b"strongroom/v1/recovery-slot").derive(recovery_key)


def _new_slot_id(keyfile: KeyFile) -> str:
    taken = {s.slot_id for s in keyfile.slots}
    while True:
        slot_id = secrets.token_hex(4)
        if slot_id not in taken:
            return slot_id
