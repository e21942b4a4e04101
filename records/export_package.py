"""The audit export package: a ZIP of members, a manifest of their SHA-256 sums, a signature."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from records.ports import Signer

FORMAT = "strongroom-audit-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
# The signature covers this context line plus the manifest bytes, so a signature made with
# the same key for something else (a checkpoint, a destruction certificate) never verifies
# as a manifest, and the reverse.
SIGNATURE_CONTEXT = b"strongroom audit export manifest v1\n"

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw public key, as hex in groups of four (easy to read out and compare)."""
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def signed_message(manifest_bytes: bytes) -> bytes:
    return SIGNATURE_CONTEXT + manifest_bytes


def safe_member_part(text: str, *, limit: int = 120) -> str:
    """A path component that every unzip tool writes as a plain file inside its folder."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text).strip(" .")
    if not text or set(text) <= {"."}:
        text = "_"
    if len(text) > limit:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: limit - len(ext) - 1] + "." + ext
        else:
            text = text[:limit]
    return text


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Stable, readable JSON: sorted keys, two-space indent, UTF-8, final newline."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    sha256: str
    size: int


class Pipe:
    """A write-only sink that hands what was written to a generator (streaming a ZIP)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._written += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class PackageWriter:
    """Writes members into a ZIP on `sink`, hashing each while it streams, then signs."""

    def __init__(self, sink: Any) -> None:
        # The sink may be unseekable (an HTTP response); zipfile then writes data descriptors.
        self._zip = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=6, allowZip64=True)
        self.members: list[Member] = []
        self._names: set[str] = set()

    def member(self, name: str, chunks: Iterable[bytes], *, large: bool = False) -> Iterator[None]:
        """Write one member from `chunks`, yielding after each chunk so callers can stream."""
        if name in self._names or name in (MANIFEST, SIGNATURE):
            raise ValueError(f"duplicate export member {name!r}")
        self._names.add(name)
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        digest = hashlib.sha256()
        size = 0
        with self._zip.open(info, "w", force_zip64=large) as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
                yield None
        self.members.append(Member(name, digest.hexdigest(), size))

    def finish(self, manifest: dict[str, Any], signer: Signer) -> bytes:
        """Add the members to `manifest`, write it and its signature; return the manifest bytes."""
        manifest = dict(manifest)
        manifest["members"] = {m.name: {"sha256": m.sha256, "size": m.size} for m in self.members}
        body = manifest_bytes(manifest)
        signature = signer.sign(signed_message(body))
        for name, data in ((MANIFEST, body),
                           (SIGNATURE, base64.b64encode(signature) + b"\n")):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            self._zip.writestr(info, data)
        self._zip.close()
        return body

    def abort(self) -> None:
        try:
            self._zip.close()
        except (OSError, ValueError):
            pass  # the archive is incomplete by design; the caller discards it
