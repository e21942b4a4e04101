"""Backups: an encrypted, incremental, verifiable copy of a home in a folder, and its restore."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

from vault import keyslots
from vault.atomicfile import TEMP_PREFIX, atomic_path, atomic_writer, fsync_dir, remove_durably, write_atomic
from vault.backupmanifest import MANIFEST_FILE, Entry, Manifest, open_manifest, peek_vault_id, seal_manifest
from vault.errors import BackupDamaged, BackupError, HomeExists
from vault.home import CATALOG_FILE, FOLDERS, KEYS_FILE, Home, unlock_master
from vault.keyring import Keyring
from vault.objects import FIXED_MTIME, ObjectStore

# Copied whole when present. Never the index (derived: rebuilt on restore), inbox/ or rejected/
# (plaintext by nature), nor the web secret key (restore makes a new one, as init does).
SIDE_FILES = (KEYS_FILE, "strongroom.toml", "plan.toml")
OBJECTS = "objects"
_BACKUP_NAMES = frozenset({OBJECTS, MANIFEST_FILE, CATALOG_FILE, *SIDE_FILES})
_READ = 1024 * 1024

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class BackupResult:
    objects: int  # objects the backup holds now
    copied: int  # of them, written by this run (new since the last backup)
    removed: int  # objects dropped because the home no longer has them (disposed records)
    bytes_copied: int


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


def backup_home(home: Home, dest: Path, *, full: bool = False, now: datetime | None = None,
                progress: Progress | None = None) -> BackupResult:
    """Bring the backup in `dest` up to date with the open home: new objects, catalogue, key file.

    The catalogue is copied first, so every object it names is already in the home and is
    copied after it; the manifest is written last and objects the home no longer has are
    removed only after it, so an interrupted run leaves the previous backup verifiable
    except for the files it had replaced (`verify-backup` names them; run `backup` again).
    An object already in `dest` with its size is trusted to be the same bytes (objects are
    immutable); with `full`, each one is read and hashed, and copied again if it differs."""
    dest = _prepare_dest(home, dest)
    keyring = home.keyring
    previous = _previous_objects(dest, keyring)
    _remove_leftovers(dest)
    with atomic_path(dest / CATALOG_FILE) as tmp:
        home.catalog.copy_to(tmp, keyring.catalog)
        catalog = _entry_of(tmp)
        objects, copied, size = _copy_objects(home.blobs, dest / OBJECTS, previous, full, progress)
    files = {CATALOG_FILE: catalog, **_copy_side_files(home.path, dest)}
    created = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    manifest = Manifest(vault_id=home.vault_id, created=created, files=files, objects=objects)
    write_atomic(dest / MANIFEST_FILE, seal_manifest(manifest, keyring.backup_mac))
    removed = 0
    for object_id in sorted(_stored_ids(dest / OBJECTS) - set(objects)):
        removed += remove_durably(ObjectStore.location(dest / OBJECTS, object_id))
    return BackupResult(objects=len(objects), copied=copied, removed=removed, bytes_copied=size)


def verify_backup(src: Path, passphrase: str | None = None, *, recovery_key: str | None = None,
                  progress: Progress | None = None) -> BackupReport:
    """Authenticate the manifest with the backup's own keys.json, then check every file against it."""
    keyring = _unlock_backup(src, passphrase, recovery_key)
    try:
        manifest = open_manifest(_read_manifest(src), keyring.backup_mac, keyring.vault_id)
    except BackupDamaged as exc:
        return BackupReport(problems=[str(exc)])
    problems = [p for name, e in sorted(manifest.files.items()) if (p := _check(src / name, name, e))]
    total = len(manifest.objects)
    for done, (object_id, entry) in enumerate(sorted(manifest.objects.items()), 1):
        name = str(ObjectStore.location(Path(OBJECTS), object_id))
        if problem := _check(ObjectStore.location(src / OBJECTS, object_id), name, entry):
            problems.append(problem)
        if progress is not None:
            progress(done, total)
    problems.extend(_unlisted(src, manifest))
    return BackupReport(problems=problems, created=manifest.created, objects=total)


