"""The capture stage through the Office: a scan is filed at once, then OCRed in the background
(restart-safe, no plaintext scratch file), found by words with diacritics, and its failures shown."""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from records import capture, retrieval
from records.access import AccessScope
from records.model import BlobRole, RecordId
from records.filing import FilingRequest, FilingStatus
from records.ports import SearchRequest
from tests import scans
from tests.conftest import PASSPHRASE
from tests.reliability.crash_support import Child
from tests.scans import ESTONIAN, SLOVENE, needs_tesseract
from vault import KdfParams
from web.office import Office, create_home
from web.settings import Settings

SYSTEM = AccessScope.system("system:test")


def _open(path: Path, fast_kdf: Callable[[], KdfParams]) -> Office:
    settings = Settings.load({"home": path, "jurisdiction": "SI+EE"}, environ={})
    return create_home(settings, PASSPHRASE, kdf=fast_kdf())[0]


@pytest.fixture
def office(tmp_path: Path, fast_kdf: Callable[[], KdfParams]) -> Iterator[Office]:
    opened = _open(tmp_path / "home", fast_kdf)
    try:
        yield opened
    finally:
        opened.close()


def _hits(office: Office, query: str) -> list[str]:
    return [h.record_id for h in office.search(SearchRequest(query), SYSTEM).hits]


def _file(office: Office, data: bytes, name: str) -> RecordId:
    outcome = office.file(data, FilingRequest(original_name=name, record_class="03.1"))
    assert outcome.status is FilingStatus.FILED and outcome.record_id is not None
    return outcome.record_id


def test_languages_follow_the_jurisdiction() -> None:
    assert capture.languages_for("SI+EE") == "slv+est+eng"
    assert capture.languages_for("SI") == "slv+eng"
    assert capture.languages_for("EE") == "est+eng"


def test_a_text_file_is_not_queued(office: Office) -> None:
    record_id = _file(office, "Navaden zapisnik brez skeniranih strani.".encode(), "zapisnik.txt")
    assert capture.status(office.ports.catalog, record_id) is None
    assert office.run_capture() == 0


@needs_tesseract
def test_a_scanned_pdf_is_filed_at_once_then_recognised_and_found_by_words_with_diacritics(office: Office) -> None:
    data = scans.scanned_pdf(SLOVENE, ESTONIAN)
    record_id = _file(office, data, "sken.pdf")
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None and job.state is capture.JobState.QUEUED
    assert _hits(office, "čebelarstvo") == []  # filed at once, without waiting for OCR
    assert office.run_capture() == 1
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None and job.state is capture.JobState.DONE
    assert job.recognised == (1, 2) and job.failed == ()
    for word in ("čebelarstvo", "žužek", "Tööleping", "äärmiselt", "cebelarstvo"):  # folded too
        assert _hits(office, word) == [record_id], word
    record = office.ports.catalog.get(record_id)
    assert {b.role for b in record.blobs} >= {BlobRole.ORIGINAL, BlobRole.TEXT, BlobRole.OCR_TEXT,
                                               BlobRole.PREVIEW, BlobRole.THUMBNAIL}
    _record, original = retrieval.read_original(office.ports, SYSTEM, record_id, now=office.now())
    assert hashlib.sha256(b"".join(original)).hexdigest() == hashlib.sha256(data).hexdigest() == record.sha256
    entries = [e for e in office.ports.catalog.record_history(record_id, 50) if e.event.action == "record.capture"]
    assert [dict(e.event.details)["recognised"] for e in entries] == ["2"]


@needs_tesseract
def test_a_png_scan_is_recognised_once_images_have_their_media_type(office: Office) -> None:
    record_id = _file(office, scans.png(SLOVENE), "sken.png")
    if not office.ports.catalog.get(record_id).media_type.startswith("image/"):
        pytest.skip("images are filed as octet-stream until type detection by content (kinds.py) lands")
    office.run_capture()
    assert _hits(office, "žužek") == [record_id]


def _changed(path: str, since: float) -> bool:
    try:
        return os.stat(path).st_mtime >= since - 1
    except OSError:
        return False


def _new_files_holding(roots: list[Path], word: bytes, since: float) -> list[str]:
    """Files written since `since` that hold `word`; a folder not changed since then holds no new file
    (creating one changes its folder), so only changed folders are walked."""
    found = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if _changed(os.path.join(folder, d), since)]
            for name in files:
                path = Path(folder) / name
                try:
                    if path.stat().st_mtime >= since - 1 and word in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    continue
    return found


@needs_tesseract
def test_no_ocr_or_preview_plaintext_reaches_the_disk(office: Office, tmp_path: Path,
                                                       canary_scan: Callable[..., list[str]]) -> None:
    """Polls the home, $TMPDIR, /tmp and /dev/shm for the recognised canary the whole time OCR runs."""
    canary = "Kanarček" + "".join(random.choice("bdfgklmnprtv") for _ in range(5))
    record_id = _file(office, scans.scanned_pdf([canary, *SLOVENE], [canary, *ESTONIAN]), "kanarcek.pdf")
    roots = [office.path, Path(tempfile.gettempdir()), Path("/tmp"), Path("/dev/shm"), tmp_path]
    roots = [r for r in dict.fromkeys(roots) if r.exists()]
    started, seen, polls = time.time(), [], 0
    worker = threading.Thread(target=office.run_capture)
    worker.start()
    while worker.is_alive():
        seen += _new_files_holding(roots, canary.encode(), started)
        polls += 1
    worker.join()
    assert polls > 1 and seen == []
    assert _hits(office, canary) == [record_id]  # the canary was recognised: it would have been seen
    assert canary_scan([office.path, tmp_path], [canary]) == []


