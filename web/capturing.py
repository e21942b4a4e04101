"""The capture stage's background thread: previews and OCR of filed scans, one document at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from records import capture
from records.ports import Ports

IDLE_POLL_SECONDS = 5.0  # with nothing to do, look at the queue this often (filings also wake it)


class CaptureThread:
    """Runs `records.capture.run_all` whenever there may be work, until stop(). The queue is in the
    catalogue, so stopping (or a crash) mid-document only means that document is taken again."""

    def __init__(self, ports: Callable[[], Ports], *, languages: str, now: Callable[[], datetime],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._ports, self._languages, self._now, self._on_error = ports, languages, now, on_error
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="capture", daemon=True)

    def start(self) -> CaptureThread:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wake(self) -> None:
        """Something was filed: look at the queue now."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the document in hand (its worker is ended with the process otherwise)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                capture.run_all(self._ports(), languages=self._languages, now=self._now,
                                should_stop=self._stop.is_set)
            except Exception as exc:  # noqa: BLE001 - reported; the next round tries again (the queue is sealed)
                self.error = exc
                if self._on_error is not None:
                    self._on_error(exc)
            self._wake.wait(IDLE_POLL_SECONDS)
