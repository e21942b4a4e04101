"""ZIP containers (DOCX, ODT, XLSX, ODS) opened only after their directory passes the bomb checks."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from records.errors import ExtractionFailed


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_entries: int = 1000
    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 100
    max_member_bytes: int = 64 * 1024 * 1024  # one XML part we actually read


LIMITS = ZipLimits()


def _check(archive: zipfile.ZipFile, limits: ZipLimits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ExtractionFailed(f"the document holds more than {limits.max_entries} packed parts, "
                               "which looks like a zip bomb.")
    total = 0
    for info in infos:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or (len(name) > 1 and name[1] == ":"):
            raise ExtractionFailed("the document contains a part with an unsafe path ('..' or absolute).")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ExtractionFailed("the document contains a symbolic link, which documents never need.")
        total += info.file_size
        # Tiny entries compress oddly well; the ratio only means something past a few KB.
        if info.file_size > 64 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ExtractionFailed("a part of the document expands more than "
                                   f"{limits.max_ratio} times, which looks like a zip bomb.")
    if total > limits.max_total_bytes:
        raise ExtractionFailed(f"the document would unpack to more than {limits.max_total_bytes // 2**20} MB, "
                               "which looks like a zip bomb.")


@contextmanager
def open_zip(data: bytes, label: str, limits: ZipLimits = LIMITS) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ExtractionFailed(f"the {label} is damaged (its zip container cannot be read).") from None
    with archive:
        _check(archive, limits)
        yield archive


def read_member(archive: zipfile.ZipFile, name: str, label: str, limits: ZipLimits = LIMITS) -> bytes | None:
    """The member's bytes, read through a running counter (declared sizes can lie); None if absent."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    chunks: list[bytes] = []
    count = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(1 << 16):
                count += len(chunk)
                if count > limits.max_member_bytes or count > limits.max_ratio * max(info.compress_size, 1024):
                    raise ExtractionFailed(f"a part of the {label} unpacks to far more than it declares, "
                                           "which looks like a zip bomb.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        raise ExtractionFailed(f"the {label} is damaged (a packed part cannot be unpacked).") from None
    return b"".join(chunks)


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's sizeFileHeader: 30 bytes


def check_honest_sizes(archive: zipfile.ZipFile, data: bytes, label: str) -> None:
    """Inflates every member once, counting, and refuses one that unpacks past its declared size.

    For containers handed whole to another reader (calamine, in Rust): `_check` trusts the sizes the
    directory declares, and Python's zipfile stops at them, but another zip library may inflate a
    lying member to its real size. After this pass the declared sizes are the real ones."""
    for info in archive.infolist():
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise ExtractionFailed(f"the {label} is damaged (a stored part's sizes disagree).")
            continue
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise ExtractionFailed(f"the {label} uses a compression method office files never use.")
        header = data[info.header_offset:info.header_offset + _LOCAL_HEADER.size]
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise ExtractionFailed(f"the {label} is damaged (its zip container cannot be read).")
        fields = _LOCAL_HEADER.unpack(header)
        start = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
        raw = data[start:start + info.compress_size]
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        produced = 0
        try:
            while raw and produced <= info.file_size:
                produced += len(inflater.decompress(raw, 1 << 20))
                raw = inflater.unconsumed_tail
            produced += len(inflater.flush(1 << 20)) if produced <= info.file_size else 0
        except zlib.error:
            raise ExtractionFailed(f"the {label} is damaged (a packed part cannot be unpacked).") from None
        if produced > info.file_size:
            raise ExtractionFailed(f"a part of the {label} unpacks to far more than it declares, "
                                   "which looks like a zip bomb.")
