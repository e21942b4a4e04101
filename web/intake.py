"""Bulk import (`strongroom import`): the filing use case from a few threads at once, in group
commits of a hundred files, with one summary. The drop folders and the upload form file one document at a time
through the same `Office.file`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from records.access import AccessScope
from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest, FilingStatus, Prepared, rejected
from records.model import RecordId
from records.plan import Plan
from records.ports import IndexDoc, Ports, SealBatch, SearchIndex, SearchRequest, SearchResult, TextSource
from vault import StorageUnavailable
from vault.inbox import SidecarInvalid, is_document, parse_sidecar, walk_documents
from vault.inbox.names import IGNORED_DIRS, may_have_sidecar, sidecar_name
from vault.inbox.sidecar import apply_sidecar
from web.indexfeeder import IndexFeeder
from web.office import Office


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


@dataclass(slots=True)
class ImportSummary:
    items: list[FilingOutcome] = field(default_factory=list)  # one per file, attachments as children
    seconds: float = 0.0
    note: str = ""  # e.g. the index could not be updated

    def all(self) -> list[FilingOutcome]:
        """Every outcome, attachments included."""
        return [o for item in self.items for o in item.flattened()]

    def count(self, status: FilingStatus) -> int:
        return sum(1 for o in self.all() if o.status is status)

    @property
    def filed(self) -> int:
        return self.count(FilingStatus.FILED)

    @property
    def duplicates(self) -> int:
        return self.count(FilingStatus.DUPLICATE)

    @property
    def rejected(self) -> list[FilingOutcome]:
        return [o for o in self.all() if o.status is FilingStatus.REJECTED]


def import_sources(paths: Iterable[Path]) -> Iterator[Path]:
    """Files to import: the paths themselves, folders recursively; editor/temp files and sidecars skipped."""
    for path in paths:
        if path.is_dir():
            if path.name not in IGNORED_DIRS:
                yield from walk_documents(path)
        elif is_document(path.name):
            yield path


def bulk_import(office: Office, paths: Sequence[Path], template: FilingRequest, *, workers: int | None = None,
                batch: int = 100, progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """File every document under `paths` with the same use case as the drop folders, in group commits.

    `template` carries what applies to all (class, principal, actor, ...); a NAME.EXT.json sidecar
    beside a file adds its own metadata. `workers` threads read, extract (in the sandbox workers) and
    seal; every `batch` files are then committed together by one committer thread (`records.filing
    .commit`: the batch's objects made durable with one folder fsync, one catalogue transaction with
    every audit entry) while the threads go on with the next batch, and the batch's one index commit
    follows in a third (IndexFeeder). At most two batches wait for each commit. The source files are
    left where they are.
    """
    started = time.perf_counter()
    plan = office.plan
    plan.resolve(template.record_class)  # an unknown class fails before any file is read
    files = list(import_sources(paths))
    summary = ImportSummary()
    done = 0
    ports = office.ports
    feeder = IndexFeeder(ports.index) if ports.index is not None else None
    bulk_ports = replace(ports, index=feeder) if feeder is not None else ports

    def commit(chunk: list[Path], blobs: SealBatch, prepared: list[Future[Prepared | FilingOutcome]]
               ) -> list[FilingOutcome]:
        nonlocal done
        try:
            ready = [f.result() for f in prepared]
        except BaseException:
            blobs.discard()  # a thread failed beyond a rejection (the catalogue, say): nothing of it is filed
            raise
        outcomes = _commit_batch(office, bulk_ports, chunk, blobs, ready)
        for _ in chunk:
            done += 1
            if progress is not None:
                progress(done, len(files))
        return outcomes

    try:
        with ThreadPoolExecutor(max_workers=workers or _default_workers(), thread_name_prefix="import") as pool, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-commit") as committer:
            commits: list[Future[list[FilingOutcome]]] = []
            for first in range(0, len(files), max(1, batch)):
                if len(commits) >= 2:
                    commits[-2].result()  # bounded: sealed but uncommitted objects of two batches at most
                chunk = files[first:first + max(1, batch)]
                blobs = ports.blobs.batch()
                prepared = [pool.submit(_prepare_one, office, plan, path, template, blobs) for path in chunk]
                commits.append(committer.submit(commit, chunk, blobs, prepared))
            for job in commits:
                summary.items.extend(job.result())
    finally:
        if feeder is not None:
            feeder.close()
    summary.note = feeder.failure if feeder is not None else ""
    summary.seconds = time.perf_counter() - started
    return summary


def _default_workers() -> int:
    # One more thread than cores: while one thread waits on a catalogue read or a seal, the
    # others keep the extraction workers busy.
    return (os.cpu_count() or 2) + 1


def _prepare_one(office: Office, plan: Plan, path: Path, template: FilingRequest,
                 blobs: SealBatch) -> Prepared | FilingOutcome:
    try:
        request = _with_sidecar(plan, path, replace(template, original_name=path.name))
        return office.prepare(path, request, blobs, plan=plan)
    except (RecordsError, SidecarInvalid) as exc:
        return rejected(str(exc), str(path))
    except StorageUnavailable as exc:  # the bucket of objects: nothing was filed
        return rejected(str(exc), str(path))
    except OSError as exc:
        return _unstored(exc, path)


def _commit_batch(office: Office, ports: Ports, chunk: list[Path], blobs: SealBatch,
                  prepared: list[Prepared | FilingOutcome]) -> list[FilingOutcome]:
    """The batch's outcomes in the order of its files; a batch the vault could not commit is refused
    whole (nothing of it was filed)."""
    items = [p for p in prepared if isinstance(p, Prepared)]
    try:
        committed = iter(office.commit(blobs, items, ports=ports))
    except StorageUnavailable as exc:  # the bucket of objects: nothing of the batch was filed
        return [p if isinstance(p, FilingOutcome) else rejected(str(exc), str(path)) for p, path in zip(prepared, chunk)]
    except OSError as exc:
        return [p if isinstance(p, FilingOutcome) else _unstored(exc, path) for p, path in zip(prepared, chunk)]
    return [p if isinstance(p, FilingOutcome) else next(committed).named(str(path))
            for p, path in zip(prepared, chunk)]


def _unstored(exc: OSError, path: Path) -> FilingOutcome:
    # Reading the source or writing the vault (a full or read-only disk): nothing was stored.
    return rejected(f"It could not be read or stored ({exc.strerror}): nothing was filed; fix the cause "
                    "and import it again.", str(path))


def _with_sidecar(plan: Plan, path: Path, request: FilingRequest) -> FilingRequest:
    side = path.with_name(sidecar_name(path.name))
    if not may_have_sidecar(path.name) or not side.is_file():
        return request
    cls = plan.resolve(request.record_class)
    return apply_sidecar(request, parse_sidecar(side.read_bytes(), detail_kind=cls.detail,
                                                name=f"The sidecar {side.name}"))


__all__ = ["BatchingIndex", "ImportSummary", "import_sources", "bulk_import"]
