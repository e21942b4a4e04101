"""Stability: when a dropped file is finished, judged from events, stat() and open file handles.

Events are hints (security.md §3.4): a file is ready only when its (size, mtime, inode) stayed
put for a window, no local process holds it open for writing, and, when inotify reported writes
to it, a close-write came after the last of them. Without close events (polling, network shares)
a longer window decides.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

_WRITE_MODES = os.O_WRONLY | os.O_RDWR


@dataclass(frozen=True, slots=True)
class Signature:
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Signature | None:
        try:
            st = path.lstat()  # the entry itself: a link to a file is not a file here
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(slots=True)
class _Candidate:
    signature: Signature | None
    changed_at: float
    written: bool = False  # inotify reported a create/modify: wait for its close-write
    closed: bool = False


@dataclass(slots=True)
class StabilityTracker:
    """Candidates by path; feed it events and scans, ask it which files are ready at `now`."""

    window: float  # seconds unchanged when close events are trustworthy
    slow_window: float  # seconds unchanged when they are not (polling, or a missed close)
    close_events: bool  # True with inotify: writes are followed by a close-write
    _files: dict[Path, _Candidate] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._files)

    def seen(self, path: Path, now: float) -> None:
        """A scan found the file (no event): start tracking it if new."""
        if path not in self._files:
            self._files[path] = _Candidate(Signature.of(path), now)

    def written(self, path: Path, now: float) -> None:
        """created / modified: a writer is (or was) at work."""
        cand = self._files.setdefault(path, _Candidate(Signature.of(path), now))
        cand.written, cand.closed, cand.changed_at = True, False, now
        cand.signature = Signature.of(path)

    def closed(self, path: Path, now: float) -> None:
        """A close-write (or a rename into place, which only happens to finished files)."""
        cand = self._files.setdefault(path, _Candidate(Signature.of(path), now))
        cand.closed = True

    def touched(self, path: Path, now: float) -> None:
        """Something beside the file changed (its sidecar): restart its window, keep its close state."""
        cand = self._files.get(path)
        if cand is not None:
            cand.changed_at = now

    def forget(self, path: Path) -> None:
        self._files.pop(path, None)

    def paths(self) -> list[Path]:
        return list(self._files)

    def ready(self, now: float, writers: WriterCheck | None = None) -> list[tuple[Path, Signature]]:
        """Files that are finished, oldest first; files that vanished are forgotten."""
        out: list[tuple[Path, Signature]] = []
        for path, cand in list(self._files.items()):
            current = Signature.of(path)
            if current is None:
                del self._files[path]
                continue
            if current != cand.signature:
                cand.signature, cand.changed_at = current, now
                continue
            waiting_for_close = self.close_events and cand.written and not cand.closed
            if waiting_for_close:
                # A close-write may have been lost (queue overflow): the slow window still ends it.
                window = self.slow_window
            else:
                window = self.window if self.close_events else self.slow_window
            if now - cand.changed_at < window:
                continue
            if writers is not None and writers.open_for_write(path):
                cand.changed_at = now  # a paused writer: look again after another window
                continue
            out.append((path, current))
        out.sort(key=lambda item: self._files[item[0]].changed_at)
        return out


class WriterCheck:
    """Is a file open for writing by any process whose /proc/<pid>/fd we may read?

    An extra guard for writers that pause (a slow copy): it sees only processes of our user (or
    all, as root), and nothing on other machines, so it complements the windows, never replaces them.
    """

    def __init__(self, proc: Path = Path("/proc")) -> None:
        self.proc = proc
        self.available = (proc / "self" / "fd").is_dir()

    def open_for_write(self, path: Path) -> bool:
        if not self.available:
            return False
        try:
            st = path.lstat()
        except OSError:
            return False
        target = (st.st_dev, st.st_ino)
        try:
            pids = [p for p in os.listdir(self.proc) if p.isdigit()]
        except OSError:
            return False
        for pid in pids:
            fd_dir = self.proc / pid / "fd"
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue  # another user's process, or it just ended
            for fd in fds:
                try:
                    fst = os.stat(fd_dir / fd)
                except OSError:
                    continue
                if (fst.st_dev, fst.st_ino) == target and self._writable(pid, fd):
                    return True
        return False

    def _writable(self, pid: str, fd: str) -> bool:
        try:
            info = (self.proc / pid / "fdinfo" / fd).read_text()
        except OSError:
            return True  # cannot tell: assume the worst and wait
        for line in info.splitlines():
            if line.startswith("flags:"):
                return bool(int(line.split()[1], 8) & _WRITE_MODES)
        return True
