"""The passphrase KDF: Argon2id with parameters that are bounded before they are ever run."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from vault.errors import KeyFileInvalid

ALGORITHM = "argon2id"
KEY_LENGTH = 32
SALT_LENGTH = 16

# Bounds (security.md §1.2.2). The floor keeps a weak slot from ever being created or used;
# the ceiling keeps a tampered keys.json from making an unlock allocate 1 TiB or run for hours.
MIN_MEMORY_KIB = 64 * 1024
MIN_TEST_MEMORY_KIB = 1024
MAX_MEMORY_KIB = 2 * 1024 * 1024
MAX_TIME_COST = 10
MAX_LANES = 16

# One KDF run at a time per process: each costs up to `memory_kib` of RAM, so a flood of
# logins or unlocks queues here instead of exhausting memory (security.md W-12).
_KDF_GATE = threading.BoundedSemaphore(1)


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id parameters as stored in a key slot. `test` allows tiny memory for the test suite."""

    salt: bytes
    memory_kib: int = 256 * 1024
    time_cost: int = 3
    lanes: int = 4
    test: bool = False

    @classmethod
    def default(cls) -> KdfParams:
        return cls(salt=os.urandom(SALT_LENGTH))

    @classmethod
    def fast_for_tests(cls) -> KdfParams:
        """Tiny parameters that only a slot marked `"test": true` accepts. Never a default."""
        return cls(salt=os.urandom(SALT_LENGTH), memory_kib=8 * 1024, time_cost=1, lanes=1, test=True)

    def with_new_salt(self) -> KdfParams:
        return KdfParams(os.urandom(SALT_LENGTH), self.memory_kib, self.time_cost, self.lanes, self.test)

    def check(self) -> None:
        """Raise KeyFileInvalid unless every parameter is inside the bounds."""
        floor = MIN_TEST_MEMORY_KIB if self.test else MIN_MEMORY_KIB
        problems = []
        if not isinstance(self.salt, bytes) or not 16 <= len(self.salt) <= 64:
            problems.append("salt must be 16 to 64 bytes")
        if not _is_int(self.memory_kib) or not floor <= self.memory_kib <= MAX_MEMORY_KIB:
            problems.append(f"memory must be {floor} to {MAX_MEMORY_KIB} KiB")
        if not _is_int(self.time_cost) or not 1 <= self.time_cost <= MAX_TIME_COST:
            problems.append(f"passes must be 1 to {MAX_TIME_COST}")
        if not _is_int(self.lanes) or not 1 <= self.lanes <= MAX_LANES:
            problems.append(f"lanes must be 1 to {MAX_LANES}")
        elif _is_int(self.memory_kib) and self.memory_kib < 8 * self.lanes:
            problems.append("memory must be at least 8 KiB per lane")
        if problems:
            raise KeyFileInvalid("keys.json holds key-derivation parameters out of bounds ("
                                 + "; ".join(problems) + "): restore keys.json from a backup.")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"alg": ALGORITHM, "m": self.memory_kib, "t": self.time_cost,
                               "p": self.lanes, "salt": self.salt.hex()}
        if self.test:
            doc["test"] = True
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> KdfParams:
        try:
            if doc["alg"] != ALGORITHM:
                raise KeyFileInvalid(f"keys.json names an unknown KDF {doc['alg']!r}: "
                                     "this version of Strongroom cannot open it.")
            params = cls(salt=bytes.fromhex(doc["salt"]), memory_kib=doc["m"], time_cost=doc["t"],
                         lanes=doc["p"], test=doc.get("test", False) is True)
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFileInvalid("keys.json has a malformed key slot: restore it from a backup.") from exc
        params.check()
        return params


def gate() -> threading.BoundedSemaphore:
    """The process-wide gate every memory-hard computation (KDF, password hash) passes through."""
    return _KDF_GATE


def derive(passphrase: bytes, params: KdfParams) -> bytes:
    """Run Argon2id (bounded first, serialised process-wide) and return a 32-byte key."""
    params.check()
    with _KDF_GATE:
        return _argon2id(passphrase, params)


def _argon2id(secret: bytes, p: KdfParams) -> bytes:
    # argon2-cffi runs the lanes in parallel threads: 0.54 s against 0.76 s for cryptography's
    # single-threaded Argon2id with the default parameters here (bench/kdf.py). Same output.
    try:
        from argon2.low_level import Type, hash_secret_raw
    except ImportError:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
        kdf = Argon2id(salt=p.salt, length=KEY_LENGTH, iterations=p.time_cost, lanes=p.lanes,
                       memory_cost=p.memory_kib, ad=None, secret=None)
        return kdf.derive(secret)
    return hash_secret_raw(secret, p.salt, p.time_cost, p.memory_kib, p.lanes, KEY_LENGTH, Type.ID)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
