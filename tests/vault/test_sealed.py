"""The sealed-object format: round trips, known-answer vectors, and every tamper case."""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault import sealed
from vault.errors import ObjectDamaged
from vault.sealed import CHUNK_SIZE, HEADER_SIZE, TAG_SIZE, ObjectContext

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
DEK = bytes(range(32))
CTX = ObjectContext(object_id=bytes(16), record_id="r-1", role="original")
SEALED_CHUNK = CHUNK_SIZE + TAG_SIZE


def seal(plain: bytes, dek: bytes = DEK, ctx: ObjectContext = CTX) -> bytes:
    sink = io.BytesIO()
    sealed.seal_stream(dek, ctx, io.BytesIO(plain), sink)
    return sink.getvalue()


def unseal(blob: bytes, dek: bytes = DEK, ctx: ObjectContext = CTX) -> bytes:
    return b"".join(sealed.open_stream(dek, ctx, io.BytesIO(blob)))


class _Trickle(io.RawIOBase):
    """A source that returns at most 1000 bytes per read, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 1000) if size >= 0 else 1000)


_BOUNDARY_SIZES = [n * CHUNK_SIZE + d for n in range(4) for d in (-1, 0, 1) if n * CHUNK_SIZE + d >= 0]


@settings(max_examples=60, deadline=None)
@given(size=st.one_of(st.integers(0, 3000), st.sampled_from(_BOUNDARY_SIZES), st.integers(0, 3 * CHUNK_SIZE)),
       seed=st.integers(0, 2**32), record_id=st.text(max_size=40), role=st.sampled_from(["original", "text"]))
def test_round_trip(size: int, seed: int, record_id: str, role: str) -> None:
    plain = random.Random(seed).randbytes(size)
    ctx = ObjectContext(os.urandom(16), record_id, role)
    blob = seal(plain, ctx=ctx)
    chunks = max(1, -(-len(plain) // CHUNK_SIZE))
    assert len(blob) == HEADER_SIZE + len(plain) + chunks * TAG_SIZE
    assert unseal(blob, ctx=ctx) == plain


def test_short_reads_from_a_pipe_give_the_same_chunking() -> None:
    plain = os.urandom(2 * CHUNK_SIZE + 5)
    sink = io.BytesIO()
    result = sealed.seal_stream(DEK, CTX, _Trickle(plain), sink)  # type: ignore[arg-type]
    assert result.size == len(plain)
    assert len(sink.getvalue()) == HEADER_SIZE + len(plain) + 3 * TAG_SIZE
    assert unseal(sink.getvalue()) == plain


def test_same_plaintext_twice_gives_unrelated_ciphertexts() -> None:
    plain = b"identical document" * 100
    a, b = seal(plain), seal(plain)
    assert a[:22] == b[:22]  # magic, version, alg, object id
    assert a[22:] != b[22:] and a[HEADER_SIZE:HEADER_SIZE + 32] != b[HEADER_SIZE:HEADER_SIZE + 32]


# ---- known-answer vectors: a future change must still read (and write) v1 --------------


def _vector_doc() -> dict[str, object]:
    return json.loads((VECTORS / "sealed-v1.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["empty", "short", "three-chunks"])
def test_known_answer_vectors(name: str) -> None:
    doc = _vector_doc()
    vec = next(v for v in doc["vectors"] if v["name"] == name)  # type: ignore[attr-defined]
    dek, salt = bytes.fromhex(doc["dek"]), bytes.fromhex(doc["salt"])  # type: ignore[arg-type]
    ctx = ObjectContext(bytes.fromhex(doc["object_id"]), doc["record_id"], doc["role"])  # type: ignore[arg-type]
    plain = bytes((i * 7 + 3) % 251 for i in range(vec["size"]))
    stored = (VECTORS / vec["file"]).read_bytes()
    assert b"".join(sealed.open_stream(dek, ctx, io.BytesIO(stored))) == plain
    sink = io.BytesIO()
    sealed.seal_stream(dek, ctx, io.BytesIO(plain), sink, salt=salt)
    assert sink.getvalue() == stored


# ---- tamper matrix ---------------------------------------------------------------------

PLAIN = bytes(i % 256 for i in range(3 * CHUNK_SIZE + 1000))  # four chunks, the last short
BLOB = seal(PLAIN)


def _chunks(blob: bytes) -> list[bytes]:
    body = blob[HEADER_SIZE:]
    return [body[i:i + SEALED_CHUNK] for i in range(0, len(body), SEALED_CHUNK)]


def _released(blob: bytes, dek: bytes = DEK, ctx: ObjectContext = CTX) -> tuple[bytes, ObjectDamaged]:
    """Plaintext released before the error, and the error (which must come)."""
    out = []
    with pytest.raises(ObjectDamaged) as info:
        for chunk in sealed.open_stream(dek, ctx, io.BytesIO(blob)):
            out.append(chunk)
    assert CTX.object_id.hex() in str(info.value)
    return b"".join(out), info.value


def _flip(blob: bytes, pos: int) -> bytes:
    return blob[:pos] + bytes((blob[pos] ^ 0x01,)) + blob[pos + 1:]


def _chunk_start(i: int) -> int:
    return HEADER_SIZE + i * SEALED_CHUNK


FLIP_POSITIONS = sorted({*range(HEADER_SIZE), *(p for i in range(4) for p in
                        (_chunk_start(i), _chunk_start(i) + 63, min(_chunk_start(i + 1), len(BLOB)) - 1,
                         min(_chunk_start(i + 1), len(BLOB)) - 20))})


@pytest.mark.parametrize("pos", FLIP_POSITIONS)
def test_flipped_bit_anywhere_is_detected(pos: int) -> None:
    released, _ = _released(_flip(BLOB, pos))
    failed_chunk = max(0, (pos - HEADER_SIZE) // SEALED_CHUNK) if pos >= HEADER_SIZE else 0
    # Only chunks before the damaged one were released, each authentic.
    assert released == PLAIN[:failed_chunk * CHUNK_SIZE] if pos >= HEADER_SIZE else released == b""


@pytest.mark.parametrize("cut", [0, 10, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 15,
                                 _chunk_start(1), _chunk_start(2), _chunk_start(3),
                                 _chunk_start(1) + 100, _chunk_start(3) + 500, len(BLOB) - 1])
def test_truncation_at_and_inside_chunks_is_detected(cut: int) -> None:
    released, _ = _released(BLOB[:cut])
    assert PLAIN.startswith(released) and len(released) < len(PLAIN)


def test_reordered_chunks_are_detected() -> None:
    c = _chunks(BLOB)
    released, _ = _released(BLOB[:HEADER_SIZE] + c[1] + c[0] + c[2] + c[3])
    assert released == b""


def test_dropped_middle_chunk_is_detected() -> None:
    c = _chunks(BLOB)
    released, _ = _released(BLOB[:HEADER_SIZE] + c[0] + c[2] + c[3])
    assert released == PLAIN[:CHUNK_SIZE]


def test_duplicated_chunk_is_detected() -> None:
    c = _chunks(BLOB)
    _released(BLOB[:HEADER_SIZE] + c[0] + c[0] + c[1] + c[2] + c[3])


def test_appended_bytes_are_detected() -> None:
    _released(BLOB + b"\x00")
    _released(BLOB + _chunks(BLOB)[-1])


def test_object_moved_to_another_record_or_role_is_refused_before_any_chunk() -> None:
    for ctx in (ObjectContext(CTX.object_id, "r-2", CTX.role), ObjectContext(CTX.object_id, CTX.record_id, "text")):
        released, err = _released(BLOB, ctx=ctx)
        assert released == b"" and "another record or role" in str(err)


def test_object_renamed_to_another_id_is_refused() -> None:
    ctx = ObjectContext(b"\x01" * 16, CTX.record_id, CTX.role)
    with pytest.raises(ObjectDamaged, match="another object"):
        sealed.open_stream(DEK, ctx, io.BytesIO(BLOB))


def test_wrong_key_is_refused_by_the_commitment() -> None:
    with pytest.raises(ObjectDamaged, match="wrong key"):
        sealed.open_stream(os.urandom(32), CTX, io.BytesIO(BLOB))


def test_chunks_swapped_between_two_objects_of_one_record_are_detected() -> None:
    other = seal(PLAIN)  # same key, same record, another salt
    mixed = BLOB[:HEADER_SIZE] + _chunks(BLOB)[0] + _chunks(other)[1] + b"".join(_chunks(BLOB)[2:])
    released, _ = _released(mixed)
    assert released == PLAIN[:CHUNK_SIZE]


def test_header_version_and_algorithm_are_checked() -> None:
    with pytest.raises(ObjectDamaged, match="version"):
        sealed.open_stream(DEK, CTX, io.BytesIO(BLOB[:4] + b"\x09" + BLOB[5:]))
    with pytest.raises(ObjectDamaged, match="algorithm"):
        sealed.open_stream(DEK, CTX, io.BytesIO(BLOB[:5] + b"\x07" + BLOB[6:]))
