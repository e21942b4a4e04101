"""SandboxedExtractor: a pool of reused, self-limited worker processes that read untrusted documents."""

from __future__ import annotations

import base64
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from types import TracebackType

from records.errors import ExtractionFailed
from records.ports import Extraction

from ..errors import ExtractorClosed
from .frames import FrameError, decode_extraction, dumps, loads
from .kinds import LABELS, OLE_MAGIC, sniff
from .worker import EXIT_MEMORY

_START_TIMEOUT_S = 60.0


def _size(mb: float) -> str:
    return f"{mb / 1024:g} GB" if mb >= 1024 else f"{mb:g} MB"


@dataclass(slots=True, eq=False)
class _Worker:
    process: subprocess.Popen[bytes]
    buffer: bytearray = field(default_factory=bytearray)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: any child goes too
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        self.process.wait()

    def send(self, payload: bytes, deadline: float) -> None:
        """Writes one frame with a wall-clock deadline (a stuck worker stops reading; we must not block)."""
        assert self.process.stdin is not None
        fd = self.process.stdin.fileno()
        os.set_blocking(fd, False)
        view = memoryview(len(payload).to_bytes(8, "big") + payload)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [fd], [], left)
            if ready:
                try:
                    view = view[os.write(fd, view[: 1 << 20]):]
                except BlockingIOError:
                    continue

    def read_exact(self, size: int, deadline: float) -> bytes:
        """Reads with a wall-clock deadline; TimeoutError when it passes, FrameError when the pipe closes."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while len(self.buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, min(1 << 20, max(size - len(self.buffer), 1 << 16)))
            if not chunk:
                raise FrameError("the worker closed its pipe")
            self.buffer += chunk
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_frame(self, limit: int, deadline: float) -> bytes:
        size = int.from_bytes(self.read_exact(8, deadline), "big")
        if size > limit:
            raise FrameError(f"the worker answered with {size} bytes, over the limit of {limit}")
        return self.read_exact(size, deadline)


def _kill_all(workers: set[_Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


def start_worker(module: str, memory_mb: int, **env: str) -> _Worker:
    """A worker process (`python -I -m MODULE MEMORY_MB`) in its own session, with a bare environment,
    once it has greeted; raises TimeoutError or FrameError (after killing it) when it does not."""
    process = subprocess.Popen(
        [sys.executable, "-I", "-m", module, str(memory_mb)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **env}, cwd="/",
        start_new_session=True, close_fds=True)
    worker = _Worker(process)
    try:
        if loads(worker.read_frame(1024, time.monotonic() + _START_TIMEOUT_S)) != {"ready": True}:
            raise FrameError("unexpected greeting")
    except (TimeoutError, FrameError):
        worker.kill()
        raise
    return worker


class SandboxedExtractor:
    """records.ports.Extractor. Thread-safe; close() or `with` ends every worker."""

    def __init__(self, workers: int = 2, timeout_s: float = 30, memory_mb: int = 1024, max_text_mb: int = 20,
                 max_input_mb: int = 200, trusted: tuple[bytes, ...] = ()) -> None:
        self.size = max(1, workers)
        # The office's trusted certificates (DER; trust.py reads them from the home), sent with each request.
        self.trusted = [base64.b64encode(der).decode("ascii") for der in trusted]
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_chars = max_text_mb * 1024 * 1024
        self.max_input = max_input_mb * 1024 * 1024
        # A result holds the text (UTF-8, up to 4 bytes a character) and base64 attachments of an input
        # no larger than max_input: anything larger is a subverted worker.
        self.max_answer = 4 * self.max_chars + 2 * self.max_input + (1 << 20)
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_all, self._all)

    # ---- pool ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        try:
            return start_worker("indexer.extract.worker", self.memory_mb)
        except (TimeoutError, FrameError):
            raise ExtractorClosed("the text extraction worker could not start; check the installation "
                                  "and restart the program.") from None

    def _acquire(self) -> _Worker:
        with self._lock:
            while True:
                if self._closed:
                    raise ExtractorClosed("the text extractor has been closed; restart the program.")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._starting < self.size:
                    self._starting += 1
                    break
                self._lock.wait()
        try:
            worker = self._spawn()
        finally:
            with self._lock:
                self._starting -= 1
                self._lock.notify()
        with self._lock:
            if self._closed:
                worker.kill()
                raise ExtractorClosed("the text extractor has been closed; restart the program.")
            self._all.add(worker)
        return worker

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            worker.kill()
        with self._lock:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
                if healthy:
                    worker.kill()
            self._lock.notify()

    def warm(self) -> None:
        """Start the workers now, in the background (e.g. while the passphrase is being stretched),
        so that the first documents do not wait for Python to start and import the parsers."""
        together = threading.Barrier(self.size, timeout=_START_TIMEOUT_S)

        def start() -> None:
            try:
                worker = self._acquire()
            except ExtractorClosed:
                together.abort()
                return  # the error reaches whoever extracts next
            try:
                together.wait()  # hold it until all have started: none takes another's idle worker
            except threading.BrokenBarrierError:
                pass
            self._release(worker, True)

        for _ in range(self.size):
            threading.Thread(target=start, name="extract-warm", daemon=True).start()

    def pids(self) -> list[int]:
        """The live worker processes (for tests and the health page)."""
        with self._lock:
            return [w.pid for w in self._all]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._idle.clear()
            workers = set(self._all)
            self._all.clear()
            self._lock.notify_all()
        _kill_all(workers)

    def __enter__(self) -> SandboxedExtractor:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # ---- extraction ------------------------------------------------------------------------

    def extract(self, path: str, name: str) -> Extraction:
        # The parent reads the file and hands the worker bytes: the worker then needs no file system at
        # all (it opens nothing after its limits are set), and it never learns where the vault lives.
        try:
            with open(path, "rb") as stream:
                data = stream.read(self.max_input + 1)
        except OSError:
            raise ExtractionFailed("the file could not be opened for reading; check that it still exists.") \
                from None
        return self.extract_bytes(data, name)

    def extract_bytes(self, data: bytes, name: str) -> Extraction:
        if len(data) > self.max_input:
            raise ExtractionFailed(f"the file is larger than {_size(self.max_input / 2**20)}, the limit for "
                                   "reading its text; split or compress it.")
        # Only the cheap magic-byte look at the first 4 KB happens in this process (zip and OLE
        # directories are parsed in the worker only).
        label = "document" if data.startswith((b"PK", OLE_MAGIC)) else LABELS[sniff(data[:4096])]
        worker = self._acquire()
        healthy = False
        try:
            answer = self._ask(worker, data, name, label)
            healthy = answer.get("fault") is None
        finally:
            self._release(worker, healthy)
        if answer.get("fault") == "memory":
            raise ExtractionFailed(f"reading the file needed more than {_size(self.memory_mb)} of memory.")
        if answer.get("ok") is True:
            try:
                return decode_extraction(answer["extraction"])
            except (FrameError, KeyError, TypeError):
                raise ExtractionFailed("the text extraction worker returned a malformed result.") from None
        reason = answer.get("reason")
        if not isinstance(reason, str) or not reason:
            raise ExtractionFailed("the text extraction worker returned a malformed result.")
        raise ExtractionFailed(reason[:500])

    def _ask(self, worker: _Worker, data: bytes, name: str, label: str) -> dict[str, object]:
        deadline = time.monotonic() + self.timeout_s
        request = dumps({"name": name, "max_input": self.max_input, "max_chars": self.max_chars,
                         "timeout": int(self.timeout_s + 0.999), "trusted": self.trusted})
        try:
            worker.send(request, deadline)
            worker.send(data, deadline)
            answer = loads(worker.read_frame(self.max_answer, deadline))
            if not isinstance(answer, dict):
                raise FrameError("the answer is not an object")
            return answer
        except TimeoutError:
            worker.kill()
            return {"fault": "timeout", "ok": False,
                    "reason": f"the {label} took longer than {self.timeout_s:g} s to read."}
        except (FrameError, BrokenPipeError, OSError, ValueError):
            worker.kill()
            status = worker.process.returncode
            if status == EXIT_MEMORY:
                return {"fault": "memory", "ok": False}
            if status in (-signal.SIGXCPU, -signal.SIGKILL) and time.monotonic() >= deadline - 1:
                reason = f"the {label} took longer than {self.timeout_s:g} s to read."
            elif status == -signal.SIGXCPU:
                reason = f"the {label} used more than {self.timeout_s:g} s of processor time to read."
            elif status in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
                reason = f"the reader crashed on the {label}; it is damaged or hostile."
            else:
                reason = f"the reader stopped unexpectedly on the {label}; it may be damaged or hostile."
            return {"fault": "died", "ok": False, "reason": reason}
