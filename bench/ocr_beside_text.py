"""Benchmark: does OCR slow text filing? 100 text files dropped alone vs beside a 10-page scan whose OCR runs.

Real homes (test-only KDF; unlocking is not timed) with the watcher and the capture thread, as
`strongroom watch` / `serve` run them, a fresh one for each half of a round (a growing index would
favour whichever half ran first). Each round drops 100 small text files into inbox/contracts/
twice: once with nothing else running (the baseline), once right after a 10-page image-only scan
has been filed and its OCR has started (tesseract is reading a page in the capture worker). The
scan's OCR is ended (its worker killed) once the text files are filed: each half has a home of its
own, and at the lowest priority a 10-page OCR can take many minutes on a busy machine. The latency of a text file is from the moment all
100 are written to the moment the watcher reports it filed (filed and indexed: searchable). The
k-th text file filed with the scan is compared with the k-th filed without it; the order of the two
halves alternates between rounds,.

Printed per round and as median (spread) over rounds: the ratio of the median latency, of the
p95 latency and of the last file's (all 100 filed), and the worst ratio of any k-th file. The aim
(issue 21): no text file delayed by more than 10 % (ratios <= 1.10).
Run: .venv/bin/python bench/ocr_beside_text.py [--rounds 3] [--files 100]
Needs tesseract with slv, est and eng (bash tools/ensure-tesseract.sh).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records import capture  # noqa: E402
from records.filing import FilingOutcome  # noqa: E402
from records.model import RecordId  # noqa: E402
from tests import scans  # noqa: E402
from vault.kdf import KdfParams  # noqa: E402
from web.capturing import CaptureThread  # noqa: E402
from web.office import Office, create_home  # noqa: E402
from web.settings import Settings  # noqa: E402

PASSPHRASE = "bench passphrase for ocr beside text"
WORDS = ("pogodba dobava leping arve zapisnik sklep nadzorni svet juhatus protokoll "
         "invoice contract minutes board resolution payment terms").split()
LINES = scans.SLOVENE + scans.ESTONIAN


class Filed:
    """The watcher's reports: when each record was filed."""

    def __init__(self) -> None:
        self.times: dict[RecordId, float] = {}
        self.changed = threading.Condition()

    def __call__(self, outcome: FilingOutcome) -> None:
        with self.changed:
            if outcome.record_id is not None:
                self.times[outcome.record_id] = time.perf_counter()
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 600) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.times) >= count, timeout):
                raise SystemExit(f"only {len(self.times)} of {count} files were filed in {timeout:.0f} s")


def scan(seed: int) -> bytes:
    return scans.scanned_pdf(*[[f"{LINES[(seed + p + i) % len(LINES)]} {seed}-{p}-{i}" for i in range(30)]
                               for p in range(10)])


def text(seed: int, i: int) -> bytes:
    words = " ".join(WORDS[(seed * 31 + i * 7 + k) % len(WORDS)] for k in range(80))
    return f"Dopis {seed}-{i}\n{words}\n".encode()


def ocr_state(office: Office, record_id: RecordId) -> capture.JobStatus | None:
    return capture.status(office.home.catalog, record_id)


def wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.05)


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process /proc shows."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            found.append((int(entry.name), int(stat.rsplit(")", 1)[1].split()[1]), cmdline))
    return found


def capture_workers() -> list[int]:
    return [pid for pid, parent, cmd in _processes() if parent == os.getpid() and "capture_worker" in cmd]


def tesseract_running() -> bool:
    workers = set(capture_workers())
    return any(parent in workers and "tesseract" in cmd for _pid, parent, cmd in _processes())


def stop_ocr() -> None:
    """End the scan's OCR (the worker's process group: it and its tesseract) so it cannot run into the
    next half; the half's home is thrown away."""
    for pid in capture_workers():
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def half(office: Office, capturing: CaptureThread, inbox: Path, seed: int, files: int,
         with_scan: bool) -> list[float]:
    """Latencies (s) of `files` text files, sorted, filed alone or beside a scan under OCR."""
    filed = Filed()
    watcher = office.start_watcher(on_result=filed)
    try:
        scan_id: RecordId | None = None
        if with_scan:
            (inbox / f"sken-{seed}.pdf").write_bytes(scan(seed))
            filed.wait_for(1)
            scan_id = next(iter(filed.times))
            wait(tesseract_running, 600, "tesseract starting on the scan")
        before = len(filed.times)
        for i in range(files):
            (inbox / f"dopis-{seed}-{i:03d}.txt").write_bytes(text(seed, i))
        dropped = time.perf_counter()
        filed.wait_for(before + files)
        if scan_id is not None:
            job = ocr_state(office, scan_id)
            if not tesseract_running() or job is None or not job.waiting:
                print("  (the scan's OCR ended before the text files were filed: the overlap is partial)")
            capturing.stop(timeout=0)  # no next attempt at the scan once its worker is gone
            stop_ocr()
        return sorted(t - dropped for rid, t in filed.times.items() if rid != scan_id)
    finally:
        watcher.stop()


def p95(values: list[float]) -> float:
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--stability", type=float, default=0.2, help="the watcher's stability window (s)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-ocr-beside-"))
    ratios: dict[str, list[float]] = {"median": [], "p95": [], "last": [], "worst": []}
    try:
        def fresh(name: str, with_scan: bool, seed: int, files: int) -> list[float]:
            # A new home per half: the index and catalogue grow with every file, and a half that
            # ran second on a bigger index would be slower for that alone.
            settings = Settings(home=root / name, jurisdiction="SI+EE", stability_seconds=args.stability)
            office, _recovery = create_home(settings, PASSPHRASE, kdf=KdfParams.fast_for_tests())
            with office:
                capturing = office.start_capture()
                return half(office, capturing, office.path / "inbox" / "contracts", seed, files, with_scan)

        fresh("warm", False, 999, 10)  # the sandbox workers, imports, page cache
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            got = {with_scan: fresh(f"h{r}-{int(with_scan)}", with_scan, 2 * r + with_scan, args.files)
                   for with_scan in order}
            alone, beside = got[False], got[True]
            row = {"median": statistics.median(beside) / statistics.median(alone),
                   "p95": p95(beside) / p95(alone), "last": beside[-1] / alone[-1],
                   "worst": max(b / a for a, b in zip(alone, beside))}
            for key, value in row.items():
                ratios[key].append(value)
            print(f"round {r + 1}: {args.files} text files; alone median {statistics.median(alone):.2f} s, "
                  f"last {alone[-1]:.2f} s; beside the scan's OCR median {statistics.median(beside):.2f} s, "
                  f"last {beside[-1]:.2f} s; ratios median {row['median']:.2f}x p95 {row['p95']:.2f}x "
                  f"last {row['last']:.2f}x worst k-th {row['worst']:.2f}x", flush=True)
        for key, values in ratios.items():
            print(f"text filing beside OCR / alone, {key} latency: median {statistics.median(values):.2f}x "
                  f"(spread {min(values):.2f}-{max(values):.2f}x, {len(values)} rounds)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
