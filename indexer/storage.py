"""The sealed Whoosh storage: every index file AES-256-GCM encrypted, temp files kept in memory."""

from __future__ import annotations

import builtins
import io
import os
import re
import secrets
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from whoosh.filedb.filestore import FileStorage, ReadOnlyError, Storage
from whoosh.filedb.structfile import BufferFile, StructFile

from indexer.errors import IndexCorrupt

MAGIC = b"SRX1"
VERSION = 1
CHUNK_LOG2 = 20  # 1 MiB chunks: far below AESGCM's single-call limit
SALT_BYTES = 16
HEADER_BYTES = len(MAGIC) + 4 + SALT_BYTES  # magic, version, log2(chunk), 2 reserved, salt
TAG_BYTES = 16
FILE_INFO = b"strongroom-index-file-v1"
TEMP_PREFIX = ".sealtmp-"
# Whoosh publishes `_MAIN_<gen>.toc.<time>` then renames it; a crash in between leaves it behind.
TOC_TEMP = re.compile(r"^_.+_\d+\.toc\..+$")
DEFAULT_CACHE_BYTES = 512 * 1024 * 1024
RUN_SUFFIX = ".run"  # whoosh's posting runs (writing.PostingPool._new_run)
RUN_BUFFER = 1 << 14  # inflated bytes buffered per open run (larger measured slower)
RUN_LEVEL = 1  # deflate level for runs: fast, and pickled postings still pack 4-5 times


