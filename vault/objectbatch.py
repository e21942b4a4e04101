"""Group commit of sealed objects: a batch of objects made durable together, before the one
catalogue transaction that makes them live (records.ports.SealBatch for the local object store)."""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from records.model import BlobRef, BlobRole, ObjectId, RecordId, WrappedKey
from records.ports import SealedBlob
from vault import sealed
from vault.atomicfile import TEMP_PREFIX, fsync_dir

_FSYNC_THREADS = 8

# Seals one object's plaintext into `sink` under the given id: (sealed size, plaintext SHA-256).
Sealer = Callable[[RecordId, WrappedKey, BlobRole, bytes, BinaryIO, BinaryIO], tuple[int, str]]


@contextlib.contextmanager
def temp_writer(folder: Path, *, mode: int = 0o600) -> Iterator[tuple[Path, BinaryIO]]:
    """A new `.tmp-*` file in `folder` to fill; removed again if the body fails. Not fsynced: the
    batch's commit does that for every object at once."""
    tmp = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield tmp, fh
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass(slots=True)
class _Pending:
    temp: Path | None  # None once renamed to `final`
    final: Path
    ref: BlobRef


class ObjectBatch:
    """Objects sealed from any thread into one fan-out folder, committed together.

    `seal` writes each object to a temp file in the batch's folder (no fsync yet). `commit` fsyncs
    every object's file (side by side, so the file system joins them into a few journal commits),
    renames each to its name and then fsyncs the folder once: one file fsync per object and one
    directory fsync per batch, instead of a file and a folder fsync per object, each waiting for its
    own journal commit (most of a bulk import's time went to those). The batch shares one folder so that one folder
    fsync covers it; the folder is drawn at random per batch, so the objects still spread over
    all 256. A crash before `commit` returns leaves temp files or objects no record references,
    which the next lone unlock removes (vault/sessions.py)."""

    def __init__(self, root: Path, sealer: Sealer) -> None:
        self._prefix = secrets.token_bytes(1)
        self._folder = root / self._prefix.hex()
        self._sealer = sealer
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._new_folder = False  # the folder was made for this batch: objects/ is fsynced too

    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole, source: BinaryIO) -> SealedBlob:
        object_id = self._prefix + secrets.token_bytes(sealed.OBJECT_ID_SIZE - 1)
        if not self._folder.is_dir():  # made at init (create_fanout); an older home may lack it
            self._folder.mkdir(mode=0o700, exist_ok=True)
            self._new_folder = True
        with temp_writer(self._folder) as (tmp, sink):
            size, digest = self._sealer(record_id, key, role, object_id, source, sink)
        ref = BlobRef(object_id=ObjectId(object_id.hex()), role=role, size=size)
        with self._lock:
            self._pending.append(_Pending(tmp, self._folder / object_id.hex(), ref))
        return SealedBlob(ref=ref, sha256=digest)

    def commit(self) -> None:
        """Every object sealed so far is durable under its name when this returns."""
        with self._lock:
            pending = [(p.temp, p) for p in self._pending if p.temp is not None]
            temps = [temp for temp, _item in pending]
            if len(temps) <= 2:  # one document: not worth the threads
                for temp in temps:
                    _fsync_file(temp)
            else:  # side by side: the file system joins concurrent fsyncs into one journal commit
                with ThreadPoolExecutor(max_workers=_FSYNC_THREADS, thread_name_prefix="fsync") as pool:
                    list(pool.map(_fsync_file, temps))
            for temp, item in pending:
                os.replace(temp, item.final)
                item.temp = None
            if pending:
                fsync_dir(self._folder)
                if self._new_folder:
                    fsync_dir(self._folder.parent)
                    self._new_folder = False

    def discard(self, refs: Sequence[BlobRef] | None = None) -> None:
        """Remove the given objects of this batch (all when None), committed or not; a file already
        gone is skipped. Used when the catalogue commit did not happen or a document turned out a
        duplicate."""
        wanted = None if refs is None else {r.object_id for r in refs}
        with self._lock:
            keep: list[_Pending] = []
            drop: list[_Pending] = []
            for item in self._pending:
                (drop if wanted is None or item.ref.object_id in wanted else keep).append(item)
            self._pending = keep
        removed_final = False
        for item in drop:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(item.temp or item.final)
                removed_final = removed_final or item.temp is None
        if removed_final:
            with contextlib.suppress(OSError):
                fsync_dir(self._folder)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ImmediateBatch:
    """records.ports.SealBatch for a store whose every seal is durable when it returns (an S3 PUT):
    `seal` is the store's own, `commit` has nothing left to do, `discard` deletes."""

    def __init__(self, store: DurableStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._refs: list[BlobRef] = []

    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole, source: BinaryIO) -> SealedBlob:
        blob = self._store.seal(record_id, key, role, source)
        with self._lock:
            self._refs.append(blob.ref)
        return blob

    def commit(self) -> None:
        """Each object was durable when its seal returned."""

    def discard(self, refs: Sequence[BlobRef] | None = None) -> None:
        wanted = None if refs is None else {r.object_id for r in refs}
        with self._lock:
            drop = [r for r in self._refs if wanted is None or r.object_id in wanted]
            self._refs = [r for r in self._refs if r not in drop]
        for ref in drop:
            self._store.delete(ref)


class DurableStore(Protocol):
    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole, source: BinaryIO) -> SealedBlob: ...

    def delete(self, ref: BlobRef) -> None: ...
