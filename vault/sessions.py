"""Sessions: which processes have a home open, and the clean-up after one that died mid-write.

Every open Home holds a shared flock on `<home>/.open.lock` and leaves an empty marker in
`<home>/sessions/` that its close() removes. A process killed mid-write (SIGKILL, power cut)
leaves its marker, and may leave sealed objects no record references (sealed before a filing
committed, or not yet deleted after a disposal committed) and `.tmp-*` files. The kernel drops
its flock, so when a later open gets the lock exclusively nobody else is writing: every object
the catalogue does not reference is such debris and is deleted, then the markers. While another
process has the home open (e.g. `serve`), nothing is swept; `verify` reports the debris until
the next open that is alone. A session that closes knowing it left debris it could not clear
(an upload the bucket of objects could not abort) keeps its marker, and is swept like a dead one.

Only ciphertext is ever deleted here, and only when the catalogue was read in full: a catalogue
that cannot be read sweeps nothing. The one plaintext a dead session can leave, a browser upload
staged under `inbox/.web-upload/`, is deleted by the same sweep (`clear_upload_staging`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from vault.errors import VaultError

LOCK_FILE = ".open.lock"
SESSIONS_DIR = "sessions"
UPLOAD_STAGING = Path("inbox") / ".web-upload"


def clear_upload_staging(home: Path) -> int:
    """Delete what uploads of a dead session left in plaintext under inbox/.web-upload/; returns how
    many entries went. Links are removed themselves, never followed (rmtree works on descriptors)."""
    root = home / UPLOAD_STAGING
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return 0
    if not stat.S_ISDIR(st.st_mode):
        root.unlink()
        return 1
    count = sum(len(files) + sum(1 for d in dirs if os.path.islink(os.path.join(top, d)))
                for top, dirs, files in os.walk(root))
    shutil.rmtree(root)
    return count


class Session:
    """This process's hold on a home; `interrupted` says an earlier session died without closing."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.interrupted = False
        self._fd: int | None = None
        self._marker: Path | None = None

    def begin(self, referenced: Callable[[], set[str]], sweep: Callable[[set[str]], None]) -> None:
        """Take the shared lock, sweeping first if alone and an earlier session died. A read-only
        home (or any OS error on the lock) opens without a session: nothing is swept then."""
        try:
            self._fd = os.open(self.home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return
        folder = self.home / SESSIONS_DIR
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # others have it open: their markers are alive; nothing to sweep now
        else:
            stale = sorted(folder.glob("*")) if folder.is_dir() else []
            self.interrupted = bool(stale)
            if stale:
                try:
                    sweep(referenced())
                except (VaultError, OSError):
                    pass  # an unreadable catalogue or object folder: sweep nothing, keep the markers
                else:
                    for marker in stale:
                        marker.unlink(missing_ok=True)
        # Downgrading is not atomic; before our marker exists a sweeper has nothing of ours to see.
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            marker = folder / secrets.token_hex(8)
            marker.touch(mode=0o600)
            self._marker = marker
        except OSError:
            pass

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        """Hold the home exclusively for the block (a move of its objects): VaultError while another
        process has it open; one that opens it meanwhile waits until the block ends."""
        if self._fd is None:
            raise VaultError(f"{self.home} cannot be locked (a read-only folder?): nothing was changed.")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._fd, fcntl.LOCK_SH)  # a refused conversion may have dropped the shared lock
            raise VaultError("Another Strongroom process has this home open (serve, watch or another command): "
                             "stop it, then run this again.") from None
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def end(self, *, keep_marker: bool = False) -> None:
        """Release the home; `keep_marker` leaves this session's marker, as a dead one would, when it
        leaves debris it could not clear (the next open alone sweeps it)."""
        if self._marker is not None:
            if not keep_marker:
                self._marker.unlink(missing_ok=True)
            self._marker = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing drops the flock
            self._fd = None
