"""The unsorted queue: files in inbox/_unsorted wait there (plaintext stays in the inbox) for a person."""

from __future__ import annotations

import os
import stat
import time
from datetime import datetime, timezone
from collections.abc import Callable
from pathlib import Path
from typing import Any

from records.filing import FilingOutcome
from records.ports import PendingFile
from vault.inbox.errors import PendingNotFound
from vault.inbox.names import UNSORTED, is_document, may_have_sidecar, readable_name, sidecar_name
from vault.inbox.pipeline import Intake


def list_pending(home: Path, *, settle_seconds: float = 2.0, now: float | None = None) -> list[PendingFile]:
    """Files waiting in inbox/_unsorted, oldest first; files changed in the last `settle_seconds`
    (still being copied in) are not offered yet."""
    folder = home / "inbox" / UNSORTED
    if not _real(folder, stat.S_ISDIR):
        return []  # a link in its place is never followed (the watcher's scan rejects it)
    clock = time.time() if now is None else now
    out: list[PendingFile] = []
    for path in folder.iterdir():
        if not is_document(path.name):
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or clock - st.st_mtime < settle_seconds:
            continue  # links, pipes and hard links are rejected by the scan, never offered
        has_sidecar = may_have_sidecar(path.name) and _real(folder / sidecar_name(path.name), stat.S_ISREG)
        out.append(PendingFile(pending_id=path.name, original_name=readable_name(path.name),
                               received_at=datetime.fromtimestamp(st.st_mtime, timezone.utc), size=st.st_size,
                               note="with metadata sidecar" if has_sidecar else ""))
    return sorted(out, key=lambda p: (p.received_at, p.pending_id))


def classify_pending(intake: Intake, name: str, record_class: str, **overrides: Any) -> FilingOutcome:
    """File the unsorted file `name` into `record_class` (code or slug). `overrides` replace
    FilingRequest fields (principal, confidentiality, title, document_date, actor, channel, ...)."""
    intake.plan.resolve(record_class)  # an unknown class fails before the file is touched
    if not name or name != Path(name).name or name in (".", "..") or not is_document(name):
        raise PendingNotFound(name)
    source = intake.folder_path(UNSORTED) / name
    if not _real(source.parent, stat.S_ISDIR) or not _real(source, stat.S_ISREG):
        raise PendingNotFound(name)
    result = intake.take(source, UNSORTED, record_class=record_class, overrides=overrides)
    if result is None:  # someone else classified it a moment ago
        raise PendingNotFound(name)
    return result


def _real(path: Path, kind: Callable[[int], bool]) -> bool:
    """Is `path` itself (not a link's target) of this kind?"""
    try:
        return kind(os.lstat(path).st_mode)
    except OSError:
        return False
