"""Claims and recovery, the unsorted queue, ignore rules and the stability tracker, without a watcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from records.ports import Ports
from records.filing import FilingStatus
from vault.inbox import Intake, PendingNotFound, classify_pending, is_ignored, is_sidecar, list_pending
from vault.inbox import claim as claims
from vault.inbox.stability import Signature, StabilityTracker, WriterCheck
from tests.vault.inbox.conftest import filed_hashes, sha


def test_recovery_deletes_committed_claims_and_returns_the_others(intake: Intake, ports: Ports) -> None:
    folder = intake.folder_path("contracts")
    (folder / "done.txt").write_bytes(b"already committed")
    (folder / "done.txt.json").write_text('{"title": "Done"}')
    (folder / "todo.txt").write_bytes(b"not committed yet")
    (folder / "todo.txt.json").write_text('{"title": "Todo"}')
    done = intake.take(folder / "done.txt", "contracts")
    assert done is not None and done.status == FilingStatus.FILED
    # A crash after the commit but before the unlink: the same bytes claimed again.
    (folder / "again.txt").write_bytes(b"already committed")
    claims.claim(intake.inbox, "contracts", folder / "again.txt")
    # A crash right after the claim: not committed.
    claims.claim(intake.inbox, "contracts", folder / "todo.txt")
    (intake.inbox / ".processing" / "contracts.deadbeef").mkdir()  # a crash before the rename
    assert intake.recover() == (1, 1)
    assert sorted(p.name for p in folder.iterdir()) == ["todo.txt", "todo.txt.json"]
    assert list((intake.inbox / ".processing").iterdir()) == []
    assert filed_hashes(ports) == [sha(b"already committed")]


def test_a_claimed_file_that_changes_is_returned_not_lost(intake: Intake, ports: Ports) -> None:
    path = intake.folder_path("minutes") / "growing.txt"
    path.write_bytes(b"part one")
    seen = Signature.of(path)
    with path.open("ab") as fh:
        fh.write(b" and part two")
    result = intake.take(path, "minutes", seen)
    assert result is not None and result.status == FilingStatus.RETURNED
    assert path.read_bytes() == b"part one and part two" and filed_hashes(ports) == []


def test_duplicate_drop_is_removed_and_not_stored_again(intake: Intake, ports: Ports) -> None:
    for name in ("a.txt", "b.txt"):
        (intake.folder_path("hr") / name).write_bytes(b"same bytes")
    first = intake.take(intake.folder_path("hr") / "a.txt", "hr")
    second = intake.take(intake.folder_path("hr") / "b.txt", "hr")
    assert first is not None and second is not None
    assert (first.status, second.status) == (FilingStatus.FILED, FilingStatus.DUPLICATE)
    assert second.record_id == first.record_id and list(intake.folder_path("hr").iterdir()) == []


def test_unsorted_queue_lists_and_classifies(intake: Intake, ports: Ports) -> None:
    unsorted = intake.folder_path("_unsorted")
    (unsorted / "scan 0042.txt").write_bytes(b"an invoice from a supplier")
    (unsorted / "scan 0042.txt.json").write_text('{"principal": "cfo"}')
    (unsorted / "~$lock.docx").write_bytes(b"lock")
    pending = list_pending(intake.home, settle_seconds=0)
    assert [(p.original_name, p.note) for p in pending] == [("scan 0042.txt", "with metadata sidecar")]
    assert list_pending(intake.home, settle_seconds=3600) == []  # too fresh: maybe still being copied
    result = classify_pending(intake, "scan 0042.txt", "invoices", title="Supplier invoice", actor="tina",
                              channel="web")
    assert result.status == FilingStatus.FILED
    record = ports.catalog.get(result.record_id)  # type: ignore[arg-type]
    assert (record.record_class, record.title, record.principal, record.filed_by) == (
        "01.1", "Supplier invoice", "cfo", "tina")
    assert sorted(p.name for p in unsorted.iterdir()) == ["~$lock.docx"]
    for bad in ("scan 0042.txt", "../catalog.db", "~$lock.docx", ""):
        with pytest.raises(PendingNotFound):
            classify_pending(intake, bad, "invoices")


@pytest.mark.parametrize(("name", "ignored"), [
    ("~$board.docx", True), (".~lock.board.odt#", True), ("a.part", True), ("a.crdownload", True),
    ("a.TMP", True), (".memo.txt.swp", True), (".DS_Store", True), ("Thumbs.db", True), ("desktop.ini", True),
    ("~WRL0003.tmp", True), ("memo.txt~", True), ("#memo.txt#", True), ("._resource", True),
    ("board.docx", False), ("Pogodba št. 7.pdf", False), ("data.json", False), ("temporary.pdf", False),
])
def test_ignore_rules(name: str, ignored: bool) -> None:
    assert is_ignored(name) is ignored


def test_sidecar_names() -> None:
    assert is_sidecar("a.pdf.json") and is_sidecar("Pogodba 7.docx.JSON")
    assert not is_sidecar("data.json") and not is_sidecar(".json")


def test_tracker_waits_for_close_and_window(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"x")
    tracker = StabilityTracker(window=1.0, slow_window=10.0, close_events=True)
    tracker.written(path, now=0.0)
    assert tracker.ready(5.0) == []  # written, never closed: only the slow window ends the wait
    tracker.closed(path, now=5.0)
    assert [p for p, _ in tracker.ready(5.5)] == [path]  # closed and unchanged for the window
    path.write_bytes(b"xy")
    assert tracker.ready(6.0) == []  # changed: the window starts again
    assert [p for p, _ in tracker.ready(7.1)] == [path]
    path.unlink()
    assert tracker.ready(8.0) == [] and len(tracker) == 0


def test_tracker_without_close_events_uses_the_slow_window(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"x")
    tracker = StabilityTracker(window=1.0, slow_window=10.0, close_events=False)
    tracker.seen(path, now=0.0)
    assert tracker.ready(9.0) == []
    assert [p for p, _ in tracker.ready(10.0)] == [path]


def test_writer_check_sees_a_process_holding_the_file_open(tmp_path: Path) -> None:
    path = tmp_path / "open.txt"
    path.write_bytes(b"")
    check = WriterCheck()
    if not check.available:
        pytest.skip("no /proc here")
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; f = open(sys.argv[1], 'ab'); "
                               "print('open', flush=True); time.sleep(30)", str(path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        assert check.open_for_write(path)
    finally:
        holder.kill()
        holder.communicate()
    assert not check.open_for_write(path)
    with path.open("rb"):
        assert not check.open_for_write(path)  # readers do not count
    assert os.path.exists(path)
