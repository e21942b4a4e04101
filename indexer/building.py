"""A full rebuild on every core: worker processes each write whole segments, one writer publishes them.

A Whoosh index has one writer, and one writer is one Python thread: analysis, the posting pool
and writing the segment's postings all run on one core (97 docs/s on 20k records, issue 21). A
segment, though, is written by a SegmentWriter that needs no lock (whoosh's own MpWriter runs
them in sub-processes): each worker process here receives a chunk of documents over its pipe,
writes them as one sealed segment into the new generation directory and sends back the Segment
(a small descriptor). Nothing plaintext crosses the disk: the documents and the index key travel
over the pipe (never argv, environment or a file), the posting runs stay in the worker's memory
(MemoryTempStorage) and every segment file is sealed as it is written. The parent, the only
holder of the index lock, lists the segments in chunk order in one TOC, so document order (and
with it every tie in the ranking) is the order of the documents given, as with one writer.

Memory is bounded by the chunk: a worker holds one chunk's documents and its postings until the
segment is written, then starts afresh. No merge follows: merging the segments into fewer would
cost as long as writing them and hold several in memory at once.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from whoosh.index import FileIndex, LockError
from whoosh.writing import PostingPool, SegmentWriter

from indexer.codec import FlatCodec
from indexer.errors import IndexBusy, IndexerError
from indexer.schema import document_of
from indexer.storage import SealedStorage
from records.ports import IndexDoc

SEGMENT_DOCS = 10_000  # documents per worker segment: ~220 MB of worker memory at 2 KB of text each
PROGRESS_EVERY = 250  # documents between a worker's progress reports
WORKER_LIMIT_MB = 24  # posting buffer before a sorted run (deflated in the worker's memory); whoosh counts
# the bytes of a posting, a Python tuple of them is 3-4 times larger
WRITE_TIMEOUT = 30.0
RUN_BATCH = 4096  # postings per pickle in a sorted run
Progress = Callable[[int, int], None]


MAX_WORKERS = 3  # ~220 MB each at SEGMENT_DOCS (measured), so a build stays under 1 GB on any machine


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


# ---- the worker process ------------------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """A worker's life: the generation directory and key, then chunks until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which ends us
    folder, key = conn.recv()
    storage = SealedStorage(folder, key)
    index = storage.open_index()
    known = set(index.schema.names())
    while True:
        docs = conn.recv()
        if docs is None:
            return
        try:
            # not compound: assembling one .seg would hold every part file and the whole .seg in memory
            writer = SegmentWriter(index, _lk=False, limitmb=WORKER_LIMIT_MB, compound=False, codec=FlatCodec())
            writer.pool = BatchedPool(writer._tempstorage, writer.newsegment, limitmb=WORKER_LIMIT_MB)  # noqa: SLF001
            for i, doc in enumerate(docs, 1):
                writer.add_document(**{k: v for k, v in document_of(doc).items() if k in known})
                if i % PROGRESS_EVERY == 0:
                    conn.send(("progress", PROGRESS_EVERY))
            segment = writer._finalize_segment()  # noqa: SLF001 - what MpWriter's sub-writers call
        except OSError as exc:
            # A full or failing disk is the parent's to report, in one sentence; left to multiprocessing,
            # it would print a traceback on the user's terminal.
            conn.send(("oserror", (exc.errno, exc.strerror or str(exc))))
            return
        conn.send(("segment", (segment, len(docs) % PROGRESS_EVERY)))


class BatchedPool(PostingPool):  # type: ignore[misc]  # whoosh is untyped
    """whoosh's posting pool with its sorted runs pickled RUN_BATCH postings at a time: whoosh pickles
    and unpickles each posting with its own call, which was a third of a worker's time."""

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        # whoosh's estimate of the posting's size in memory, without its type asserts per posting
        self.fieldnames.add(item[0])
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

    def _write_run(self, f: Any, items: Iterable[Any]) -> None:
        it = iter(items)
        while chunk := list(islice(it, RUN_BATCH)):
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path: str) -> Iterator[Any]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


