"""SearchPool: searches run in parallel in worker processes, each with its own sealed searcher.

Whoosh is pure Python, so threads in one process share one core (the GIL); a long-running shell
(the web) hands each search to one of a few worker processes instead. Each worker opens the index
read-only with the index key it receives over its pipe (never on disk, in argv or in the
environment), runs exactly the code a search runs in-process (`WhooshIndex.search`, access
control inside the query: the scope travels with the request) and asks the calling thread for
the decrypted text of the shown page's records, for snippets, over the same pipe. A worker sees
new commits the way the in-process searcher does: whoosh's TOC generation is compared before
every search, and a newer one (or a rebuilt index generation) is opened first.

No lock is held across a search: a web thread takes an idle worker (waiting first-come,
first-served while all are busy), talks to it, and gives it back. A worker warms its searcher
(segments decrypted, columns and field lengths read) before it reports ready, and searches made
meanwhile wait for it: run in the shell's process they would each load a third copy of the index,
cold, which at 100,000 records made the first searches take seconds. Only when no worker comes
up within a search's wait, or one dies mid-search, does a search run in-process.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from indexer.errors import IndexerError
from indexer.search import WhooshIndex, texts_of
from records.access import AccessScope
from records.model import RecordId
from records.ports import IndexDoc, SearchRequest, SearchResult, TextSource

__all__ = ["NoWorkers", "PooledIndex", "SearchBusy", "SearchPool"]

# Each worker holds its own decrypted-segment cache (~0.6 GB at 100,000 records); two fill both
# cores (the web threads' own work, HTML and audit entries, fits between them:
# bench/web_search_scaling.py). A third measured no better under people-like load (bench/web_mix.py
# at 100,000 records, rounds interleaved: search p95 142 and 175 ms with two, 169 and 152 with three).
DEFAULT_WORKERS = 2
WAIT_SECONDS = 20.0  # a search waits this long for a free worker before "busy"
MAX_WAITING = 64  # searches queued beyond this are refused at once ("busy")
START_SECONDS = 300.0  # opening and warming a large index; a worker slower than this is given up


class SearchBusy(IndexerError):
    """Every search worker stayed busy for longer than a search may wait."""


class NoWorkers(OSError):
    """No worker is up, and none came up in time: the caller searches in-process."""


# ---- the worker process ------------------------------------------------------------------------


class _PipeTexts:
    """The worker's TextSource: the page's texts come from the calling thread, all in one round trip."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def many(self, ids: Sequence[RecordId]) -> dict[RecordId, str]:
        self.conn.send(("texts", list(ids)))
        texts: dict[RecordId, str] = self.conn.recv()
        return texts

    def __call__(self, record_id: RecordId) -> str:
        return self.many([record_id]).get(record_id, "")


