"""SandboxedPackMaker: a meeting pack read, joined and stamped in a limited child process (pack_worker.py); a
material that the worker refuses, or that kills or stalls it, is left out with its reason and the pack
is made again without it."""

from __future__ import annotations

import math
import resource
import signal
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from records.errors import PackFailed
from records.packs import LeftOut

from .frames import FrameError, dumps, loads
from .pack_pages import Bookmark, Stamp
from .sandbox import _kill_all, _Worker, start_worker
from .worker import EXIT_MEMORY

MAX_PAGES = 1_000_000  # a page count past this is a subverted worker
_CODES = frozenset({LeftOut.UNREADABLE, LeftOut.LIMITS})  # the reasons a worker may give for a material


@dataclass(frozen=True, slots=True)
class PackPart:
    kind: str  # "pdf", or "text" (set on A4 pages by the worker)
    data: bytes
    heading: str = ""  # a text material's first line (registry number and title)


@dataclass(frozen=True, slots=True)
class Front:
    """The shell's own cover and agenda, with the bookmarks of the whole pack and its title."""

    pdf: bytes
    bookmarks: tuple[Bookmark, ...]
    title: str


# Given the page count of every part going in and the reason of every part left out (by index in the
# parts), the shell draws its cover and agenda: the page numbers and the list of what is missing.
Compose = Callable[[Mapping[int, int], Mapping[int, str]], Front]


@dataclass(frozen=True, slots=True)
class Joined:
    data: bytes
    pages: int
    left_out: Mapping[int, str]  # part index -> records.packs.LeftOut code


class _Blame(Exception):
    def __init__(self, part: int, reason: str) -> None:
        super().__init__(reason)
        self.part = part
        self.reason = reason