def restore_backup(src: Path, target: Path, passphrase: str | None = None, *, recovery_key: str | None = None,
                   progress: Progress | None = None) -> Restored:
    """Copy a backup into `target` (absent or empty), checking every byte against the manifest
    (the passphrase or recovery key must open the backup's keys). Nothing is left on failure."""
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
            _copy_file(ObjectStore.location(src / OBJECTS, object_id),
                       ObjectStore.location(target / OBJECTS, object_id),
                       expect=entry, mtime=FIXED_MTIME)
            if progress is not None:
                progress(done, total)
        # keys.json last: a home without it is plainly incomplete, never half-openable.
        for name in sorted(manifest.files, key=lambda n: n == KEYS_FILE):
            _copy_file(src / name, target / name, expect=manifest.files[name])
    except BaseException:
        _undo(target, made)
        raise
    return Restored(path=target, created=manifest.created, objects=len(manifest.objects))


# ---- the destination folder -------------------------------------------------------------------


def _prepare_dest(home: Home, dest: Path) -> Path:
    """`dest`, created if absent; refused when it is inside the home (or holds it), is not empty
    and holds anything but a backup, or holds a backup of another home."""
    dest = Path(dest).absolute()
    here = home.path.resolve()
    there = dest.resolve()
    if there == here or here in there.parents or there in here.parents:
        raise BackupError(f"{dest} overlaps the home {home.path}: back up to a folder outside it "
                          "(another disk or a USB stick is best).")
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"{dest} is a file: give a folder for the backup.")
    if dest.is_dir():
        foreign = sorted(p.name for p in dest.iterdir()
                         if p.name not in _BACKUP_NAMES and not p.name.startswith(TEMP_PREFIX))
        if foreign:
            raise BackupError(f"{dest} is not empty and not a Strongroom backup (it holds {foreign[0]}): "
                              "choose an empty folder or an earlier backup of this home.")
        manifest = dest / MANIFEST_FILE
        if manifest.is_file() and peek_vault_id(manifest.read_bytes()) not in (None, home.vault_id):
            raise BackupError(f"{dest} holds a backup of another home: choose another folder.")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    (dest / OBJECTS).mkdir(mode=0o700, exist_ok=True)
    return dest


def _previous_objects(dest: Path, keyring: Keyring) -> Mapping[str, Entry]:
    """The objects of the last backup in `dest`, if its manifest authenticates (else none: copy all)."""
    try:
        raw = (dest / MANIFEST_FILE).read_bytes()
        return open_manifest(raw, keyring.backup_mac, keyring.vault_id).objects
    except (FileNotFoundError, BackupDamaged):
        return {}


def _remove_leftovers(dest: Path) -> None:
    """Temp files of an interrupted run (an object, the catalogue copy or its SQLite journals)."""
    found = [p for p in dest.iterdir() if p.name.startswith(TEMP_PREFIX)]
    found += ObjectStore.leftovers_in(dest / OBJECTS)
    for path in found:
        remove_durably(path)


def _copy_objects(blobs: ObjectStore, dest: Path, previous: Mapping[str, Entry], full: bool,
                  progress: Progress | None) -> tuple[dict[str, Entry], int, int]:
    """Copy the objects that are new since `previous`; returns (all entries, copied, bytes copied)."""
    entries: dict[str, Entry] = {}
    copied = size = 0
    ids = sorted(blobs.object_ids())
    for done, object_id in enumerate(ids, 1):
        source, target = blobs.path_of(object_id), ObjectStore.location(dest, object_id)
        try:
            length = source.stat().st_size
        except FileNotFoundError:
            raise BackupError(f"Object {object_id} vanished during the backup (a disposition ran at the "
                              "same time): run `strongroom backup` again.") from None
        known = previous.get(object_id)
        if known is not None and known.size == length and _size_of(target) == length and (
                not full or _entry_of(target) == known):
            entries[object_id] = known  # immutable: same id and size means the same bytes
        else:
            entries[object_id] = _copy_file(source, target, mtime=FIXED_MTIME)
            copied += 1
            size += length
        if progress is not None:
            progress(done, len(ids))
    return entries, copied, size


