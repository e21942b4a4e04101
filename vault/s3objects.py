"""Sealed objects in an S3-compatible bucket, with a bounded local read cache: BlobStore on a bucket.

The sealing, the data keys and the duplicate MAC are the local store's (`vault.objects.ObjectStore`);
only where the sealed bytes live changes. The bucket holds `PREFIX/ab/<random id>` (ciphertext, as
objects/ does) and one marker, `PREFIX/strongroom-objects`: the home's vault id and a random holder
token that the home keeps in `<home>/object-bucket.token` (never in backups). A prefix is used only
by the home that holds its token, so two homes, or two copies of one home (a restore drill next to
the live home), never share one prefix: each one's crash sweep would delete the other's newer
objects as orphans. A restore takes the bucket over only when told (`restore --take-over-objects`).
The catalogue stays local.

Crash safety is the local store's invariant: `seal` returns only once the bucket has confirmed the
PUT (or the completed multipart upload), so an object is durable in the bucket before the catalogue
transaction that makes it live; a disposal deletes from the bucket (and the cache) after its
commit. A crash in between leaves an unreferenced object in the bucket, which the next exclusive
open deletes and `verify` reports meanwhile, exactly as for objects/.

An object above the multipart threshold that is killed mid-upload leaves an unfinished multipart
upload under the prefix: invisible to listings, yet stored and paid for. The same sweep aborts every
one under the prefix (only this home writes there, and nobody else has the home open then). A
failed upload is aborted at once; when the abort fails too (the bucket went away), it is retried on
the next call that reaches the bucket, and a session that closes with one still pending leaves its
session marker, so the next open alone sweeps as after a crash.
"""

from __future__ import annotations

import io
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar, cast

from records.model import BlobRef, BlobRole, ObjectId, RecordId, WrappedKey
from records.ports import SealBatch, SealedBlob
from vault import sealed
from vault.backuptarget.errors import TargetError
from vault.atomicfile import atomic_writer
from vault.backuptarget.port import TargetOptions
from vault.errors import ObjectDamaged, StorageUnavailable, VaultError
from vault.keyring import Keyring
from vault.objectbatch import ImmediateBatch
from vault.objectcache import ObjectCache
from vault.objects import ObjectStore

if TYPE_CHECKING:
    from vault.backuptarget.s3 import S3Target

MARKER = "strongroom-objects"
TOKEN_FILE = "object-bucket.token"
_MARKER_TEXT = "strongroom sealed objects v1\nvault {vault_id}\nholder {token}\n"
CACHE_FOLDER = "object-cache"
_HEX = frozenset("0123456789abcdef")
_COPY = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BucketObjects:
    """Where a home keeps its objects when not in objects/: the setting `objects` (restic's
    `s3:http://HOST:PORT/BUCKET/PREFIX`), the S3 keys, and the local cache (folder, size limit)."""

    spec: str
    options: TargetOptions = field(default_factory=TargetOptions)
    cache_folder: Path | None = None  # None: <home>/object-cache
    cache_bytes: int = 2 * 1024 ** 3
    take_over: bool = False  # make this home the prefix's holder (a restore replacing a lost computer)

    def __call__(self, home: Path, keyring: Keyring) -> S3ObjectStore:
        return S3ObjectStore(home, keyring, self)


