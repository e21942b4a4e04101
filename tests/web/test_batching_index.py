"""BatchingIndex: batched commits, in order, without holding other filing threads during a commit."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timezone

from records.model import Confidentiality, Record, RecordId
from records.ports import IndexDoc
from web.intake import BatchingIndex


class _Recording:
    """A SearchIndex stand-in that records each commit; `gate` (when set) holds a commit open."""

    def __init__(self) -> None:
        self.commits: list[list[str]] = []
        self.gate: threading.Event | None = None
        self.writing = threading.Event()

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        self.writing.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        self.commits.append([d.record.id for d in docs])


def _doc(n: int) -> IndexDoc:
    record = Record(id=RecordId(f"r{n}"), registry_number=f"03.1-{n}/2026", title=f"doc {n}", record_class="03.1",
                    principal="", confidentiality=Confidentiality.INTERNAL, document_date=None,
                    filed_at=datetime(2026, 1, 2, tzinfo=timezone.utc), filed_by="test",
                    original_name=f"doc-{n}.txt", media_type="text/plain", size=1, sha256="0" * 64)
    return IndexDoc(record=record, text=f"text {n}")


def test_commits_full_batches_in_order_and_flush_commits_the_rest() -> None:
    inner = _Recording()
    index = BatchingIndex(inner, batch=2)  # type: ignore[arg-type]
    for n in range(5):
        index.upsert([_doc(n)])
    assert inner.commits == [["r0", "r1"], ["r2", "r3"]]
    index.flush()
    index.flush()  # nothing pending: no empty commit
    assert inner.commits == [["r0", "r1"], ["r2", "r3"], ["r4"]]
    assert index.commits == 3


def test_other_threads_keep_collecting_while_a_batch_is_written() -> None:
    inner = _Recording()
    inner.gate = threading.Event()
    index = BatchingIndex(inner, batch=2)  # type: ignore[arg-type]
    index.upsert([_doc(0)])
    writer = threading.Thread(target=index.upsert, args=([_doc(1)],))
    writer.start()
    assert inner.writing.wait(10)  # the batch is being written and held open
    other = threading.Thread(target=index.upsert, args=([_doc(2)],))
    other.start()
    other.join(5)
    assert not other.is_alive()  # collecting did not wait for the commit
    inner.gate.set()
    writer.join(10)
    index.flush()
    assert inner.commits == [["r0", "r1"], ["r2"]]
