"""Crash-safe file publication: write a temp file in the same folder, fsync, rename, fsync the folder."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".tmp-"


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable (rename alone only makes it visible)."""
    _fsync(path, os.O_RDONLY | os.O_DIRECTORY)


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path, *, temp_dir: Path | None = None, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a file to write; on clean exit it replaces `path` atomically and durably.

    A crash at any point leaves either the old file or the new one at `path`, plus at most
    a `.tmp-*` leftover that `Home.verify` reports. On error the temp file is removed.
    """
    tmp = _temp_name(temp_dir or path.parent)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with _replacing(tmp, path), os.fdopen(fd, "wb") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: Path, *, mode: int = 0o600) -> Iterator[Path]:
    """Yield the path of a new, empty temp file beside `path` for a library to fill (e.g.
    SQLite's backup API); on clean exit it is fsynced and replaces `path` durably."""
    tmp = _temp_name(path.parent)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    with _replacing(tmp, path):
        yield tmp
        _fsync(tmp)


def _temp_name(folder: Path) -> Path:
    return folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}"


@contextlib.contextmanager
def _replacing(tmp: Path, path: Path) -> Iterator[None]:
    """After the body has filled `tmp` (and fsynced it): rename it over `path`, fsync the folder.
    If the body fails, `tmp` is removed and the error propagates."""
    try:
        yield
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    with atomic_writer(path, mode=mode) as fh:
        fh.write(data)


def remove_durably(path: Path) -> bool:
    """Unlink and fsync the folder; False when the file was already gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True
