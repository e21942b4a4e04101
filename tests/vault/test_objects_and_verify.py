"""The object store in a real home, and `Home.verify` finding each kind of damage."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from records.errors import IntegrityError
from records.model import BlobRole, RecordId
from tests.vault.test_catalog import CANARY, make_record
from vault import DataKeyDamaged, Home, ObjectDamaged
from vault.atomicfile import TEMP_PREFIX

DATA = (CANARY + " ").encode() * 20_000  # ~440 KB, seven chunks


def file_one(home: Home, data: bytes = DATA) -> tuple[RecordId, bytes, Path]:
    rec = make_record(blobs=())
    key = home.blobs.new_data_key(rec.id)
    blob = home.blobs.seal(rec.id, key, BlobRole.ORIGINAL, io.BytesIO(data))
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.ref.size == len(data)
    with home.catalog.transaction() as tx:
        tx.add(replace(rec, blobs=(blob.ref,)), key, home.blobs.content_mac(io.BytesIO(data)))
    return rec.id, key, home.blobs.path_of(blob.ref.object_id)


def test_round_trip_and_no_plaintext_on_disk(home: Home, home_path: Path,
                                            canary_scan: Callable[[Iterable[Path], Iterable[str]], list[str]]) -> None:
    rid, key, path = file_one(home)
    ref = home.catalog.get(rid).blobs[0]
    assert b"".join(home.blobs.open(rid, key, ref)) == DATA
    assert path.parent.name == ref.object_id[:2] and path.stat().st_mode & 0o777 == 0o600
    assert canary_scan([home_path], [CANARY]) == []
    assert home.verify() == []


def test_content_mac_is_keyed(home: Home, tmp_path: Path, fast_kdf) -> None:  # type: ignore[no-untyped-def]
    from vault import init_home, open_home
    mac = home.blobs.content_mac(io.BytesIO(DATA))
    assert mac != hashlib.sha256(DATA).hexdigest() and mac == home.blobs.content_mac(io.BytesIO(DATA))
    init_home(tmp_path / "other", "another passphrase", kdf=fast_kdf())
    with open_home(tmp_path / "other", "another passphrase") as other:
        assert other.blobs.content_mac(io.BytesIO(DATA)) != mac


def test_data_key_is_bound_to_its_record(home: Home) -> None:
    rid, key, _ = file_one(home)
    ref = home.catalog.get(rid).blobs[0]
    with pytest.raises(DataKeyDamaged):
        home.blobs.open(RecordId("another-record"), key, ref)
    other_key = home.blobs.new_data_key(rid)  # right record, but not the key it was sealed with
    with pytest.raises(ObjectDamaged, match="wrong key"):
        home.blobs.open(rid, other_key, ref)


def test_flipped_bit_is_found_by_open_and_verify(home: Home) -> None:
    rid, key, path = file_one(home)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    ref = home.catalog.get(rid).blobs[0]
    with pytest.raises(IntegrityError, match=ref.object_id):
        b"".join(home.blobs.open(rid, key, ref))
    problems = home.verify()
    assert len(problems) == 1 and ref.object_id in problems[0] and "failed authentication" in problems[0]


def test_missing_object_orphan_and_temp_leftover_are_reported(home: Home, home_path: Path) -> None:
    rid, key, path = file_one(home)
    path.unlink()
    orphan = home.blobs.seal(RecordId("never-filed"), home.blobs.new_data_key(RecordId("never-filed")),
                             BlobRole.TEXT, io.BytesIO(b"x"))
    (home_path / "objects" / f"{TEMP_PREFIX}deadbeef").write_bytes(b"half")
    problems = home.verify()
    assert len(problems) == 3
    assert "missing" in problems[0] and home.catalog.get(rid).registry_number in problems[0]
    assert orphan.ref.object_id in problems[1] and "not referenced" in problems[1]
    assert f"{TEMP_PREFIX}deadbeef" in problems[2]


def test_shredded_record_objects_count_as_orphans(home: Home) -> None:
    rid, _, path = file_one(home)
    with home.catalog.transaction() as tx:
        tx.shred_key(rid)
    assert [p for p in home.verify() if "not referenced" in p]
    home.blobs.delete(home.catalog.get(rid).blobs[0])
    assert not path.exists() and home.verify() == []


def test_altered_audit_entry_is_reported(home: Home) -> None:
    conn = home.catalog._conn  # reaching past the API on purpose: this is the tampering
    row = conn.execute("SELECT json FROM audit WHERE seq = 1").fetchone()
    conn.execute("UPDATE audit SET json = ? WHERE seq = 1", (row[0].replace("vault.init", "vault.xxxx"),))
    problems = home.verify()
    assert problems == ["The audit trail is broken: audit entry 1 was altered (its hash does not match)."]


def test_altered_record_index_of_the_trail_is_reported(home: Home) -> None:
    """The record column indexes the trail for history pages; it is not hashed, so verify compares it."""
    from datetime import datetime, timezone

    from records.audit import AuditEvent
    with home.catalog.transaction() as tx:
        tx.append_audit(AuditEvent(ts=datetime.now(timezone.utc), actor="ana", action="record.view", record_id="r1"))
    seq = home.catalog.audit_head().seq  # type: ignore[union-attr]
    assert [e.seq for e in home.catalog.record_history("r1", 10)] == [seq]
    assert home.verify() == []
    home.catalog._conn.execute("UPDATE audit SET record_id = 'r2' WHERE seq = ?", (seq,))  # hiding it
    assert home.catalog.record_history("r1", 10) == []
    assert any(f"disagrees with audit entry {seq}" in p for p in home.verify())


def test_deleted_audit_entry_is_reported(home: Home) -> None:
    from datetime import datetime, timezone

    from records.audit import AuditEvent
    for action in ("a", "b", "c"):
        with home.catalog.transaction() as tx:
            tx.append_audit(AuditEvent(ts=datetime.now(timezone.utc), actor="ana", action=action))
    home.catalog._conn.execute("DELETE FROM audit WHERE seq = 2")
    assert any("entry 2 is missing" in p for p in home.verify())


def test_checkpoint_not_matching_the_chain_is_reported(home: Home) -> None:
    from datetime import datetime, timezone

    from records.ports import Checkpoint
    head = home.catalog.audit_head()
    assert head is not None
    with home.catalog.transaction() as tx:
        tx.add_checkpoint(Checkpoint(size=head.seq, head="00" * 32, ts=datetime.now(timezone.utc),
                                     signature=home.signer.sign(b"x")))
    assert any("Checkpoint at audit entry 1 does not match" in p for p in home.verify())


def test_delete_is_durable_and_idempotent(home: Home) -> None:
    rid, _, path = file_one(home)
    ref = home.catalog.get(rid).blobs[0]
    home.blobs.delete(ref)
    home.blobs.delete(ref)
    assert not path.exists()


def test_seal_streams_from_a_file(home: Home, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * 65536 + 7))
    rec = make_record(blobs=())
    key = home.blobs.new_data_key(rec.id)
    with open(src, "rb") as fh:
        blob = home.blobs.seal(rec.id, key, BlobRole.ORIGINAL, fh)
    assert b"".join(home.blobs.open(rec.id, key, blob.ref)) == src.read_bytes()
    assert [p for p in (home.path / "objects").iterdir() if p.name.startswith(TEMP_PREFIX)] == []


def test_checkpoint_signatures_are_verified(home: Home) -> None:
    from datetime import datetime, timezone

    from records.ports import Checkpoint
    checkpoints = pytest.importorskip("records.checkpoints")  # the records core's signed format
    head = home.catalog.audit_head()
    assert head is not None
    good = Checkpoint(size=head.seq, head=head.hash, ts=datetime.now(timezone.utc), signature=b"")
    good = replace(good, signature=home.signer.sign(checkpoints.checkpoint_text(good)))
    with home.catalog.transaction() as tx:
        tx.add_checkpoint(good)
    assert home.verify() == []
    home.catalog._conn.execute("UPDATE checkpoints SET signature = ?", (bytes(64),))
    assert any("invalid signature" in p for p in home.verify())