def _copy_side_files(home: Path, dest: Path) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for name in SIDE_FILES:
        if (home / name).is_file():
            entries[name] = _copy_file(home / name, dest / name)
        else:
            remove_durably(dest / name)  # e.g. plan.toml moved out of the home since the last backup
    return entries


# ---- files ------------------------------------------------------------------------------------


def _copy_file(source: Path, target: Path, *, expect: Entry | None = None, mtime: int | None = None) -> Entry:
    """Copy durably (temp file, fsync, rename, fsync folder), hashing on the way. With `expect`, a
    copy whose size or SHA-256 differs is discarded and BackupDamaged names the file."""
    if not target.parent.is_dir():
        target.parent.mkdir(mode=0o700)
        fsync_dir(target.parent.parent)
    digest, size = sha256(), 0
    try:
        src = open(source, "rb")
    except FileNotFoundError:
        raise (BackupDamaged if expect else BackupError)(
            f"{source} is missing: nothing was {'restored' if expect else 'backed up'}; run the command "
            "again, or `strongroom verify-backup` on the backup to list the damage.") from None
    with src, atomic_writer(target, mode=0o600) as sink:
        while block := src.read(_READ):
            digest.update(block)
            size += len(block)
            sink.write(block)
        got = Entry(size=size, sha256=digest.hexdigest())
        if expect is not None and got != expect:
            raise BackupDamaged(f"{source} does not match the backup's manifest: nothing was restored; "
                                "`strongroom verify-backup` on the backup lists all the damage.")
        if mtime is not None:
            sink.flush()
            os.utime(sink.fileno(), (mtime, mtime))
    return got


def _entry_of(path: Path) -> Entry:
    digest, size = sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(_READ):
            digest.update(block)
            size += len(block)
    return Entry(size=size, sha256=digest.hexdigest())


def _check(path: Path, name: str, entry: Entry) -> str | None:
    """One sentence when `path` is not the file the manifest describes."""
    size = _size_of(path)
    if size is None:
        return f"{name} is missing from the backup."
    if size != entry.size:
        return f"{name} was changed: it has {size} bytes, the manifest says {entry.size}."
    if _entry_of(path).sha256 != entry.sha256:
        return f"{name} was changed: its SHA-256 does not match the manifest."
    return None


def _unlisted(src: Path, manifest: Manifest) -> list[str]:
    extra = sorted(p.name for p in src.iterdir() if p.name not in _BACKUP_NAMES or
                   (p.name in SIDE_FILES and p.name not in manifest.files))
    unlisted_ids = sorted(_stored_ids(src / OBJECTS) - set(manifest.objects))
    extra += [str(ObjectStore.location(Path(OBJECTS), i)) for i in unlisted_ids]
    extra += [str(p.relative_to(src)) for p in ObjectStore.leftovers_in(src / OBJECTS)]
    return [f"{name} is not listed in the manifest (added, or left by an interrupted backup): run "
            "`strongroom backup` again to tidy it, or delete it." for name in extra]


def _stored_ids(root: Path) -> set[str]:
    return ObjectStore.ids_in(root) if root.is_dir() else set()


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _read_manifest(src: Path) -> bytes:
    try:
        return (src / MANIFEST_FILE).read_bytes()
    except FileNotFoundError:
        raise BackupError(f"{src} is not a Strongroom backup (it has no {MANIFEST_FILE}): check the path.") from None


def _unlock_backup(src: Path, passphrase: str | None, recovery_key: str | None) -> Keyring:
    """The backup's sub-keys, unlocked with its own keys.json (it works when the home is gone)."""
    _read_manifest(src)
    if not (src / KEYS_FILE).is_file():
        raise BackupDamaged(f"The backup {src} has no {KEYS_FILE}: it cannot be opened; use another backup.")
    keyfile = keyslots.load(src / KEYS_FILE)
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
