"""Intake wiring: the filing use case bound to an open home for the watcher, the unsorted queue and
`strongroom import` (bulk: both cores, batched index commits, one summary)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from records.access import AccessScope
from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest, FilingStatus, file_document
from records.plan import Plan, load_default, load_plan
from records.ports import IndexDoc, Ports, SearchIndex, SearchRequest, SearchResult, TextSource
from records.model import RecordId
from vault import Home
from vault.inbox import (CommittedFn, FileFn, Intake, IntakeResult, SidecarInvalid, Watcher, WatchOptions,
                         is_document, parse_sidecar, walk_documents)
from vault.inbox.sidecar import apply_sidecar
from vault.inbox.names import IGNORED_DIRS, may_have_sidecar, sidecar_name
from web.settings import Settings

INBOX_ACTOR = "system:inbox"
IMPORT_ACTOR = "system:cli"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def filing_function(ports: Ports, plan: Plan, settings: Settings, *, clock: Clock = _utcnow) -> FileFn:
    """The one filing use case, bound to a home's ports, plan and jurisdiction."""

    def file_fn(path: Path, request: FilingRequest) -> FilingOutcome:
        return file_document(ports, plan, path, request, jurisdiction=settings.jurisdiction, now=clock())

    return file_fn


def committed_check(home: Home) -> CommittedFn:
    """Is this file's content already a record? The keyed content MAC, looked up in the catalogue."""

    def committed(path: Path) -> bool:
        with path.open("rb") as fh:
            mac = home.blobs.content_mac(fh)
        with home.catalog.transaction() as tx:
            return tx.find_by_mac(mac) is not None

    return committed


def intake_for(home: Home, plan: Plan, file_fn: FileFn, *, actor: str = INBOX_ACTOR) -> Intake:
    """The drop folders of an open home (for the watcher and the web's unsorted queue)."""
    return Intake(home.path, plan, file_fn, committed=committed_check(home), actor=actor)


def watch_options(settings: Settings, *, polling: bool = False) -> WatchOptions:
    return WatchOptions(stability_seconds=settings.stability_seconds,
                        network_stability_seconds=settings.network_stability_seconds,
                        rescan_seconds=settings.rescan_seconds, polling=polling)


def start_watcher(home: Home, settings: Settings, file_fn: FileFn, *, plan: Plan | None = None,
                  polling: bool = False, on_result: Callable[[IntakeResult], None] | None = None) -> Watcher:
    """Start filing from the home's drop folders in a background thread; call .stop() to end.

    `plan` defaults to the home's plan file. Raises WatcherBusy when another watcher holds the
    home's inbox lock (e.g. `strongroom watch` runs while `serve` starts).
    """
    if plan is None:
        plan = load_plan(settings.plan_file) if settings.plan_file.exists() else load_default()
    watcher = Watcher(intake_for(home, plan, file_fn), watch_options(settings, polling=polling), on_result)
    return watcher.start()


# ---- bulk import -------------------------------------------------------------------------------


class BatchingIndex:
    """A SearchIndex adapter for bulk work: upserts are collected and committed `batch` at a time
    (one Whoosh commit per batch, not per file); `flush()` commits the rest.

    Only the thread that fills a batch writes it; the others keep filing meanwhile. A Whoosh
    commit takes a tenth of a second, and holding every filing thread for it left the sandbox
    workers idle for about a quarter of a bulk import."""

    def __init__(self, inner: SearchIndex, batch: int = 100) -> None:
        self.inner = inner
        self.batch = batch
        self._pending: list[IndexDoc] = []
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one Whoosh commit at a time, in the order batches were taken
        self.commits = 0
        self.failure: str = ""

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        with self._lock:
            self._pending.extend(docs)
            if len(self._pending) < self.batch:
                return
            taken = self._take()
        self._write(taken)

    def flush(self) -> None:
        with self._lock:
            taken = self._take()
        self._write(taken)

    def _take(self) -> list[IndexDoc]:
        """The pending docs, with the writer lock taken while _lock is still held: batches reach
        Whoosh in the order they were collected (an upsert never overtakes a later removal)."""
        docs, self._pending = self._pending, []
        self._writing.acquire()
        return docs

    def _write(self, docs: list[IndexDoc]) -> None:
        """Commits `docs` and releases the writer lock `_take` acquired."""
        try:
            if docs:
                self.inner.upsert(docs)
                self.commits += 1
        except Exception as exc:  # noqa: BLE001 - the records are committed; the index is derived
            self.failure = (f"The records are filed but the search index could not be updated "
                            f"({type(exc).__name__}); run `strongroom reindex`.")
        finally:
            self._writing.release()

    def remove(self, ids: Sequence[RecordId]) -> None:
        self.flush()
        self.inner.remove(ids)

    def search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        self.flush()
        return self.inner.search(request, scope, text_of)

    def ids(self) -> set[RecordId]:
        self.flush()
        return self.inner.ids()


