"""The intake pipeline: one finished file from a drop folder -> claim -> sidecar -> filing -> settled."""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest, FilingStatus
from records.plan import Plan, RecordClass
from vault.errors import CatalogError, StorageUnavailable
from vault.inbox import claim as claims
from vault.inbox import entries
from vault.inbox.entries import UnsafeEntry
from vault.inbox.errors import IntakeError, SidecarInvalid, StorageAway
from vault.inbox.names import IGNORED_DIRS, UNSORTED, is_document, is_sidecar, is_temporary, readable_name
from vault.inbox.sidecar import apply_sidecar, parse_sidecar, read_sidecar
from vault.inbox.stability import Signature

log = logging.getLogger("strongroom.intake")

FileFn = Callable[[Path, FilingRequest], FilingOutcome]
"""The filing use case bound to an open home (web/intake.py builds it around records.filing)."""
CommittedFn = Callable[[Path], bool]
"""Is this file's content already a committed record? (content MAC looked up in the catalogue)"""

ACTOR = "system:inbox"
CHANNEL = "inbox"


def _outcome(folder: str, status: FilingStatus, reason: str, rejected_to: Path | None = None) -> FilingOutcome:
    """The drop folder's own outcomes (refused before filing, returned, moved to rejected/); filed and
    duplicate ones are filing's, named after their folder."""
    return FilingOutcome(status=status, reason=reason, source=folder,
                         rejected_to=str(rejected_to) if rejected_to is not None else "")


@dataclass(frozen=True, slots=True)
class Stray:
    """An entry the scan found that is never filed and must not pass silently: a link, a FIFO, a
    socket, a device, a hard link, a hidden (dot) name, or a drop folder replaced by a link."""

    path: Path
    folder: str
    reason: str


