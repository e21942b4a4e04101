"""The nightly backup schedule `serve` keeps: a background thread that runs a job at a time of day,
once the office has been quiet for a while (no filing, no web request), but that night all the same.

The clock, the wait and the quiet measure are handed in, so tests drive days of schedule in microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta

MAX_NAP = 60.0  # wake at least this often, so a clock change (or a suspended laptop) is noticed
# However busy the night, the backup starts at the latest this long after its time.
QUIET_DEADLINE = timedelta(hours=4)


def parse_clock(text: str) -> time:
    """"02:30" as a time of day (the settings have already checked the form)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def next_run(after: datetime, at: time) -> datetime:
    """The first moment at `at` (wall time in `after`'s zone) strictly after `after`."""
    candidate = after.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > after else candidate + timedelta(days=1)


class BackupScheduler:
    """Runs `job` every day at `at` until stopped. A run that was missed (the computer slept through
    it) happens once on waking, never once per missed day; a failing job is the job's to record.

    With `quiet_seconds`, a due run waits until `idle_for()` (seconds since the last filing or web
    request) reaches it, or until QUIET_DEADLINE after its time, whichever comes first."""

    def __init__(self, at: time, job: Callable[[], None], *, now: Callable[[], datetime],
                 wait: Callable[[float], bool] | None = None, quiet_seconds: float = 0.0,
                 idle_for: Callable[[], float] | None = None) -> None:
        self.at = at
        self._job = job
        self._now = now
        self._quiet = quiet_seconds if idle_for is not None else 0.0
        self._idle_for = idle_for or (lambda: float("inf"))
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait  # returns True when asked to stop
        self._thread: threading.Thread | None = None
        self.due = next_run(now(), at)

    def run(self) -> None:
        """The loop (the thread's body; tests call it with a fake clock and wait)."""
        while True:
            now = self._now()
            remaining = (self.due - now).total_seconds()
            if remaining <= 0:
                # Due: wait for a quiet spell, but never past the deadline (a busy office still gets its backup).
                busy = self._quiet - self._idle_for()
                remaining = min(busy, (self.due + QUIET_DEADLINE - now).total_seconds())
            if remaining > 0:
                if self._wait(min(remaining, MAX_NAP)) or self._stop.is_set():
                    return
                continue
            self._job()
            self.due = next_run(max(self._now(), self.due), self.at)

    def start(self) -> BackupScheduler:
        self._thread = threading.Thread(target=self.run, name="strongroom-backup-schedule", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end; waits for a running job to finish (or `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
