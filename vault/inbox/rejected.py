"""The rejected folder: files that could not be filed, each with NAME.reason.txt; listed, retried, discarded.

Like the rest of the inbox, nothing here is followed: the folder is opened without following a link,
entries are looked at with lstat, and a retry renames the entry itself (a link stays a link, so a
retried link is refused again by the scan, never followed). Implements records.rejections.RejectedFiles.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

from records.ports import PendingFile
from vault.inbox import entries
from vault.inbox.claim import REASON_SUFFIX, free_name
from vault.inbox.errors import IntakeError
from vault.inbox.names import SIDECAR_SUFFIX, UNSORTED, readable_name, sidecar_name

MAX_REASON_BYTES = 2048
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class RejectedNotFound(IntakeError):
    def __init__(self, name: str) -> None:
        super().__init__(f"No file named {readable_name(name)} is in the rejected folder: refresh the list.")


class RejectedFolder:
    """`<home>/rejected`, with the drop folders a file may go back to (the plan's class folders and _unsorted)."""

    def __init__(self, home: Path, folders: frozenset[str]) -> None:
        self.path = home / "rejected"
        self.inbox = home / "inbox"
        self.folders = folders | {UNSORTED}

    def files(self) -> list[PendingFile]:
        """Every rejected entry with its one-sentence reason (oldest first); reasons and sidecars are
        companions, not entries."""
        fd = self._open()
        if fd is None:
            return []
        try:
            names = set(os.listdir(fd))
            out = []
            for name in names:
                if name.endswith(REASON_SUFFIX) or (name.endswith(SIDECAR_SUFFIX)
                                                    and name[: -len(SIDECAR_SUFFIX)] in names):
                    continue
                st = entries.lstat_at(fd, name)
                if st is None:
                    continue
                out.append(PendingFile(pending_id=name, original_name=readable_name(name),
                                       received_at=datetime.fromtimestamp(st.st_mtime, timezone.utc),
                                       size=st.st_size if stat.S_ISREG(st.st_mode) else 0,
                                       note=_reason(fd, name)))
            return sorted(out, key=lambda p: (p.received_at, p.pending_id))
        finally:
            os.close(fd)

    def retry(self, name: str, folder: str) -> str:
        """Move the file (and its sidecar) back into inbox/<folder>/ to be filed again; its reason goes.
        Returns the name it has there (a free one)."""
        if folder not in self.folders:
            raise IntakeError(f"There is no drop folder {folder}: choose a class folder or {UNSORTED}.")
        fd = self._existing(name)
        try:
            st = entries.lstat_at(fd, name)
            if st is None or not stat.S_ISREG(st.st_mode):
                raise IntakeError(f"{readable_name(name)} is not a regular file, so it cannot be filed: "
                                  "discard it instead.")
            root = entries.inbox_fd(self.inbox)
            try:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(folder, 0o700, dir_fd=root)
                target_fd = entries.open_folder(root, (folder,))
            finally:
                os.close(root)
            try:
                target = free_name(target_fd, name, also=(SIDECAR_SUFFIX,))
                side = sidecar_name(name)
                if entries.lstat_at(fd, side) is not None:
                    # The sidecar goes first: the watcher must never see the file without its metadata.
                    os.rename(side, sidecar_name(target), src_dir_fd=fd, dst_dir_fd=target_fd)
                os.rename(name, target, src_dir_fd=fd, dst_dir_fd=target_fd)
                os.fsync(target_fd)
            finally:
                os.close(target_fd)
            _unlink(fd, name + REASON_SUFFIX)
            os.fsync(fd)
            return target
        finally:
            os.close(fd)

    def discard(self, name: str) -> None:
        """Delete the entry itself (never what a link points to), its sidecar and its reason."""
        fd = self._existing(name)
        try:
            try:
                os.unlink(name, dir_fd=fd)
            except IsADirectoryError:
                raise IntakeError(f"{readable_name(name)} is a folder: remove it from the rejected folder "
                                  "by hand.") from None
            except OSError as exc:
                if exc.errno in (errno.EISDIR, errno.EPERM):
                    raise IntakeError(f"{readable_name(name)} is a folder: remove it from the rejected folder "
                                      "by hand.") from None
                raise
            _unlink(fd, sidecar_name(name))
            _unlink(fd, name + REASON_SUFFIX)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _open(self) -> int | None:
        try:
            return os.open(self.path, _DIR_FLAGS)
        except FileNotFoundError:
            return None
        except OSError:
            raise IntakeError(f"The folder {self.path} is not a real folder: make it one, then try again.") \
                from None

    def _existing(self, name: str) -> int:
        if not name or name != Path(name).name or name in (".", "..") or name.endswith(REASON_SUFFIX):
            raise RejectedNotFound(name)
        fd = self._open()
        if fd is None:
            raise RejectedNotFound(name)
        if entries.lstat_at(fd, name) is None:
            os.close(fd)
            raise RejectedNotFound(name)
        return fd


def _reason(folder: int, name: str) -> str:
    try:
        fd = os.open(name + REASON_SUFFIX, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=folder)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return " ".join(os.read(fd, MAX_REASON_BYTES).decode("utf-8", "replace").split())
    finally:
        os.close(fd)


def _unlink(folder: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder)
