"""A backup run on one target with its outcome: the status each target keeps, and its audit entry.

The status lives in the catalogue's settings (sealed like everything in it): per target, the last
success (time, objects, bytes) and the last failure (time, the sentence). Every run, good or
failed, is one `vault.backup` audit entry committed with its status in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from records import checkpoints
from records.events import event
from vault.backup import BackupResult, Progress, backup_home
from vault.backuptarget import TargetOptions, open_target
from vault.errors import BackupError, VaultError
from vault.home import Home
from vault.maintenance import BACKUP_WAIT_SECONDS, maintenance_lock

STATUS_SETTING = "backup.status"


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """What `strongroom backup status` shows for one target."""

    target: str
    last_success: str | None = None  # ISO 8601, UTC
    objects: int = 0
    size: int = 0  # bytes the backup held after that success
    last_failure: str | None = None
    failure: str = ""  # the failure's sentence

    @property
    def failing(self) -> bool:
        """Whether the newest outcome is a failure."""
        return self.last_failure is not None and (self.last_success is None or self.last_failure > self.last_success)


def backup_status(home: Home, targets: Iterable[str] = ()) -> list[TargetStatus]:
    """The status of every target named in `targets` (configured ones, even if never run) and of
    every target that ever ran, in that order."""
    known = _load(home)
    names = list(dict.fromkeys([*targets, *known]))
    return [known.get(name, TargetStatus(target=name)) for name in names]


def run_backup(home: Home, spec: str | Path, options: TargetOptions, *, actor: str, channel: str,
               now: Callable[[], datetime], full: bool = False, progress: Progress | None = None,
               wait_seconds: float = BACKUP_WAIT_SECONDS) -> BackupResult:
    """Back the home up to the target `spec` under the maintenance lock (never during a disposition),
    then record the outcome: status and audit entry. A failure is recorded, then raised."""
    name = str(spec)
    started = now()
    try:
        with maintenance_lock(home.path, holder="backup", wait_seconds=wait_seconds):
            target = open_target(spec, options, create=True)
            try:
                result = backup_home(home, target, full=full, now=started, progress=progress)
            finally:
                target.close()
    except (VaultError, OSError) as exc:
        reason = str(exc) if isinstance(exc, VaultError) else f"{exc.strerror or exc} ({type(exc).__name__})"
        _record(home, name, actor, channel, now(), failure=reason)
        if isinstance(exc, VaultError):
            raise
        raise BackupError(f"The backup to {name} failed: {reason}; nothing was lost, run it again.") from exc
    _record(home, name, actor, channel, now(), result=result)
    return result


def _record(home: Home, name: str, actor: str, channel: str, when: datetime, *,
            result: BackupResult | None = None, failure: str = "") -> None:
    stamp = when.isoformat(timespec="seconds")
    with home.catalog.transaction() as tx:
        known = _load(home)
        old = known.get(name, TargetStatus(target=name))
        if result is not None:
            known[name] = replace(old, last_success=stamp, objects=result.objects, size=result.size)
            details = (("target", name), ("objects", str(result.objects)), ("copied", str(result.copied)),
                       ("resumed", str(result.resumed)), ("removed", str(result.removed)), ("size", str(result.size)))
            entry = event("vault.backup", actor=actor, now=when, channel=channel, details=details)
        else:
            known[name] = replace(old, last_failure=stamp, failure=failure)
            entry = event("vault.backup", actor=actor, now=when, channel=channel, outcome="failed",
                          details=(("target", name), ("reason", failure)))
        tx.put_setting(STATUS_SETTING, json.dumps({k: asdict(v) for k, v in sorted(known.items())}, sort_keys=True))
        checkpoints.append(tx, home.signer, entry)


def _load(home: Home) -> dict[str, TargetStatus]:
    raw = home.catalog.get_setting(STATUS_SETTING)
    if not raw:
        return {}
    return {name: TargetStatus(**fields) for name, fields in json.loads(raw).items()}
