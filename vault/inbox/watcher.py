"""The watcher: watchdog events as hints, directory scans as the truth, one filing thread per home.

Rules from security.md §3.4: scan at start, every `rescan_seconds` and after any watcher error;
take a file only when `StabilityTracker` says it is finished; inotify where it works, the polling
observer (with the longer window) for network shares or when inotify is out of watches.

When the sealed objects cannot be reached (their bucket is away), the file goes back to its drop
folder and filing pauses: the reason is logged and reported once, `paused` holds it, and every
`storage_retry_seconds` one file is tried again; the first that files ends the pause.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from records.filing import FilingOutcome, FilingStatus
from vault.inbox.errors import IntakeError, StorageAway, WatcherBusy
from vault.inbox.names import LOCK_NAME, is_sidecar
from vault.inbox.pipeline import Intake, walk_documents
from vault.inbox.stability import Signature, StabilityTracker, WriterCheck

log = logging.getLogger("strongroom.intake")


@dataclass(frozen=True, slots=True)
class WatchOptions:
    stability_seconds: float = 2.0  # unchanged this long after the close-write (inotify)
    network_stability_seconds: float = 30.0  # unchanged this long without close events (polling)
    rescan_seconds: float = 120.0  # full scan: the truth behind the events
    polling: bool = False  # force the polling observer (network shares)
    poll_interval: float = 1.0  # the polling observer's own interval
    tick: float = 0.2  # how often the filing thread looks at its candidates
    storage_retry_seconds: float = 30.0  # while the bucket of objects is away, how often to try again


class _Hints(FileSystemEventHandler):
    """Forwards events to the filing thread; it never touches files itself."""

    def __init__(self, sink: queue.Queue[tuple[str, str, str]]) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = ("dir_" if event.is_directory else "") + event.event_type
        self.sink.put((kind, os.fsdecode(event.src_path), os.fsdecode(event.dest_path or b"")))


class Watcher:
    """Files whatever lands in the home's class folders until stop(). Start it with `start()`."""

    def __init__(self, intake: Intake, options: WatchOptions = WatchOptions(),
                 on_result: Callable[[FilingOutcome], None] | None = None,
                 writers: WriterCheck | None = None) -> None:
        self.intake = intake
        self.options = options
        self.on_result = on_result
        self.writers = writers if writers is not None else WriterCheck()
        self.error: BaseException | None = None
        self.paused: str | None = None  # why filing waits (the bucket of objects is away), one sentence
        self._retry_at = 0.0
        self.mode = ""  # "inotify" or "polling", once started
        self._events: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self._stop = threading.Event()
        self._scan_now = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._lock_fd: int | None = None
        self._tracker = StabilityTracker(options.stability_seconds, options.network_stability_seconds,
                                         close_events=False)

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> Watcher:
        """Take the home's watcher lock (WatcherBusy if held), then watch in a background thread."""
        self._lock()
        try:
            self.intake.ensure_folders()
            self._start_observer()
        except BaseException:
            self._unlock()
            raise
        self._thread = threading.Thread(target=self._run, name="strongroom-intake", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the file being filed (if any) is settled; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._stop_observer()
        self._unlock()

    def rescan(self) -> None:
        """Ask for a full scan now (e.g. the web UI's "check the inbox" button)."""
        self._scan_now.set()

    def wait_idle(self, timeout: float) -> bool:
        """True once the inbox holds no candidate (used by tests and `serve` at shutdown)."""
        return self._idle.wait(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the filing thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.intake.recover()
            next_scan = 0.0
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_scan or self._scan_now.is_set() or not self._observer_alive():
                    self._scan_now.clear()
                    self._scan(now)
                    next_scan = now + self.options.rescan_seconds
                self._drain(self.options.tick)
                self._file_ready()
                if len(self._tracker) == 0:
                    self._idle.set()
                else:
                    self._idle.clear()
        except IntakeError as exc:
            log.error("intake stopped: %s", exc)
            self.error = exc
        except BaseException as exc:  # noqa: BLE001 - reported by the owner through .error
            log.error("intake stopped by an internal error %s", type(exc).__name__)
            self.error = exc

    def _scan(self, now: float) -> None:
        if not self._observer_alive():
            log.warning("the file watcher stopped; restarting it and rescanning the inbox")
            self._stop_observer()
            self._start_observer()
        documents, strays = self.intake.scan(hidden_after=self.options.network_stability_seconds)
        for path, _folder in documents:
            self._tracker.seen(path, now)
        for stray in strays:  # links, pipes, devices, hard links, hidden names: rejected with a reason
            if self._stop.is_set():
                return
            self._tracker.forget(stray.path)
            self._report(self.intake.refuse(stray))

    def _drain(self, timeout: float) -> None:
        try:
            item = self._events.get(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._hint(*item)
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return

    def _hint(self, kind: str, src: str, dest: str) -> None:
        now = time.monotonic()
        tracker, path = self._tracker, Path(src)
        if kind in ("dir_created", "dir_moved"):
            # A folder moved in arrives as one event; the files inside it need a look of their own.
            for found in walk_documents(Path(dest or src)):
                tracker.seen(found, now)
            return
        if kind.startswith("dir_"):
            return
        if kind == "moved":
            tracker.forget(path)
            target = Path(dest)
            if self.intake.folder_of_path(target) is not None:
                self._look_closer(target)
                tracker.seen(target, now)
                tracker.closed(target, now)  # a rename into place publishes a finished file
            return
        if is_sidecar(path.name):
            main = path.with_name(path.name[: -len(".json")])
            tracker.touched(main, now)
            return
        if self.intake.folder_of_path(path) is None:
            return
        if kind == "created":
            self._look_closer(path)
        if kind in ("created", "modified"):
            tracker.written(path, now)
        elif kind == "closed":
            tracker.closed(path, now)
        elif kind == "deleted":
            tracker.forget(path)

    def _file_ready(self) -> None:
        if self.paused is not None and time.monotonic() < self._retry_at:
            return
        for path, signature in self._tracker.ready(time.monotonic(), self.writers):
            if self._stop.is_set():
                return
            folder = self.intake.folder_of_path(path)
            if folder is None:
                self._tracker.forget(path)
                continue
            if not self._sidecar_settled(path):
                self._tracker.touched(path, time.monotonic())
                continue
            self._tracker.forget(path)
            try:
                result = self.intake.take(path, folder, signature)
            except StorageAway as exc:
                self._pause(path, folder, str(exc))
                return
            if self.paused is not None:
                log.warning("filing resumed: the sealed objects can be reached again")
                self.paused = None
            if result is not None and result.status is FilingStatus.REJECTED and not result.rejected_to:
                self._scan_now.set()  # a folder on its way is unsafe: the scan reports and replaces it
            self._report(result)

    def _pause(self, path: Path, folder: str, reason: str) -> None:
        """The bucket of objects is away; the file is back in its folder. Say so once, try again later."""
        self._retry_at = time.monotonic() + self.options.storage_retry_seconds
        self._tracker.seen(path, time.monotonic())
        if self.paused is None:
            self.paused = reason
            log.warning("%s", reason)
            self._report(FilingOutcome(status=FilingStatus.RETURNED, source=folder, reason=reason))

    def _report(self, result: FilingOutcome | None) -> None:
        if result is not None and self.on_result is not None:
            self.on_result(result)

    def _look_closer(self, path: Path) -> None:
        """A new entry that is not a regular file (a link, a pipe): the scan rejects it now, not later."""
        try:
            st = path.lstat()
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            self._scan_now.set()

    def _sidecar_settled(self, path: Path) -> bool:
        side = path.with_name(path.name + ".json")
        sig = Signature.of(side)
        if sig is None:
            return True
        age = time.time() - sig.mtime_ns / 1e9
        return age >= self.options.stability_seconds and not self.writers.open_for_write(side)

    # ---- the observer -----------------------------------------------------------------------

    def _start_observer(self) -> None:
        inbox = str(self.intake.inbox)
        if not self.options.polling:
            observer: BaseObserver = Observer()
            try:
                observer.schedule(_Hints(self._events), inbox, recursive=True)
                observer.start()
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EMFILE, errno.ENOSYS):
                    raise IntakeError(f"The inbox {inbox} cannot be watched ({exc.strerror}).") from None
                log.warning("inotify is not available (%s): watching by polling with the longer window",
                            exc.strerror)
            else:
                self._use(observer, "inotify", close_events=True)
                return
        observer = PollingObserver(timeout=self.options.poll_interval)
        observer.schedule(_Hints(self._events), inbox, recursive=True)
        observer.start()
        self._use(observer, "polling", close_events=False)

    def _use(self, observer: BaseObserver, mode: str, *, close_events: bool) -> None:
        self._observer, self.mode = observer, mode
        self._tracker.close_events = close_events

    def _observer_alive(self) -> bool:
        observer = self._observer
        return observer is not None and observer.is_alive() and all(e.is_alive() for e in observer.emitters)

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join(10)

    # ---- the single-instance lock -----------------------------------------------------------

    def _lock(self) -> None:
        path = self.intake.inbox / LOCK_NAME
        self.intake.inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WatcherBusy(str(self.intake.inbox)) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
