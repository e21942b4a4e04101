"""The home's maintenance lock: a backup and a disposition never run at the same time.

A backup takes a catalogue snapshot and then copies the objects it names; a disposition shreds
keys and then deletes objects. Interleaved, the backup would miss objects its snapshot names (or
copy objects already shredded), so both hold an exclusive flock on `<home>/.maintenance.lock` for
their whole run. flock belongs to the open file, so two threads of one process (serve's scheduled
backup and a disposition from the web) exclude each other as two processes do.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vault.errors import VaultError

LOCK_FILE = ".maintenance.lock"
DISPOSITION_WAIT_SECONDS = 10.0  # a disposition waits this long for a backup, then refuses
BACKUP_WAIT_SECONDS = 600.0  # a backup waits this long for a disposition (they are short)
_POLL = 0.1


class MaintenanceBusy(VaultError):
    """The other of backup and disposition holds the home's maintenance lock."""

    def __init__(self, holder: str, wanted: str) -> None:
        super().__init__(f"A {holder or 'backup or disposition'} is running in this home, so the {wanted} did not "
                         f"start and nothing was changed: run it again when that has finished.")


@contextmanager
def maintenance_lock(home: Path, *, holder: str, wait_seconds: float,
                     clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Hold the home's maintenance lock as `holder` ("backup", "disposition"), waiting at most
    `wait_seconds` for whoever holds it; MaintenanceBusy names them when the wait runs out."""
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = clock() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() >= deadline:
                    raise MaintenanceBusy(_holder(fd), holder) from None
                time.sleep(_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)  # only a word ("backup"), so the other side can say who waits
        yield
    finally:
        os.close(fd)  # closing drops the flock


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