def _serve(conn: Connection) -> None:
    """A worker's life: receive the index's place and key, then answer searches until EOF or "stop"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the shell stops the parent, which ends us
    root, key = conn.recv()
    try:
        index = WhooshIndex(root, key, readonly=True)
    except IndexerError:
        conn.send(("unreadable", None))  # the parent searches in-process, where the user is told
        return
    try:
        index.warm()  # "ready" means warm: the first searches must not each pay for loading the index
    except Exception:  # noqa: BLE001 - a warm-up that fails leaves the searches cold, not broken
        pass
    conn.send(("ready", None))
    texts = _PipeTexts(conn)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] != "search":
            return
        _, request, scope = message
        try:
            answer: tuple[str, Any] = ("result", index.search(request, scope, texts))
        except IndexerError as exc:
            answer = ("error", exc)
        except Exception:  # noqa: BLE001 - never a traceback (nor a document's words) on stderr
            answer = ("error", IndexerError("The search could not be run: try again, or restart the program "
                                            "if it keeps failing."))
        conn.send(answer)


# ---- the pool, in the shell's process ----------------------------------------------------------


class _Worker:
    def __init__(self, process: Any, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def run(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        self.conn.send(("search", request, scope))
        while True:
            kind, body = self.conn.recv()
            if kind == "texts":
                self.conn.send(texts_of(text_of, list(body)))  # the shell's texts, as in-process
            elif kind == "result":
                result: SearchResult = body
                return result
            else:
                raise body

    def stop(self) -> None:
        try:
            self.conn.send(("stop", None))
        except OSError:
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.conn.close()


def _stop_all(workers: set[_Worker]) -> None:
    for worker in list(workers):
        worker.stop()
    workers.clear()


class SearchPool:
    """`workers` search processes over the index at `root`, started in the background. Thread-safe."""

    def __init__(self, root: str | Path, key: bytes, *, workers: int = DEFAULT_WORKERS,
                 wait_s: float = WAIT_SECONDS, max_waiting: int = MAX_WAITING) -> None:
        self.root = Path(root)
        self._key = bytes(key)
        self.size = max(1, workers)
        self.wait_s = wait_s
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._idle: deque[_Worker] = deque()
        self._all: set[_Worker] = set()
        self._waiting = 0
        self._starting = 0
        self._closed = False
        self._finalizer = weakref.finalize(self, _stop_all, self._all)
        for _ in range(self.size):
            self._start_one()

    @property
    def ready(self) -> int:
        """How many workers are up."""
        with self._cond:
            return len(self._all)

    @property
    def serving(self) -> bool:
        """A worker is up or starting: a search waits for the pool rather than run in-process."""
        with self._cond:
            return bool(self._all or self._starting) and not self._closed

    def _start_one(self) -> None:
        with self._cond:
            self._starting += 1
        threading.Thread(target=self._spawn, name="search-worker-start", daemon=True).start()

    def _spawn(self) -> None:
        try:
            self._start_worker()
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()  # a search waiting on a start that failed falls back at once

    def _start_worker(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process holding keys
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), name="strongroom-search", daemon=True)
        try:
            process.start()
            child.close()
            parent.send((str(self.root), self._key))
            if not parent.poll(START_SECONDS) or parent.recv()[0] != "ready":
                raise OSError("the search worker did not start")
        except (OSError, EOFError, IndexerError):
            process.kill() if process.pid is not None else None
            parent.close()
            return  # searches go on in-process
        worker = _Worker(process, parent)
        with self._cond:
            if self._closed:
                worker.stop()
                return
            self._all.add(worker)
            self._idle.append(worker)
            self._cond.notify()

    def search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        """Run one search on a free worker. SearchBusy when every worker stayed busy too long;
        NoWorkers when none is up (none starting, or none started in time); OSError or EOFError when
        the worker died mid-search (it is replaced). On the last two the caller may search in-process."""
        worker = self._acquire()
        healthy = False
        try:
            result = worker.run(request, scope, text_of)
            healthy = True
            return result
        except IndexerError:
            healthy = True
            raise
        finally:
            self._release(worker, healthy)

    def _acquire(self) -> _Worker:
        deadline = time.monotonic() + self.wait_s
        with self._cond:
            if self._waiting >= self.max_waiting:
                raise SearchBusy("The search service is busy: wait a moment and search again.")
            self._waiting += 1
            try:
                while not self._idle:
                    left = deadline - time.monotonic()
                    if not self._closed and not self._all and (not self._starting or left <= 0):
                        raise NoWorkers("no search worker is up")
                    if self._closed or left <= 0:
                        raise SearchBusy("The search service is busy: wait a moment and search again.")
                    self._cond.wait(left)
                return self._idle.popleft()
            finally:
                self._waiting -= 1

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._all.discard(worker)
            replace = not self._closed
        worker.stop()
        if replace:
            self._start_one()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._finalizer()


class PooledIndex:
    """records.ports.SearchIndex: writes and id lists go to `inner` (the process's own index),
    searches to the pool (waiting while its workers start), or to `inner` when no worker is up
    or one failed mid-search."""

    def __init__(self, inner: WhooshIndex, pool: SearchPool) -> None:
        self.inner = inner
        self.pool = pool

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        self.inner.upsert(docs)

    def remove(self, ids: Sequence[RecordId]) -> None:
        self.inner.remove(ids)

    def ids(self) -> set[RecordId]:
        return self.inner.ids()

    def search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        if self.pool.serving:
            try:
                return self.pool.search(request, scope, text_of)
            except (OSError, EOFError):
                pass  # no worker came up, or it died (it is being replaced): this search runs here
        return self.inner.search(request, scope, text_of)
