"""The vault's errors: one root, a few subclasses, each message one sentence saying what to do."""

from __future__ import annotations

import errno

from records.errors import IntegrityError

EXIT_ERROR = 1
EXIT_INTEGRITY = 3
# Where a user who lost or damaged keys.json is sent (docs/backups.md owns the section).
KEYS_RECOVERY_DOC = 'docs/backups.md, section "If keys.json is lost or damaged",'


class VaultError(Exception):
    """Root of every error the vault raises on purpose."""

    exit_code: int = EXIT_ERROR


class WrongPassphrase(VaultError):
    def __init__(self, message: str = ("The passphrase is wrong: nothing was unlocked. "
                                       "Try again, or use the recovery key.")) -> None:
        super().__init__(message)


class WrongRecoveryKey(VaultError):
    def __init__(self, message: str = ("The recovery key does not open this home: nothing was "
                                       "unlocked. Check each group against the printed copy.")) -> None:
        super().__init__(message)


class HomeNotFound(VaultError):
    def __init__(self, path: str) -> None:
        super().__init__(f"No Strongroom home at {path}: run `strongroom init --home {path}` "
                         "or pass the right --home.")


class HomeExists(VaultError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path} already exists and is not empty: choose an empty or new folder.")


class KeyFileMissing(VaultError):
    def __init__(self, path: str) -> None:
        super().__init__(f"The key file {path} is missing: restore keys.json from a backup of this "
                         f"home as {KEYS_RECOVERY_DOC} describes (the recovery key alone cannot open "
                         "the home without it).")


class KeyFileInvalid(VaultError):
    """keys.json is unreadable, of an unknown version, or holds out-of-bounds KDF parameters."""

    exit_code = EXIT_INTEGRITY


class SlotError(VaultError):
    """A refused key-slot change (e.g. removing the last passphrase)."""


class CatalogError(VaultError):
    """The catalogue cannot be opened or migrated."""


class CatalogDamaged(CatalogError):
    """The catalogue's pages fail SQLCipher's authentication or SQLite's structure checks."""

    exit_code = EXIT_INTEGRITY

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"The catalogue {path} is damaged ({detail}): nothing was changed; restore "
                         "catalog.db from a backup of this home.")


class CatalogUndecryptable(CatalogError):
    """The catalogue's first page does not decrypt with this home's key: damaged or another home's."""

    exit_code = EXIT_INTEGRITY

    def __init__(self, path: str) -> None:
        super().__init__(f"The catalogue {path} cannot be decrypted with this home's key: it is damaged "
                         "or from another home; restore it from a backup.")


class CatalogUnwritable(CatalogError, OSError):
    """The catalogue's disk is full, read-only or failing; nothing was committed.

    Also an OSError, so callers that stop and keep the file on a storage fault (the intake)
    treat it like a failed object write rather than as a bad document.
    """

    def __init__(self, path: str, errno_: int, strerror: str) -> None:
        OSError.__init__(self, errno_, strerror)
        self.message = (f"The catalogue {path} cannot be written ({strerror}): nothing was changed; "
                        "free disk space or make the home writable, then try again.")

    def __str__(self) -> str:
        return self.message


class ObjectDamaged(VaultError, IntegrityError):
    """A sealed object (or a wrapped key) failed authentication; never retried into success."""

    exit_code = EXIT_INTEGRITY

    def __init__(self, object_id: str, reason: str) -> None:
        super().__init__(f"Object {object_id} is damaged ({reason}): restore it from a backup; "
                         "no part of it was released.")
        self.object_id = object_id
        self.reason = reason


class DataKeyDamaged(VaultError, IntegrityError):
    """A record's wrapped data key does not unwrap for that record (tampered or moved)."""

    exit_code = EXIT_INTEGRITY

    def __init__(self, record_id: str) -> None:
        super().__init__(f"The data key of record {record_id} is damaged or belongs to another "
                         "record: restore the catalogue from a backup.")
        self.record_id = record_id


class BackupError(VaultError):
    """A backup cannot be written, verified or restored as asked (wrong folder, not a backup, ...)."""


class BackupDamaged(BackupError):
    """A backup's manifest, catalogue copy or objects fail their check; never restored from."""

    exit_code = EXIT_INTEGRITY


class AnchorDamaged(VaultError):
    """The sealed rollback anchor (audit.anchor) does not authenticate or cannot be read."""

    exit_code = EXIT_INTEGRITY

    def __init__(self, reason: str) -> None:
        super().__init__(f"The anchor file audit.anchor is damaged: {reason}.")
        self.reason = reason


class RollbackDetected(VaultError):
    """The catalogue does not continue the anchor sealed outside it: rolled back or truncated."""

    exit_code = EXIT_INTEGRITY

    def __init__(self, found: str) -> None:
        super().__init__(f"The catalogue was rolled back or cut short: {found}, so nothing was opened; "
                         "put back the newest catalog.db, or run `strongroom verify --accept-rollback` "
                         "if this older catalogue is meant to stay.")
        self.found = found


class StorageUnavailable(VaultError, OSError):
    """The bucket that holds the sealed objects did not answer or refused; nothing was changed.

    Also an OSError, so the intake stops and keeps the file (as for a failing disk) instead of
    rejecting a document that is not at fault.
    """

    def __init__(self, message: str) -> None:
        OSError.__init__(self, errno.EIO, "the object bucket could not be reached")
        self.message = message

    def __str__(self) -> str:
        return self.message