@needs_tesseract
def test_capture_sigkilled_mid_document_resumes_and_indexes_each_page_once(
        tmp_path: Path, fast_kdf: Callable[[], KdfParams]) -> None:
    home = tmp_path / "home"
    pages = [[f"Stran {word} pogodbe"] + SLOVENE for word in ("prvakrapa", "drugabreza", "tretjacesta")]
    with _open(home, fast_kdf) as office:
        record_id = _file(office, scans.scanned_pdf(*pages), "dolg-sken.pdf")
    child = Child.start(home, ["ocr", "run"])
    child.wait_until(lambda: any("page 1 of 3" in line for line in child.err), timeout=120)
    assert child.kill(), "the OCR run ended before it could be killed"
    with Office.open(Settings.load({"home": home}, environ={}), passphrase=PASSPHRASE) as office:
        job = capture.status(office.ports.catalog, record_id)
        assert job is not None and job.state is capture.JobState.RUNNING and job.attempts == 1
        assert office.run_capture() == 1
        job = capture.status(office.ports.catalog, record_id)
        assert job is not None and job.state is capture.JobState.DONE and job.attempts == 2
        text = retrieval.text_of(office.ports, record_id)
        for word in ("prvakrapa", "drugabreza", "tretjacesta"):
            assert text.count(word) == 1, word
            assert _hits(office, word) == [record_id], word
        assert capture.queue(office.ports.catalog).waiting == 0


def test_a_document_that_keeps_killing_the_stage_fails_with_a_reason(office: Office) -> None:
    record_id = _file(office, scans.scanned_pdf(["x"]), "sken.pdf")
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None
    with office.ports.catalog.transaction() as tx:  # as after MAX_ATTEMPTS deaths mid-document
        tx.put_setting("capture.job." + record_id, capture.JobStatus(
            state=capture.JobState.RUNNING, seq=job.seq, attempts=capture.MAX_ATTEMPTS).to_json())
    assert office.run_capture() == 1
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None and job.state is capture.JobState.FAILED and "stopped 3 times" in job.problem
    assert capture.queue(office.ports.catalog).waiting == 0


@needs_tesseract
@pytest.mark.timeout(900)  # OCR runs at the lowest priority: on a machine busy with other work it crawls
def test_the_background_thread_stops_after_the_page_in_hand_and_the_document_waits_again(office: Office) -> None:
    record_id = _file(office, scans.scanned_pdf(SLOVENE, ESTONIAN, SLOVENE), "sken.pdf")  # done, in hand, waiting
    thread = office.start_capture()

    def started() -> bool:
        job = capture.status(office.ports.catalog, record_id)
        return job is not None and job.state is capture.JobState.RUNNING and job.done >= 1

    deadline = time.monotonic() + 400
    while not started() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started()
    thread.stop(timeout=300)
    assert not thread.running and thread.error is None
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None and job.state is capture.JobState.QUEUED and job.attempts == 0
    assert office.run_capture() == 1
    assert _hits(office, "Tööleping") == [record_id]


def test_a_scan_whose_pages_cannot_be_drawn_is_failed_with_its_reason(office: Office) -> None:
    record_id = _file(office, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "pokvarjen.png")
    if capture.status(office.ports.catalog, record_id) is None:
        pytest.skip("images are filed as octet-stream until type detection by content (kinds.py) lands")
    assert office.run_capture() == 1
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None and job.state is capture.JobState.FAILED and "could not be opened" in job.problem
    entries = [e for e in office.ports.catalog.record_history(record_id, 50) if e.event.action == "record.capture"]
    assert [e.event.outcome for e in entries] == ["failed"]


# ---- OCR does not slow text filing (issue 21 item 5) ---------------------------------------------


def test_the_capture_worker_runs_at_the_lowest_priority() -> None:
    """tesseract inherits the worker's niceness: OCR takes the cores only when filing does not want them."""
    from indexer.extract.capture import SandboxedCapturer
    worker = SandboxedCapturer()._spawn()  # greets once it has limited itself
    try:
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == 19
        autogroup = Path(f"/proc/{worker.process.pid}/autogroup")
        if autogroup.exists():  # its own session's share of the processor, behind filing's
            assert autogroup.read_text().split()[-1] == "19", autogroup.read_text()
    finally:
        worker.kill()


def _until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.05)


@needs_tesseract
def test_a_text_file_dropped_after_a_scan_is_searchable_before_the_scans_ocr_finishes(
        tmp_path: Path, fast_kdf: Callable[[], KdfParams]) -> None:
    settings = Settings.load({"home": tmp_path / "home", "jurisdiction": "SI+EE", "stability_seconds": 0.2},
                             environ={})
    office = create_home(settings, PASSPHRASE, kdf=fast_kdf())[0]
    filed: list[RecordId] = []
    try:
        watcher = office.start_watcher(on_result=lambda o: filed.append(o.record_id) if o.record_id else None)
        office.start_capture()
        inbox = office.path / "inbox" / "contracts"
        (inbox / "sken.pdf").write_bytes(scans.scanned_pdf(*[[f"{line} {n}" for line in SLOVENE + ESTONIAN]
                                                             for n in range(6)]))
        _until(lambda: filed, 60, "the scan being filed")
        scan_id = filed[0]

        def ocr() -> capture.JobStatus:
            job = capture.status(office.ports.catalog, scan_id)
            assert job is not None
            return job

        _until(lambda: ocr().state is capture.JobState.RUNNING, 60, "the scan's OCR starting")
        (inbox / "dopis.txt").write_text("Dopis o kvrzolentni dobavi", encoding="utf-8")
        _until(lambda: _hits(office, "kvrzolentni"), 60, "the text file being searchable")
        assert ocr().waiting, "the scan's OCR finished first: the text file waited for it"
        assert ocr().done < 6
        watcher.stop()
    finally:
        office.close()
