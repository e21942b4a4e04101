"""Claims: the inbox side of "nothing lost, nothing twice" (security.md §3.2).

A file is claimed by renaming it (and its sidecar) into inbox/.processing/<folder>.<id>/, an
atomic step on the same file system that no second process can repeat. It leaves the claim only
after the use case answered: filed or duplicate (the catalogue commit is the linearisation point)
-> unlinked; not fileable -> moved to rejected/ with a reason. At start, `recover` settles every
claim a crash left behind: committed -> deleted, otherwise -> back into its folder to be filed again.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vault.atomicfile import fsync_dir
from vault.inbox.names import NAME_MAX, PROCESSING, is_sidecar, may_have_sidecar, sidecar_name

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed file: `path` inside its claim folder, `folder` the drop folder it came from."""

    directory: Path
    folder: str
    name: str

    @property
    def path(self) -> Path:
        return self.directory / self.name

    @property
    def sidecar(self) -> Path | None:
        if not may_have_sidecar(self.name):
            return None
        candidate = self.directory / sidecar_name(self.name)
        return candidate if candidate.exists() else None

    @property
    def claim_id(self) -> str:
        """Opaque id for logs: never the file name (logs hold no plaintext names)."""
        return self.directory.name


def claim(inbox: Path, folder: str, source: Path) -> Claim | None:
    """Move `source` (and NAME.json beside it) into a new claim; None if someone else took it first."""
    processing = inbox / PROCESSING
    processing.mkdir(mode=0o700, exist_ok=True)
    directory = processing / f"{folder}.{secrets.token_hex(8)}"
    directory.mkdir(mode=0o700)
    try:
        os.rename(source, directory / source.name)
    except FileNotFoundError:
        directory.rmdir()
        return None
    if may_have_sidecar(source.name):
        side = source.with_name(sidecar_name(source.name))
        try:
            os.rename(side, directory / side.name)
        except FileNotFoundError:
            pass
    fsync_dir(directory)
    fsync_dir(processing)
    fsync_dir(source.parent)
    return Claim(directory, folder, source.name)


def finish(c: Claim) -> None:
    """The record is committed (or was already): the plaintext leaves the inbox for good."""
    for path in (c.path, c.sidecar):
        if path is not None:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
    _drop_dir(c.directory)


def reject(c: Claim, rejected: Path, reason: str) -> Path:
    """Move the claimed file (and sidecar) to rejected/ under a free name, with NAME.reason.txt."""
    rejected.mkdir(mode=0o700, exist_ok=True)
    target = free_name(rejected, c.name, also=(REASON_SUFFIX, ".json"))
    # The reason is written first: a crash in between leaves a reason without its file, and the
    # file still claimed (recovery files it again), never a file without its reason.
    _write_durably(target.with_name(target.name + REASON_SUFFIX), one_sentence(reason) + "\n")
    os.rename(c.path, target)
    if c.sidecar is not None:
        os.rename(c.sidecar, target.with_name(target.name + ".json"))
    fsync_dir(rejected)
    _drop_dir(c.directory)
    return target


def release(c: Claim, folder_path: Path) -> Path:
    """Put a claimed file back into its drop folder (under a free name) to be filed again."""
    folder_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Its own name when free (a sidecar left behind by a crash mid-claim then matches it again).
    target = folder_path / c.name
    if target.exists():
        target = free_name(folder_path, c.name, also=(".json",))
    side = c.sidecar
    if side is not None:
        # The sidecar goes first: the watcher must never see the file without its metadata.
        os.rename(side, folder_path / sidecar_name(target.name))
    os.rename(c.path, target)
    fsync_dir(folder_path)
    _drop_dir(c.directory)
    return target


def pending_claims(inbox: Path) -> list[Claim | Path]:
    """Claims left by a crash; an empty or broken claim folder is returned as its bare Path."""
    processing = inbox / PROCESSING
    if not processing.is_dir():
        return []
    out: list[Claim | Path] = []
    for directory in sorted(processing.iterdir()):
        folder, _, _ = directory.name.rpartition(".")
        names = [p.name for p in directory.iterdir() if not is_sidecar(p.name)] if directory.is_dir() else []
        out.append(Claim(directory, folder, names[0]) if folder and len(names) == 1 else directory)
    return out


def recover(inbox: Path, committed: Callable[[Path], bool], folder_of: Callable[[str], Path]) -> tuple[int, int]:
    """Settle crashed claims: committed ones are deleted, the rest go back. Returns (deleted, returned)."""
    deleted = returned = 0
    for item in pending_claims(inbox):
        if isinstance(item, Path):
            _salvage(item, inbox)
            continue
        if committed(item.path):
            finish(item)
            deleted += 1
        else:
            release(item, folder_of(item.folder))
            returned += 1
    return deleted, returned


def free_name(directory: Path, name: str, also: tuple[str, ...] = ()) -> Path:
    """`name`, or `stem (2).ext`, ... whichever is free together with its companion suffixes.

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
        candidate = directory / (_cut(stem, room - len(os.fsencode(tail))) + tail)
        if not candidate.exists() and not any(candidate.with_name(candidate.name + s).exists() for s in also):
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


def _write_durably(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _drop_dir(directory: Path) -> None:
    try:
        directory.rmdir()
    except FileNotFoundError:
        pass
    fsync_dir(directory.parent)


def _salvage(directory: Path, inbox: Path) -> None:
    """An unexpected claim folder (empty, or several files): return any files to _unsorted."""
    if directory.is_dir():
        unsorted = inbox / "_unsorted"
        unsorted.mkdir(mode=0o700, exist_ok=True)
        for path in sorted(directory.iterdir(), key=lambda p: is_sidecar(p.name)):
            os.rename(path, free_name(unsorted, path.name, also=(".json",)))
        fsync_dir(unsorted)
        _drop_dir(directory)
    else:
        directory.unlink()