class _Workers:
    """The worker processes and which chunk each is writing."""

    def __init__(self, folder: Path, key: bytes, count: int) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        self.busy: dict[int, int] = {}  # worker -> chunk number
        self.segments: dict[int, Any] = {}  # chunk number -> Segment
        try:
            for _ in range(count):
                ours, theirs = context.Pipe()
                proc = context.Process(target=_serve, args=(theirs,), daemon=True, name="strongroom-index-build")
                proc.start()
                theirs.close()
                ours.send((str(folder), key))
                self.conns.append(ours)
                self.procs.append(proc)
        except BaseException:
            self.stop()
            raise

    def idle(self) -> int | None:
        return next((w for w in range(len(self.conns)) if w not in self.busy), None)

    def give(self, worker: int, chunk: int, docs: list[IndexDoc]) -> None:
        self.busy[worker] = chunk
        try:
            self.conns[worker].send(docs)
        except OSError:  # not a disk error: the worker is gone
            raise _stopped() from None

    def collect(self, report: Callable[[int], None], *, block: bool) -> None:
        """Read what the workers have said: progress, finished segments. With `block`, wait for
        at least one message."""
        ready = wait(self.conns, timeout=None if block else 0)
        for worker, conn in enumerate(self.conns):
            if conn not in ready:
                continue
            try:
                kind, value = conn.recv()
            except (EOFError, OSError):
                raise _stopped() from None
            if kind == "progress":
                report(value)
            elif kind == "oserror":
                raise OSError(*value)
            else:
                segment, rest = value
                self.segments[self.busy.pop(worker)] = segment
                report(rest)

    def stop(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


def _stopped() -> IndexerError:
    return IndexerError("An index build worker stopped unexpectedly (out of memory?): the old index still "
                        "serves; run `strongroom reindex` again.")


def build(folder: Path, key: bytes, index: FileIndex, docs: Iterable[IndexDoc], progress: Progress | None = None,
          *, total: int = 0, workers: int = 0, segment_docs: int = SEGMENT_DOCS) -> int:
    """Write `docs` into the empty index at `folder` (opened as `index`) with `workers` processes;
    returns the number of documents live in it. A record id given twice keeps its last document."""
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    where: dict[str, tuple[int, int]] = {}  # record id -> (chunk, position): a later copy deletes it
    superseded: list[tuple[int, int]] = []
    pool = _Workers(folder, key, workers or default_workers())
    try:
        chunk: list[IndexDoc] = []
        number = 0
        for doc in docs:
            earlier = where.get(doc.record.id)
            if earlier is not None:
                superseded.append(earlier)
            where[doc.record.id] = (number, len(chunk))
            chunk.append(doc)
            if len(chunk) >= segment_docs:
                _dispatch(pool, number, chunk, report)
                chunk, number = [], number + 1
            elif len(chunk) % PROGRESS_EVERY == 0:
                pool.collect(report, block=False)  # keep the bar moving while a chunk fills
        if chunk:
            _dispatch(pool, number, chunk, report)
            number += 1
        while pool.busy:
            pool.collect(report, block=True)
        segments = [pool.segments[n] for n in range(number)]
    finally:
        pool.stop()
    for n, position in superseded:
        segments[n].delete_document(position)
    _publish(index, segments)
    return len(where)


def _dispatch(pool: _Workers, number: int, chunk: list[IndexDoc], report: Callable[[int], None]) -> None:
    worker = pool.idle()
    while worker is None:
        pool.collect(report, block=True)
        worker = pool.idle()
    pool.give(worker, number, chunk)


def _publish(index: FileIndex, segments: list[Any]) -> None:
    """One TOC listing the workers' segments, written under the index lock (as MpWriter does)."""
    try:
        writer = index.writer(timeout=WRITE_TIMEOUT, codec=FlatCodec())
    except LockError:
        raise IndexBusy("The search index is being updated by another process: try again in a minute.") from None
    try:
        writer._close_segment()  # noqa: SLF001 - its own segment stays empty
        writer._commit_toc([*writer.segments, *segments])  # noqa: SLF001
        writer._finish()  # noqa: SLF001 - releases the lock
    except BaseException:
        writer.cancel()
        raise
