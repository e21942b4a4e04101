"""The object store: sealed blobs under <home>/objects/ab/<random id>, implementing BlobStore."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from records.model import BlobRef, BlobRole, RecordId, WrappedKey
from records.ports import SealBatch, SealedBlob
from vault import sealed
from vault.atomicfile import TEMP_PREFIX, fsync_dir, remove_durably
from vault.errors import DataKeyDamaged, ObjectDamaged
from vault.keyring import Keyring
from vault.maintenance import DISPOSITION_WAIT_SECONDS, maintenance_lock
from vault.objectbatch import ObjectBatch

_WRAP_VERSION = 1
_NONCE = 12
_MAC_READ = 1024 * 1024
# Objects get one fixed mtime so the folder does not tell when each document arrived
# (ctime still does; docs/security.md lists it among the leaks).
FIXED_MTIME = 946684800  # 2000-01-01T00:00:00Z


class ObjectStore:
    """Implements records.ports.BlobStore on a local folder of immutable sealed files."""

    def __init__(self, root: Path, keyring: Keyring) -> None:
        self.root = root
        self._vault_id = keyring.vault_id
        self._kek = AESGCM(keyring.kek)
        self._dedup_key = keyring.dedup

    # ---- data keys -------------------------------------------------------------------

    def new_data_key(self, record_id: RecordId) -> WrappedKey:
        """A random 256-bit DEK wrapped by the KEK; the AD binds the home and the record."""
        nonce = os.urandom(_NONCE)  # random nonces are fine: one wrap per record, far below 2^32
        wrapped = self._kek.encrypt(nonce, os.urandom(32), self._dek_ad(record_id))
        return WrappedKey(bytes((_WRAP_VERSION,)) + nonce + wrapped)

    def _unwrap(self, record_id: str, key: bytes) -> bytes:
        if len(key) != 1 + _NONCE + 32 + 16 or key[0] != _WRAP_VERSION:
            raise DataKeyDamaged(record_id)
        try:
            return self._kek.decrypt(key[1:1 + _NONCE], key[1 + _NONCE:], self._dek_ad(record_id))
        except InvalidTag:
            raise DataKeyDamaged(record_id) from None

    def _dek_ad(self, record_id: str) -> bytes:
        return f"strongroom/v1/dek|{self._vault_id}|{record_id}".encode()

    # ---- objects ---------------------------------------------------------------------

    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole, source: BinaryIO) -> SealedBlob:
        """One object, durable when this returns: a batch of one (a file and a folder fsync)."""
        batch = self.batch()
        try:
            blob = batch.seal(record_id, key, role, source)
            batch.commit()
        except BaseException:
            batch.discard()
            raise
        return blob

    def batch(self) -> SealBatch:
        """A group commit (records.ports.SealBatch): objects sealed into it become durable together
        at its commit(), one file fsync each and one folder fsync for all."""
        return ObjectBatch(self.root, self._seal_into)

    def _seal_into(self, record_id: RecordId, key: WrappedKey, role: BlobRole, object_id: bytes,
                   source: BinaryIO, sink: BinaryIO) -> tuple[int, str]:
        dek = self._unwrap(record_id, key)
        ctx = sealed.ObjectContext(object_id=object_id, record_id=record_id, role=str(role))
        result = sealed.seal_stream(dek, ctx, source, sink)
        sink.flush()
        os.utime(sink.fileno(), (FIXED_MTIME, FIXED_MTIME))
        return result.size, result.sha256

    def open(self, record_id: RecordId, key: WrappedKey, ref: BlobRef) -> Iterator[bytes]:
        """Authenticates the header at once; each yielded chunk authenticated before release."""
        dek = self._unwrap(record_id, key)
        try:
            object_id = bytes.fromhex(ref.object_id)
        except ValueError:
            raise ObjectDamaged(ref.object_id, "its id is malformed") from None
        try:
            fh = open(self.path_of(ref.object_id), "rb")
        except FileNotFoundError:
            raise ObjectDamaged(ref.object_id, "the file is missing") from None
        try:
            chunks = sealed.open_stream(dek, sealed.ObjectContext(object_id, record_id, str(ref.role)), fh)
        except BaseException:
            fh.close()
            raise
        return _ObjectReader(chunks, fh)

    def open_stored(self, record_id: RecordId, key: WrappedKey, ref: BlobRef) -> Iterator[bytes]:
        """`open` of the copy the store itself holds, around any cache (verify); here the same."""
        return self.open(record_id, key, ref)

    def delete(self, ref: BlobRef) -> None:
        remove_durably(self.path_of(ref.object_id))

    def exclusive(self) -> AbstractContextManager[None]:
        """The home's maintenance lock, as a disposition takes it (a backup holds it too)."""
        return maintenance_lock(self.root.parent, holder="disposition", wait_seconds=DISPOSITION_WAIT_SECONDS)

    def content_mac(self, source: BinaryIO) -> str:
        mac = hmac.new(self._dedup_key, digestmod=sha256)
        while block := source.read(_MAC_READ):
            mac.update(block)
        return mac.hexdigest()

    # ---- inventory (for verify) --------------------------------------------------------

    def path_of(self, object_id: str) -> Path:
        if len(object_id) != 2 * sealed.OBJECT_ID_SIZE or not all(c in "0123456789abcdef" for c in object_id):
            raise ObjectDamaged(object_id, "its id is malformed")
        return self.location(self.root, object_id)

    @staticmethod
    def location(root: Path, object_id: str) -> Path:
        """Where an object lives under an objects/ folder (a home's or a backup's): ab/abcdef..."""
        return root / object_id[:2] / object_id

    @staticmethod
    def create_fanout(root: Path) -> None:
        """The 256 two-hex-digit subfolders, made once at init: otherwise the first few hundred
        objects of a new home each pay a mkdir and a directory fsync (a fresh home's first bulk
        import spent about a tenth of its time on them)."""
        for i in range(256):
            (root / f"{i:02x}").mkdir(mode=0o700, exist_ok=True)
        fsync_dir(root)

    def object_ids(self) -> set[str]:
        return self.ids_in(self.root)

    def leftovers(self) -> list[Path]:
        """Temp files from an interrupted write (safe to delete) and stray entries."""
        return self.leftovers_in(self.root)

    @staticmethod
    def ids_in(root: Path) -> set[str]:
        """The object ids stored under `root` (an objects/ folder: a home's or a backup's)."""
        ids: set[str] = set()
        for sub in root.iterdir():
            if sub.is_dir() and len(sub.name) == 2:
                ids.update(p.name for p in sub.iterdir() if not p.name.startswith(TEMP_PREFIX))
        return ids

    @staticmethod
    def leftovers_in(root: Path) -> list[Path]:
        """Temp files under `root` from an interrupted write (safe to delete)."""
        found = [p for p in root.iterdir() if p.name.startswith(TEMP_PREFIX)]
        for sub in root.iterdir():
            if sub.is_dir():
                found.extend(p for p in sub.iterdir() if p.name.startswith(TEMP_PREFIX))
        return sorted(found)

    # ---- sealed bytes as stored: what backups copy and the sweep removes -----------------
    # (vault.s3objects.S3ObjectStore answers the same for a bucket.)

    def sizes(self) -> dict[str, int]:
        """Every stored object's sealed size; FileNotFoundError if one vanishes meanwhile."""
        return {object_id: self.path_of(object_id).stat().st_size for object_id in self.object_ids()}

    def read_sealed(self, object_id: str) -> AbstractContextManager[BinaryIO]:
        """The object's sealed bytes as stored; FileNotFoundError when it is absent."""
        return open(self.path_of(object_id), "rb")

    def discard(self, object_id: str) -> None:
        """Remove an object no record references (the sweep after a crashed session)."""
        remove_durably(self.path_of(object_id))

    def abort_unfinished(self) -> int:
        """Abort unfinished uploads (the sweep); a folder has none: a temp file is a leftover."""
        return 0

    def debris_left(self) -> bool:
        """True when this session leaves debris it could not clear (a folder never does)."""
        return False

    def close(self) -> None:
        """Nothing to release for a folder."""

    @classmethod
    def at_home(cls, home: Path, keyring: Keyring) -> ObjectStore:
        """The default: <home>/objects/."""
        return cls(home / "objects", keyring)


class _ObjectReader:
    """Iterator over an object's plaintext chunks that closes its file when done or dropped."""

    __slots__ = ("_chunks", "_fh")

    def __init__(self, chunks: Iterator[bytes], fh: BinaryIO) -> None:
        self._chunks = chunks
        self._fh = fh

    def __iter__(self) -> _ObjectReader:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._fh.close()

    def __del__(self) -> None:
        self._fh.close()
