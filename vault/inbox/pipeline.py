"""The intake pipeline: one finished file from a drop folder -> claim -> sidecar -> filing -> settled."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest, FilingStatus
from records.plan import Plan, RecordClass
from vault.errors import CatalogError
from vault.inbox import claim as claims
from vault.inbox.errors import IntakeError, SidecarInvalid
from vault.inbox.names import IGNORED_DIRS, UNSORTED, is_document
from vault.inbox.sidecar import apply_sidecar, parse_sidecar
from vault.inbox.stability import Signature

log = logging.getLogger("strongroom.intake")

FileFn = Callable[[Path, FilingRequest], FilingOutcome]
"""The filing use case bound to an open home (web/intake.py builds it around records.filing)."""
CommittedFn = Callable[[Path], bool]
"""Is this file's content already a committed record? (content MAC looked up in the catalogue)"""

ACTOR = "system:inbox"
CHANNEL = "inbox"


class Status(StrEnum):
    FILED = "filed"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    RETURNED = "returned"  # changed while being filed: back in its folder, to be filed again


@dataclass(frozen=True, slots=True)
class IntakeResult:
    claim_id: str  # opaque; safe for logs
    folder: str
    status: Status
    reason: str  # one sentence
    record_id: str | None = None
    registry_number: str = ""
    children: tuple[FilingOutcome, ...] = ()
    rejected_to: Path | None = None


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
        out: list[tuple[Path, str]] = []
        if not self.inbox.is_dir():
            return out
        for top in sorted(self.inbox.iterdir()):
            if not top.is_dir() or top.name == UNSORTED or top.name.startswith(".") or top.name in IGNORED_DIRS:
                continue
            out.extend((path, top.name) for path in walk_documents(top))
        return out

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
        deleted, returned = claims.recover(self.inbox, committed, self.folder_path)
        if deleted or returned:
            log.info("recovered claims: %d already filed and removed, %d returned to the inbox",
                     deleted, returned)
        return deleted, returned

    def take(self, source: Path, folder: str, expected: Signature | None = None, *,
             record_class: str | None = None, overrides: dict[str, Any] | None = None) -> IntakeResult | None:
        """Claim and file one document; None if another process claimed it first.

        `record_class` (a code or slug) overrides the folder's class (the unsorted queue);
        `overrides` replace FilingRequest fields after the sidecar (what a person chose in the UI).
        """
        c = claims.claim(self.inbox, folder, source)
        if c is None:
            return None
        at_claim = Signature.of(c.path)
        if expected is not None and at_claim != expected:
            return self._return(c, "The file changed while it was being claimed; it will be filed when finished.")
        try:
            request = self._request(c, record_class, overrides or {})
        except (SidecarInvalid, RecordsError) as exc:
            return self._reject(c, str(exc))
        try:
            outcome = self.file_fn(c.path, request)
        except RecordsError as exc:
            return self._reject(c, str(exc))
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
        if Signature.of(c.path) != at_claim:
            # A writer still held the file and wrote into the claimed inode: file the final version too.
            return self._return(c, "The file changed while it was being filed; it will be filed again.")
        return self._settle(c, outcome)

    def _request(self, c: claims.Claim, record_class: str | None, overrides: dict[str, Any]) -> FilingRequest:
        cls = self.plan.resolve(record_class) if record_class else self.class_of(c.folder)
        if cls is None:
            raise SidecarInvalid(f"The folder {c.folder} names no class of the plan: drop the file into "
                                 "a class folder or into _unsorted.")
        request = FilingRequest(original_name=c.name, record_class=cls.code, actor=self.actor, channel=CHANNEL)
        if c.sidecar is not None:
            request = apply_sidecar(request, parse_sidecar(c.sidecar.read_bytes(), detail_kind=cls.detail,
                                                           name=f"The sidecar {c.sidecar.name}"))
        return dataclasses.replace(request, **overrides) if overrides else request

    def _settle(self, c: claims.Claim, outcome: FilingOutcome) -> IntakeResult:
        if outcome.status is FilingStatus.REJECTED:
            return self._reject(c, outcome.reason)
        claims.finish(c)
        status = Status.FILED if outcome.status is FilingStatus.FILED else Status.DUPLICATE
        log.info("claim %s: %s %s", c.claim_id, status, outcome.registry_number)
        return IntakeResult(c.claim_id, c.folder, status, outcome.reason, outcome.record_id,
                            outcome.registry_number, outcome.children)

    def _reject(self, c: claims.Claim, reason: str) -> IntakeResult:
        target = claims.reject(c, self.rejected, reason)
        log.info("claim %s: rejected (see rejected/*.reason.txt)", c.claim_id)
        return IntakeResult(c.claim_id, c.folder, Status.REJECTED, claims.one_sentence(reason), rejected_to=target)

    def _return(self, c: claims.Claim, reason: str) -> IntakeResult:
        claims.release(c, self.folder_path(c.folder))
        return IntakeResult(c.claim_id, c.folder, Status.RETURNED, reason)


def create_drop_folders(home: Path, plan: Plan) -> list[Path]:
    """Create inbox/<slug>/ for every class and inbox/_unsorted/ (mode 0700); returns those created."""
    made: list[Path] = []
    for name in [*(c.slug for c in plan.classes if not c.unsorted), UNSORTED]:
        path = home / "inbox" / name
        if not path.is_dir():
            path.mkdir(mode=0o700, parents=True)
            made.append(path)
    return made


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
