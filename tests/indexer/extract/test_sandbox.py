"""The pool itself: limits, killed and hung workers replaced, thread safety, no stray processes."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from make_corpus import simple_pdf

from indexer.errors import ExtractorClosed
from indexer.extract.sandbox import SandboxedExtractor
from records.errors import ExtractionFailed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0); look at its state
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _limits(pid: int) -> dict[str, str]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): row[26:47].strip() for row in rows}


def test_workers_are_reused_and_limit_themselves() -> None:
    with SandboxedExtractor(workers=1, memory_mb=512) as pool:
        pool.extract_bytes(b"one", "a.txt")
        [pid] = pool.pids()
        for _ in range(5):
            pool.extract_bytes(b"again", "a.txt")
        assert pool.pids() == [pid]
        limits = _limits(pid)
        assert limits["Max address space"] == str(512 * 1024 * 1024)
        assert limits["Max file size"] == "0"
        assert limits["Max core file size"] == "0"
        assert limits["Max open files"] == "16"
        assert limits["Max cpu time"] != "unlimited"
        assert os.getpgid(pid) == pid  # its own session and process group
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert sorted(e.split(b"=")[0] for e in environ if e) == [b"LANG", b"LC_ALL", b"PATH"]


def test_warm_starts_the_workers_in_the_background_and_they_are_the_ones_used() -> None:
    with SandboxedExtractor(workers=2, memory_mb=512) as pool:
        pool.warm()
        deadline = time.monotonic() + 30
        while len(pool.pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = sorted(pool.pids())
        assert len(started) == 2
        assert pool.extract_bytes(b"ogrevano", "a.txt").text.strip() == "ogrevano"
        assert sorted(pool.pids()) == started  # no further worker was spawned


def test_a_killed_worker_is_replaced() -> None:
    with SandboxedExtractor(workers=1) as pool:
        pool.extract_bytes(b"warm", "a.txt")
        [pid] = pool.pids()
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
        # The dead worker is discovered on its next job: that file gets a clear failure...
        with pytest.raises(ExtractionFailed, match="stopped unexpectedly"):
            pool.extract_bytes(simple_pdf(["x"]), "a.pdf")
        # ...and a fresh worker takes over.
        assert pool.extract_bytes(b"next", "b.txt").text == "next"
        assert pool.pids() != [pid] and not _alive(pid)


def test_a_hung_worker_is_killed_at_the_timeout_and_replaced() -> None:
    with SandboxedExtractor(workers=1, timeout_s=1.5) as pool:
        pool.extract_bytes(b"warm", "a.txt")
        [pid] = pool.pids()
        os.kill(pid, signal.SIGSTOP)  # stands in for a parser stuck in an endless loop
        started = time.monotonic()
        with pytest.raises(ExtractionFailed, match=r"^the PDF took longer than 1.5 s to read\.$"):
            pool.extract_bytes(simple_pdf(["hang"]), "hang.pdf")
        assert 1.4 < time.monotonic() - started < 4
        assert not _alive(pid)
        assert pool.extract_bytes(b"after", "c.txt").text == "after"


def test_a_worker_that_stops_reading_cannot_block_the_caller() -> None:
    with SandboxedExtractor(workers=1, timeout_s=1.5) as pool:
        pool.extract_bytes(b"warm", "a.txt")
        [pid] = pool.pids()
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(ExtractionFailed, match="took longer than 1.5 s"):
            pool.extract_bytes(b"a" * (8 * 1024 * 1024), "big.txt")  # far more than a pipe buffer
        assert time.monotonic() - started < 4
        assert pool.extract_bytes(b"after", "c.txt").text == "after"


def test_memory_limit_gives_one_sentence_and_a_fresh_worker() -> None:
    with SandboxedExtractor(workers=1, memory_mb=200, max_input_mb=300) as pool:
        pool.extract_bytes(b"warm", "a.txt")
        [pid] = pool.pids()
        with pytest.raises(ExtractionFailed, match=r"^reading the file needed more than 200 MB of memory\.$"):
            pool.extract_bytes(b"a" * (150 * 1024 * 1024), "big.txt")
        assert pool.extract_bytes(b"fine", "d.txt").text == "fine"
        assert pool.pids() != [pid]


def test_concurrent_callers_share_the_pool(tmp_path: Path) -> None:
    pdf = simple_pdf(["Concurrent page"])
    results: list[str] = []
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for round_ in range(4):
                text = f"thread {index} round {round_}"
                results.append(pool.extract_bytes(text.encode(), "t.txt").text)
                results.append(pool.extract_bytes(pdf, "p.pdf").text)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with SandboxedExtractor(workers=2) as pool:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        assert len(pool.pids()) <= 2
    assert len(results) == 48
    assert sorted(r for r in results if r.startswith("thread")) == sorted(
        f"thread {i} round {r}" for i in range(6) for r in range(4))
    assert results.count("Concurrent page") == 24


def test_close_leaves_no_process_and_refuses_new_work() -> None:
    pool = SandboxedExtractor(workers=2)
    barrier = threading.Barrier(2)

    def use() -> None:
        barrier.wait()
        pool.extract_bytes(b"x", "x.txt")

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    pids = pool.pids()
    assert pids and all(_alive(pid) for pid in pids)
    pool.close()
    assert pool.pids() == []
    assert not any(_alive(pid) for pid in pids)
    with pytest.raises(ExtractorClosed):
        pool.extract_bytes(b"x", "x.txt")


def test_a_forgotten_pool_is_cleaned_up_by_its_finalizer() -> None:
    pool = SandboxedExtractor(workers=1)
    pool.extract_bytes(b"x", "x.txt")
    pids = pool.pids()
    del pool
    gc.collect()
    assert not any(_alive(pid) for pid in pids)


def test_worker_holds_only_its_pipes_and_dev_null() -> None:
    with SandboxedExtractor(workers=1) as pool:
        pool.extract_bytes(simple_pdf(["Nothing written"] * 3), "n.pdf")
        [pid] = pool.pids()
        fd_dir = Path(f"/proc/{pid}/fd")
        targets = {os.readlink(fd_dir / fd) for fd in os.listdir(fd_dir)}
    assert all(t.startswith("pipe:") or t == "/dev/null" for t in targets), targets


def test_the_worker_limits_stop_writes_and_big_allocations(tmp_path: Path) -> None:
    """The limits the worker sets on itself, exercised by hostile code in a child that sets the same."""
    probe = tmp_path / "probe.txt"
    script = f"""
import os, sys
from indexer.extract.worker import _limit
_limit(256)
results = []
try:
    with open({str(probe)!r}, "w") as fh:
        fh.write("x" * 10000)
        fh.flush()
    results.append("wrote")
except OSError:
    results.append("write refused")
try:
    block = bytearray(1024 * 1024 * 1024)
    results.append("allocated")
except MemoryError:
    results.append("allocation refused")
print(",".join(results))
"""
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60,
                          cwd="/")
    assert done.stdout.strip() == "write refused,allocation refused", done.stderr
    assert not probe.exists() or probe.stat().st_size == 0


@pytest.mark.parametrize("extraction", ["text", ["text"], None, 7])
def test_a_result_that_is_not_an_object_is_malformed_not_a_crash(
        extraction: object, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stands in for a worker subverted by its input: it answers "ok" with a non-object result.
    with SandboxedExtractor(workers=1) as pool:
        monkeypatch.setattr(pool, "_ask", lambda *args: {"ok": True, "extraction": extraction})
        with pytest.raises(ExtractionFailed, match="returned a malformed result"):
            pool.extract_bytes(b"one", "a.txt")
