"""indexer.pool against the in-process search: the same results, refreshed after commits, scoped,
busy only after waiting, and nothing lost when a worker dies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.corpus import Vocabulary, corpus, queries, text_of
from indexer.pool import PooledIndex, SearchBusy, SearchPool
from indexer.search import WhooshIndex, open_index
from records.access import AccessScope
from records.model import Confidentiality, RecordId, Role
from records.ports import SearchRequest
from tests.indexer.samples import KEY, doc

VOCAB = Vocabulary()
RECORDS = 600
VIEWER = AccessScope(actor="viewer", role=Role.VIEWER, clearance=Confidentiality.INTERNAL,
                     principals=frozenset({"Acme d.o.o.", "Delta AS"}))


def _text(record_id: RecordId) -> str:
    if record_id.startswith("b"):
        return text_of(VOCAB, int(record_id[1:]))
    return "Nova pogodba o najemu prostorov, kodno ime zeleni kolibri."


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WhooshIndex, SearchPool]]:
    root = tmp_path_factory.mktemp("pool") / "index"
    index = open_index(root, KEY, create=True)
    docs = list(corpus(VOCAB, RECORDS))
    for start in range(0, RECORDS, 200):  # several segments, as a filed-over-time index has
        index.upsert(docs[start:start + 200])
    pool = SearchPool(root, KEY, workers=2)
    yield index, pool
    pool.close()
    index.close()


def _one_record(tmp_path: Path) -> tuple[Path, WhooshIndex]:
    root = tmp_path / "index"
    index = open_index(root, KEY, create=True)
    index.upsert([doc("a1", "pogodba")])
    return root, index


def _ready(pool: SearchPool, n: int) -> None:
    deadline = threading.Event()
    for _ in range(600):
        if pool.ready >= n:
            return
        deadline.wait(0.1)
    raise AssertionError("the search workers did not start")


def test_pooled_results_equal_the_in_process_ones(built: tuple[WhooshIndex, SearchPool]) -> None:
    index, pool = built
    _ready(pool, 2)
    for scope in (AccessScope.system(), VIEWER):
        for i, q in enumerate(queries(VOCAB, 200)):
            request = SearchRequest(q, page=1 + i % 2, sort=("relevance", "date", "-date")[i % 3])
            assert pool.search(request, scope, _text) == index.search(request, scope, _text), q


def test_workers_see_commits_at_once_and_keep_the_scope(built: tuple[WhooshIndex, SearchPool]) -> None:
    index, pool = built
    _ready(pool, 2)
    request = SearchRequest("kolibri")
    assert pool.search(request, AccessScope.system(), _text).total == 0
    index.upsert([doc("zsecret", "kolibri", confidentiality=Confidentiality.SECRET),
                  doc("zpublic", "kolibri", confidentiality=Confidentiality.PUBLIC, principal="Acme d.o.o.")])
    for _ in range(4):  # every worker, not only the first to answer
        everyone = pool.search(request, AccessScope.system(), _text)
        assert {h.record_id for h in everyone.hits} == {"zsecret", "zpublic"}
        assert "<mark>kolibri</mark>" in everyone.hits[0].snippet
        seen = pool.search(request, VIEWER, _text)
        assert [h.record_id for h in seen.hits] == ["zpublic"] and seen.total == 1
    index.remove([RecordId("zsecret"), RecordId("zpublic")])
    assert pool.search(request, AccessScope.system(), _text).total == 0


def test_the_key_travels_over_the_pipe_only(built: tuple[WhooshIndex, SearchPool]) -> None:
    _, pool = built
    _ready(pool, 2)
    for worker in list(pool._all):  # noqa: SLF001
        pid = worker.process.pid
        for part in ("cmdline", "environ"):
            data = Path(f"/proc/{pid}/{part}").read_bytes()
            assert KEY not in data and KEY.hex().encode() not in data


def test_a_full_pool_waits_then_says_busy(tmp_path: Path) -> None:
    root, index = _one_record(tmp_path)
    pool = SearchPool(root, KEY, workers=1, wait_s=0.3)
    try:
        _ready(pool, 1)
        release, asked = threading.Event(), threading.Event()

        def slow(record_id: RecordId) -> str:
            asked.set()
            release.wait(30)
            return "pogodba"
        first = threading.Thread(target=pool.search, args=(SearchRequest("pogodba"), AccessScope.system(), slow))
        first.start()
        assert asked.wait(30)  # the only worker is busy with the first search
        with pytest.raises(SearchBusy, match="busy: wait a moment"):
            pool.search(SearchRequest("pogodba"), AccessScope.system(), _text)
        release.set()
        first.join(30)
        assert pool.search(SearchRequest("pogodba"), AccessScope.system(), _text).total == 1
    finally:
        pool.close()
        index.close()


def test_a_dead_worker_costs_no_search(tmp_path: Path) -> None:
    root, index = _one_record(tmp_path)
    pool = SearchPool(root, KEY, workers=1)
    pooled = PooledIndex(index, pool)
    try:
        _ready(pool, 1)
        (worker,) = pool._all  # noqa: SLF001
        worker.process.kill()
        worker.process.join(10)
        assert pooled.search(SearchRequest("pogodba"), AccessScope.system(), _text).total == 1  # ran here
        _ready(pool, 1)  # replaced
        assert pool.search(SearchRequest("pogodba"), AccessScope.system(), _text).total == 1
    finally:
        pool.close()
        index.close()


class _NotHere(WhooshIndex):
    """The shell's own index, counting the searches it runs itself (a pooled search must run none)."""

    ran_here = 0

    def search(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        type(self).ran_here += 1
        return super().search(*args, **kwargs)  # type: ignore[arg-type]


def test_a_search_made_while_the_workers_start_waits_for_a_warm_one(tmp_path: Path) -> None:
    root, created = _one_record(tmp_path)
    created.close()
    inner = _NotHere(root, KEY)
    pool = SearchPool(root, KEY, workers=1)
    try:
        assert pool.ready == 0 and pool.serving  # spawned, still opening and warming the index
        result = PooledIndex(inner, pool).search(SearchRequest("pogodba"), AccessScope.system(), _text)
        assert result.total == 1 and _NotHere.ran_here == 0 and pool.ready == 1
    finally:
        pool.close()
        inner.close()


def test_workers_that_cannot_start_leave_the_search_in_process_at_once(tmp_path: Path) -> None:
    root, index = _one_record(tmp_path)
    pool = SearchPool(root, bytes(32), workers=1, wait_s=60)  # a wrong key: the worker cannot open the index
    try:
        started = time.monotonic()
        assert PooledIndex(index, pool).search(SearchRequest("pogodba"), AccessScope.system(), _text).total == 1
        assert time.monotonic() - started < 30  # not the whole wait: the failed start ends it
        assert not pool.serving and pool.ready == 0
    finally:
        pool.close()
        index.close()
