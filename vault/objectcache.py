"""A bounded local read cache of sealed objects (ciphertext only) for an object store kept in a bucket.

It holds exactly the bytes the bucket holds, so nothing in it is readable without the home's keys;
every read is authenticated by the object's AEAD as if it came from the bucket. The least recently
used objects go first once the cache passes its size limit. The order of use lives in memory only:
the files keep one fixed mtime (as in objects/), so the folder does not tell when anything was read;
after a restart the order starts from the folder's (random) names.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from vault.atomicfile import TEMP_PREFIX

FIXED_MTIME = 946684800  # the same fixed time as objects/ (vault.objects.FIXED_MTIME)


class ObjectCache:
    """Sealed objects under <root>/ab/<id>, at most `limit` bytes in all (an object larger than the
    limit is never cached). Safe for the threads of one process; several processes sharing the
    folder each keep their own count, so it may briefly pass the limit by what another one added."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = max(0, limit)
        self._lock = threading.Lock()
        self._sizes: OrderedDict[str, int] = OrderedDict()  # least recently used first
        self._total = 0
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in sorted(root.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                for entry in sorted(sub.iterdir()):
                    if not entry.name.startswith(TEMP_PREFIX):
                        self._sizes[entry.name] = entry.stat().st_size
        self._total = sum(self._sizes.values())
        with self._lock:
            self._evict()

    @property
    def total(self) -> int:
        """Bytes the cache holds by this process's count."""
        return self._total

    def ids(self) -> list[str]:
        """Cached object ids, least recently used first."""
        with self._lock:
            return list(self._sizes)

    def path_of(self, object_id: str) -> Path:
        return self.root / object_id[:2] / object_id

    def open(self, object_id: str) -> BinaryIO | None:
        """The cached object's file, marked as just used; None when it is not cached."""
        try:
            fh = open(self.path_of(object_id), "rb")
        except FileNotFoundError:
            self._forget(object_id)  # evicted by another process sharing the folder
            return None
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
        os.replace(temp, path)
        with self._lock:
            self._total += size - self._sizes.pop(object_id, 0)
            self._sizes[object_id] = size
            self._evict(keep=object_id)

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
        return object_id in self._sizes

    def drop(self, object_id: str) -> None:
        """Remove an object (disposed, or its cached copy failed to authenticate)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path_of(object_id))
        self._forget(object_id)

    def leftovers(self) -> list[Path]:
        """Temp files of interrupted writes (safe to delete when no other process has the home open)."""
        found = [p for p in self.root.iterdir() if p.name.startswith(TEMP_PREFIX)]
        for sub in self.root.iterdir():
            if sub.is_dir():
                found.extend(p for p in sub.iterdir() if p.name.startswith(TEMP_PREFIX))
        return sorted(found)

    def _forget(self, object_id: str) -> None:
        with self._lock:
            self._total -= self._sizes.pop(object_id, 0)

    def _evict(self, keep: str | None = None) -> None:
        """Under the lock: drop least recently used objects until the total fits the limit."""
        while self._total > self.limit and self._sizes:
            victim, size = next(iter(self._sizes.items()))
            if victim == keep:
                break
            del self._sizes[victim]
            self._total -= size
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path_of(victim))  # a reader that has it open keeps reading it

