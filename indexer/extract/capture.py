"""SandboxedCapturer: page previews and OCR of one document at a time in a limited child process."""

from __future__ import annotations

import signal
import threading
import time

from records.errors import CaptureFailed
from records.ports import Capture, CaptureProgress, PageCapture

from .frames import FrameError, dumps, loads
from .sandbox import _Worker, start_worker
from .worker import EXIT_MEMORY

MAX_PREVIEW_BYTES = 8 * 1024 * 1024  # one page's JPEG; more is a subverted worker
MAX_PAGE_TEXT = 4 * 1024 * 1024


class SandboxedCapturer:
    """records.ports.Capturer. One document at a time (`jobs` = 1 by default): OCR is the heaviest
    thing the office PC does, and two tesseract runs on two cores slow filing and search."""

    # A page's wall-clock allowance only guards against a hang: the processor budget (page_cpu_s) bounds
    # the work, and at the lowest priority (capture_worker.NICENESS) a page may wait long for a busy processor.
    def __init__(self, *, page_cpu_s: int = 60, page_timeout_s: float = 600, memory_mb: int = 1536,
                 max_pages: int = 500, max_input_mb: int = 200, jobs: int = 1) -> None:
        self.page_cpu_s = page_cpu_s
        self.page_timeout_s = page_timeout_s
        self.memory_mb = memory_mb
        self.max_pages = max_pages
        self.max_input = max_input_mb * 1024 * 1024
        self._slots = threading.BoundedSemaphore(max(1, jobs))

    def capture(self, data: bytes, media_type: str, *, languages: str,
                progress: CaptureProgress | None = None) -> Capture:
        if len(data) > self.max_input:
            raise CaptureFailed("the document is larger than the capture limit; it is filed without previews.")
        with self._slots:
            worker = self._spawn()
            try:
                return self._run(worker, data, media_type, languages, progress)
            finally:
                worker.kill()

    def _spawn(self) -> _Worker:
        try:
            return start_worker("indexer.extract.capture_worker", self.memory_mb, OMP_THREAD_LIMIT="1")
        except (TimeoutError, FrameError):
            raise CaptureFailed("the capture worker could not start; check the installation (pypdfium2, "
                                "Pillow) and restart the program.") from None

    def _run(self, worker: _Worker, data: bytes, media_type: str, languages: str,
             progress: CaptureProgress | None) -> Capture:
        # Each page has its own wall-clock allowance (tesseract's own limit, plus drawing the page).
        allowance = self.page_timeout_s + 30
        request = {"media_type": media_type, "languages": languages, "page_cpu_s": self.page_cpu_s,
                   "page_timeout_s": self.page_timeout_s, "max_pages": self.max_pages, "max_input": len(data)}
        pages: list[PageCapture] = []
        try:
            worker.send(dumps(request), time.monotonic() + allowance)
            worker.send(data, time.monotonic() + allowance)
            while True:
                head = loads(worker.read_frame(MAX_PAGE_TEXT, time.monotonic() + allowance))
                if not isinstance(head, dict):
                    raise FrameError("the answer is not an object")
                if head.get("done") is True:
                    thumbnail = worker.read_frame(MAX_PREVIEW_BYTES, time.monotonic() + allowance)
                    return Capture(pages=tuple(pages), thumbnail=thumbnail, problem=_text(head.get("problem", "")))
                preview = worker.read_frame(MAX_PREVIEW_BYTES, time.monotonic() + allowance)
                pages.append(_page(head, preview, len(pages) + 1))
                if progress is not None:
                    progress(len(pages), int(head["pages"]))
        except TimeoutError:
            raise CaptureFailed(f"page {len(pages) + 1} took longer than {allowance:g} s to capture.") from None
        except (FrameError, OSError, ValueError, KeyError, TypeError):
            worker.kill()
            raise CaptureFailed(_death(worker.process.returncode, len(pages) + 1)) from None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise FrameError("a text field is not a string")
    return value


def _page(head: dict[str, object], preview: bytes, expected: int) -> PageCapture:
    number = head.get("page")
    if number != expected or not isinstance(head.get("recognised"), bool):
        raise FrameError("pages out of order")
    return PageCapture(number=expected, text=_text(head.get("text")), recognised=bool(head["recognised"]),
                       problem=_text(head.get("problem", "")), preview=preview)


def _death(status: int | None, page: int) -> str:
    if status == EXIT_MEMORY:
        return f"capturing page {page} needed more memory than allowed; the document is filed without it."
    if status in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
        return f"the page reader crashed on page {page}; the document may be damaged or hostile."
    return f"the page reader stopped unexpectedly on page {page}; the document may be damaged or hostile."