class Intake:
    """Drop folders of one home, bound to its plan and the filing use case."""

    def __init__(self, home: Path, plan: Plan, file_fn: FileFn, *, committed: CommittedFn | None = None,
                 actor: str = ACTOR) -> None:
        self.home = home
        self.inbox = home / "inbox"
        self.rejected = home / "rejected"
        self.plan = plan
        self.file_fn = file_fn
        self.committed = committed
        self.actor = actor
        self._by_slug = {c.slug: c for c in plan.classes if not c.unsorted}

    # ---- folders ---------------------------------------------------------------------------

    def folder_path(self, folder: str) -> Path:
        return self.inbox / folder

    def class_of(self, folder: str) -> RecordClass | None:
        return self._by_slug.get(folder)

    def ensure_folders(self) -> list[Path]:
        """inbox/<slug>/ for every class of the plan and inbox/_unsorted/; returns those created."""
        return create_drop_folders(self.home, self.plan)

    def documents(self) -> list[tuple[Path, str]]:
        """Every document now in a class folder (recursively), with its folder; the scan is the truth."""
        return self.scan()[0]

    def scan(self, *, hidden_after: float = 30.0, now: float | None = None) -> tuple[list[tuple[Path, str]],
                                                                                    list[Stray]]:
        """(documents in class folders, strays anywhere in the drop folders), without following a link.

        A hidden (dot) name counts as a stray only once unchanged for `hidden_after` seconds: copy
        tools (rsync) write under a dot name and rename when done."""
        docs: list[tuple[Path, str]] = []
        strays: list[Stray] = []
        if not self.inbox.is_dir():
            return docs, strays
        clock = time.time() if now is None else now
        root = entries.inbox_fd(self.inbox)
        try:
            for entry in sorted(os.scandir(root), key=lambda e: e.name):
                name = entry.name
                if name.startswith(".") or name in IGNORED_DIRS:
                    continue  # ours (.processing, .watch.lock, uploads) or a sync tool's
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    self._walk(root, (name,), docs, strays, clock - hidden_after)
                elif name in self._by_slug or name == UNSORTED or not stat.S_ISREG(st.st_mode):
                    strays.append(Stray(self.inbox / name, name, _folder_problem(name)))
        finally:
            os.close(root)
        return docs, strays

    def _walk(self, parent: int, parts: tuple[str, ...], docs: list[tuple[Path, str]], strays: list[Stray],
              hidden_before: float) -> None:
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except OSError:
            return  # vanished or replaced since listed: the next scan looks again
        folder = parts[0]
        try:
            for entry in sorted(os.scandir(fd), key=lambda e: e.name):
                name = entry.name
                if is_temporary(name) or name in IGNORED_DIRS:
                    continue  # editor and sync droppings stay silent (DESIGN.md)
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                path = self.inbox.joinpath(*parts, name)
                if name.startswith("."):
                    if st.st_mtime < hidden_before:
                        strays.append(Stray(path, folder, HIDDEN_REASON))
                elif stat.S_ISDIR(st.st_mode) and st.st_dev != os.fstat(fd).st_dev:
                    strays.append(Stray(path, folder, "It is a folder on another file system (a mount point), and "
                                                      "Strongroom files only from the inbox's own: copy the files."))
                elif stat.S_ISDIR(st.st_mode):
                    self._walk(fd, (*parts, name), docs, strays, hidden_before)
                elif is_sidecar(name):
                    # Read (and checked) with its file; alone it is only reported when not a regular file.
                    main = name[: -len(".json")]
                    if not stat.S_ISREG(st.st_mode) and entries.lstat_at(fd, main) is None:
                        strays.append(Stray(path, folder, entries.kind_problem(st) or ""))
                else:
                    problem = entries.file_problem(st, st.st_dev)
                    if problem is not None:
                        strays.append(Stray(path, folder, problem))
                    elif folder != UNSORTED:
                        docs.append((path, folder))
        finally:
            os.close(fd)

    def folder_of_path(self, path: Path) -> str | None:
        """The drop folder a path lies in, or None when it is not in one the watcher files from."""
        try:
            parts = path.relative_to(self.inbox).parts
        except ValueError:
            return None
        if len(parts) < 2 or parts[0] == UNSORTED or any(p.startswith(".") or p in IGNORED_DIRS
                                                          for p in parts[:-1]):
            return None
        return parts[0] if is_document(parts[-1]) else None

    # ---- recovery and filing ---------------------------------------------------------------

    def recover(self) -> tuple[int, int]:
        """Settle claims left by a crash: (deleted because committed, returned to their folder)."""
        committed = self.committed or (lambda _path: False)  # refiling reports a duplicate: still once

        def answer(c: claims.Claim) -> bool | str:
            try:
                fd = entries.open_file(c.fd, c.name, os.fstat(c.parent_fd).st_dev)
            except UnsafeEntry as exc:
                return str(exc)
            try:
                return committed(entries.held_path(fd, c.path))
            finally:
                os.close(fd)

        def unsafe(c: claims.Claim, reason: str) -> None:
            self._reject(c, reason)

        deleted, returned = claims.recover(self.inbox, answer, unsafe)
        if deleted or returned:
            log.info("recovered claims: %d already filed and removed, %d returned to the inbox",
                     deleted, returned)
        return deleted, returned

    def take(self, source: Path, folder: str, expected: Signature | None = None, *,
             record_class: str | None = None, overrides: dict[str, Any] | None = None) -> FilingOutcome | None:
        """Claim and file one document; None if another process claimed it first.

        `record_class` (a code or slug) overrides the folder's class (the unsorted queue);
        `overrides` replace FilingRequest fields after the sidecar (what a person chose in the UI).
        What is filed is the descriptor checked after the claim (entries.py), never the path again.
        """
        try:
            c = claims.claim(self.inbox, folder, source)
        except UnsafeEntry as exc:  # a folder on the way is a link, or another file system: nothing moved
            log.warning("a file in drop folder %s was not taken: %s", folder, exc)
            return _outcome(folder, FilingStatus.REJECTED, claims.one_sentence(str(exc)))
        if c is None:
            return None
        try:
            return self._take_claimed(c, expected, record_class, overrides or {})
        finally:
            c.close()

    def refuse(self, stray: Stray) -> FilingOutcome | None:
        """Move a stray entry itself (never a link's target) to rejected/ with its reason."""
        try:
            c = claims.claim(self.inbox, stray.folder, stray.path)
        except UnsafeEntry as exc:  # cannot be moved safely: reported, left where it is
            log.warning("an entry in drop folder %s cannot be moved to rejected/: %s", stray.folder, exc)
            return _outcome(stray.folder, FilingStatus.REJECTED, claims.one_sentence(f"{stray.reason} {exc}"))
        if c is None:
            return None
        try:
            top = stray.path.parent == self.inbox
            st = entries.lstat_at(c.fd, c.name)
            if st is None:
                return None
            if not _still_stray(st, c.name, top):  # replaced by a plain file since the scan
                return self._return(c, "")
            result = self._reject(c, stray.reason)
            if top:
                self.ensure_folders()  # a real drop folder in place of the link
            return result
        finally:
            c.close()

    def _take_claimed(self, c: claims.Claim, expected: Signature | None, record_class: str | None,
                      overrides: dict[str, Any]) -> FilingOutcome:
        device = os.fstat(c.parent_fd).st_dev
        try:
            fd = entries.open_file(c.fd, c.name, device)
        except UnsafeEntry as exc:
            return self._reject(c, str(exc))
        try:
            at_claim = _signature(fd)
            if expected is not None and at_claim != expected:
                return self._return(c, "The file changed while it was being claimed; it will be filed when finished.")
            try:
                request = self._request(c, device, record_class, overrides)
            except (SidecarInvalid, RecordsError) as exc:
                return self._reject(c, str(exc))
            try:
                outcome = self.file_fn(entries.held_path(fd, c.path), request)
            except RecordsError as exc:
                return self._reject(c, str(exc))
            except StorageUnavailable as exc:  # the bucket of objects is away: no fault of this file
                self._return(c, "")
                text = str(exc)
                raise StorageAway(f"Filing waits and the file stays in its drop folder until the bucket answers: "
                                  f"{text[:1].lower()}{text[1:]}") from None
            except OSError as exc:
                # fsync errors are not retryable (security.md §3.1): stop, keep the file for later.
                self._return(c, "")
                raise IntakeError(f"Filing stopped because the vault could not read or write ({exc.strerror}); "
                                  "the file is back in its folder: check the disk, then start again.") from None
            except CatalogError as exc:
                # A damaged catalogue is no fault of this file (nor of the next): stop, keep it for later.
                self._return(c, "")
                text = str(exc)
                raise IntakeError(f"Filing stopped and the file is back in its folder: {text[:1].lower()}{text[1:]}") \
                    from None
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the watcher
                log.error("claim %s: internal error %s while filing", c.claim_id, type(exc).__name__)
                return self._reject(c, f"Strongroom could not file it because of an internal error "
                                       f"({type(exc).__name__}); keep the file and report the problem.")
            if _signature(fd) != at_claim:
                # A writer still held the file and wrote into the claimed inode: file the final version too.
                return self._return(c, "The file changed while it was being filed; it will be filed again.")
            return self._settle(c, outcome)
        finally:
            os.close(fd)

    def _request(self, c: claims.Claim, device: int, record_class: str | None,
                 overrides: dict[str, Any]) -> FilingRequest:
        cls = self.plan.resolve(record_class) if record_class else self.class_of(c.folder)
        if cls is None:
            raise SidecarInvalid(f"The folder {c.folder} names no class of the plan: drop the file into "
                                 "a class folder or into _unsorted.")
        request = FilingRequest(original_name=readable_name(c.name), record_class=cls.code, actor=self.actor,
                                channel=CHANNEL)
        side = c.sidecar
        if side is not None:
            what = f"The sidecar {readable_name(side)}"
            try:
                fd = entries.open_file(c.fd, side, device, what)
            except UnsafeEntry as exc:
                raise SidecarInvalid(str(exc)) from None
            try:
                data = read_sidecar(fd, what)
            finally:
                os.close(fd)
            request = apply_sidecar(request, parse_sidecar(data, detail_kind=cls.detail, name=what))
        return dataclasses.replace(request, **overrides) if overrides else request

    def _settle(self, c: claims.Claim, outcome: FilingOutcome) -> FilingOutcome:
        if outcome.status is FilingStatus.REJECTED:
            return self._reject(c, outcome.reason)
        claims.finish(c)
        log.info("claim %s: %s %s", c.claim_id, outcome.status, outcome.registry_number)
        return outcome.named(c.folder)

    def _reject(self, c: claims.Claim, reason: str) -> FilingOutcome:
        target = claims.reject(c, self.rejected, reason)
        log.info("claim %s: rejected (see rejected/*.reason.txt)", c.claim_id)
        return _outcome(c.folder, FilingStatus.REJECTED, claims.one_sentence(reason), target)

    def _return(self, c: claims.Claim, reason: str) -> FilingOutcome:
        try:
            claims.release(c, self.inbox, c.folder)
        except UnsafeEntry as exc:  # its folder is a link now: the file must not follow it out
            return self._reject(c, str(exc))
        return _outcome(c.folder, FilingStatus.RETURNED, reason)