class S3ObjectStore(ObjectStore):
    """Implements records.ports.BlobStore on a bucket; the bucket is reached on first use."""

    def __init__(self, home: Path, keyring: Keyring, where: BucketObjects) -> None:
        super().__init__(home / "objects", keyring)  # objects/ stays (empty); the maintenance lock is the home's
        self.spec = where.spec
        self._where = where
        self._token_file = home / TOKEN_FILE
        self._vault_id_text = keyring.vault_id
        self.cache = ObjectCache(where.cache_folder or home / CACHE_FOLDER, where.cache_bytes)
        self._bucket: S3Target | None = None
        self._bucket_lock = threading.Lock()

    # ---- objects ---------------------------------------------------------------------

    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole, source: BinaryIO) -> SealedBlob:
        dek = self._unwrap(record_id, key)
        object_id = secrets.token_bytes(sealed.OBJECT_ID_SIZE)
        ctx = sealed.ObjectContext(object_id=object_id, record_id=record_id, role=str(role))
        temp, sink = self.cache.new_file()  # sealed bytes only, as objects/ would hold them
        try:
            with sink:
                result = sealed.seal_stream(dek, ctx, source, sink)
                sink.flush()
                sink.seek(0)
                # Durable in the bucket before seal returns, so before the catalogue commit.
                self._call(lambda bucket: bucket.put(_name(object_id.hex()), sink))
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self.cache.keep(object_id.hex(), temp)  # a new filing is usually opened soon (preview, OCR)
        return SealedBlob(ref=BlobRef(object_id=ObjectId(object_id.hex()), role=role, size=result.size),
                          sha256=result.sha256)

    def batch(self) -> SealBatch:
        """Group commit for the bucket: each PUT is durable when seal returns, so the batch's commit
        has nothing left to do (not the local folder's batch this class would otherwise inherit)."""
        return ImmediateBatch(self)

    def open(self, record_id: RecordId, key: WrappedKey, ref: BlobRef) -> Iterator[bytes]:
        """Authenticates the header at once; each yielded chunk authenticated before release. A
        cached copy that fails authentication is dropped (the next read fetches the bucket's)."""
        dek = self._unwrap(record_id, key)
        object_id = _checked(ref.object_id)
        fh = self._fetch(object_id)
        try:
            chunks = sealed.open_stream(dek, sealed.ObjectContext(bytes.fromhex(object_id), record_id,
                                                                  str(ref.role)), fh)
        except ObjectDamaged:
            fh.close()
            self.cache.drop(object_id)
            raise
        except BaseException:
            fh.close()
            raise
        return _reading(chunks, fh)

    def delete(self, ref: BlobRef) -> None:
        self.discard(ref.object_id)

    def discard(self, object_id: str) -> None:
        object_id = _checked(object_id)
        self._call(lambda bucket: bucket.delete(_name(object_id)))
        self.cache.drop(object_id)

    # ---- inventory (for verify, backups and the sweep) ---------------------------------

    def object_ids(self) -> set[str]:
        return set(self.sizes())

    def sizes(self) -> dict[str, int]:
        listed: dict[str, int] = self._call(lambda bucket: bucket.list())
        return {name.partition("/")[2]: size for name, size in listed.items() if _is_name(name)}

    @contextmanager
    def read_sealed(self, object_id: str) -> Iterator[BinaryIO]:
        """The sealed bytes: the cached copy (left in its place in the order of use), else straight
        from the bucket, not cached: a backup of the whole vault would otherwise push out everything
        people are reading."""
        object_id = _checked(object_id)
        cached = self.cache.open(object_id, touch=False)
        if cached is not None:
            with cached:
                yield cached
            return
        with self._get(object_id) as stream:
            yield stream

    def read_stored(self, object_id: str) -> AbstractContextManager[BinaryIO]:
        """The bucket's own sealed bytes, never the cache's (FileNotFoundError when absent)."""
        return self._get(_checked(object_id))

    def put_sealed(self, object_id: str, source: BinaryIO) -> None:
        """Store sealed bytes under an object id (a move or a restore bringing objects in)."""
        object_id = _checked(object_id)
        self._call(lambda bucket: bucket.put(_name(object_id), source))

    def leftovers(self) -> list[Path]:
        """Temp files in the cache from an interrupted seal or fetch (ciphertext; safe to delete)."""
        return self.cache.leftovers()

    def abort_unfinished(self) -> int:
        """Abort every unfinished multipart upload of an object under the prefix (the sweep, when no
        other process has the home open: each is debris of a killed upload); how many."""
        return self._call(lambda bucket: bucket.clean_leftovers(only=_is_name))

    def debris_left(self) -> bool:
        """True while a failed upload could not be aborted (the bucket is still away)."""
        with self._bucket_lock:
            bucket = self._bucket
        return bucket is not None and not bucket.abort_unfinished()

    def open_stored(self, record_id: RecordId, key: WrappedKey, ref: BlobRef) -> Iterator[bytes]:
        """The plaintext of the bucket's own copy, authenticated chunk by chunk, around the cache: a
        whole-vault read (verify) neither fills nor reorders it, and checks what the bucket holds."""
        dek = self._unwrap(record_id, key)
        object_id = _checked(ref.object_id)
        stack = ExitStack()
        try:
            stream = stack.enter_context(self._get(object_id))
            chunks = sealed.open_stream(dek, sealed.ObjectContext(bytes.fromhex(object_id), record_id,
                                                                  str(ref.role)), stream)
        except FileNotFoundError:
            stack.close()
            raise ObjectDamaged(object_id, f"it is missing from the bucket {self.spec}") from None
        except BaseException:
            stack.close()
            raise
        return _reading(chunks, cast(BinaryIO, _Streamed(stream, stack)))

    def close(self) -> None:
        with self._bucket_lock:
            if self._bucket is not None:
                self._bucket.close()
                self._bucket = None
        self.cache.close()

    # ---- the bucket --------------------------------------------------------------------

    def _fetch(self, object_id: str) -> BinaryIO:
        """The cached copy, fetched from the bucket into the cache first when missing; an object
        larger than the whole cache is read straight from the bucket."""
        cached = self.cache.open(object_id)
        if cached is not None:
            return cached
        try:
            def fill(sink: BinaryIO) -> None:
                with self._get(object_id) as stream:
                    shutil.copyfileobj(stream, sink, _COPY)
            kept = self.cache.fill(object_id, fill)
        except FileNotFoundError:
            raise ObjectDamaged(object_id, f"it is missing from the bucket {self.spec}") from None
        cached = self.cache.open(object_id) if kept else None
        if cached is not None:
            return cached
        stack = ExitStack()
        return cast(BinaryIO, _Streamed(stack.enter_context(self._get(object_id)), stack))

    def _call(self, action: Callable[[S3Target], T]) -> T:
        """Run `action(bucket)`; the target's errors become one sentence about the object store. Once
        the bucket answers again, failed uploads whose abort failed are aborted."""
        try:
            bucket = self._connected()
            done = action(bucket)
        except TargetError as exc:
            raise _unavailable(exc) from None
        if bucket.unfinished:
            bucket.abort_unfinished()
        return done

    @contextmanager
    def _get(self, object_id: str) -> Iterator[BinaryIO]:
        """The object's stream from the bucket (FileNotFoundError when absent); a transfer that
        breaks off while it is read is StorageUnavailable too."""
        try:
            with self._connected().get(_name(object_id)) as stream:
                yield stream
        except TargetError as exc:
            raise _unavailable(exc) from None

    def _connected(self) -> S3Target:
        with self._bucket_lock:
            if self._bucket is None:
                from vault.backuptarget.s3 import S3Target  # boto3 loads only when a bucket is named
                bucket = S3Target.open(self.spec, self._where.options, create=True)
                try:
                    self._claim(bucket)
                except BaseException:
                    bucket.close()
                    raise
                self._bucket = bucket
            return self._bucket

    def _claim(self, bucket: S3Target) -> None:
        """The prefix must be empty or held by this home (its token); refuse another home's, or another
        copy of this one (its sweep would delete our newer objects as orphans, and ours theirs)."""
        try:
            with bucket.get(MARKER) as stream:
                found: bytes | None = stream.read(4096)
        except FileNotFoundError:
            found = None
        token = self._token()
        if found is not None and not self._where.take_over:
            if token is not None and found == self._marker(token):
                return
            whose = ("another copy of this home (another computer, or the one this home was restored from)"
                     if f"vault {self._vault_id_text}\n".encode() in found else "another home")
            raise VaultError(f"{self.spec} holds the sealed objects of {whose}: give this home its own bucket "
                             "or prefix in the setting `objects`.")
        if token is None or found is not None:  # a new holder: a new token
            token = secrets.token_hex(16)
            write_token(self._token_file, token)
        bucket.put(MARKER, io.BytesIO(self._marker(token)))

    def _marker(self, token: str) -> bytes:
        return _MARKER_TEXT.format(vault_id=self._vault_id_text, token=token).encode()

    def _token(self) -> str | None:
        try:
            return self._token_file.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None

    def adopt(self, folder: Path) -> int:
        """Move the sealed objects under `folder` (an objects/ folder a restore filled) into the bucket:
        each one the bucket lacks (or holds with another size) is uploaded, then the local copy removed.
        Returns how many were uploaded."""
        present = self.sizes()
        uploaded = 0
        for object_id in sorted(ObjectStore.ids_in(folder)):
            path = ObjectStore.location(folder, object_id)
            if present.get(object_id) != path.stat().st_size:
                with open(path, "rb") as fh:
                    self.put_sealed(object_id, fh)
                uploaded += 1
            path.unlink()
        return uploaded


