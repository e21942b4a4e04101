"""Claims: the inbox side of "nothing lost, nothing twice" (security.md §3.2).

A file is claimed by renaming it (and its sidecar) into inbox/.processing/<folder>.<id>/, an
atomic step on the same file system that no second process can repeat. It leaves the claim only
after the use case answered: filed or duplicate (the catalogue commit is the linearisation point)
-> unlinked; not fileable -> moved to rejected/ with a reason. At start, `recover` settles every
claim a crash left behind: committed -> deleted, otherwise -> back into its folder to be filed again.

Every step works on directory descriptors opened without following links (entries.py): a rename
moves the entry itself (a link stays a link), and no path is resolved again after it was checked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vault.inbox import entries
from vault.inbox.entries import UnsafeEntry
from vault.inbox.errors import IntakeError
from vault.inbox.names import NAME_MAX, PROCESSING, UNSORTED, is_sidecar, may_have_sidecar, sidecar_name

REASON_SUFFIX = ".reason.txt"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(slots=True)
class Claim:
    """One claimed entry: `name` inside its claim folder (held open as `fd`, its parent as `parent_fd`),
    `folder` the drop folder it came from."""

    directory: Path
    folder: str
    name: str
    fd: int
    parent_fd: int

    @property
    def path(self) -> Path:
        """For messages and as a fallback only; operations use the descriptors."""
        return self.directory / self.name

    @property
    def sidecar(self) -> str | None:
        """The name of the claimed NAME.json (whatever kind of entry it is), or None."""
        if not may_have_sidecar(self.name):
            return None
        side = sidecar_name(self.name)
        return side if entries.lstat_at(self.fd, side) is not None else None

    @property
    def claim_id(self) -> str:
        """Opaque id for logs: never the file name (logs hold no plaintext names)."""
        return self.directory.name

    def close(self) -> None:
        entries.close(self.fd)
        entries.close(self.parent_fd)
        self.fd = self.parent_fd = -1


def claim(inbox: Path, folder: str, source: Path) -> Claim | None:
    """Move `source` (and NAME.json beside it) into a new claim; None if someone else took it first.

    Raises UnsafeEntry when a folder on the way is a link (nothing is moved then) or the entry lies
    on another file system."""
    parts = source.relative_to(inbox).parts
    if not parts:
        raise UnsafeEntry("The inbox itself cannot be filed.")
    name = parts[-1]
    with _root(inbox) as root:
        try:
            src = entries.open_folder(root, parts[:-1])
        except FileNotFoundError:
            return None
        try:
            pfd = _processing(root, inbox)
            claim_name = f"{folder}.{secrets.token_hex(8)}"
            os.mkdir(claim_name, 0o700, dir_fd=pfd)
            cfd = os.open(claim_name, _DIR_FLAGS, dir_fd=pfd)
            c = Claim(inbox / PROCESSING / claim_name, folder, name, cfd, pfd)
            try:
                os.rename(name, name, src_dir_fd=src, dst_dir_fd=cfd)
            except OSError as exc:
                _drop_dir(c)
                if exc.errno == errno.ENOENT:
                    return None
                if exc.errno in (errno.EXDEV, errno.EBUSY):  # another file system, a mount point
                    raise UnsafeEntry("It lies on another file system than the inbox: copy the file itself "
                                      "into the folder.") from None
                raise
            if may_have_sidecar(name):
                with contextlib.suppress(FileNotFoundError):
                    os.rename(sidecar_name(name), sidecar_name(name), src_dir_fd=src, dst_dir_fd=cfd)
            os.fsync(cfd)
            os.fsync(pfd)
            os.fsync(src)
            return c
        finally:
            os.close(src)


def finish(c: Claim) -> None:
    """The record is committed (or was already): the plaintext leaves the inbox for good."""
    for name in (c.name, c.sidecar):
        if name is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=c.fd)
    _drop_dir(c)


def reject(c: Claim, rejected: Path, reason: str) -> Path:
    """Move the claimed entry (and sidecar) to rejected/ under a free name, with NAME.reason.txt.

    The entry itself is moved, whatever it is: a link stays a link and its target is never touched."""
    rejected.mkdir(mode=0o700, exist_ok=True)
    try:
        rfd = os.open(rejected, _DIR_FLAGS)
    except OSError as exc:
        raise IntakeError(f"The folder {rejected} is not a real folder ({exc.strerror}): "
                          "make it one, then start again.") from None
    try:
        target = free_name(rfd, c.name, also=(REASON_SUFFIX, ".json"))
        # The reason is written first: a crash in between leaves a reason without its file, and the
        # file still claimed (recovery files it again), never a file without its reason.
        _write_durably(rfd, target + REASON_SUFFIX, one_sentence(reason) + "\n")
        side = c.sidecar
        os.rename(c.name, target, src_dir_fd=c.fd, dst_dir_fd=rfd)
        if side is not None:
            os.rename(side, target + ".json", src_dir_fd=c.fd, dst_dir_fd=rfd)
        os.fsync(rfd)
    finally:
        os.close(rfd)
    _drop_dir(c)
    return rejected / target


def release(c: Claim, inbox: Path, folder: str) -> Path:
    """Put a claimed file back into its drop folder (under a free name) to be filed again.

    Raises UnsafeEntry (and keeps the claim) when the folder has been replaced by a link."""
    with _root(inbox) as root:
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700, dir_fd=root)
        ffd = entries.open_folder(root, (folder,))
    try:
        # Its own name when free (a sidecar left behind by a crash mid-claim then matches it again).
        target = c.name
        if entries.lstat_at(ffd, target) is not None:
            target = free_name(ffd, c.name, also=(".json",))
        side = c.sidecar
        if side is not None:
            # The sidecar goes first: the watcher must never see the file without its metadata.
            os.rename(side, sidecar_name(target), src_dir_fd=c.fd, dst_dir_fd=ffd)
        os.rename(c.name, target, src_dir_fd=c.fd, dst_dir_fd=ffd)
        os.fsync(ffd)
    finally:
        os.close(ffd)
    _drop_dir(c)
    return inbox / folder / target


def recover(inbox: Path, committed: Callable[[Claim], bool | str],
            settle_unsafe: Callable[[Claim, str], None]) -> tuple[int, int]:
    """Settle crashed claims: committed ones are deleted, the rest go back. Returns (deleted, returned).

    `committed` answers for one claim (True / False, or a reason why the entry is unsafe);
    `settle_unsafe(claim, reason)` takes the claims that must not go back (they are rejected)."""
    deleted = returned = 0
    with _root(inbox) as root:
        try:
            pfd = os.open(PROCESSING, _DIR_FLAGS, dir_fd=root)
        except FileNotFoundError:
            return 0, 0
        except OSError:
            pfd = _processing(root, inbox)  # raises the one-sentence error
        try:
            names = sorted(os.listdir(pfd))
        finally:
            os.close(pfd)
        for claim_name in names:
            c = _open_claim(root, inbox, claim_name)
            if c is None:
                continue
            answer = committed(c)
            if answer is True:
                finish(c)
                deleted += 1
                continue
            try:
                if isinstance(answer, str):
                    raise UnsafeEntry(answer)
                release(c, inbox, c.folder)
                returned += 1
            except UnsafeEntry as exc:
                settle_unsafe(c, str(exc))
    return deleted, returned


def _open_claim(root: int, inbox: Path, claim_name: str) -> Claim | None:
    """One claim folder as a Claim; an unexpected one (empty, several files, not a folder) is salvaged."""
    pfd = os.open(PROCESSING, _DIR_FLAGS, dir_fd=root)
    folder, _, _ = claim_name.rpartition(".")
    try:
        cfd = os.open(claim_name, _DIR_FLAGS, dir_fd=pfd)
    except OSError:
        # Not a folder we made (a file or a link): remove the entry itself, never what it points to.
        with contextlib.suppress(OSError):
            os.unlink(claim_name, dir_fd=pfd)
        os.close(pfd)
        return None
    c = Claim(inbox / PROCESSING / claim_name, folder, "", cfd, pfd)
    names = [n for n in os.listdir(cfd) if not is_sidecar(n)]
    if folder and len(names) == 1:
        c.name = names[0]
        return c
    _salvage(c, root)
    return None


def free_name(folder: int, name: str, also: tuple[str, ...] = ()) -> str:
    """`name`, or `stem (2).ext`, ... whichever is free in `folder` together with its companion suffixes.

    The stem is shortened when the name with a companion suffix (NAME.reason.txt) or a counter
    would pass the file system's 255-byte limit: a long name must not make a file unrejectable.
    """
    stem, dot, ext = name.rpartition(".")
    if not stem or len(os.fsencode(dot + ext)) > NAME_MAX // 2:
        stem, dot, ext = name, "", ""
    room = NAME_MAX - max((len(os.fsencode(s)) for s in also), default=0)
    n = 1
    while True:
        tail = ("" if n == 1 else f" ({n})") + dot + ext
        candidate = _cut(stem, room - len(os.fsencode(tail))) + tail
        if all(entries.lstat_at(folder, candidate + s) is None for s in ("", *also)):
            return candidate
        n += 1


def _cut(text: str, limit: int) -> str:
    """`text` without its last characters until it takes at most `limit` bytes on disk."""
    while text and len(os.fsencode(text)) > limit:
        text = text[:-1]
    return text


def one_sentence(text: str) -> str:
    sentence = " ".join(text.split()) or "The file could not be filed."
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


@contextlib.contextmanager
def _root(inbox: Path) -> Iterator[int]:
    fd = entries.inbox_fd(inbox)
    try:
        yield fd
    finally:
        os.close(fd)


def _processing(root: int, inbox: Path) -> int:
    """inbox/.processing, created private if missing; refused if it is a link or someone else's."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(PROCESSING, 0o700, dir_fd=root)
    problem = IntakeError(f"{inbox / PROCESSING} is not a private folder of this program (a link, a file, "
                          "or another user's): remove it, then start again.")
    try:
        fd = os.open(PROCESSING, _DIR_FLAGS, dir_fd=root)
    except OSError:
        raise problem from None
    if os.fstat(fd).st_uid != os.geteuid():
        os.close(fd)
        raise problem
    os.fchmod(fd, 0o700)
    return fd


def _write_durably(folder: int, name: str, text: str) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _drop_dir(c: Claim) -> None:
    try:
        os.rmdir(c.directory.name, dir_fd=c.parent_fd)
        os.fsync(c.parent_fd)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY):
            raise  # an unexpected entry (ENOTEMPTY) is salvaged by the next recovery
    finally:
        c.close()


def _salvage(c: Claim, root: int) -> None:
    """An unexpected claim folder (empty, or several entries): return them to _unsorted (where the
    scan rejects any that is not a regular file)."""
    try:
        names = sorted(os.listdir(c.fd), key=is_sidecar)
        if names:
            with contextlib.suppress(FileExistsError):
                os.mkdir(UNSORTED, 0o700, dir_fd=root)
            ufd = entries.open_folder(root, (UNSORTED,))
            try:
                for name in names:
                    os.rename(name, free_name(ufd, name, also=(".json",)), src_dir_fd=c.fd, dst_dir_fd=ufd)
                os.fsync(ufd)
            finally:
                os.close(ufd)
    finally:
        _drop_dir(c)
