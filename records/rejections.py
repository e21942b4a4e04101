"""Rejected files: a person sends one back to a drop folder to be filed again, or discards it; audited."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied
from records.events import event, masked
from records.ports import PendingFile, Ports


class RejectedFiles(Protocol):
    """The rejected folder (the vault's inbox implements it)."""

    def files(self) -> list[PendingFile]:
        """Every rejected file, its reason in `note`."""

    def retry(self, name: str, folder: str) -> str:
        """Move the file back into the drop folder `folder`; returns its name there."""

    def discard(self, name: str) -> None:
        """Delete the file, its sidecar and its reason."""


def rejected_files(files: RejectedFiles, scope: AccessScope) -> list[PendingFile]:
    """The rejected files, for those who file documents (others see none: names are plaintext there)."""
    return files.files() if scope.may(Permission.FILE) else []


def retry_rejected(ports: Ports, scope: AccessScope, files: RejectedFiles, name: str, folder: str, *,
                   now: datetime, channel: str = "web") -> str:
    """Send a rejected file back to `folder` (a class folder or _unsorted); the watcher files it again.
    The move happens inside the audit entry's transaction: a failed move writes no entry."""
    _require_file(scope)
    with ports.catalog.transaction() as tx:
        moved = files.retry(name, folder)
        checkpoints.append(tx, ports.signer, event("rejected.retry", actor=scope.actor, now=now, channel=channel,
                                                   details=(("file", masked(ports, name)), ("folder", folder))))
    return moved


def discard_rejected(ports: Ports, scope: AccessScope, files: RejectedFiles, name: str, *, now: datetime,
                     channel: str = "web") -> None:
    """Delete a rejected file for good (it was never filed, so no record changes)."""
    _require_file(scope)
    with ports.catalog.transaction() as tx:
        files.discard(name)
        checkpoints.append(tx, ports.signer, event("rejected.discard", actor=scope.actor, now=now, channel=channel,
                                                   details=(("file", masked(ports, name)),)))


def _require_file(scope: AccessScope) -> None:
    if not scope.may(Permission.FILE):
        raise AccessDenied(f"Your role ({scope.role}) may not handle rejected files.")
