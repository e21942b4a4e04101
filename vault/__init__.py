"""The vault: keys and key slots, sealed objects, the SQLCipher catalogue, the inbox watcher."""

from __future__ import annotations

from vault.backup import BackupReport, BackupResult, Restored, backup_home, restore_backup, verify_backup
from vault.backupschedule import BackupScheduler, parse_clock
from vault.backupstatus import TargetStatus, backup_status, run_backup
from vault.backuptarget import BackupTarget, TargetError, TargetOptions, TargetUnreachable, open_target
from vault.errors import (BackupDamaged, BackupError, CatalogError, DataKeyDamaged, HomeExists, HomeNotFound,
                          KeyFileInvalid, KeyFileMissing, ObjectDamaged, SlotError, StorageUnavailable, VaultError,
                          WrongPassphrase, WrongRecoveryKey)
from vault.home import Home, InitResult, ObjectsAt, SlotInfo, init_home, open_home
from vault.kdf import KdfParams
from vault.maintenance import MaintenanceBusy, maintenance_lock
from vault.objectmove import MoveResult, move_objects
from vault.passwords import check_password, hash_password
from vault.s3objects import BucketObjects, S3ObjectStore

__all__ = [
    "Home", "InitResult", "SlotInfo", "init_home", "open_home", "KdfParams",
    "hash_password", "check_password",
    "VaultError", "WrongPassphrase", "WrongRecoveryKey", "HomeNotFound", "HomeExists",
    "KeyFileMissing", "KeyFileInvalid", "SlotError", "CatalogError", "ObjectDamaged", "DataKeyDamaged",
    "backup_home", "verify_backup", "restore_backup", "BackupResult", "BackupReport", "Restored",
    "BackupError", "BackupDamaged",
    "run_backup", "backup_status", "TargetStatus", "BackupScheduler", "parse_clock",
    "BackupTarget", "TargetOptions", "TargetError", "TargetUnreachable", "open_target",
    "MaintenanceBusy", "maintenance_lock", "BucketObjects", "S3ObjectStore", "ObjectsAt", "StorageUnavailable",
    "move_objects", "MoveResult",
]
