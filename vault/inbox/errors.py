"""Errors of the drop-folder intake; all are VaultErrors, so the CLI shows one sentence."""

from __future__ import annotations

from vault.errors import VaultError


class IntakeError(VaultError):
    """The intake cannot run or cannot take a file (the message says what to do)."""


class WatcherBusy(IntakeError):
    def __init__(self, inbox: str) -> None:
        super().__init__(f"Another watcher is already filing from {inbox}: stop it (or `strongroom serve`) "
                         "before starting a second one.")


class SidecarInvalid(IntakeError):
    """A NAME.EXT.json sidecar is not valid; the file is rejected with this message as its reason."""


class PendingNotFound(IntakeError):
    def __init__(self, name: str) -> None:
        super().__init__(f"No file named {name} is waiting in the unsorted folder: refresh the list.")


class StorageAway(IntakeError):
    """The sealed objects cannot be reached (their bucket is away): no fault of the file, which is back
    in its drop folder; the watcher waits and tries again."""
