"""Drop folders: watch the inbox, take finished files, file each exactly once, reject with a reason."""

from __future__ import annotations

from vault.inbox.errors import IntakeError, PendingNotFound, SidecarInvalid, StorageAway, WatcherBusy
from vault.inbox.names import UNSORTED, is_document, is_ignored, is_sidecar
from vault.inbox.pending import classify_pending, list_pending
from vault.inbox.rejected import RejectedFolder, RejectedNotFound
from vault.inbox.pipeline import CommittedFn, FileFn, Intake, create_drop_folders, walk_documents
from vault.inbox.sidecar import Sidecar, apply_sidecar, parse_sidecar, sidecar_to_json
from vault.inbox.watcher import Watcher, WatchOptions

__all__ = [
    "Intake", "FileFn", "CommittedFn", "create_drop_folders", "walk_documents",
    "Watcher", "WatchOptions", "list_pending", "classify_pending",
    "Sidecar", "parse_sidecar", "apply_sidecar", "sidecar_to_json", "UNSORTED", "is_document", "is_ignored", "is_sidecar",
    "IntakeError", "StorageAway", "WatcherBusy", "SidecarInvalid", "PendingNotFound", "RejectedFolder", "RejectedNotFound",
]