def create_drop_folders(home: Path, plan: Plan) -> list[Path]:
    """Create inbox/<slug>/ for every class and inbox/_unsorted/ (mode 0700); returns those created."""
    made: list[Path] = []
    for name in [*(c.slug for c in plan.classes if not c.unsorted), UNSORTED]:
        path = home / "inbox" / name
        if not path.is_dir():
            path.mkdir(mode=0o700, parents=True)
            made.append(path)
    return made


HIDDEN_REASON = ("Its name starts with a dot, so it is hidden and never filed: rename it without the leading dot "
                 "to file it.")


def _folder_problem(name: str) -> str:
    return (f"The drop folder {readable_name(name)} was a symbolic link or not a folder, and Strongroom never "
            "follows links in the inbox: it was moved here and a real folder made in its place.")


def _still_stray(st: os.stat_result, name: str, top: bool) -> bool:
    """Is the claimed entry still what the scan reported (and not a plain document put there since)?"""
    if stat.S_ISDIR(st.st_mode):
        return not top and name.startswith(".")
    return top or name.startswith(".") or entries.file_problem(st, st.st_dev) is not None


def _signature(fd: int) -> Signature:
    st = os.fstat(fd)
    return Signature(st.st_size, st.st_mtime_ns, st.st_ino)


def walk_documents(top: Path) -> list[Path]:
    """Documents under `top`, recursively, skipping ignored names and folders; sorted for determinism."""
    found: list[Path] = []
    stack = [top]
    while stack:
        current = stack.pop()
        try:
            entries: Sequence[Path] = sorted(current.iterdir())
        except OSError:
            continue  # vanished or unreadable: the next scan looks again
        for entry in entries:
            if entry.is_symlink():
                continue  # never follow links out of the inbox
            if entry.is_dir():
                if not entry.name.startswith(".") and entry.name not in IGNORED_DIRS:
                    stack.append(entry)
            elif entry.is_file() and is_document(entry.name):
                found.append(entry)
    return found
