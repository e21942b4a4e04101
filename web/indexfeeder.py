"""IndexFeeder: a bulk import's index commits in a thread of their own, in order, behind the catalogue."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

from records.access import AccessScope
from records.model import RecordId
from records.ports import IndexDoc, SearchIndex, SearchRequest, SearchResult, TextSource


class IndexFeeder:
    """A SearchIndex adapter: `upsert` hands the docs of one committed batch to a writer thread, which
    commits them to the inner index in the order given; `close()` waits for the last. At most `depth`
    batches wait, so a slow index holds the filing back instead of filling memory; the batches waiting
    when the writer is free are committed together.

    The index commit (analysis of the texts, sealed segment files) was the longest step of a group
    commit; run after the catalogue commit in the same thread, it held the next batch's catalogue
    commit and, through it, the filing threads. The index is derived: a crash before a batch reaches
    it is repaired from the catalogue at the next open (records.search.reconcile)."""

    def __init__(self, inner: SearchIndex, depth: int = 2) -> None:
        self.inner = inner
        self.failure = ""
        self._queue: queue.Queue[list[IndexDoc] | None] = queue.Queue(maxsize=max(1, depth))
        self._thread = threading.Thread(target=self._write, name="import-index", daemon=True)
        self._thread.start()

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        if docs:
            self._queue.put(list(docs))

    def close(self) -> None:
        """Commit what is queued and end the writer."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _write(self) -> None:
        while True:
            batches = self._waiting()
            try:
                # By id, the latest kept: whoosh's update does not replace a document added in the same commit.
                latest = {doc.record.id: doc for batch in batches if batch is not None for doc in batch}
                docs = list(latest.values())
                if docs and not self.failure:  # after one failure `reindex` repairs every record left out
                    self.inner.upsert(docs)
            except Exception as exc:  # noqa: BLE001 - the records are committed; the index is derived
                self.failure = (f"The records are filed but the search index could not be updated "
                                f"({type(exc).__name__}); run `strongroom reindex`.")
            finally:
                for _ in batches:
                    self._queue.task_done()
            if batches[-1] is None:
                return

    def _waiting(self) -> list[list[IndexDoc] | None]:
        """The next batch, and every batch queued behind it, up to the end marker: one commit for what
        waits. An index commit has a fixed cost (a new segment, its sealed files fsynced, and every
        eighth one a merge of the tier), so when the index falls behind the filing it catches up in
        fewer, larger commits instead of staying behind."""
        batches = [self._queue.get()]
        while batches[-1] is not None:
            try:
                batches.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batches

    def remove(self, ids: Sequence[RecordId]) -> None:
        self._queue.join()
        self.inner.remove(ids)

    def search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        self._queue.join()
        return self.inner.search(request, scope, text_of)

    def ids(self) -> set[RecordId]:
        self._queue.join()
        return self.inner.ids()