class SandboxedPackMaker:
    """One worker process per pack (at most `jobs` at once), with the extraction worker's limits: its
    memory (plus room for holding the pack's materials), a processor budget and a wall-clock allowance
    per material, no file written, no core dump, no process started.

    After a pack, a spare worker is started in the background for the next one (Python and the PDF
    libraries take a second or more to start); it waits with a generous memory limit, which is lowered
    to the pack's own (prlimit) before it sees a material, and it is never used twice."""

    def __init__(self, *, timeout_s: float = 60, memory_mb: int = 512, max_input_mb: int = 200,
                 jobs: int = 2) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.spare_memory_mb = memory_mb + 3 * max_input_mb
        self._slots = threading.BoundedSemaphore(max(1, jobs))
        self._lock = threading.Lock()
        self._spare: set[_Worker] = set()  # at most one
        self._starter: threading.Thread | None = None
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_all, self._spare)

    def pids(self) -> list[int]:
        """The spare worker's process, when one waits (for tests and the health page)."""
        with self._lock:
            return [w.pid for w in self._spare]

    def close(self) -> None:
        """End the spare worker (a pack being made ends its own)."""
        with self._lock:
            self._closed = True
            starter = self._starter
        if starter is not None:
            starter.join()
        with self._lock:
            _kill_all(self._spare)

    def __enter__(self) -> SandboxedPackMaker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def make(self, parts: Sequence[PackPart], stamp: Stamp, font: Path, compose: Compose) -> Joined:
        left_out: dict[int, str] = {}
        try:
            with self._slots:
                for _attempt in range(len(parts) + 1):
                    try:
                        return self._attempt(parts, stamp, font, compose, left_out)
                    except _Blame as blame:
                        left_out[blame.part] = blame.reason  # and again, without it
        finally:
            self._refill()
        raise PackFailed("The meeting pack could not be made: its materials stopped the pack maker each time; "
                         "open them from their records.")

    def _refill(self) -> None:
        with self._lock:
            if self._closed or self._spare or (self._starter is not None and self._starter.is_alive()):
                return
            self._starter = threading.Thread(target=self._start_spare, name="pack-spare", daemon=True)
            self._starter.start()

    def _start_spare(self) -> None:
        try:
            worker = start_worker("indexer.extract.pack_worker", self.spare_memory_mb)
        except (TimeoutError, FrameError, OSError):
            return  # the next pack starts its own
        with self._lock:
            if self._closed or self._spare:
                worker.kill()
            else:
                self._spare.add(worker)

    def _worker(self, memory_mb: int) -> _Worker:
        """The spare worker, its memory limit lowered to this pack's, or a new one."""
        with self._lock:
            spare = self._spare.pop() if self._spare else None
        if spare is not None:
            if memory_mb <= self.spare_memory_mb and spare.process.poll() is None:
                limit = memory_mb * 2**20
                try:
                    resource.prlimit(spare.pid, resource.RLIMIT_AS, (limit, limit))
                    return spare
                except OSError:
                    pass
            spare.kill()
        try:
            return start_worker("indexer.extract.pack_worker", memory_mb)
        except (TimeoutError, FrameError):
            raise PackFailed("The meeting pack maker could not start; check the installation and try again.") \
                from None

    def _memory(self, parts: Sequence[PackPart]) -> int:
        # Each material is held twice (its bytes and its pages) and the pack once more.
        return self.memory_mb + 3 * math.ceil(sum(len(p.data) for p in parts) / 2**20)

    def _attempt(self, parts: Sequence[PackPart], stamp: Stamp, font: Path, compose: Compose,
                 left_out: dict[int, str]) -> Joined:
        included = [i for i in range(len(parts)) if i not in left_out]
        memory = self._memory(parts)
        worker = self._worker(memory)
        try:
            worker.send(dumps({"font": str(font), "watermark": stamp.watermark, "page_label": stamp.page_label,
                               "parts": len(included), "timeout": math.ceil(self.timeout_s) + 2,
                               "max_input": max((len(parts[i].data) for i in included), default=0)}),
                        self._deadline())
            pages: dict[int, int] = {}
            for local, index in enumerate(included):
                answer = self._inspect(worker, parts[index], index)
                if answer.get("ok") is True:
                    pages[local] = _count(answer.get("pages"))
                else:
                    left_out[index] = _code(answer.get("reason"))
            front = compose({included[local]: count for local, count in pages.items()}, dict(left_out))
            worker.send(dumps({"bookmarks": [[b.title, b.page, b.parent] for b in front.bookmarks],
                               "title": front.title}), self._deadline())
            worker.send(front.pdf, self._deadline())
            data, total = self._join(worker, included, memory)
            return Joined(data=data, pages=total, left_out=dict(left_out))
        finally:
            worker.kill()

    def _inspect(self, worker: _Worker, part: PackPart, index: int) -> dict[str, object]:
        try:
            worker.send(dumps({"kind": part.kind, "heading": part.heading}), self._deadline())
            worker.send(part.data, self._deadline())
            return _object(worker.read_frame(1 << 16, self._deadline()))
        except TimeoutError:
            raise _Blame(index, LeftOut.TIMEOUT) from None
        except (FrameError, OSError, ValueError):
            worker.kill()
            raise _Blame(index, _death(worker.process.returncode)) from None

    def _join(self, worker: _Worker, included: list[int], memory_mb: int) -> tuple[bytes, int]:
        """Reads the worker's progress (the material it is on, by its place among those sent) to the pack."""
        current = -1
        try:
            while True:
                message = _object(worker.read_frame(1 << 16, self._deadline()))
                if "at" in message:
                    current = _part(message["at"], included)
                elif message.get("done") is True:
                    return worker.read_frame(memory_mb * 2**20, self._deadline()), _count(message.get("pages"))
                elif "failed" in message:
                    raise _Blame(included[_part(message["failed"], included, first=0)], _code(message.get("reason")))
                else:
                    raise PackFailed(f"The meeting pack could not be made: {str(message.get('error'))[:200]}; "
                                     "open the materials from their records.")
        except TimeoutError:
            if current < 0:
                raise PackFailed(f"Joining the meeting pack took longer than {self.timeout_s:g} s; try again, "
                                 "or make it with fewer materials.") from None
            raise _Blame(included[current], LeftOut.TIMEOUT) from None
        except (FrameError, OSError, ValueError):
            worker.kill()
            if current < 0:
                raise PackFailed("The meeting pack maker stopped while joining the pack; try again, or make it "
                                 "with fewer materials.") from None
            raise _Blame(included[current], _death(worker.process.returncode)) from None

    def _deadline(self) -> float:
        return time.monotonic() + self.timeout_s


def _object(frame: bytes) -> dict[str, object]:
    value = loads(frame)
    if not isinstance(value, dict):
        raise FrameError("the answer is not an object")
    return value


def _count(value: object) -> int:
    if not isinstance(value, int) or not 0 < value <= MAX_PAGES:
        raise FrameError("a page count out of range")
    return value


def _part(value: object, included: list[int], first: int = -1) -> int:
    if not isinstance(value, int) or not first <= value < len(included):
        raise FrameError("no such part")
    return value


def _code(value: object) -> str:
    return value if isinstance(value, str) and value in _CODES else LeftOut.UNREADABLE


def _death(status: int | None) -> str:
    if status == EXIT_MEMORY:
        return LeftOut.MEMORY
    if status == -signal.SIGXCPU:
        return LeftOut.TIMEOUT
    return LeftOut.CRASHED
