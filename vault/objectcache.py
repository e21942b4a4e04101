"""A bounded local read cache of sealed objects (ciphertext only) for an object store kept in a bucket.

It holds exactly the bytes the bucket holds, so nothing in it is readable without the home's keys;
every read is authenticated by the object's AEAD as if it came from the bucket. The least recently
used objects go first once the cache passes its size limit. The order of use lives in memory only:
the files keep one fixed mtime (as in objects/), so the folder does not tell when anything was read;
after a restart the order starts from the folder's (random) names.

Several processes may share one cache folder (`serve` and the commands run beside it, or homes given
one `object_cache`). The limit holds for the folder, not per process: every change to it (an object
kept, dropped or evicted) is made under an flock on `<cache>/.total`, which holds the folder's total
in bytes. Each process evicts from its own order of use first, then objects the others added. The
total is rebuilt from a scan of the folder whenever a cache is opened, so one that a killed process
left behind by an object is right again at the next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vault.atomicfile import TEMP_PREFIX

FIXED_MTIME = 946684800  # the same fixed time as objects/ (vault.objects.FIXED_MTIME)
TOTAL_FILE = ".total"


@dataclass(slots=True)
class _Ledger:
    total: int  # bytes in the folder, as every process sharing it has counted


class ObjectCache:
    """Sealed objects under <root>/ab/<id>, at most `limit` bytes in all, whichever processes put them
    there (an object larger than the limit is never cached). Safe for threads and processes."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = max(0, limit)
        self._lock = threading.Lock()
        self._sizes: OrderedDict[str, int] = OrderedDict()  # least recently used first
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._fd: int | None = os.open(root / TOTAL_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        with self._shared(rescan=True) as ledger:
            self._sizes.update(self._folder())
            self._evict(ledger)

    @property
    def total(self) -> int:
        """Bytes the cache folder holds, counted by every process that shares it."""
        with self._shared() as ledger:
            return ledger.total

    def ids(self) -> list[str]:
        """Cached object ids this process knows, least recently used first."""
        with self._lock:
            return list(self._sizes)

    def path_of(self, object_id: str) -> Path:
        return self.root / object_id[:2] / object_id

    def open(self, object_id: str, *, touch: bool = True) -> BinaryIO | None:
        """The cached object's file, marked as just used unless `touch` is False (a backup reading the
        whole vault leaves the order alone); None when it is not cached."""
        try:
            fh = open(self.path_of(object_id), "rb")
        except FileNotFoundError:
            with self._lock:
                self._sizes.pop(object_id, None)  # evicted by another process sharing the folder
            return None
        if touch:
            with self._lock:
                if object_id in self._sizes:
                    self._sizes.move_to_end(object_id)
        return fh

    def new_file(self) -> tuple[Path, BinaryIO]:
        """A temp file in the cache folder to write sealed bytes into (then `keep` or `drop` it)."""
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.root)  # mode 0600
        return Path(name), os.fdopen(fd, "w+b")

    def keep(self, object_id: str, temp: Path) -> None:
        """Move a written temp file into the cache under `object_id` (or drop it when it cannot fit).
        Fsynced before the rename, so a power cut leaves the whole object or none of it."""
        size = temp.stat().st_size
        if size > self.limit:
            temp.unlink(missing_ok=True)
            return
        with open(temp, "rb") as fh:
            os.utime(fh.fileno(), (FIXED_MTIME, FIXED_MTIME))
            os.fsync(fh.fileno())
        path = self.path_of(object_id)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        with self._shared() as ledger:
            ledger.total += size - _size(path)  # another process may have cached the same object
            os.replace(temp, path)
            self._sizes.pop(object_id, None)
            self._sizes[object_id] = size
            self._evict(ledger, keep=object_id)

    def fill(self, object_id: str, write: Callable[[BinaryIO], None]) -> bool:
        """Cache an object whose bytes `write` puts into the file it is given; False when it did not fit."""
        temp, fh = self.new_file()
        try:
            with fh:
                write(fh)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.keep(object_id, temp)
        with self._lock:
            return object_id in self._sizes

    def drop(self, object_id: str) -> None:
        """Remove an object (disposed, or its cached copy failed to authenticate)."""
        with self._shared() as ledger:
            self._remove(object_id, ledger)

    def leftovers(self) -> list[Path]:
        """Temp files of interrupted writes (safe to delete when no other process has the home open)."""
        found = [p for p in self.root.iterdir() if p.name.startswith(TEMP_PREFIX)]
        for sub in self.root.iterdir():
            if sub.is_dir():
                found.extend(p for p in sub.iterdir() if p.name.startswith(TEMP_PREFIX))
        return sorted(found)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    # ---- the shared total --------------------------------------------------------------

    @contextlib.contextmanager
    def _shared(self, *, rescan: bool = False) -> Iterator[_Ledger]:
        """This process's lock and the folder's flock, with the folder's total to read and change;
        written back when the block ends. An unreadable total (a write cut short) is rescanned."""
        with self._lock:
            fd = self._fd
            if fd is None:
                raise ValueError("the object cache is closed")
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(fd, 32, 0)
                counted = int(raw) if raw.strip().isdigit() and not rescan else None
                ledger = _Ledger(sum(self._folder().values()) if counted is None else counted)
                yield ledger
                text = f"{max(0, ledger.total)}\n".encode("ascii")
                os.ftruncate(fd, 0)
                os.pwrite(fd, text, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _folder(self) -> dict[str, int]:
        """Every cached object in the folder and its size, by name (a random order)."""
        found: dict[str, int] = {}
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for entry in sorted(sub.iterdir()):
                    if not entry.name.startswith(TEMP_PREFIX):
                        found[entry.name] = _size(entry)
        return found

    def _evict(self, ledger: _Ledger, keep: str | None = None) -> None:
        """Under both locks: drop the least recently used objects until the folder fits the limit,
        this process's own first, then those other processes added (their order is theirs)."""
        strangers_known = False
        while ledger.total > self.limit:
            victim = next((name for name in self._sizes if name != keep), None)
            if victim is None:
                if strangers_known:
                    ledger.total = sum(self._folder().values())  # the count had drifted: the folder says
                    return
                strangers_known = True
                others = {name: size for name, size in self._folder().items() if name not in self._sizes}
                self._sizes = OrderedDict([*others.items(), *self._sizes.items()])
                continue
            self._remove(victim, ledger)

    def _remove(self, object_id: str, ledger: _Ledger) -> None:
        self._sizes.pop(object_id, None)
        path = self.path_of(object_id)
        size = _size(path)
        try:
            os.unlink(path)  # a reader that has it open keeps reading it
        except FileNotFoundError:
            return  # another process removed it and counted it out
        ledger.total -= size


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
