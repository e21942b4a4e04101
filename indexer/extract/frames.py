"""The worker protocol: length-prefixed frames on pipes, JSON for results (never pickle from a worker)."""

from __future__ import annotations

import base64
import json
import struct
from datetime import date, datetime
from typing import Any, BinaryIO

from records.model import Integrity, SignatureFact, Trust
from records.ports import Attachment, Extraction

_LENGTH = struct.Struct(">Q")


class FrameError(Exception):
    """The other side closed the pipe or sent a malformed or oversized frame."""


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            raise FrameError("the pipe closed mid-frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO, limit: int) -> bytes:
    size = _LENGTH.unpack(read_exact(stream, _LENGTH.size))[0]
    if size > limit:
        raise FrameError(f"a frame of {size} bytes exceeds the limit of {limit}")
    return read_exact(stream, size)


def encode_extraction(result: Extraction) -> dict[str, Any]:
    return {"text": result.text, "media_type": result.media_type, "title": result.title,
            "author": result.author, "created": result.created.isoformat() if result.created else None,
            "pages": result.pages, "note": result.note, "headers": [list(h) for h in result.headers],
            "attachments": [[a.name, base64.b64encode(a.data).decode("ascii")] for a in result.attachments],
            "signatures": [_encode_signature(s) for s in result.signatures]}


def _encode_signature(fact: SignatureFact) -> dict[str, Any]:
    return {"signer": fact.signer, "identity_code": fact.identity_code,
            "signed_at": fact.signed_at.isoformat() if fact.signed_at else None, "integrity": str(fact.integrity),
            "trust": str(fact.trust), "kind": fact.kind, "problem": fact.problem}


def _decode_signature(fields: Any) -> SignatureFact:
    signed_at = fields["signed_at"]
    return SignatureFact(signer=_str(fields["signer"]), identity_code=_str(fields["identity_code"]),
                         signed_at=datetime.fromisoformat(_str(signed_at)) if signed_at else None,
                         integrity=Integrity(_str(fields["integrity"])), trust=Trust(_str(fields["trust"])), kind=_str(fields["kind"]),
                         problem=_str(fields["problem"]))


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise FrameError("a text field is not a string")
    return value


def decode_extraction(fields: object) -> Extraction:
    """Rebuilds an Extraction and checks every type: the worker may have been subverted by its input."""
    if not isinstance(fields, dict):
        raise FrameError("malformed result: not an object")
    try:
        created = fields.get("created")
        pages = fields.get("pages")
        if pages is not None and not isinstance(pages, int):
            raise FrameError("pages is not an integer")
        return Extraction(
            text=_str(fields["text"]), media_type=_str(fields["media_type"]), title=_str(fields["title"]),
            author=_str(fields["author"]), created=date.fromisoformat(_str(created)) if created else None,
            pages=pages, note=_str(fields["note"]),
            headers=tuple((_str(k), _str(v)) for k, v in fields["headers"]),
            attachments=tuple(Attachment(name=_str(n), data=base64.b64decode(_str(d), validate=True))
                              for n, d in fields["attachments"]),
            signatures=tuple(_decode_signature(f) for f in fields.get("signatures", ())))
    except (KeyError, TypeError, ValueError) as exc:
        raise FrameError(f"malformed result: {type(exc).__name__}") from None


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(payload: bytes) -> Any:
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FrameError("the frame is not JSON") from None


def trusted_of(request: dict[str, Any]) -> tuple[bytes, ...]:
    """The office's trusted certificates (DER) a request carries; none when it carries none."""
    return tuple(base64.b64decode(str(t), validate=True) for t in request.get("trusted", ())[:200])
