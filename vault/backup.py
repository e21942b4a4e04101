"""Backups: an encrypted, incremental, verifiable copy of a home on a backup target, and its restore.

The mechanics are the same for every target (a folder, an S3-compatible bucket, SFTP): the target
port (`vault.backuptarget`) only stores opaque bytes under names; this module decides what goes
where, in which order, and checks every byte against the authenticated manifest.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO

from vault.atomicfile import TEMP_PREFIX, atomic_writer
from vault.backupmanifest import MANIFEST_FILE, Entry, Manifest, open_manifest, peek_vault_id, seal_manifest
from vault.backuptarget import BackupTarget, LocalTarget
from vault.errors import BackupDamaged, BackupError, HomeExists
from vault.home import CATALOG_FILE, FOLDERS, KEYS_FILE, Home, unlock_master
from vault.keyring import Keyring
from vault.keyslots import KeyFile
from vault.objects import FIXED_MTIME, ObjectStore

# Copied whole when present. Never the index (derived: rebuilt on restore), inbox/ or rejected/
# (plaintext by nature), nor the web secret key (restore makes a new one, as init does).
SIDE_FILES = (KEYS_FILE, "strongroom.toml", "plan.toml")
OBJECTS = "objects"
_BACKUP_NAMES = frozenset({OBJECTS, MANIFEST_FILE, CATALOG_FILE, *SIDE_FILES})
_READ = 1024 * 1024

Progress = Callable[[int, int], None]  # (done, total)
Target = BackupTarget | Path  # a Path is a folder


@dataclass(frozen=True, slots=True)
class BackupResult:
    objects: int  # objects the backup holds now
    copied: int  # of them, written by this run (new since the last backup)
    removed: int  # objects dropped because the home no longer has them (disposed records)
    bytes_copied: int
    resumed: int = 0  # objects an interrupted run had already stored whole (kept, not sent again)
    size: int = 0  # bytes the backup holds now (manifest, catalogue, key file, objects)


@dataclass(frozen=True, slots=True)
class BackupReport:
    """Every problem with a backup (one sentence each, empty when sound) and what it holds."""

    problems: list[str] = field(default_factory=list)
    created: str = ""
    objects: int = 0


@dataclass(frozen=True, slots=True)
class Restored:
    path: Path  # the restored home, locked: the caller opens it (the unlock re-checks the keys)
    created: str  # when the backup was taken
    objects: int


def backup_home(home: Home, target: Target, *, full: bool = False, now: datetime | None = None,
                progress: Progress | None = None) -> BackupResult:
    """Bring the backup on `target` up to date with the open home: new objects, catalogue, key file.

    The catalogue snapshot is taken first, so every object it names is already in the home and is
    stored after it; the manifest is written last and objects the home no longer has are removed
    only after it, so an interrupted run leaves the previous backup verifiable except for the
    files it had replaced (`verify-backup` names them; run `backup` again). Every put is atomic, so
    an object found whole under its name (same size) was stored by an earlier run, perhaps an
    interrupted one: it is kept, not sent again (immutable: same id and size, same bytes). With
    `full`, each stored object is read back and hashed, and stored again if it differs."""
    target = _as_target(target)
    _check_destination(home, target)
    keyring = home.keyring
    target.clean_leftovers()
    stored = target.list()
    previous = _previous_objects(target, keyring)
    with _catalog_snapshot(home) as snapshot:
        objects, copied, resumed, size = _copy_objects(home.blobs, target, stored, previous, full, progress)
        catalog = _upload(target, CATALOG_FILE, snapshot)
    files = {CATALOG_FILE: catalog, **_copy_side_files(home.path, target, stored)}
    created = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    manifest = Manifest(vault_id=home.vault_id, created=created, files=files, objects=objects)
    sealed = seal_manifest(manifest, keyring.backup_mac)
    target.put(MANIFEST_FILE, io.BytesIO(sealed))
    removed = 0
    for object_id in sorted(_stored_ids(stored) - set(objects)):
        removed += target.delete(_object_name(object_id))
    total = len(sealed) + sum(e.size for e in files.values()) + sum(e.size for e in objects.values())
    return BackupResult(objects=len(objects), copied=copied, removed=removed, bytes_copied=size,
                        resumed=resumed, size=total)


def verify_backup(src: Target, passphrase: str | None = None, *, recovery_key: str | None = None,
                  progress: Progress | None = None) -> BackupReport:
    """Authenticate the manifest with the backup's own keys.json, then check every file against it."""
    src = _as_target(src)
    keyring = _unlock_backup(src, passphrase, recovery_key)
    try:
        manifest = open_manifest(_read_manifest(src), keyring.backup_mac, keyring.vault_id)
    except BackupDamaged as exc:
        return BackupReport(problems=[str(exc)])
    stored = src.list()
    problems = [p for name, e in sorted(manifest.files.items()) if (p := _check(src, stored, name, e))]
    total = len(manifest.objects)
    for done, (object_id, entry) in enumerate(sorted(manifest.objects.items()), 1):
        if problem := _check(src, stored, _object_name(object_id), entry):
            problems.append(problem)
        if progress is not None:
            progress(done, total)
    problems.extend(_unlisted(stored, manifest))
    return BackupReport(problems=problems, created=manifest.created, objects=total)


