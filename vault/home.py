"""A Strongroom home: create one, unlock one, and the unlocked Home with its adapters."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from records import checkpoints, verification
from records.audit import AuditEvent
from vault import anchor, keyslots, slotstate
from vault.atomicfile import TEMP_PREFIX
from vault.catalog import SqlCipherCatalog
from vault.errors import CatalogError, HomeExists, HomeNotFound, SlotError, VaultError
from vault.kdf import KdfParams
from vault.keyring import Keyring
from vault.keyslots import KeyFile, SlotKind
from vault.objects import ObjectStore
from vault.recoverykey import format_recovery_key, new_recovery_key, parse_recovery_key
from vault.sessions import Session, clear_upload_staging
from vault.signing import Ed25519Signer, signature_valid
from vault.verification import storage_report

KEYS_FILE = "keys.json"
CATALOG_FILE = "catalog.db"
FOLDERS = ("objects", "index", "inbox", "rejected")
RECOVERY = "recovery"
# Where a home's sealed objects live when not in objects/ (vault.s3objects.BucketObjects).
ObjectsAt = Callable[[Path, Keyring], ObjectStore]
# Set when a sweep cleaned up after a dead session: the shell then brings the derived search index
# back in line with the catalogue (records committed but not indexed, or disposed but still there).
INDEX_CHECK_SETTING = "recovery.index_check"


@dataclass(frozen=True, slots=True)
class InitResult:
    path: Path
    vault_id: str
    recovery_key: str  # formatted for printing; shown once, never stored


@dataclass(frozen=True, slots=True)
class SlotInfo:
    slot_id: str
    kind: SlotKind
    created: str
    test: bool  # made with test-only KDF parameters


def init_home(path: Path | str, passphrase: str, *, kdf: KdfParams | None = None) -> InitResult:
    """Create a new home at `path` (absent or empty). `kdf` is for tests only; default Argon2id."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise HomeExists(str(path))
    _check_passphrase(passphrase)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in FOLDERS:
        (path / folder).mkdir(mode=0o700)
    ObjectStore.create_fanout(path / "objects")
    keyfile, master = keyslots.new_keyfile()
    keyfile, _ = keyslots.add_passphrase(keyfile, master, passphrase, kdf or KdfParams.default())
    recovery = new_recovery_key()
    keyfile = keyslots.set_recovery(keyfile, master, recovery)
    keyslots.save(path / KEYS_FILE, keyfile)
    keyring = Keyring.from_master(master, keyfile.vault_id)
    # Create the file 0600 first: SQLite gives its -wal and -shm files the same mode.
    os.close(os.open(path / CATALOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    catalog = SqlCipherCatalog(path / CATALOG_FILE, keyring.catalog)
    try:
        with catalog.transaction() as tx:
            checkpoints.append(tx, Ed25519Signer(keyring.audit_signing_seed), _event("vault.init", "system:cli"))
            slotstate.record(tx, keyfile)
        anchor.guard(catalog, anchor.AnchorFile(path, keyring.anchor, keyfile.vault_id),  # starts it
                     Ed25519Signer(keyring.audit_signing_seed))
    finally:
        catalog.close()
    return InitResult(path=path, vault_id=keyfile.vault_id, recovery_key=format_recovery_key(recovery))


def open_home(path: Path | str, passphrase: str | None = None, *, recovery_key: str | None = None,
              actor: str | None = None, channel: str = "cli", restored: bool = False,
              accept_rollback: bool = False, objects: ObjectsAt | None = None) -> Home:
    """Unlock a home with a passphrase or the recovery key; with `actor`, the unlock is audited.
    `objects` keeps the sealed objects elsewhere than objects/ (a bucket); None: objects/.

    A catalogue that does not continue the rollback anchor is refused (RollbackDetected) unless
    `accept_rollback` (then audited, see `Home.accepted_rollback`); `restored` starts a new anchor
    for a home just restored from a backup."""
    path = Path(path)
    if not path.is_dir():
        raise HomeNotFound(str(path))
    keyfile = keyslots.load(path / KEYS_FILE)
    _check_catalog_present(path / CATALOG_FILE)
    master, slot_id = unlock_master(keyfile, passphrase, recovery_key)
    home = Home(path, keyfile, master, slot_id, restored=restored, accept_rollback=accept_rollback,
                actor=actor or "system:vault", channel=channel, objects=objects)
    try:
        # A key change that died before its audit entry, or keys.json swapped offline: audit it now.
        slotstate.reconcile(home.catalog, home.signer, path / KEYS_FILE, channel=channel)
        if actor is not None:
            with home.catalog.transaction() as tx:
                checkpoints.append(tx, home.signer, _event(
                    "vault.unlock", actor, channel, ("key", "recovery" if slot_id == RECOVERY else "passphrase")))
    except BaseException:
        home.close()
        raise
    return home


def unlock_master(keyfile: KeyFile, passphrase: str | None, recovery_key: str | None) -> tuple[bytes, str]:
    """The master key and the slot that opened it ("recovery" for the recovery key)."""
    if recovery_key is not None:
        return keyslots.unlock_recovery(keyfile, parse_recovery_key(recovery_key)), RECOVERY
    if passphrase is not None:
        return keyslots.unlock_passphrase(keyfile, passphrase)
    raise VaultError("No passphrase was given: set STRONGROOM_PASSPHRASE or "
                     "STRONGROOM_PASSPHRASE_FILE, or run on a terminal to be asked.")


class Home:
    """An unlocked home: the adapters the use cases need, plus key-slot management."""

    def __init__(self, path: Path, keyfile: KeyFile, master: bytes, slot_id: str, *, restored: bool = False,
                 accept_rollback: bool = False, actor: str = "system:vault", channel: str = "cli",
                 objects: ObjectsAt | None = None) -> None:
        self.path = path
        self.vault_id = keyfile.vault_id
        self.unlocked_with = slot_id  # the slot id, or "recovery"
        self._master = bytearray(master)  # Python cannot zeroise reliably; we overwrite on close
        self._keyring = Keyring.from_master(master, keyfile.vault_id)
        self.catalog = SqlCipherCatalog(path / CATALOG_FILE, self._keyring.catalog)
        self.blobs = (objects or ObjectStore.at_home)(path, self._keyring)
        self.signer = Ed25519Signer(self._keyring.audit_signing_seed)
        self.index_key: bytes = self._keyring.index
        unlocked = next((s for s in keyfile.slots if s.slot_id == slot_id), None)
        self._slot_params = unlocked.kdf if unlocked is not None else None
        self.session = Session(path)
        self.anchor = anchor.AnchorFile(path, self._keyring.anchor, keyfile.vault_id)
        try:
            # Before anything commits (a sweep, the unlock entry): is this the newest catalogue?
            self.accepted_rollback = anchor.guard(self.catalog, self.anchor, self.signer, restored=restored,
                                                  accept=accept_rollback, actor=actor, channel=channel)
            self._anchor_keeper = anchor.AnchorKeeper(self.anchor, self.catalog)
            self.catalog.after_audit_commit = self._anchor_keeper.committed
            self.session.begin(self._referenced_objects, self._sweep)
        except BaseException:
            self.blobs.close()
            self.catalog.close()
            raise

    def _referenced_objects(self) -> set[str]:
        return {ref.object_id for record in self.catalog.find() for ref in record.blobs}

    def _sweep(self, referenced: set[str]) -> None:
        """Delete what a dead session left: unreferenced objects (ciphertext), temp files, unfinished
        uploads to a bucket and staged uploads (plaintext); one audit entry says how many, and the
        index is marked for a check against the catalogue."""
        uploads = clear_upload_staging(self.path)
        orphans = sorted(self.blobs.object_ids() - referenced)
        unfinished = self.blobs.abort_unfinished()
        for object_id in orphans:
            self.blobs.discard(object_id)
        leftovers = self.blobs.leftovers() + sorted(self.path.glob(TEMP_PREFIX + "*"))  # e.g. keys.json's
        for path in leftovers:
            path.unlink(missing_ok=True)
        with self.catalog.transaction() as tx:
            tx.put_setting(INDEX_CHECK_SETTING, "pending")
            checkpoints.append(tx, self.signer, _event("vault.recover", "system:vault", "cli",
                                                       ("objects", str(len(orphans))),
                                                       ("temp_files", str(len(leftovers))),
                                                       ("unfinished_uploads", str(unfinished)),
                                                       ("upload_leftovers", str(uploads))))

    def index_check_pending(self) -> bool:
        """True after a sweep until `index_checked()`: the search index may miss committed records
        or still hold disposed ones, from the session that died."""
        return self.catalog.get_setting(INDEX_CHECK_SETTING) == "pending"

    def index_checked(self) -> None:
        with self.catalog.transaction() as tx:
            tx.put_setting(INDEX_CHECK_SETTING, "done")

    @property
    def keyring(self) -> Keyring:
        """The sub-keys, for the vault's own modules (backups key their copies with them)."""
        return self._keyring

    def audit_hmac(self, value: str) -> str:
        """`hmac:<hex>` of a title, file name or query: correlatable, never readable."""
        return self._keyring.audit_mac(value)

    def close(self) -> None:
        self._anchor_keeper.close()  # the anchor covers every commit of a session that closes
        # A failed upload the bucket could not abort: close as a dead session would, so the next
        # open alone sweeps it.
        self.session.end(keep_marker=self.blobs.debris_left())
        self.catalog.close()
        self.blobs.close()
        for i in range(len(self._master)):
            self._master[i] = 0

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def verify(self) -> list[str]:
        """Every problem found (storage, audit chain, checkpoints), one sentence each; empty when the
        home is sound. Writes nothing: `records.verification.verify` is the audited use case."""
        report = verification.inspect(self.catalog, self.signer.public_key(), storage=self.storage_report,
                                      signature_valid=signature_valid)
        return list(report.problems)

    def storage_report(self) -> verification.VerifyReport:
        """The vault's half of verify: the catalogue's consistency and every object authenticated."""
        return storage_report(self)

    # ---- key slots: each change rewrites keys.json only; no data is re-encrypted ----------

    def slots(self) -> list[SlotInfo]:
        return [SlotInfo(s.slot_id, s.kind, s.created, bool(s.kdf and s.kdf.test))
                for s in keyslots.load(self.path / KEYS_FILE).slots]

    def add_passphrase(self, passphrase: str, *, actor: str, kdf: KdfParams | None = None,
                       channel: str = "cli") -> str:
        """Add a passphrase slot; returns its id."""
        _check_passphrase(passphrase)
        keyfile = keyslots.load(self.path / KEYS_FILE)
        keyfile, slot_id = keyslots.add_passphrase(keyfile, bytes(self._master), passphrase,
                                                   kdf or self._new_params())
        self._save_audited(keyfile, "key.passphrase.add", actor, channel, slot_id)
        return slot_id

    def remove_passphrase(self, slot_id: str | None = None, *, actor: str, channel: str = "cli") -> str:
        """Remove a passphrase slot (by default the one used to unlock); never the last one."""
        target = slot_id or self.unlocked_with
        if target == RECOVERY:
            raise SlotError("The home was unlocked with the recovery key: name the slot to remove with --slot.")
        keyfile = keyslots.load(self.path / KEYS_FILE)
        if any(s.slot_id == target and s.kind is SlotKind.RECOVERY for s in keyfile.slots):
            raise SlotError("The recovery slot cannot be removed, only replaced with a new recovery key.")
        self._save_audited(keyslots.remove_slot(keyfile, target), "key.passphrase.remove", actor, channel, target)
        return target

    def change_passphrase(self, new_passphrase: str, *, actor: str, slot_id: str | None = None,
                          kdf: KdfParams | None = None, channel: str = "cli") -> str:
        """Replace one passphrase slot with a new one in a single atomic keys.json write."""
        _check_passphrase(new_passphrase)
        target = slot_id or self.unlocked_with
        keyfile = keyslots.load(self.path / KEYS_FILE)
        if not any(s.slot_id == target and s.kind is SlotKind.PASSPHRASE for s in keyfile.slots):
            raise SlotError("Say which passphrase to change with --slot (`strongroom passphrase list`).")
        keyfile, new_id = keyslots.add_passphrase(keyfile, bytes(self._master), new_passphrase,
                                                  kdf or self._new_params())
        keyfile = keyslots.remove_slot(keyfile, target)
        self._save_audited(keyfile, "key.passphrase.change", actor, channel, new_id, ("replaced", target))
        if self.unlocked_with == target:
            self.unlocked_with = new_id
        return new_id

    def new_recovery_key(self, *, actor: str, channel: str = "cli") -> str:
        """Replace the recovery slot; the old printed key stops working. Returns the new one, formatted."""
        recovery = new_recovery_key()
        keyfile = keyslots.set_recovery(keyslots.load(self.path / KEYS_FILE), bytes(self._master), recovery)
        self._save_audited(keyfile, "key.recovery.replace", actor, channel, "")
        return format_recovery_key(recovery)

    def _new_params(self) -> KdfParams:
        # New slots copy the cost of the slot used to unlock (calibrated at init), fresh salt.
        return self._slot_params.with_new_salt() if self._slot_params else KdfParams.default()

    def _save_audited(self, keyfile: KeyFile, action: str, actor: str, channel: str, slot_id: str,
                      *details: tuple[str, str]) -> None:
        # The audit entry and the slot state commit only if keys.json was replaced; a failed write rolls
        # them back. A crash after the rename but before the COMMIT is audited by the next open.
        with self.catalog.transaction() as tx:
            checkpoints.append(tx, self.signer, _event(action, actor, channel, ("slot", slot_id), *details))
            slotstate.record(tx, keyfile)
            keyslots.save(self.path / KEYS_FILE, keyfile)


def _event(action: str, actor: str, channel: str = "cli", *details: tuple[str, str]) -> AuditEvent:
    return AuditEvent(ts=datetime.now(timezone.utc), actor=actor, action=action, channel=channel,
                      details=tuple(d for d in details if d[1]))


def _check_catalog_present(catalog: Path) -> None:
    """SQLite would silently start a new, empty catalogue in place of a missing or emptied one:
    every record would vanish and registry numbers restart. An existing home always has one."""
    wal = catalog.with_name(catalog.name + "-wal")
    size = catalog.stat().st_size if catalog.is_file() else 0
    if size == 0 and not (wal.is_file() and wal.stat().st_size > 0):
        state = "empty" if catalog.is_file() else "missing"
        raise CatalogError(f"The catalogue {catalog} is {state}: nothing was opened; restore catalog.db "
                           "from a backup of this home.")


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise VaultError("The passphrase is too short: use at least 8 characters (a few words is best).")
    if os.linesep in passphrase:
        raise VaultError("The passphrase contains a line break: type it on one line.")
