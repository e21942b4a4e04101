"""The watcher on a real home: drops before/after start, slow writers, ignored files, rejections,
e-mail attachments, sidecars, the single-instance lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from records.ports import Ports, RecordFilter
from vault.inbox import Intake, Watcher, WatcherBusy
from tests.vault.inbox.conftest import filed_hashes, sha, wait_for

Start = Callable[..., Watcher]


def test_files_dropped_before_and_after_start_are_filed_once(intake: Intake, ports: Ports, start: Start) -> None:
    contracts = intake.folder_path("contracts")
    (contracts / "before.txt").write_bytes(b"lease agreement before start")
    nested = contracts / "2026"
    nested.mkdir()
    (nested / "nested.txt").write_bytes(b"a contract in a subfolder")
    watcher = start()
    (intake.folder_path("minutes") / "after.txt").write_bytes(b"minutes of the board, after start")
    wait_for(lambda: len(filed_hashes(ports)) == 3, what="three records")
    assert watcher.wait_idle(5)
    assert filed_hashes(ports) == sorted(sha(b) for b in (
        b"lease agreement before start", b"a contract in a subfolder", b"minutes of the board, after start"))
    by_class = {r.original_name: r.record_class for r in ports.catalog.find(RecordFilter())}
    assert by_class == {"before.txt": "03.1", "nested.txt": "03.1", "after.txt": "00.2"}
    assert not [p for p in intake.inbox.rglob("*") if p.is_file() and p.name != ".watch.lock"]


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_slow_writer_pausing_with_the_file_open_is_filed_whole(intake: Intake, ports: Ports, start: Start,
                                                               polling: bool) -> None:
    # The pause (3 s) is longer than both windows (0.3 s / 1 s): only close-write and the
    # open-for-write guard keep the watcher from taking the first half.
    target = intake.folder_path("contracts") / "slow.txt"
    first, second = b"first half of a slow copy\n" * 1000, b"second half\n" * 1000
    watcher = start(polling=polling)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "f = open(sys.argv[1], 'wb')\n"
        f"f.write({first!r}); f.flush()\n"
        "time.sleep(3)\n"
        f"f.write({second!r}); f.close()\n"), str(target)])
    assert writer.wait(20) == 0
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the slow file")
    assert watcher.wait_idle(5)
    assert filed_hashes(ports) == [sha(first + second)]
    assert watcher.mode == ("polling" if polling else "inotify")


def test_editor_and_temp_files_are_left_alone(intake: Intake, ports: Ports, start: Start) -> None:
    folder = intake.folder_path("board")
    ignored = ["~$board.docx", ".~lock.board.odt#", "report.pdf.part", "setup.crdownload", "x.tmp",
               ".memo.txt.swp", ".#memo.txt", "._board.pdf", ".DS_Store", "Thumbs.db", "desktop.ini",
               "orphan.pdf.json"]  # other dot-names are reported: test_hostile_entries.py
    for name in ignored:
        (folder / name).write_bytes(b"not a document")
    (folder / "real.txt").write_bytes(b"the real minutes")
    start()
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the real file")
    time.sleep(0.5)  # a few more ticks: nothing else may be taken
    assert filed_hashes(ports) == [sha(b"the real minutes")]
    assert sorted(p.name for p in folder.iterdir()) == sorted(ignored)


def test_broken_pdf_goes_to_rejected_with_one_sentence(intake: Intake, ports: Ports, start: Start) -> None:
    (intake.folder_path("contracts") / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    (intake.folder_path("contracts") / "good.txt").write_bytes(b"a readable contract")
    watcher = start()
    rejected = intake.rejected
    wait_for(lambda: (rejected / "broken.pdf.reason.txt").exists() and (rejected / "broken.pdf").exists()
             and len(filed_hashes(ports)) == 1, what="one rejection (reason, then the file) and one record")
    reason = (rejected / "broken.pdf.reason.txt").read_text()
    assert reason.count("\n") == 1 and reason.strip().endswith(".") and "PDF" in reason
    assert (rejected / "broken.pdf").read_bytes().startswith(b"%PDF-1.7")
    assert watcher.running  # one bad file does not stop the watcher
    (intake.folder_path("contracts") / "broken.pdf").write_bytes(b"%PDF-1.7 broken again, other bytes")
    wait_for(lambda: (rejected / "broken (2).pdf.reason.txt").exists(), what="a second rejection, new name")


def test_email_with_attachment_becomes_two_linked_records(intake: Intake, ports: Ports, start: Start) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ana@example.si", "tajnistvo@example.si", "Ponudba za najem"
    msg.set_content("V prilogi je ponudba.")
    msg.add_attachment(b"Ponudba: najem pisarne, 1200 EUR", maintype="text", subtype="plain",
                       filename="ponudba.txt")
    (intake.folder_path("correspondence") / "ponudba.eml").write_bytes(msg.as_bytes())
    start()
    wait_for(lambda: len(ports.catalog.find(RecordFilter())) == 2, what="message and attachment")
    records = {r.original_name: r for r in ports.catalog.find(RecordFilter())}
    assert records["ponudba.txt"].parent_id == records["ponudba.eml"].id
    assert records["ponudba.eml"].record_class == records["ponudba.txt"].record_class == "04.1"


def test_sidecar_sets_metadata_and_class_fields(intake: Intake, ports: Ports, start: Start) -> None:
    folder = intake.folder_path("contracts")
    (folder / "lease.txt.json").write_text(json.dumps({
        "title": "Najemna pogodba Ljubljana", "principal": "ceo", "confidentiality": "secret",
        "document_date": "2025-11-03", "tags": ["najem"], "parties": ["Nepremičnine d.o.o."],
        "details": {"expiry": "2027-11-30", "notice_days": 90, "value": "14400.00"}}))
    (folder / "lease.txt").write_bytes(b"lease text")
    start()
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the lease")
    record = ports.catalog.find(RecordFilter())[0]
    assert (record.title, record.principal, str(record.confidentiality)) == ("Najemna pogodba Ljubljana", "ceo",
                                                                             "secret")
    assert str(record.document_date) == "2025-11-03" and record.tags == ("najem",)
    assert record.details is not None and str(record.details.expiry) == "2027-11-30"  # type: ignore[union-attr]
    assert record.details.notice_days == 90  # type: ignore[union-attr]
    assert not (folder / "lease.txt.json").exists()


def test_bad_sidecar_rejects_the_file_with_the_reason(intake: Intake, ports: Ports, start: Start) -> None:
    folder = intake.folder_path("invoices")
    (folder / "inv.txt.json").write_text('{"document_date": "3. 11. 2025"}')
    (folder / "inv.txt").write_bytes(b"invoice 17")
    start()
    # The reason is written first (crash safety), then the file and its sidecar move: wait for all three.
    wait_for(lambda: all((intake.rejected / n).exists() for n in ("inv.txt.reason.txt", "inv.txt", "inv.txt.json")),
             what="the whole rejection")
    assert "document_date" in (intake.rejected / "inv.txt.reason.txt").read_text()
    assert filed_hashes(ports) == []


def test_a_folder_that_names_no_class_is_rejected(intake: Intake, ports: Ports, start: Start) -> None:
    (intake.inbox / "misc").mkdir()
    (intake.inbox / "misc" / "note.txt").write_bytes(b"where does this go")
    start()
    wait_for(lambda: (intake.rejected / "note.txt.reason.txt").exists(), what="the rejection")
    assert "misc" in (intake.rejected / "note.txt.reason.txt").read_text()


def test_unsorted_files_wait_and_a_second_watcher_is_refused(intake: Intake, ports: Ports, start: Start) -> None:
    (intake.folder_path("_unsorted") / "mystery.txt").write_bytes(b"who knows")
    watcher = start()
    with pytest.raises(WatcherBusy):
        Watcher(intake).start()
    (intake.folder_path("hr") / "x.txt").write_bytes(b"hr file")
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the hr file")
    assert watcher.wait_idle(5)
    assert (intake.folder_path("_unsorted") / "mystery.txt").exists()


def test_file_moved_in_by_rename_is_filed(intake: Intake, ports: Ports, start: Start, tmp_path: Path) -> None:
    start()
    staging = intake.folder_path("contracts") / ".~tmp123"
    staging.write_bytes(b"editor-style save")
    staging.rename(intake.folder_path("contracts") / "memo.txt")
    outside = tmp_path / "moved.txt"
    outside.write_bytes(b"moved in from outside")
    outside.rename(intake.folder_path("contracts") / "moved.txt")
    wait_for(lambda: len(filed_hashes(ports)) == 2, what="both renamed files")
    assert filed_hashes(ports) == sorted([sha(b"editor-style save"), sha(b"moved in from outside")])


def test_no_plaintext_outside_inbox_and_rejected(intake: Intake, ports: Ports, start: Start,
                                                 canary_scan: Callable[..., list[str]]) -> None:
    canaries = ["Kvarkadabra", "Zlatorogovski", "Bukovniško"]
    folder = intake.folder_path("contracts")
    (folder / "Kvarkadabra.txt.json").write_text(json.dumps({"title": "Zlatorogovski najem"}))
    (folder / "Kvarkadabra.txt").write_text("Pogodba Bukovniško")
    (folder / "Zlatorogovski.pdf").write_bytes("%PDF-1.7 Bukovniško broken".encode())
    watcher = start()
    wait_for(lambda: len(filed_hashes(ports)) == 1 and (intake.rejected / "Zlatorogovski.pdf").exists(),
             what="one record and one rejection")
    assert watcher.wait_idle(5)
    roots = [p for p in intake.home.iterdir() if p.name not in ("inbox", "rejected")]
    assert canary_scan(roots, canaries) == []


def test_inotify_out_of_watches_falls_back_to_polling(intake: Intake, ports: Ports, start: Start,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment, not our code, is faked: a machine whose inotify watch limit is used up.
    import errno

    from vault.inbox import watcher as watcher_module

    class Exhausted(watcher_module.Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watcher_module, "Observer", Exhausted)
    watcher = start()
    assert watcher.mode == "polling"
    (intake.folder_path("contracts") / "x.txt").write_bytes(b"filed by the polling fallback")
    wait_for(lambda: filed_hashes(ports) == [sha(b"filed by the polling fallback")], what="the polled file")


def test_a_dead_observer_is_restarted_and_the_inbox_rescanned(intake: Intake, ports: Ports, start: Start) -> None:
    watcher = start()
    old = watcher._observer
    assert old is not None
    old.stop()  # the observer dies (as after an inotify queue overflow or error)
    old.join(5)
    (intake.folder_path("minutes") / "after-death.txt").write_bytes(b"dropped while the observer was dead")
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the file found by the rescan")
    assert watcher._observer is not None and watcher._observer is not old and watcher._observer.is_alive()
