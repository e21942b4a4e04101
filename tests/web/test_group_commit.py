"""Group commit in bulk import (issue 21): per batch one folder fsync for its objects, one catalogue
transaction holding every record and audit entry, one index commit; duplicates inside a batch are
filed once and leave no object behind; a batch the catalogue refuses leaves nothing."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from records.access import AccessScope
from records.filing import FilingRequest, FilingStatus
from records.model import BlobRole, RecordId
from records.ports import IndexDoc, SearchRequest
from tests.conftest import PASSPHRASE
from vault import KdfParams, objectbatch
from web.indexfeeder import IndexFeeder
from web.intake import bulk_import
from web.office import Office, create_home
from web.settings import Settings

TEMPLATE = FilingRequest(original_name="", record_class="invoices", actor="tina", channel="import")


@pytest.fixture
def office(tmp_path: Path, fast_kdf: Callable[[], KdfParams]) -> Iterator[Office]:
    opened = create_home(Settings.load({"home": tmp_path / "home"}, environ={}), PASSPHRASE, kdf=fast_kdf())[0]
    try:
        yield opened
    finally:
        opened.close()


def _letters(folder: Path, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(start, start + count):
        path = folder / f"racun-{i:03d}.txt"
        path.write_text(f"Račun številka {i} za dobavo blaga, znesek {i * 17} EUR.", encoding="utf-8")
        paths.append(path)
    return paths


class _Spy:
    """Counts calls of a real function (it still runs)."""

    def __init__(self, real: Callable[..., object]) -> None:
        self.real, self.calls = real, 0

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        return self.real(*args, **kwargs)


def test_each_batch_is_one_folder_fsync_one_catalogue_transaction_and_one_index_commit(
        office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _letters(tmp_path / "in", 25)
    ports = office.ports
    folder_fsyncs, transactions = _Spy(objectbatch.fsync_dir), _Spy(ports.catalog.transaction)
    index_commits = _Spy(ports.index.upsert)  # type: ignore[union-attr]
    monkeypatch.setattr(objectbatch, "fsync_dir", folder_fsyncs)
    monkeypatch.setattr(ports.catalog, "transaction", transactions)
    monkeypatch.setattr(ports.index, "upsert", index_commits)

    summary = bulk_import(office, files, TEMPLATE, batch=10)

    assert summary.filed == 25 and not summary.rejected
    assert folder_fsyncs.calls == 3, "one folder fsync per batch of 10, 10, 5"
    assert transactions.calls == 3, "one catalogue transaction per batch (duplicate look-ups are reads)"
    assert 1 <= index_commits.calls <= 3, "one index commit per batch, or fewer when batches waited"
    records = ports.catalog.find()
    assert len(records) == 25 and office.home.verify() == []
    # Every record's objects sit in its batch's folder: a batch's objects share one.
    folders = {ref.object_id[:2] for r in records for ref in r.blobs}
    assert len(folders) <= 3
    # The filing entries are in the chain like any other, one per document.
    filings = [e for e in ports.catalog.audit_entries() if e.event.action == "record.file"]
    assert len(filings) == 25 and {e.event.record_id for e in filings} == {r.id for r in records}
    hits = office.search(SearchRequest("številka"), AccessScope.system("test")).total
    assert hits == 25


def test_the_same_document_twice_in_one_batch_is_filed_once_and_leaves_no_object(
        office: Office, tmp_path: Path) -> None:
    files = _letters(tmp_path / "in", 4)
    twin = tmp_path / "in" / "kopija.txt"
    twin.write_bytes(files[1].read_bytes())
    summary = bulk_import(office, [*files, twin], TEMPLATE, batch=10)
    assert (summary.filed, summary.duplicates, len(summary.rejected)) == (4, 1, 0)
    [duplicate] = [o for o in summary.items if o.status is FilingStatus.DUPLICATE]
    [original] = [o for o in summary.items if o.source == str(files[1])]
    assert duplicate.duplicate_of == original.record_id and duplicate.registry_number == original.registry_number
    referenced = {ref.object_id for r in office.ports.catalog.find() for ref in r.blobs}
    assert office.home.blobs.object_ids() == referenced, "the duplicate's sealed objects were left behind"
    assert not list((office.path / "objects").rglob(".tmp-*"))


def test_a_batch_the_catalogue_refuses_files_nothing_and_leaves_no_object(
        office: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from records import filing
    files = _letters(tmp_path / "in", 12)
    real_write = filing.Prepared.write
    written = {"n": 0}

    def fail_in_second_batch(self: filing.Prepared, tx: object, state: object) -> None:
        written["n"] += 1
        if written["n"] == 8:
            raise OSError(28, "No space left on device")
        real_write(self, tx, state)  # type: ignore[arg-type]

    monkeypatch.setattr(filing.Prepared, "write", fail_in_second_batch)
    summary = bulk_import(office, files, TEMPLATE, batch=5)
    assert summary.filed == 7 and len(summary.rejected) == 5  # batches of 5: the second one is refused whole
    assert all("could not be read or stored (No space left on device)" in o.reason for o in summary.rejected)
    referenced = {ref.object_id for r in office.ports.catalog.find() for ref in r.blobs}
    assert len(office.ports.catalog.find()) == 7
    assert office.home.blobs.object_ids() == referenced and office.home.verify() == []


def test_objects_sealed_into_a_batch_have_their_names_only_after_its_commit(office: Office) -> None:
    blobs = office.home.blobs
    record_id = RecordId("r" * 26)
    key = blobs.new_data_key(record_id)
    batch = blobs.batch()
    sealed = [batch.seal(record_id, key, BlobRole.ORIGINAL, io.BytesIO(b"x" * n)) for n in (10, 20, 30)]
    names = {s.ref.object_id for s in sealed}
    assert not names & blobs.object_ids() and len({n[:2] for n in names}) == 1
    batch.commit()
    assert names <= blobs.object_ids()
    assert b"".join(blobs.open(record_id, key, sealed[1].ref)) == b"x" * 20
    batch.discard([sealed[0].ref])
    assert sealed[0].ref.object_id not in blobs.object_ids() and sealed[2].ref.object_id in blobs.object_ids()
    batch.discard()
    assert not names & blobs.object_ids()


def test_an_immediate_batch_seals_durably_at_once_and_discards_by_deleting(office: Office) -> None:
    """The SealBatch a store with durable writes (S3) uses: vault.objectbatch.ImmediateBatch."""
    blobs = office.home.blobs
    record_id = RecordId("s" * 26)
    key = blobs.new_data_key(record_id)
    batch = objectbatch.ImmediateBatch(blobs)
    first, second = (batch.seal(record_id, key, BlobRole.TEXT, io.BytesIO(b"y" * n)) for n in (5, 6))
    assert {first.ref.object_id, second.ref.object_id} <= blobs.object_ids()  # durable before commit()
    batch.commit()
    batch.discard([first.ref])
    assert first.ref.object_id not in blobs.object_ids() and second.ref.object_id in blobs.object_ids()
    batch.discard()
    assert second.ref.object_id not in blobs.object_ids()


def test_batches_waiting_for_the_index_are_committed_together(office: Office, tmp_path: Path) -> None:
    """While one index commit runs, the batches filed meanwhile wait, and then go in one commit."""
    summary = bulk_import(office, _letters(tmp_path / "in", 6), TEMPLATE, batch=10)
    assert summary.filed == 6
    index = office.ports.index
    assert index is not None
    docs = [IndexDoc(record=r, text=f"besedilo {r.registry_number}") for r in office.ports.catalog.find()]
    running, release = threading.Event(), threading.Event()
    commits: list[int] = []
    real = index.upsert

    def gated(batch: Sequence[IndexDoc]) -> None:
        commits.append(len(batch))
        if len(commits) == 1:
            running.set()
            assert release.wait(30)
        real(batch)

    index.upsert = gated  # type: ignore[method-assign]
    feeder = IndexFeeder(index, depth=2)
    feeder.upsert(docs[:2])
    assert running.wait(30)
    feeder.upsert(docs[2:4])  # both wait behind the running commit
    feeder.upsert(docs[4:])
    release.set()
    feeder.close()
    assert commits == [2, 4], f"the two waiting batches were not committed together: {commits}"
    assert feeder.failure == ""
    hits = office.search(SearchRequest("besedilo"), AccessScope.system("test")).total
    assert hits == 6