def write_token(path: Path, token: str) -> None:
    """The holder token, 0600, written whole (temp file, fsync, rename)."""
    with atomic_writer(path, mode=0o600) as sink:
        sink.write(token.encode("ascii") + b"\n")


class _Streamed:
    """A file-like body read straight from the bucket, closing its request when closed."""

    def __init__(self, stream: BinaryIO, stack: ExitStack) -> None:
        self._stream = stream
        self._stack = stack

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def close(self) -> None:
        self._stack.close()


def _reading(chunks: Iterator[bytes], fh: BinaryIO) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        fh.close()


def _name(object_id: str) -> str:
    return f"{object_id[:2]}/{object_id}"


def _is_name(name: str) -> bool:
    """An object's name under the prefix (ab/<id>): the marker and anything else are left alone."""
    folder, _, object_id = name.partition("/")
    return _is_id(object_id) and folder == object_id[:2]


def _is_id(text: str) -> bool:
    return len(text) == 2 * sealed.OBJECT_ID_SIZE and set(text) <= _HEX


def _checked(object_id: str) -> str:
    if not _is_id(object_id):
        raise ObjectDamaged(object_id, "its id is malformed")
    return object_id


def _unavailable(exc: TargetError) -> StorageUnavailable:
    text = str(exc)
    return StorageUnavailable(f"The sealed objects cannot be reached: {text[:1].lower()}{text[1:]}")
