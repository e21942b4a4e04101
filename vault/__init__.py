"""The vault: keys and key slots, sealed objects, the SQLCipher catalogue, the inbox watcher."""

from __future__ import annotations

from vault.errors import (CatalogError, DataKeyDamaged, HomeExists, HomeNotFound, KeyFileInvalid,
                          KeyFileMissing, ObjectDamaged, SlotError, VaultError, WrongPassphrase,
                          WrongRecoveryKey)
from vault.home import Home, InitResult, SlotInfo, init_home, open_home
from vault.kdf import KdfParams
from vault.passwords import check_password, hash_password

__all__ = [
    "Home", "InitResult", "SlotInfo", "init_home", "open_home", "KdfParams",
    "hash_password", "check_password",
    "VaultError", "WrongPassphrase", "WrongRecoveryKey", "HomeNotFound", "HomeExists",
    "KeyFileMissing", "KeyFileInvalid", "SlotError", "CatalogError", "ObjectDamaged", "DataKeyDamaged",
]