@dataclass(frozen=True, slots=True)
class ImportItem:
    path: str
    status: str  # filed | duplicate | rejected
    reason: str
    record_id: str | None = None
    registry_number: str = ""
    attachment: bool = False


@dataclass(slots=True)
class ImportSummary:
    items: list[ImportItem] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""  # e.g. the index could not be updated

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @property
    def filed(self) -> int:
        return self.count("filed")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def rejected(self) -> list[ImportItem]:
        return [i for i in self.items if i.status == "rejected"]


def import_sources(paths: Iterable[Path]) -> Iterator[Path]:
    """Files to import: the paths themselves, folders recursively; editor/temp files and sidecars skipped."""
    for path in paths:
        if path.is_dir():
            if path.name not in IGNORED_DIRS:
                yield from walk_documents(path)
        elif is_document(path.name):
            yield path


def bulk_import(ports: Ports, plan: Plan, settings: Settings, paths: Sequence[Path], template: FilingRequest,
                *, workers: int | None = None, batch: int = 100, clock: Clock = _utcnow,
                progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """File every document under `paths` with the same use case as the drop folders.

    `template` carries what applies to all (class, principal, actor, ...); a NAME.EXT.json sidecar
    beside a file adds its own metadata. Files are filed concurrently (`workers` threads: the
    extractor's sandbox workers and sealing run in parallel; catalogue commits serialise in the
    catalogue); the index is committed every `batch` records and once at the end.
    The source files are left where they are.
    """
    started = time.perf_counter()
    plan.resolve(template.record_class)  # an unknown class fails before any file is read
    files = list(import_sources(paths))
    index = BatchingIndex(ports.index, batch) if ports.index is not None else None
    bulk_ports = replace(ports, index=index) if index is not None else ports
    file_fn = filing_function(bulk_ports, plan, settings, clock=clock)
    summary = ImportSummary()
    done = 0
    lock = threading.Lock()

    def one(path: Path) -> list[ImportItem]:
        nonlocal done
        items = _import_one(file_fn, plan, path, template)
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(files))
        return items

    with ThreadPoolExecutor(max_workers=workers or _default_workers(), thread_name_prefix="import") as pool:
        for items in pool.map(one, files):
            summary.items.extend(items)
    if index is not None:
        index.flush()
        summary.note = index.failure
    summary.seconds = time.perf_counter() - started
    return summary


def _default_workers() -> int:
    # One more thread than cores: while one thread waits on a catalogue commit or an fsync,
    # the others keep the extraction workers busy.
    return (os.cpu_count() or 2) + 1


def _import_one(file_fn: FileFn, plan: Plan, path: Path, template: FilingRequest) -> list[ImportItem]:
    try:
        request = _with_sidecar(plan, path, replace(template, original_name=path.name))
        outcome = file_fn(path, request)
    except (RecordsError, SidecarInvalid) as exc:
        return [ImportItem(str(path), "rejected", str(exc))]
    except OSError as exc:
        # Reading the source or writing the vault (a full or read-only disk): nothing was stored.
        return [ImportItem(str(path), "rejected", f"It could not be read or stored ({exc.strerror}): "
                                                  "nothing was filed; fix the cause and import it again.")]
    return _flatten(str(path), outcome, attachment=False)


def _with_sidecar(plan: Plan, path: Path, request: FilingRequest) -> FilingRequest:
    side = path.with_name(sidecar_name(path.name))
    if not may_have_sidecar(path.name) or not side.is_file():
        return request
    cls = plan.resolve(request.record_class)
    return apply_sidecar(request, parse_sidecar(side.read_bytes(), detail_kind=cls.detail,
                                                name=f"The sidecar {side.name}"))


def _flatten(path: str, outcome: FilingOutcome, *, attachment: bool) -> list[ImportItem]:
    reason = " ".join(x for x in (outcome.reason, outcome.note) if x)
    status = {FilingStatus.FILED: "filed", FilingStatus.DUPLICATE: "duplicate"}.get(outcome.status, "rejected")
    items = [ImportItem(path, status, reason, outcome.record_id, outcome.registry_number, attachment)]
    for child in outcome.children:
        items.extend(_flatten(path, child, attachment=True))
    return items


__all__ = ["filing_function", "committed_check", "intake_for", "watch_options", "start_watcher",
           "BatchingIndex", "ImportItem", "ImportSummary", "import_sources", "bulk_import"]