def restore_backup(src: Target, target: Path, passphrase: str | None = None, *, recovery_key: str | None = None,
                   progress: Progress | None = None) -> Restored:
    """Copy a backup into the folder `target` (absent or empty), checking every byte against the
    manifest (the passphrase or recovery key must open the backup's keys). Nothing is left on failure."""
    src = _as_target(src)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise HomeExists(str(target))
    keyring = _unlock_backup(src, passphrase, recovery_key)  # a wrong passphrase stops here
    manifest = open_manifest(_read_manifest(src), keyring.backup_mac, keyring.vault_id)
    made = not target.exists()
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in FOLDERS:
            (target / folder).mkdir(mode=0o700, exist_ok=True)
        ObjectStore.create_fanout(target / OBJECTS)
        total = len(manifest.objects)
        for done, (object_id, entry) in enumerate(sorted(manifest.objects.items()), 1):
            _download(src, _object_name(object_id), ObjectStore.location(target / OBJECTS, object_id),
                      expect=entry, mtime=FIXED_MTIME)
            if progress is not None:
                progress(done, total)
        # keys.json last: a home without it is plainly incomplete, never half-openable.
        for name in sorted(manifest.files, key=lambda n: n == KEYS_FILE):
            _download(src, name, target / name, expect=manifest.files[name])
    except BaseException:
        _undo(target, made)
        raise
    # No anchor travels with a backup: the restored catalogue starts a new one when the caller opens
    # it with `restored=True` (its `vault.restore` entry says so), although it is older than the anchor.
    return Restored(path=target, created=manifest.created, objects=len(manifest.objects))


# ---- the destination ---------------------------------------------------------------------------


def _as_target(target: Target) -> BackupTarget:
    return LocalTarget(Path(target).absolute()) if isinstance(target, Path) else target


def _check_destination(home: Home, target: BackupTarget) -> None:
    """Refuse a folder that overlaps the home (or is a file), a target holding anything but a
    backup, and a backup of another home."""
    if isinstance(target, LocalTarget):
        dest = target.root
        here, there = home.path.resolve(), dest.resolve()
        if there == here or here in there.parents or there in here.parents:
            raise BackupError(f"{dest} overlaps the home {home.path}: back up to a folder outside it "
                              "(another disk or a USB stick is best).")
        if dest.exists() and not dest.is_dir():
            raise BackupError(f"{dest} is a file: give a folder for the backup.")
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    foreign = sorted(name for name in target.list() if name.split("/")[0] not in _BACKUP_NAMES)
    if foreign:
        raise BackupError(f"{target.location} is not empty and not a Strongroom backup (it holds {foreign[0]}): "
                          "choose an empty folder or an earlier backup of this home.")
    with contextlib.suppress(FileNotFoundError):
        if peek_vault_id(_get_bytes(target, MANIFEST_FILE)) not in (None, home.vault_id):
            raise BackupError(f"{target.location} holds a backup of another home: choose another folder.")


