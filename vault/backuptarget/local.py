"""The folder adapter of the backup-target port: a USB disk, a second drive, a mounted share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from vault.atomicfile import TEMP_PREFIX, atomic_writer, fsync_dir, remove_durably
from vault.objects import FIXED_MTIME

_READ = 1024 * 1024


class LocalTarget:
    """A folder: every file lands by temp file, fsync, rename, folder fsync (mode 0600, folders 0700).
    Objects get the home's constant mtime, so the folder's times say nothing about filing times."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def list(self) -> dict[str, int]:
        found: dict[str, int] = {}
        if not self.root.is_dir():
            return found
        for folder, dirs, files in os.walk(self.root):
            dirs.sort()
            base = Path(folder)
            for name in files:
                if not name.startswith(TEMP_PREFIX):
                    path = base / name
                    found[path.relative_to(self.root).as_posix()] = path.lstat().st_size
        return found

    def stat(self, name: str) -> int | None:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            return None

    def put(self, name: str, source: BinaryIO) -> None:
        target = self._path(name)
        self._make_parents(target.parent)
        with atomic_writer(target, mode=0o600) as sink:
            while block := source.read(_READ):
                sink.write(block)
            if name.startswith("objects/"):
                sink.flush()
                os.utime(sink.fileno(), (FIXED_MTIME, FIXED_MTIME))

    @contextmanager
    def get(self, name: str) -> Iterator[BinaryIO]:
        with open(self._path(name), "rb") as fh:
            yield fh

    def delete(self, name: str) -> bool:
        return remove_durably(self._path(name))

    def clean_leftovers(self) -> int:
        found = 0
        if not self.root.is_dir():
            return found
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(TEMP_PREFIX):
                    found += remove_durably(Path(folder) / name)
        return found

    def close(self) -> None:
        pass

    def _path(self, name: str) -> Path:
        parts = name.split("/")
        if not name or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a backup name: {name!r}")
        return self.root.joinpath(*parts)

    def _make_parents(self, folder: Path) -> None:
        if folder.is_dir():
            return
        self._make_parents(folder.parent)
        folder.mkdir(mode=0o700)
        fsync_dir(folder.parent)
