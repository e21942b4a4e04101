"""Faults: a full disk, a read-only home, damaged index/object/keys/catalogue files.

Each fault ends in one clear sentence (non-zero exit, no traceback) and loses nothing: the file
stays where it was, no partial object or catalogue row is left, and after the fault is gone the
same file files and every other record still reads byte for byte.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from records.plan import load_default
from records.ports import RecordFilter
from tests.conftest import PASSPHRASE
from tests.records.conftest import PlainExtractor
from tests.reliability.faults_support import (  # noqa: F401 - cli_env and small_disk are fixtures
    can_bind_mount, cli_env, disk_filled, new_home, object_files, one_clear_sentence, original_bytes, read_only,
    records_of, run, run_process, small_disk)
from vault import Home, ObjectDamaged, open_home
from vault.inbox import Intake, IntakeError, Watcher, WatchOptions
from web.office import Office, furnish
from web.settings import Settings

FAST = WatchOptions(stability_seconds=0.2, network_stability_seconds=1.0, rescan_seconds=1.0,
                    poll_interval=0.2, tick=0.05)
KEYS_SECTION = "If keys.json is lost or damaged"


def _wait(condition: Callable[[], object], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _big_document(path: Path, size: int = 1_500_000) -> bytes:
    """Incompressible text (sealing does not compress), larger than the space left."""
    data = ("Pogodba o dobavi kvarkadabra " + os.urandom(size // 2).hex())[:size].encode()
    path.write_bytes(data)
    return data


def _home_with_index(path: Path) -> Path:
    new_home(path)
    with open_home(path, PASSPHRASE) as home:
        furnish(home, Settings(home=path))
    return path


def _assert_nothing_left(home_path: Path, objects_before: list[Path], records_before: list[tuple[str, str]]) -> None:
    assert object_files(home_path) == objects_before, "a partial or orphan object was left"
    assert records_of(home_path) == records_before, "a catalogue row was left"
    assert not [p for p in home_path.rglob(".tmp-*")], "a temp file was left"


# ---- a full disk (a real 8 MiB tmpfs as root) ---------------------------------------------------


@pytest.mark.parametrize("leave", [0, 48 * 1024, 1024 * 1024], ids=["no-byte-left", "48KiB-left", "1MiB-left"])
def test_full_disk_import_fails_clearly_and_the_same_file_files_later(
        small_disk: Path, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str], leave: int) -> None:
    home = _home_with_index(small_disk / "home")
    doc = tmp_path / "Pogodba-dobava.txt"
    data = _big_document(doc)
    objects_before, records_before = object_files(home), records_of(home)
    with disk_filled(small_disk, leave):
        code, out, err = run(home, ["import", str(doc), "--class", "contracts"], capsys)
    assert code != 0 and "Traceback" not in out + err
    if out:  # the home opened; the document was refused with its reason
        assert "rejected" in out and "could not be read or stored (" in out and "nothing was filed" in out, out
    else:  # the home could not even record its unlock
        assert "cannot be written (the disk is full)" in one_clear_sentence(err) or \
               "cannot be written (a disk error" in one_clear_sentence(err)
    assert doc.read_bytes() == data
    _assert_nothing_left(home, objects_before, records_before)
    code, out, err = run(home, ["import", str(doc), "--class", "contracts"], capsys)
    assert code == 0 and "filed" in out, err
    assert [sha for _n, sha in records_of(home)] == [hashlib.sha256(data).hexdigest()]
    assert run(home, ["verify"], capsys)[0] == 0


def _intake(home_path: Path) -> tuple[Home, Intake]:
    home = open_home(home_path, PASSPHRASE)
    plan = load_default()
    return home, Office(home, Settings(home=home_path), plan=plan, extractor=PlainExtractor()).intake()


@pytest.mark.parametrize("leave", [64 * 1024, 1024 * 1024], ids=["64KiB-left", "1MiB-left"])
def test_full_disk_stops_the_watcher_keeps_the_file_and_files_it_when_space_returns(
        small_disk: Path, leave: int) -> None:
    home_path = _home_with_index(small_disk / "home")
    dropped = home_path / "inbox" / "contracts" / "Pogodba-dobava.txt"
    data = _big_document(dropped)
    home, intake = _intake(home_path)
    try:
        objects_before = object_files(home_path)
        with disk_filled(small_disk, leave):
            watcher = Watcher(intake, FAST).start()
            try:
                assert _wait(lambda: not watcher.running), "the watcher went on filing on a full disk"
            finally:
                watcher.stop()
            assert isinstance(watcher.error, IntakeError)
            message = str(watcher.error)
            assert "could not read or write" in message and "back in its folder" in message
            assert "disk is full" in message or "No space left on device" in message, message
        assert dropped.read_bytes() == data  # kept in its drop folder, unchanged
        assert not list((home_path / "rejected").iterdir())
        assert not list((home_path / "inbox" / ".processing").glob("*"))
        assert object_files(home_path) == objects_before
        assert home.catalog.find(RecordFilter()) == []
        with Watcher(intake, FAST) as again:
            assert _wait(lambda: not dropped.exists()), "the file was not filed once space returned"
            assert again.wait_idle(10)
        assert again.error is None
        [record] = home.catalog.find(RecordFilter())
        assert original_bytes(home, record.id) == data
        assert home.verify() == []
    finally:
        home.close()


class _FullAfter:
    """A sink that takes `room` bytes, then fails like a full disk (ENOSPC)."""

    def __init__(self, sink: BinaryIO, room: int) -> None:
        self._sink, self._room = sink, room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._sink.write(data[:self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._sink.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._sink, name)


def test_enospc_at_the_object_layer_keeps_the_file_and_leaves_no_partial_object(
        tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs without root too: the object store's writer fails with ENOSPC part-way through a seal."""
    from vault import objectbatch
    real_writer = objectbatch.temp_writer

    @contextlib.contextmanager
    def full_writer(folder: Path, **kwargs: object) -> Iterator[object]:
        with real_writer(folder, **kwargs) as (tmp, sink):  # type: ignore[arg-type]
            yield tmp, _FullAfter(sink, 10_000)

    home_path = _home_with_index(tmp_path / "home")
    doc = tmp_path / "Pogodba.txt"
    data = _big_document(doc, 200_000)
    dropped = home_path / "inbox" / "contracts" / "Pogodba.txt"
    dropped.write_bytes(data)
    monkeypatch.setattr(objectbatch, "temp_writer", full_writer)
    code, out, err = run(home_path, ["import", str(doc), "--class", "contracts"], capsys)
    assert code == 1 and "Traceback" not in out + err
    assert "could not be read or stored (No space left on device)" in out
    home, intake = _intake(home_path)
    try:
        with pytest.raises(IntakeError, match=r"could not read or write \(No space left on device\)"):
            intake.take(dropped, "contracts")
        assert dropped.read_bytes() == data and doc.read_bytes() == data
        assert object_files(home_path) == [] and home.catalog.find(RecordFilter()) == []
        monkeypatch.setattr(objectbatch, "temp_writer", real_writer)
        result = intake.take(dropped, "contracts")
        assert result is not None and result.status == "filed" and not dropped.exists()
        assert original_bytes(home, result.record_id or "") == data and home.verify() == []
    finally:
        home.close()