def _previous_objects(target: BackupTarget, keyring: Keyring) -> Mapping[str, Entry]:
    """The objects of the last backup on `target`, if its manifest authenticates (else none)."""
    try:
        return open_manifest(_get_bytes(target, MANIFEST_FILE), keyring.backup_mac, keyring.vault_id).objects
    except (FileNotFoundError, BackupDamaged):
        return {}


@contextlib.contextmanager
def _catalog_snapshot(home: Home) -> Iterator[Path]:
    """A consistent copy of the catalogue in a temp file inside the home (encrypted like the
    catalogue; a crash leaves a `.tmp-*` file that the next exclusive open removes)."""
    snapshot = home.path / f"{TEMP_PREFIX}backup-{secrets.token_hex(8)}"
    try:
        os.close(os.open(snapshot, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        home.catalog.copy_to(snapshot, home.keyring.catalog)
        yield snapshot
    finally:
        for leftover in home.path.glob(snapshot.name + "*"):  # with SQLite's journal, if any
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _copy_objects(blobs: ObjectStore, target: BackupTarget, stored: Mapping[str, int],
                  previous: Mapping[str, Entry], full: bool,
                  progress: Progress | None) -> tuple[dict[str, Entry], int, int, int]:
    """Store the objects the target lacks; returns (all entries, copied, resumed, bytes copied)."""
    entries: dict[str, Entry] = {}
    copied = resumed = size = 0
    try:
        lengths = blobs.sizes()  # the home's objects: a folder's, or a bucket's (vault.s3objects)
        ids = sorted(lengths)
        for done, object_id in enumerate(ids, 1):
            name, length = _object_name(object_id), lengths[object_id]
            known = previous.get(object_id)
            if stored.get(name) == length and not full and known is not None and known.size == length:
                entries[object_id] = known  # immutable: same id and size means the same bytes
            elif stored.get(name) == length and (not full or _remote_entry(target, name) ==
                                                 _object_entry(blobs, object_id)):
                entries[object_id] = _object_entry(blobs, object_id)  # stored whole by an interrupted run, or checked
                resumed += known is None
            else:
                with blobs.read_sealed(object_id) as source:
                    entries[object_id] = _put(target, name, source)
                copied += 1
                size += length
            if progress is not None:
                progress(done, len(ids))
    except FileNotFoundError as exc:
        raise BackupError(f"Object {Path(str(exc.filename or '?')).name} vanished during the backup (a disposition ran at the "
                          "same time): run `strongroom backup` again.") from None
    return entries, copied, resumed, size


def _copy_side_files(home: Path, target: BackupTarget, stored: Mapping[str, int]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for name in SIDE_FILES:
        if (home / name).is_file():
            entries[name] = _upload(target, name, home / name)
        elif name in stored:
            target.delete(name)  # e.g. plan.toml moved out of the home since the last backup
    return entries


# ---- files ------------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """A reader that hashes and counts what passes through it, so a file is read once per upload."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.digest = sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self._source.read(size)
        self.digest.update(block)
        self.size += len(block)
        return block

    def entry(self) -> Entry:
        return Entry(size=self.size, sha256=self.digest.hexdigest())


def _upload(target: BackupTarget, name: str, source: Path) -> Entry:
    try:
        fh = open(source, "rb")
    except FileNotFoundError:
        raise BackupError(f"{source} is missing: nothing was backed up; run the command again.") from None
    with fh:
        return _put(target, name, fh)


def _put(target: BackupTarget, name: str, source: BinaryIO) -> Entry:
    reader = _Hashing(source)
    target.put(name, reader)  # type: ignore[arg-type]  # a RawIOBase reads like a binary file
    return reader.entry()


def _download(src: BackupTarget, name: str, target: Path, *, expect: Entry, mtime: int | None = None) -> None:
    """Copy `name` durably into `target`, hashing on the way; a copy whose size or SHA-256 differs
    from the manifest is discarded and BackupDamaged names the file."""
    digest, size = sha256(), 0
    try:
        with src.get(name) as stream, atomic_writer(target, mode=0o600) as sink:
            while block := stream.read(_READ):
                digest.update(block)
                size += len(block)
                sink.write(block)
            if Entry(size=size, sha256=digest.hexdigest()) != expect:
                raise BackupDamaged(f"{name} on {src.location} does not match the backup's manifest: nothing "
                                    "was restored; `strongroom verify-backup` on the backup lists all the damage.")
            if mtime is not None:
                sink.flush()
                os.utime(sink.fileno(), (mtime, mtime))
    except FileNotFoundError:
        raise BackupDamaged(f"{name} is missing from the backup on {src.location}: nothing was restored; "
                            "`strongroom verify-backup` on the backup lists all the damage.") from None


def _object_entry(blobs: ObjectStore, object_id: str) -> Entry:
    digest, size = sha256(), 0
    with blobs.read_sealed(object_id) as fh:
        while block := fh.read(_READ):
            digest.update(block)
            size += len(block)
    return Entry(size=size, sha256=digest.hexdigest())


def _remote_entry(target: BackupTarget, name: str) -> Entry:
    digest, size = sha256(), 0
    with target.get(name) as stream:
        while block := stream.read(_READ):
            digest.update(block)
            size += len(block)
    return Entry(size=size, sha256=digest.hexdigest())


def _check(src: BackupTarget, stored: Mapping[str, int], name: str, entry: Entry) -> str | None:
    """One sentence when `name` on the target is not the file the manifest describes."""
    size = stored.get(name)
    if size is None:
        return f"{name} is missing from the backup."
    if size != entry.size:
        return f"{name} was changed: it has {size} bytes, the manifest says {entry.size}."
    try:
        found = _remote_entry(src, name)
    except FileNotFoundError:
        return f"{name} is missing from the backup."
    if found != entry:
        return f"{name} was changed: its SHA-256 does not match the manifest."
    return None


def _unlisted(stored: Mapping[str, int], manifest: Manifest) -> list[str]:
    expected = {MANIFEST_FILE, *manifest.files, *map(_object_name, manifest.objects)}
    return [f"{name} is not listed in the manifest (added, or left by an interrupted backup): run "
            "`strongroom backup` again to tidy it, or delete it." for name in sorted(set(stored) - expected)]


def _object_name(object_id: str) -> str:
    return f"{OBJECTS}/{object_id[:2]}/{object_id}"


def _stored_ids(stored: Mapping[str, int]) -> set[str]:
    """The object ids among the stored names (objects/ab/abcdef...)."""
    ids = set()
    for name in stored:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == OBJECTS and parts[2][:2] == parts[1]:
            ids.add(parts[2])
    return ids


def _get_bytes(target: BackupTarget, name: str) -> bytes:
    with target.get(name) as stream:
        return stream.read()


def _read_manifest(src: BackupTarget) -> bytes:
    try:
        return _get_bytes(src, MANIFEST_FILE)
    except FileNotFoundError:
        raise BackupError(f"{src.location} is not a Strongroom backup (it has no {MANIFEST_FILE}): "
                          "check the path.") from None


def _unlock_backup(src: BackupTarget, passphrase: str | None, recovery_key: str | None) -> Keyring:
    """The backup's sub-keys, unlocked with its own keys.json (it works when the home is gone)."""
    _read_manifest(src)
    try:
        keyfile = KeyFile.from_bytes(_get_bytes(src, KEYS_FILE))
    except FileNotFoundError:
        raise BackupDamaged(f"The backup {src.location} has no {KEYS_FILE}: it cannot be opened; "
                            "use another backup.") from None
    master, _ = unlock_master(keyfile, passphrase, recovery_key)
    return Keyring.from_master(master, keyfile.vault_id)


def _undo(target: Path, made: bool) -> None:
    """Remove a partial restore: `target` was absent or empty, so everything in it is ours."""
    if made:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():
        with contextlib.suppress(OSError):
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
