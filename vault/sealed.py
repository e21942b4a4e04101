"""The sealed-object format v1: a committed header and 64 KiB AEAD chunks in a STREAM construction.

    header  = "SRVO" | version (1 B) | alg (1 B) | object id (16 B) | salt (32 B) | commitment (32 B)
    key | nonce prefix (7 B) | commitment = HKDF-SHA256(DEK, salt, info = label | object id | record id | role)
    chunk i = AEAD(key, nonce = prefix | u32 i | final flag, ad = SHA-256(header) | record id | role | u32 i | final flag)

Every object gets its own derived key, so nonces never repeat and no nonce state is stored
anywhere (restoring a backup cannot cause reuse). The commitment is checked before any chunk,
so a wrong key or an object moved to another record or role fails before decryption starts.
The counter stops reordering; the final flag stops truncation at a chunk boundary and
appended bytes. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import queue
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.errors import ObjectDamaged

MAGIC = b"SRVO"
VERSION = 1
ALG_AES_256_GCM = 1
ALG_CHACHA20_POLY1305 = 2
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
OBJECT_ID_SIZE = 16
SALT_SIZE = 32
COMMITMENT_SIZE = 32
PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + 2 + OBJECT_ID_SIZE + SALT_SIZE + COMMITMENT_SIZE  # 86
MAX_CHUNKS = 2**32
_BLOCK_SIZE = 16 * CHUNK_SIZE  # read and hash unit while sealing (the format still uses 64 KiB chunks)
_INFO_LABEL = b"strongroom/v1/object"
_CIPHERS: dict[int, type[AESGCM] | type[ChaCha20Poly1305]] = {
    ALG_AES_256_GCM: AESGCM, ALG_CHACHA20_POLY1305: ChaCha20Poly1305}


@dataclass(frozen=True, slots=True)
class ObjectContext:
    """What an object is bound to: its own id, the record it belongs to and its role there."""

    object_id: bytes  # 16 random bytes; the file name is its hex
    record_id: str
    role: str


@dataclass(frozen=True, slots=True)
class SealResult:
    size: int  # plaintext bytes
    sha256: str  # hex digest of the plaintext


def seal_stream(dek: bytes, ctx: ObjectContext, source: BinaryIO, sink: BinaryIO, *,
                salt: bytes | None = None, alg: int = ALG_AES_256_GCM) -> SealResult:
    """Read `source` to its end and write the sealed object to `sink`, one chunk at a time."""
    salt = os.urandom(SALT_SIZE) if salt is None else salt
    key, prefix, commitment = _derive(dek, salt, ctx)
    header = MAGIC + bytes((VERSION, alg)) + ctx.object_id + salt + commitment
    sink.write(header)
    aead = _CIPHERS[alg](key)
    ad_prefix = _ad_prefix(header, ctx)
    with _ParallelSha256() as digest:
        size = _seal_chunks(aead, prefix, ad_prefix, source, sink, digest)
        return SealResult(size=size, sha256=digest.hexdigest())


def _seal_chunks(aead: AESGCM | ChaCha20Poly1305, prefix: bytes, ad_prefix: bytes, source: BinaryIO,
                 sink: BinaryIO, digest: _ParallelSha256) -> int:
    size = 0
    for index, (chunk, final) in enumerate(_plain_chunks(source, digest)):
        if index >= MAX_CHUNKS:
            raise ValueError("object too large for the sealed format (2^32 chunks)")
        tail = struct.pack(">IB", index, 1 if final else 0)
        sink.write(aead.encrypt(prefix + tail, chunk, ad_prefix + tail))
        size += len(chunk)
    return size


def _plain_chunks(source: BinaryIO, digest: _ParallelSha256) -> Iterator[tuple[memoryview, bool]]:
    """(chunk, final) pairs. Reads 1 MiB blocks, one block ahead: a chunk is final exactly when
    nothing follows it. Each block goes to the hash thread once, not chunk by chunk."""
    block = _read_full(source, _BLOCK_SIZE)
    while True:
        following = _read_full(source, _BLOCK_SIZE) if len(block) == _BLOCK_SIZE else b""
        digest.update(block)
        view = memoryview(block)
        offsets = range(0, len(block), CHUNK_SIZE) or range(1)  # an empty object: one empty chunk
        for offset in offsets:
            last_here = offset + CHUNK_SIZE >= len(block)
            yield view[offset:offset + CHUNK_SIZE], last_here and not following
        if not following:
            return
        block = following


def open_stream(dek: bytes, ctx: ObjectContext, source: BinaryIO) -> Iterator[bytes]:
    """Check the header now (raising ObjectDamaged), then return an iterator of plaintext chunks.

    Each chunk is released only after it authenticated; a later failure raises ObjectDamaged
    from the iterator, so a consumer streaming a download must abort on it.
    """
    name = ctx.object_id.hex()
    header = _read_full(source, HEADER_SIZE)
    if len(header) < HEADER_SIZE or header[:4] != MAGIC:
        raise ObjectDamaged(name, "it is not a sealed object")
    if header[4] != VERSION:
        raise ObjectDamaged(name, f"unknown format version {header[4]}")
    alg = header[5]
    if alg not in _CIPHERS:
        raise ObjectDamaged(name, f"unknown algorithm {alg}")
    if header[6:22] != ctx.object_id:
        raise ObjectDamaged(name, "its header names another object")
    salt, commitment = header[22:54], header[54:86]
    key, prefix, expected = _derive(dek, salt, ctx)
    if not hmac.compare_digest(commitment, expected):
        raise ObjectDamaged(name, "wrong key, or it was moved from another record or role")
    return _chunks(_CIPHERS[alg](key), prefix, _ad_prefix(header, ctx), source, name)


def _chunks(aead: AESGCM | ChaCha20Poly1305, prefix: bytes, ad_prefix: bytes, source: BinaryIO,
            name: str) -> Iterator[bytes]:
    sealed_size = CHUNK_SIZE + TAG_SIZE
    index = 0
    current = _read_full(source, sealed_size)
    while True:
        if len(current) < TAG_SIZE:
            raise ObjectDamaged(name, f"it is truncated at chunk {index}")
        following = _read_full(source, sealed_size) if len(current) == sealed_size else b""
        final = not following
        tail = struct.pack(">IB", index, 1 if final else 0)
        try:
            plain = aead.decrypt(prefix + tail, current, ad_prefix + tail)
        except InvalidTag:
            raise ObjectDamaged(name, f"chunk {index} failed authentication") from None
        yield plain
        if final:
            return
        current = following
        index += 1
        if index >= MAX_CHUNKS:
            raise ObjectDamaged(name, "it has too many chunks")


class _ParallelSha256:
    """SHA-256 of the plaintext in a helper thread, overlapping encryption and writing.

    hashlib releases the GIL on large updates, so on two cores the fixity hash costs almost
    nothing (inline, SHA-256 is 2-3x slower than AES-GCM here). The queue is bounded, so memory
    stays flat however fast the disk is. Objects under one block are hashed inline.
    """

    _DEPTH = 2  # blocks of 1 MiB waiting at most: memory use is bounded, not size-dependent

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self._DEPTH)
        self._thread: threading.Thread | None = None

    def update(self, data: bytes) -> None:
        if self._thread is None:
            if len(data) < _BLOCK_SIZE:
                self._hash.update(data)
                return
            self._thread = threading.Thread(target=self._run, name="seal-sha256", daemon=True)
            self._thread.start()
        self._queue.put(data)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._hash.update(data)

    def hexdigest(self) -> str:
        self._stop()
        return self._hash.hexdigest()

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> _ParallelSha256:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()


def _derive(dek: bytes, salt: bytes, ctx: ObjectContext) -> tuple[bytes, bytes, bytes]:
    info = _INFO_LABEL + ctx.object_id + _lp(ctx.record_id.encode()) + _lp(ctx.role.encode())
    out = HKDF(algorithm=hashes.SHA256(), length=32 + PREFIX_SIZE + COMMITMENT_SIZE, salt=salt,
               info=info).derive(dek)
    return out[:32], out[32:32 + PREFIX_SIZE], out[32 + PREFIX_SIZE:]


def _ad_prefix(header: bytes, ctx: ObjectContext) -> bytes:
    return hashlib.sha256(header).digest() + _lp(ctx.record_id.encode()) + _lp(ctx.role.encode())


def _lp(value: bytes) -> bytes:
    """Length-prefixed, so that no two (record id, role) pairs encode to the same bytes."""
    return struct.pack(">H", len(value)) + value


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Read exactly `size` bytes unless the stream ends first (pipes may return short reads)."""
    data = source.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = source.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
