"""Where a backup lives: the backup-target port and its adapters (a folder, an S3-compatible bucket, SFTP).

A target stores opaque bytes under relative names ("catalog.db", "objects/ab/abcdef..."); it never
sees a key or a record. Targets are named as restic names repositories:

    /media/usb/strongroom                     a folder (or local:/path)
    s3:http://127.0.0.1:8333/bucket/prefix    an S3-compatible service (s3:host/bucket/prefix is https)
    sftp:user@host:/srv/strongroom            SFTP on port 22 (a path without a leading / is relative
    sftp://user@host:2222//srv/strongroom     to the login folder); the URL form carries a port
"""

from __future__ import annotations

from pathlib import Path

from vault.backuptarget.errors import TargetError, TargetUnreachable
from vault.backuptarget.local import LocalTarget
from vault.backuptarget.port import BackupTarget, TargetOptions

__all__ = ["BackupTarget", "TargetOptions", "LocalTarget", "TargetError", "TargetUnreachable",
           "open_target", "is_remote"]


def is_remote(spec: str | Path) -> bool:
    """Whether `spec` names an S3 or SFTP target rather than a folder."""
    return isinstance(spec, str) and spec.startswith(("s3:", "sftp:"))


def open_target(spec: str | Path, options: TargetOptions | None = None, *, create: bool = False) -> BackupTarget:
    """The target `spec` names, connected (credentials and host keys from `options`). With `create`,
    a missing folder or bucket is made (for `backup`); otherwise its absence is one clear error."""
    options = options or TargetOptions()
    text = str(spec)
    if text.startswith("s3:"):
        from vault.backuptarget.s3 import S3Target  # boto3 loads only when a bucket is named
        return S3Target.open(text, options, create=create)
    if text.startswith("sftp:"):
        from vault.backuptarget.sftp import SftpTarget  # paramiko loads only when SFTP is named
        return SftpTarget.open(text, options, create=create)
    if text.startswith("local:"):
        text = text[len("local:"):]
    return LocalTarget(Path(text).expanduser().absolute())