def test_full_disk_during_reindex_keeps_the_old_index_serving(
        small_disk: Path, tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    home = _home_with_index(small_disk / "home")
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(10):  # many distinct words make a large index
        words = " ".join(os.urandom(4).hex() for _ in range(600))
        (docs / f"Zapisnik-{i}.txt").write_text(f"Zapisnik kvarkadabra {i} {words}")
    code, out, err = run(home, ["import", str(docs), "--class", "contracts"], capsys)
    assert code == 0 and "search index" not in err, err
    code, out, err = run_process(home, ["search", "kvarkadabra", "--json"])
    assert code == 0 and json.loads(out)["total"] == 10, err
    before = sorted(p.name for p in (home / "index").iterdir())
    with disk_filled(small_disk, 64 * 1024):
        code, out, err = run_process(home, ["reindex"])
        assert code == 1 and "Traceback" not in err, err
        sentence = one_clear_sentence(err)
        assert "could not be rebuilt" in sentence and "old index still serves" in sentence, sentence
        assert sorted(p.name for p in (home / "index").iterdir()) == before  # no half generation left
        code, out, err = run_process(home, ["search", "kvarkadabra", "--json"])
        assert code == 0 and json.loads(out)["total"] == 10, err
    code, out, err = run_process(home, ["reindex"])
    assert code == 0 and "Indexed 10 records." in out, err


# ---- a read-only home -----------------------------------------------------------------------------


def test_read_only_home_is_one_clear_error_for_filing_and_for_reading(
        tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Every unlock, view and search is an audit entry in the catalogue, so a home that cannot be
    written cannot be used at all: the design chooses a clear refusal over unaudited reading."""
    home = _home_with_index(tmp_path / "home")
    doc = tmp_path / "Pogodba.txt"
    doc.write_text("Pogodba kvarkadabra o dobavi")
    assert run(home, ["import", str(doc), "--class", "contracts"], capsys)[0] == 0
    before = records_of(home)
    second = tmp_path / "Druga.txt"
    second.write_text("Druga pogodba kvarkadabra")
    if can_bind_mount(tmp_path):
        guard: contextlib.AbstractContextManager[None] = read_only(home)
    elif os.geteuid() != 0:
        guard = _chmod_read_only(home)
    else:
        pytest.skip("running as root without mount rights: chmod cannot make the home read-only")
    with guard:
        for argv in (["import", str(second), "--class", "contracts"], ["search", "kvarkadabra"], ["list"],
                     ["verify"]):
            code, out, err = run(home, argv, capsys)
            assert code == 1 and out == "", (argv, out, err)
            sentence = one_clear_sentence(err)
            assert "cannot be written" in sentence and "make the home writable" in sentence, sentence
    assert second.exists() and records_of(home) == before
    assert run(home, ["import", str(second), "--class", "contracts"], capsys)[0] == 0


@contextlib.contextmanager
def _chmod_read_only(home: Path) -> Iterator[None]:
    paths = [home, *home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(modes[p] & ~0o222)
    try:
        yield
    finally:
        for p in reversed(paths):
            p.chmod(modes[p])


# ---- a damaged index ------------------------------------------------------------------------------


@pytest.mark.parametrize("victim", ["segment", "toc"])
def test_damaged_index_is_detected_and_reindex_restores_every_record(
        tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str], victim: str) -> None:
    home = _home_with_index(tmp_path / "home")
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        (docs / f"Pogodba-{i}.txt").write_text(f"Pogodba {i} kvarkadabra dobava lesa")
    assert run(home, ["import", str(docs), "--class", "contracts"], capsys)[0] == 0
    suffix = ".seg" if victim == "segment" else ".toc"
    [target] = [p for p in (home / "index").rglob(f"*{suffix}") if p.is_file()]
    damaged = bytearray(target.read_bytes())
    for at in range(len(damaged) // 3, len(damaged) // 3 + 16):
        damaged[at] ^= 0xA5
    target.write_bytes(bytes(damaged))
    # A fresh process, as a user would run it (this process caches the open index).
    code, out, err = run_process(home, ["search", "kvarkadabra"])
    assert code == 1 and out == ""
    assert "strongroom reindex" in one_clear_sentence(err)
    late = tmp_path / "Pogodba-late.txt"
    late.write_text("Pogodba pozna kvarkadabra")
    code, out, err = run_process(home, ["import", str(late), "--class", "contracts"])
    assert code == 0 and "filed" in out, err  # filing goes on: the index is derived
    code, out, err = run_process(home, ["reindex"])
    assert code == 0 and "Indexed 7 records." in out, err
    code, out, err = run_process(home, ["search", "kvarkadabra", "--json"])
    assert code == 0, err
    found = {hit["registry_number"] for hit in json.loads(out)["hits"]}
    assert found == {number for number, _sha in records_of(home)} and len(found) == 7


# ---- a damaged object -----------------------------------------------------------------------------


def test_damaged_object_is_named_by_verify_marked_and_every_other_record_reads(
        tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    from records.model import BlobRole
    home_path = _home_with_index(tmp_path / "home")
    docs = tmp_path / "docs"
    docs.mkdir()
    sources = {}
    for i in range(5):
        path = docs / f"Dokument-{i}.txt"
        path.write_bytes(f"Dokument {i} ".encode() + os.urandom(3000))
        sources[hashlib.sha256(path.read_bytes()).hexdigest()] = path.read_bytes()
    assert run(home_path, ["import", str(docs), "--class", "contracts"], capsys)[0] == 0
    with open_home(home_path, PASSPHRASE) as home:
        records = home.catalog.find(RecordFilter())
        victim = records[2]
        ref = victim.blob(BlobRole.ORIGINAL)
        assert ref is not None
        object_path = home.blobs.path_of(ref.object_id)
    damaged = bytearray(object_path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    object_path.write_bytes(bytes(damaged))
    code, out, err = run(home_path, ["verify"], capsys)
    assert code == 3 and "Traceback" not in err
    [problem] = out.splitlines()
    assert victim.registry_number in problem and victim.id in problem and "damaged" in problem
    with open_home(home_path, PASSPHRASE) as home:
        marks = [e.event for e in home.catalog.audit_entries() if e.event.action == "record.damaged"]
        assert [(m.record_id, dict(m.details)["blob"]) for m in marks] == [(victim.id, "original")]
        for record in records:
            if record.id == victim.id:
                with pytest.raises(ObjectDamaged):
                    original_bytes(home, record.id)
            else:
                assert original_bytes(home, record.id) == sources[record.sha256]
    code, out, err = run(home_path, ["get", victim.registry_number, "-o", str(tmp_path / "out.txt")], capsys)
    assert code == 3 and "restore it from a backup" in one_clear_sentence(err)
    assert not (tmp_path / "out.txt").exists()


def test_damaged_catalogue_pages_stop_the_watcher_instead_of_rejecting_every_file(tmp_path: Path) -> None:
    """Damage only the records table's pages: the home still opens (its unlock is recorded), and
    the first filing meets the damage. No file is to blame, so none may be rejected."""
    home_path = _home_with_index(tmp_path / "home")
    home, intake = _intake(home_path)
    first = home_path / "inbox" / "contracts" / "first.txt"
    first.write_text("Prva pogodba")
    assert intake.take(first, "contracts") is not None
    pages = [row[0] for row in home.catalog._query(  # noqa: SLF001 - where the records table lives
        "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'records' AND rootpage > 1")]
    home.close()
    catalog = home_path / "catalog.db"
    data = bytearray(catalog.read_bytes())
    for page in pages:
        data[(page - 1) * 4096 + 2048] ^= 0xFF
    catalog.write_bytes(bytes(data))
    home, intake = _intake(home_path)
    try:
        dropped = [home_path / "inbox" / "contracts" / f"late-{i}.txt" for i in range(3)]
        for i, path in enumerate(dropped):
            path.write_text(f"Pozna pogodba {i}")
        watcher = Watcher(intake, FAST).start()
        try:
            assert _wait(lambda: not watcher.running), "the watcher went on filing into a damaged catalogue"
        finally:
            watcher.stop()
        assert isinstance(watcher.error, IntakeError)
        assert "back in its folder" in str(watcher.error) and "is damaged" in str(watcher.error)
        assert all(path.exists() for path in dropped)
        assert not list((home_path / "rejected").iterdir())
    finally:
        home.close()


# ---- keys.json lost or damaged --------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["deleted", "garbled", "empty"])
def test_lost_or_damaged_keys_file_names_the_file_and_the_recovery_section(
        tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    home = new_home(tmp_path / "home")
    keys = home / "keys.json"
    if damage == "deleted":
        keys.unlink()
    else:
        keys.write_bytes(b'{"magic": "strongroom-keys", "slots": [' if damage == "garbled" else b"")
    code, out, err = run(home, ["list"], capsys)
    assert code in (1, 3) and out == ""
    sentence = one_clear_sentence(err)
    assert "keys.json" in sentence and "docs/backups.md" in sentence and KEYS_SECTION in sentence
    if damage == "deleted":
        assert str(keys) in sentence
    backups = Path(__file__).resolve().parents[2] / "docs" / "backups.md"
    if backups.exists():  # the section the message points to must exist (written by the backup work)
        assert f"## {KEYS_SECTION}" in backups.read_text(encoding="utf-8")


# ---- catalog.db truncated or garbled ------------------------------------------------------------


def _truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garble_later_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 + 1000] ^= 0xFF
    path.write_bytes(bytes(data))


def _garble_first_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:4096] = os.urandom(4096)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [lambda p: os.truncate(p, 0), _truncate_half, _garble_first_page,
                                    _garble_later_pages, lambda p: p.unlink()],
                         ids=["emptied", "truncated", "first-page", "later-pages", "deleted"])
def test_truncated_or_garbled_catalogue_is_one_clear_error(
        tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str], damage: object) -> None:
    home = _home_with_index(tmp_path / "home")
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(25):  # enough rows for several pages
        (docs / f"Zapisnik-{i}.txt").write_text(f"Zapisnik seje {i} " * 40)
    assert run(home, ["import", str(docs), "--class", "contracts"], capsys)[0] == 0
    catalog = home / "catalog.db"
    assert catalog.stat().st_size > 8 * 4096 and not catalog.with_name("catalog.db-wal").exists()
    saved = catalog.read_bytes()
    damage(catalog)  # type: ignore[operator]
    for argv in (["list"], ["verify"], ["search", "Zapisnik"]):
        code, out, err = run(home, argv, capsys)
        assert code in (1, 3) and out == "", (argv, out, err)
        sentence = one_clear_sentence(err)
        assert "catalogue" in sentence and "restore" in sentence and "backup" in sentence, sentence
    catalog.write_bytes(saved)  # what restoring from a backup does
    for suffix in ("-wal", "-shm"):
        catalog.with_name("catalog.db" + suffix).unlink(missing_ok=True)
    assert len(records_of(home)) == 25  # the restored catalogue is whole again


def test_full_disk_ends_strongroom_watch_with_one_sentence_and_the_file_kept(small_disk: Path) -> None:
    home = _home_with_index(small_disk / "home")
    dropped = home / "inbox" / "contracts" / "Pogodba-dobava.txt"
    data = _big_document(dropped)
    with disk_filled(small_disk, 1024 * 1024):
        code, out, err = run_process(home, ["watch"], timeout=60)
    assert code == 1 and "Traceback" not in out + err, err
    sentence = one_clear_sentence(err)
    assert "Filing stopped" in sentence and "back in its folder" in sentence, sentence
    assert dropped.read_bytes() == data and records_of(home) == [] and object_files(home) == []