def _file_key(master: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=FILE_INFO)
    return AESGCM(hkdf.derive(master))


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def sealed_parts(master: bytes, name: str, plaintext: bytes | memoryview) -> Iterator[bytes]:
    """The sealed form of one index file, header then chunk by chunk (a large segment file is
    written out without a second, sealed copy of it in memory)."""
    salt = secrets.token_bytes(SALT_BYTES)
    header = MAGIC + bytes([VERSION, CHUNK_LOG2, 0, 0]) + salt
    aead = _file_key(master, salt)
    aad = header + name.encode("utf-8")
    size = 1 << CHUNK_LOG2
    view = memoryview(plaintext)
    count = max(1, -(-len(view) // size))
    yield header
    for i in range(count):
        yield aead.encrypt(_nonce(i, i == count - 1), bytes(view[i * size:(i + 1) * size]), aad)


def seal(master: bytes, name: str, plaintext: bytes | memoryview) -> bytes:
    """The sealed form of one index file; the name is authenticated so files cannot be swapped."""
    return b"".join(sealed_parts(master, name, plaintext))


def unseal(master: bytes, name: str, sealed: bytes) -> bytes:
    """The plaintext of one sealed file; IndexCorrupt on any tampering, truncation or rename."""
    header = sealed[:HEADER_BYTES]
    if len(header) < HEADER_BYTES or header[:4] != MAGIC or header[4] != VERSION:
        raise IndexCorrupt(f"The search index file {name} is damaged: run `strongroom reindex`.")
    aead = _file_key(master, header[8:HEADER_BYTES])
    aad = header + name.encode("utf-8")
    step = (1 << header[5]) + TAG_BYTES
    body = memoryview(sealed)[HEADER_BYTES:]
    count = max(1, -(-len(body) // step))
    out = []
    try:
        for i in range(count):
            out.append(aead.decrypt(_nonce(i, i == count - 1), bytes(body[i * step:(i + 1) * step]), aad))
    except InvalidTag:
        raise IndexCorrupt(f"The search index file {name} failed authentication (damaged, truncated or "
                           "sealed with another key): run `strongroom reindex`.") from None
    return out[0] if count == 1 else b"".join(out)


def plaintext_length(sealed_size: int, chunk_log2: int = CHUNK_LOG2) -> int:
    body = sealed_size - HEADER_BYTES
    count = max(1, -(-body // ((1 << chunk_log2) + TAG_BYTES)))
    return body - count * TAG_BYTES


class _SliceReader:
    """A read-only file over a slice of one bytes object: reads copy only what they return, and
    readline uses bytes.find (a Python loop here made pickle loading quadratic)."""

    def __init__(self, data: bytes, offset: int, length: int) -> None:
        self._data = data
        self._start = offset
        self._end = offset + length
        self._pos = offset
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        end = self._end if n is None or n < 0 else min(self._end, self._pos + n)
        out = self._data[self._pos:end]
        self._pos = end
        return out

    def peek(self, n: int = 0) -> bytes:
        # lets pickle prefetch instead of calling read() for every opcode
        return self._data[self._pos:min(self._end, self._pos + max(n, 65536))]

    def readinto(self, buf: Any) -> int:
        chunk = self.read(len(buf))
        buf[:len(chunk)] = chunk
        return len(chunk)

    def readline(self, limit: int = -1) -> bytes:
        nl = self._data.find(b"\n", self._pos, self._end)
        end = self._end if nl < 0 else nl + 1
        if limit is not None and limit >= 0:
            end = min(end, self._pos + limit)
        return self.read(end - self._pos)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: self._start, 1: self._pos, 2: self._end}[whence]
        self._pos = max(self._start, base + pos)
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class SliceFile(BufferFile):  # type: ignore[misc]  # whoosh is untyped
    """A BufferFile over part of a decrypted file; compound sub-files are slices, never copies."""

    def __init__(self, data: bytes, offset: int = 0, length: int | None = None,
                 name: str | None = None, onclose: Any = None) -> None:
        length = len(data) - offset if length is None else length
        self._data = data
        self._offset = offset
        self._buf = memoryview(data)[offset:offset + length]
        self._name = name
        whole = offset == 0 and length == len(data)
        # A whole file reads through C BytesIO (it shares a bytes object without copying): pickle
        # calls read() per opcode, and a Python reader made merging posting runs 3x slower.
        self.file = BytesIO(data) if whole else _SliceReader(data, offset, length)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def subset(self, position: int, length: int, name: str | None = None) -> SliceFile:
        return SliceFile(self._data, self._offset + position, length, name=name or self._name)

    def get(self, position: int, length: int) -> bytes:
        start = self._offset + position
        return self._data[start:start + length]


class _CapturingBuffer(BytesIO):
    """An in-memory file that hands its bytes over on close. The hook sits on the raw file because
    whoosh's posting pool closes `raw_file()` directly, bypassing StructFile's onclose."""

    def __init__(self, on_close: Any) -> None:
        super().__init__()
        self._on_close = on_close

    def close(self) -> None:
        if not self.closed:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close(self.getvalue())
        super().close()


class _Inflating(io.RawIOBase):
    """A deflated posting run read back as a stream: whoosh's final merge opens every run at
    once, so each is inflated only as far as it has been read."""

    STEP = 1 << 16

    def __init__(self, packed: bytes) -> None:
        super().__init__()
        self._packed = memoryview(packed)
        self._at = 0
        self._inflater = zlib.decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        want = len(buf)
        while True:
            source: bytes | memoryview = self._inflater.unconsumed_tail
            if not source:
                source = self._packed[self._at:self._at + self.STEP]
                self._at += len(source)
            out = self._inflater.decompress(source, want) if source else self._inflater.flush()
            if out or not source:
                buf[:len(out)] = out
                return len(out)


class _RunReader:
    """A BufferedReader over `_Inflating` showing the unpickler only read, readline and readinto
    (C methods): given `peek`, pickle copies the whole buffer ahead on every load (one per
    posting), which made reading runs 5-8 times slower."""

    def __init__(self, packed: bytes) -> None:
        buffered = io.BufferedReader(_Inflating(packed), RUN_BUFFER)
        self.read = buffered.read
        self.readline = buffered.readline
        self.readinto = buffered.readinto
        self.close = buffered.close


class MemoryTempStorage(Storage):  # type: ignore[misc]  # whoosh is untyped
    """Whoosh's scratch space (posting runs, per-document compound parts), kept in RAM so no
    uncommitted text ever reaches $TMPDIR or <index>/MAIN.tmp. Posting runs (`*.run`, written
    once and read once in order) are kept deflated: they are all of a writer's postings until
    its segment is written, 4-5 times smaller packed."""

    supports_mmap = False

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.folder = ""
        self._lock = threading.Lock()

    def create(self) -> MemoryTempStorage:
        return self

    def destroy(self, *args: Any, **kwargs: Any) -> None:
        self.files.clear()

    def clean(self, ignore: bool = False) -> None:
        self.files.clear()

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> StructFile:
        def store(data: bytes) -> None:
            self.files[name] = zlib.compress(data, RUN_LEVEL) if name.endswith(RUN_SUFFIX) else data
        return StructFile(_CapturingBuffer(store), name=name, **kwargs)

    def open_file(self, name: str, *args: Any, **kwargs: Any) -> StructFile:
        if name not in self.files:
            raise NameError(name)
        if name.endswith(RUN_SUFFIX):
            return StructFile(_RunReader(self.files[name]), name=name, **kwargs)
        return SliceFile(self.files[name], name=name, **kwargs)

    def list(self) -> list[str]:
        return list(self.files)

    def file_exists(self, name: str) -> bool:
        return name in self.files

    def file_modified(self, name: str) -> float:
        return -1

    def file_length(self, name: str) -> int:
        if name not in self.files:
            raise NameError(name)
        if name.endswith(RUN_SUFFIX):
            raise NotImplementedError("a posting run's length is not kept")  # whoosh never asks
        return len(self.files[name])

    def delete_file(self, name: str) -> None:
        self.files.pop(name, None)

    def rename_file(self, name: str, newname: str, safe: bool = False) -> None:
        if safe and newname in self.files:
            raise NameError(f"File {newname!r} exists")
        self.files[newname] = self.files.pop(name)

    def lock(self, name: str) -> threading.Lock:
        return self._lock

    def temp_storage(self, name: str | None = None) -> MemoryTempStorage:
        return MemoryTempStorage()


class SealedStorage(FileStorage):  # type: ignore[misc]  # whoosh is untyped
    """A FileStorage whose files are sealed with a per-file key derived from the index key.

    Decrypted files are cached (LRU, keyed by name and inode/size/mtime: segment files are
    write-once) and shared by every searcher of this object; `close()` keeps the cache because
    whoosh calls it whenever a segment reader closes.
    """

    supports_mmap = False

    def __init__(self, path: str | Path, key: bytes, *, readonly: bool = False, durable: bool = True,
                 cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if len(key) != 32:
            raise ValueError("the index key must be 32 bytes")
        super().__init__(str(path), supports_mmap=False, readonly=readonly)
        self.supports_mmap = False
        self._key = bytes(key)
        self._durable = durable
        self._cache: OrderedDict[str, tuple[tuple[int, int, int], bytes]] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._cache_lock = threading.Lock()

    # ---- writing ----------------------------------------------------------------------

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> StructFile:
        if self.readonly:
            raise ReadOnlyError
        if excl and os.path.exists(self._fpath(name)):
            raise FileExistsError(name)

        def publish(data: bytes) -> None:
            self._write_sealed(name, data, exclusive=excl)
        return StructFile(_CapturingBuffer(publish), name=name, **kwargs)

    def _write_sealed(self, name: str, data: bytes, *, exclusive: bool = False) -> None:
        """Temp file (0600), fsync, rename; the directory is fsynced when a TOC is published."""
        tmp = self._fpath(TEMP_PREFIX + secrets.token_hex(8))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                for part in sealed_parts(self._key, name, data):
                    fh.write(part)
                if self._durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            if exclusive:
                os.link(tmp, self._fpath(name))
                os.remove(tmp)
            else:
                os.replace(tmp, self._fpath(name))
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        if self._durable and name.endswith(".toc"):
            self.sync_dir()

    def sync_dir(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        # The name is authenticated, so a rename re-seals; whoosh only renames the small TOC.
        if self.readonly:
            raise ReadOnlyError
        if safe and os.path.exists(self._fpath(newname)):
            raise NameError(f"File {newname!r} exists")
        self._write_sealed(newname, self._plaintext(oldname))
        os.remove(self._fpath(oldname))
        self._forget(oldname)

    def delete_file(self, name: str) -> None:
        super().delete_file(name)
        self._forget(name)

    # ---- reading ----------------------------------------------------------------------

    def open_file(self, name: str, **kwargs: Any) -> SliceFile:
        return SliceFile(self._plaintext(name), name=name, **kwargs)

    def _plaintext(self, name: str) -> bytes:
        path = self._fpath(name)
        st = os.stat(path)
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._cache_lock:
            hit = self._cache.get(name)
            if hit is not None and hit[0] == stamp:
                self._cache.move_to_end(name)
                return hit[1]
        with open(path, "rb") as fh:
            data = unseal(self._key, name, fh.read())
        with self._cache_lock:
            old = self._cache.pop(name, None)
            if old is not None:
                self._cached -= len(old[1])
            if len(data) <= self._cache_bytes:
                self._cache[name] = (stamp, data)
                self._cached += len(data)
                while self._cached > self._cache_bytes:
                    _, (_, dropped) = self._cache.popitem(last=False)
                    self._cached -= len(dropped)
        return data

    def _forget(self, name: str) -> None:
        with self._cache_lock:
            old = self._cache.pop(name, None)
            if old is not None:
                self._cached -= len(old[1])

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._cached = 0

    def file_length(self, name: str) -> int:
        return plaintext_length(os.path.getsize(self._fpath(name)))

    def list(self) -> list[str]:
        return [n for n in super().list() if not n.startswith(TEMP_PREFIX)]

    def close(self) -> None:
        """A no-op on purpose: segment readers call it, and the cache must outlive them."""

    def temp_storage(self, name: str | None = None) -> MemoryTempStorage:
        return MemoryTempStorage()

    # ---- maintenance --------------------------------------------------------------------

    # `list` below names the method above (whoosh's Storage API), hence builtins.list.
    def leftover_files(self) -> builtins.list[str]:
        """Crash leftovers: unpublished sealed temps and TOC temps whoosh never removes."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.startswith(TEMP_PREFIX) or TOC_TEMP.match(n))

    def remove_leftovers(self) -> builtins.list[str]:
        removed = self.leftover_files()
        for name in removed:
            try:
                os.remove(self._fpath(name))
            except FileNotFoundError:
                pass
        return removed

    def verify(self) -> int:
        """Authenticate every file (not only the current generation); returns the file count."""
        names = [n for n in self.list() if not n.endswith("_WRITELOCK")]
        for name in names:
            with open(self._fpath(name), "rb") as fh:
                unseal(self._key, name, fh.read())
        return len(names)
