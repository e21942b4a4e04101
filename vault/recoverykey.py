"""The printed recovery key: 256 random bits in base32 groups with a checksum against typos."""

from __future__ import annotations

import base64
import hashlib
import os

from vault.errors import WrongRecoveryKey

KEY_BYTES = 32
_CHECK_BYTES = 3  # 32 + 3 bytes = 280 bits = exactly 56 base32 characters, no padding
_GROUP = 4


def new_recovery_key() -> bytes:
    return os.urandom(KEY_BYTES)


def format_recovery_key(key: bytes) -> str:
    """Fourteen groups of four characters, e.g. `ABCD-EFGH-...`, for printing once."""
    check = hashlib.sha256(b"strongroom/recovery-check|" + key).digest()[:_CHECK_BYTES]
    text = base64.b32encode(key + check).decode("ascii")
    return "-".join(text[i:i + _GROUP] for i in range(0, len(text), _GROUP))


def parse_recovery_key(text: str) -> bytes:
    """Inverse of `format_recovery_key`; spaces, dashes and case are ignored, 0/1 read as O/I."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").replace("0", "O").replace("1", "I")
    try:
        raw = base64.b32decode(cleaned)
    except ValueError:
        raw = b""
    key, check = raw[:KEY_BYTES], raw[KEY_BYTES:]
    expected = hashlib.sha256(b"strongroom/recovery-check|" + key).digest()[:_CHECK_BYTES]
    if len(raw) != KEY_BYTES + _CHECK_BYTES or check != expected:
        raise WrongRecoveryKey("The recovery key is mistyped (its checksum does not match): "
                               "check each group against the printed copy.")
    return key
