"""Errors of the backup targets: a refused or unreachable server, in one sentence each."""

from __future__ import annotations

from vault.errors import BackupError


class TargetError(BackupError):
    """A target's address is malformed, or its server refused what was asked (keys, host key, rights)."""


class TargetUnreachable(TargetError):
    """The target's server did not answer (or broke off): nothing is wrong with the backup itself."""
