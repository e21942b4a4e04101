"""The SQLCipher catalogue: never readable as SQLite, no plaintext anywhere, the CatalogTx contract."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from records.audit import GENESIS, AuditEvent, first_break
from records.errors import DuplicateRecord, RecordNotFound
from records.model import (BlobRef, BlobRole, Confidentiality, ContractFields, Hold, ObjectId, Record,
                           RecordId, Role, State, User, new_record_id)
from records.ports import Checkpoint, RecordFilter
from tests.conftest import PASSPHRASE
from vault import CatalogError, Home, open_home
from vault.catalog import SqlCipherCatalog

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
CANARY = "Kanarček-Pogodba-7731"


def make_record(**changes: object) -> Record:
    base = Record(id=new_record_id(), registry_number=f"03.1-{new_record_id()[:6]}/2026",
                  title=f"{CANARY} title", record_class="03.1", principal="Uprava d.o.o.",
                  confidentiality=Confidentiality.CONFIDENTIAL, document_date=date(2026, 3, 1),
                  filed_at=NOW, filed_by="ana", original_name=f"{CANARY}.pdf", media_type="application/pdf",
                  size=10, sha256="ab" * 32, parties=("Lepingupartner OÜ",), tags=("t",),
                  details=ContractFields(parties=("A",), expiry=date(2027, 1, 1)),
                  holds=(Hold("h1", "court", "ana", NOW),),
                  blobs=(BlobRef(ObjectId("00" * 16), BlobRole.ORIGINAL, 10),))
    return Record(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def test_catalogue_is_not_a_readable_sqlite_file(home: Home, home_path: Path) -> None:
    with home.catalog.transaction() as tx:
        tx.add(make_record(), home.blobs.new_data_key(RecordId("x")), "mac")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(home_path / "catalog.db").execute("SELECT * FROM sqlite_master").fetchall()
    assert not (home_path / "catalog.db").read_bytes().startswith(b"SQLite format 3")


def test_wrong_key_is_a_clear_error(home_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot be decrypted"):
        SqlCipherCatalog(home_path / "catalog.db", b"\x01" * 32)


def test_no_plaintext_in_catalogue_wal_or_shm(home: Home, home_path: Path,
                                              canary_scan: Callable[[Iterable[Path], Iterable[str]], list[str]]) -> None:
    for _ in range(20):  # enough pages that the WAL holds real data while the home is open
        with home.catalog.transaction() as tx:
            tx.add(make_record(), home.blobs.new_data_key(RecordId("x")), "")
            tx.put_setting("note", CANARY)
            tx.append_audit(AuditEvent(ts=NOW, actor="ana", action="record.file",
                                       details=(("title", home.audit_hmac(CANARY)),)))
    assert (home_path / "catalog.db-wal").exists()
    assert canary_scan([home_path], [CANARY, "Lepingupartner", "Uprava d.o.o."]) == []
    assert home.catalog.get_setting("note") == CANARY


def test_record_round_trip_and_find(home: Home) -> None:
    a, b = make_record(), make_record(record_class="04", principal="Other", state=State.CLOSED)
    with home.catalog.transaction() as tx:
        tx.add(a, home.blobs.new_data_key(a.id), "mac-a")
        tx.add(b, home.blobs.new_data_key(b.id), "mac-b")
    assert home.catalog.get(a.id) == a
    assert home.catalog.find(RecordFilter(record_class="04")) == [b]
    assert home.catalog.find(RecordFilter(principal="Uprava d.o.o.", state=State.ACTIVE)) == [a]
    assert {r.id for r in home.catalog.find(RecordFilter(filed_from=date(2026, 11, 23)))} == {a.id, b.id}
    assert home.catalog.find(RecordFilter(filed_to=date(2026, 11, 22))) == []
    assert home.catalog.find(RecordFilter(registry_number=b.registry_number)) == [b]
    assert home.catalog.find(RecordFilter(registry_number="99.9-1/2026")) == []
    changed = make_record(id=a.id, registry_number=a.registry_number, state=State.DUE, holds=())
    with home.catalog.transaction() as tx:
        tx.replace(changed)
    assert home.catalog.get(a.id) == changed
    with pytest.raises(RecordNotFound):
        home.catalog.get(RecordId("nope"))


def test_decoded_records_follow_changes_made_by_any_connection(home: Home, home_path: Path) -> None:
    """find() keeps what it decoded, and must still show every change: this process's, and another's."""
    a, b = make_record(filed_at=NOW), make_record(filed_at=datetime(2026, 11, 22, tzinfo=timezone.utc))
    with home.catalog.transaction() as tx:
        tx.add(a, home.blobs.new_data_key(a.id), "mac-a")
        tx.add(b, home.blobs.new_data_key(b.id), "mac-b")
    assert home.catalog.find() == [b, a]  # by filing time, as before
    first = home.catalog.find()[1]
    assert home.catalog.find()[1] is first  # decoded once
    retitled = make_record(id=a.id, registry_number=a.registry_number, filed_at=NOW, title="Nov naslov")
    with home.catalog.transaction() as tx:
        tx.replace(retitled)
    assert home.catalog.find()[1].title == "Nov naslov" and home.catalog.get(a.id).title == "Nov naslov"
    key = home.keyring.catalog
    other = SqlCipherCatalog(home_path / "catalog.db", key)  # another process, say the CLI
    try:
        with other.transaction() as tx:
            tx.replace(make_record(id=b.id, registry_number=b.registry_number, filed_at=b.filed_at,
                                   state=State.DUE, title="Drugi"))
    finally:
        other.close()
    assert [(r.title, r.state) for r in home.catalog.find()] == [("Drugi", State.DUE), ("Nov naslov", State.ACTIVE)]
    assert home.catalog.find(RecordFilter(state=State.DUE))[0].title == "Drugi"


def test_duplicate_content_mac_and_shred(home: Home) -> None:
    a = make_record()
    key = home.blobs.new_data_key(a.id)
    with home.catalog.transaction() as tx:
        tx.add(a, key, "same-mac")
    with pytest.raises(DuplicateRecord) as info, home.catalog.transaction() as tx:
        tx.add(make_record(), key, "same-mac")
    assert info.value.existing_id == a.id
    with home.catalog.transaction() as tx:
        assert tx.find_by_mac("same-mac") == a.id
        tx.shred_key(a.id)
        assert tx.find_by_mac("same-mac") is None
    assert home.catalog.data_key(a.id) is None
    assert home.catalog.get(a.id) == a  # the stub stays


def test_transaction_rolls_back_everything_on_error(home: Home) -> None:
    head = home.catalog.audit_head()
    rec = make_record()
    with pytest.raises(ZeroDivisionError), home.catalog.transaction() as tx:
        tx.add(rec, home.blobs.new_data_key(rec.id), "m")
        tx.append_audit(AuditEvent(ts=NOW, actor="ana", action="record.file"))
        1 / 0
    assert home.catalog.audit_head() == head
    with pytest.raises(RecordNotFound):
        home.catalog.get(rec.id)


def test_registry_sequences_per_class_and_year(home: Home) -> None:
    with home.catalog.transaction() as tx:
        got = [tx.next_registry_seq("03.1", 2026), tx.next_registry_seq("03.1", 2026),
               tx.next_registry_seq("03.1", 2027), tx.next_registry_seq("04", 2026)]
    assert got == [1, 2, 1, 1]


def test_audit_chain_from_concurrent_threads_is_contiguous(home: Home) -> None:
    def work(n: int) -> None:
        for i in range(10):
            with home.catalog.transaction() as tx:
                tx.append_audit(AuditEvent(ts=NOW, actor=f"u{n}", action="search",
                                           details=(("i", str(i)),)))
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = list(home.catalog.audit_entries())
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1)) and len(entries) == 41
    assert first_break([e.to_json() for e in entries], start_prev=GENESIS) is None
    head = home.catalog.audit_head()
    assert head is not None and head.seq == 41 and head.hash == entries[-1].hash
    assert [e.seq for e in home.catalog.audit_entries(since_seq=39)] == [40, 41]


def test_users_settings_checkpoints(home: Home) -> None:
    user = User("ana", Role.SECRETARY, Confidentiality.CONFIDENTIAL, principals=("Uprava",),
                password_hash="$argon2id$x", created_at=NOW)
    cp = Checkpoint(size=1, head="ab" * 32, ts=NOW, signature=b"\x01" * 64)
    with home.catalog.transaction() as tx:
        tx.put_user(user)
        tx.put_user(User("bo", Role.VIEWER, Confidentiality.PUBLIC))
        tx.put_setting("k", "v1")
        tx.put_setting("k", "v2")
        tx.add_checkpoint(cp)
    assert home.catalog.get_user("ana") == user and [u.name for u in home.catalog.users()] == ["ana", "bo"]
    assert home.catalog.get_setting("k") == "v2" and home.catalog.get_setting("missing") is None
    assert home.catalog.checkpoints() == [cp]
    with home.catalog.transaction() as tx:
        tx.delete_user("bo")
    assert home.catalog.get_user("bo") is None


def test_data_survives_reopen(home_path: Path) -> None:
    rec = make_record()
    with open_home(home_path, PASSPHRASE) as home:
        key = home.blobs.new_data_key(rec.id)
        with home.catalog.transaction() as tx:
            tx.add(rec, key, "m")
    with open_home(home_path, PASSPHRASE) as home:
        assert home.catalog.get(rec.id) == rec and home.catalog.data_key(rec.id) == key


def test_nested_transaction_is_refused(home: Home) -> None:
    with home.catalog.transaction(), pytest.raises(RuntimeError):
        with home.catalog.transaction():
            pass


def test_a_catalogue_from_before_the_trail_index_is_upgraded_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    from records.audit import AuditEvent, canonical, chain
    from vault import migrations
    path, key = tmp_path / "catalog.db", b"\x07" * 32
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
    old = SqlCipherCatalog(path, key)
    for rid in ("r1", "r2", "r1", None):
        old._conn.execute("BEGIN IMMEDIATE")  # as the code before it wrote the trail: no record column
        row = old._conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        entry = chain(row[0] + 1 if row else 1, AuditEvent(ts=NOW, actor="ana", action="record.view", record_id=rid),
                      row[1] if row else GENESIS)
        old._conn.execute("INSERT INTO audit (seq, json, prev_hash, hash) VALUES (?, ?, ?, ?)",
                          (entry.seq, canonical(entry.to_json()).decode(), entry.prev_hash, entry.hash))
        old._conn.execute("COMMIT")
    old.close()
    monkeypatch.undo()
    upgraded = SqlCipherCatalog(path, key)
    try:
        assert [e.seq for e in upgraded.record_history(RecordId("r1"), 10)] == [1, 3]
        assert [e.seq for e in upgraded.record_history(RecordId("r1"), 1)] == [3]  # the newest, oldest first
        assert [e.seq for e in upgraded.audit_page(record_id="r2")] == [2]
        assert upgraded.integrity_problems() == []
    finally:
        upgraded.close()


def test_reads_do_not_wait_for_another_threads_transaction_and_see_only_what_is_committed(home: Home) -> None:
    """A bulk import's filing threads look up duplicates while the previous batch commits (and fsyncs):
    a read must not queue behind that transaction, and must not see its rows before the COMMIT."""
    first, second = make_record(), make_record()
    with home.catalog.transaction() as tx:
        tx.add(first, home.blobs.new_data_key(first.id), "mac-1")
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with home.catalog.transaction() as tx:
            tx.add(second, home.blobs.new_data_key(second.id), "mac-2")
            inside.set()
            assert release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(30)

        def reads() -> tuple[object, ...]:
            return (home.catalog.find_by_mac("mac-1"), home.catalog.find_by_mac("mac-2"),
                    [r.id for r in home.catalog.find()])
        # While the transaction is open in the other thread (with one connection, these waited for it):
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(reads).result(timeout=10) == (first.id, None, [first.id])
    finally:
        release.set()
        thread.join()
    assert home.catalog.find_by_mac("mac-2") == second.id  # committed: seen at once


def test_reads_inside_a_transaction_see_its_own_writes(home: Home) -> None:
    record = make_record()
    with home.catalog.transaction() as tx:
        tx.add(record, home.blobs.new_data_key(record.id), "mac-own")
        assert home.catalog.find_by_mac("mac-own") == record.id
        assert home.catalog.get(record.id) == record
