"""The backup-target port: what the backup needs from any storage, and the options that reach one."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class TargetOptions:
    """How to reach remote targets; built by the shell from the settings (no environment is read here)."""

    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = field(default=None, repr=False)
    sftp_known_hosts: Path | None = None  # None: ~/.ssh/known_hosts
    sftp_key_file: Path | None = None  # None: the SSH agent only
    sftp_use_agent: bool = True
    timeout_seconds: float = 30.0


class BackupTarget(Protocol):
    """Opaque bytes under relative, '/'-separated names. Every `put` is atomic: a name holds the old
    bytes or the complete new ones, never a part, whatever interrupts it."""

    location: str  # how messages name the target (never a secret)

    def list(self) -> dict[str, int]:
        """Every stored name with its size (temp names of interrupted writes excluded)."""

    def stat(self, name: str) -> int | None:
        """The size of `name`, or None when it is absent."""

    def put(self, name: str, source: BinaryIO) -> None:
        """Store what `source` yields (read front to back, once) under `name`, atomically."""

    def get(self, name: str) -> AbstractContextManager[BinaryIO]:
        """A stream of `name`'s bytes; FileNotFoundError when it is absent."""

    def delete(self, name: str) -> bool:
        """Remove `name`; False when it was already gone."""

    def clean_leftovers(self) -> int:
        """Remove what interrupted writes left (temp files, unfinished uploads); how many."""

    def close(self) -> None: ...
