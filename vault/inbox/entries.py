"""Entries: what a name under inbox/ really is, judged on the entry itself, never on a link's target.

Everything under inbox/ may have been placed by someone who should not reach the rest of the disk:
a symbolic link to /etc/passwd, a class folder replaced by a link to another directory, a hard link
to a file outside, a FIFO that blocks whoever opens it. So every folder is opened component by
component with O_NOFOLLOW from the inbox's own descriptor, entries are moved with renameat() on
those descriptors (a rename moves the link itself, never its target), and a file is filed only
through a descriptor opened with O_NOFOLLOW | O_NONBLOCK whose fstat() says: a regular file, on
the inbox's device, with no other hard link (st_nlink == 1).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from vault.inbox.errors import IntakeError
from vault.inbox.names import readable_name

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_PROC_FD = Path("/proc/self/fd")


class UnsafeEntry(IntakeError):
    """An entry that must not be filed or followed; the message is the rejection's one sentence."""


def kind_problem(st: os.stat_result, what: str = "It") -> str | None:
    """Why an entry of this type (from lstat) is never filed, or None for a regular file."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return (f"{what} is a symbolic link, and Strongroom never follows links in the inbox: "
                "copy the file itself into the folder.")
    if stat.S_ISFIFO(mode):
        return f"{what} is a named pipe (FIFO), not a file: copy a real file into the folder."
    if stat.S_ISSOCK(mode):
        return f"{what} is a socket, not a file: copy a real file into the folder."
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"{what} is a device file, not a document: copy a real file into the folder."
    if stat.S_ISDIR(mode):
        return f"{what} is a folder, not a file."
    return f"{what} is not a regular file: copy a real file into the folder."


def file_problem(st: os.stat_result, device: int, what: str = "It") -> str | None:
    """Why an opened descriptor (its fstat) must not be filed, or None when it may."""
    problem = kind_problem(st, what)
    if problem is not None:
        return problem
    if st.st_dev != device:
        return f"{what} lies on another file system than the inbox: copy the file itself into the folder."
    if st.st_nlink != 1:
        return (f"{what} has another hard link (the same data under a second name, possibly outside the "
                "inbox): copy the file instead of linking it.")
    return None


def inbox_fd(inbox: Path) -> int:
    """A descriptor of the inbox itself (the root all other paths are resolved from)."""
    try:
        return os.open(inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise IntakeError(f"The inbox {inbox} cannot be opened ({exc.strerror}).") from None


def open_folder(root: int, parts: Sequence[str]) -> int:
    """The folder root/parts[0]/parts[1]/..., every step opened without following a link.

    Raises UnsafeEntry when a step is a link or not a folder (FileNotFoundError when it is missing).
    """
    device = os.fstat(root).st_dev
    fd = os.dup(root)
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise UnsafeEntry(f"The path has an unsafe part {readable_name(part)!r}.")
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeEntry(f"The folder {readable_name(part)} is a symbolic link or not a folder, and "
                                      "Strongroom never follows links in the inbox: make it a real folder again.") \
                        from None
                raise
            os.close(fd)
            fd = nxt
            if os.fstat(fd).st_dev != device:
                raise UnsafeEntry(f"The folder {readable_name(part)} is on another file system than the inbox: "
                                  "make it a real folder of the inbox.")
        return fd
    except BaseException:
        os.close(fd)
        raise


def lstat_at(folder: int, name: str) -> os.stat_result | None:
    """The entry's own lstat, or None when it is missing."""
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None


def open_file(folder: int, name: str, device: int, what: str = "It") -> int:
    """Open `name` in `folder` for reading, checked on the descriptor; raises UnsafeEntry with the reason.

    The lstat first keeps us from opening devices and FIFOs at all; O_NOFOLLOW | O_NONBLOCK keep a
    link or a FIFO that replaced the entry in between from being followed or blocking; fstat on the
    descriptor is the check that counts.
    """
    before = lstat_at(folder, name)
    if before is None:
        raise FileNotFoundError(errno.ENOENT, "vanished", name)
    problem = kind_problem(before, what)
    if problem is not None:
        raise UnsafeEntry(problem)
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeEntry(kind_problem(os.stat(name, dir_fd=folder, follow_symlinks=False), what)
                              or f"{what} changed while it was opened.") from None
        raise
    st = os.fstat(fd)
    problem = file_problem(st, device, what)
    if problem is None and (st.st_ino, st.st_dev) != (before.st_ino, before.st_dev):
        problem = f"{what} was replaced while it was opened; it will be looked at again."
    if problem is not None:
        os.close(fd)
        raise UnsafeEntry(problem)
    return fd


def held_path(fd: int, fallback: Path) -> Path:
    """A path that opens exactly the inode behind `fd` (Linux's /proc/self/fd magic link), so code
    that takes a path reads the checked file, whatever has since been renamed or linked in its place.
    Without /proc, `fallback` (a path inside our private claim folder)."""
    path = _PROC_FD / str(fd)
    return path if _PROC_FD.is_dir() else fallback


def read_at_most(fd: int, limit: int) -> bytes:
    """At most `limit` + 1 bytes from `fd`: enough to tell "too large" without reading it all."""
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def close(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass
