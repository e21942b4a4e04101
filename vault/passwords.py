"""Local account passwords: Argon2id hashes (argon2-cffi), shared by the web login and the CLI."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vault import kdf

# argon2-cffi's RFC 9106 low-memory profile (64 MiB, t=3, p=4): a login must stay cheap enough
# for a small office PC; the KDF gate serialises logins so a flood cannot exhaust memory.
_HASHER = PasswordHasher()
# Tests only, through an explicit argument: verifying reads the parameters from the hash itself.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str, *, test: bool = False) -> str:
    """An Argon2id PHC string; `test=True` gives tiny parameters for the test suite only."""
    with kdf.gate():
        return (_TEST_HASHER if test else _HASHER).hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; a malformed or empty stored hash never matches."""
    if not stored_hash:
        return False
    try:
        with kdf.gate():
            return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
