"""indexer.building: a rebuild written by worker processes, one segment per chunk, published in one TOC."""

from __future__ import annotations

from pathlib import Path

from whoosh.writing import PostingPool

from indexer import building
from indexer.generations import live_dir, rebuild
from indexer.search import open_index
from indexer.storage import MemoryTempStorage, SealedStorage
from records.access import AccessScope
from records.model import RecordId
from records.ports import SearchRequest
from tests.indexer.samples import KEY, doc

ADMIN = AccessScope.system()


def _docs(n: int, word: str = "vsebina") -> list:  # type: ignore[type-arg]
    return [doc(f"d{i:04d}", f"{word} številka w{i}") for i in range(n)]


def test_workers_write_one_segment_per_chunk_in_the_order_given(tmp_path: Path) -> None:
    root = tmp_path / "index"
    count = rebuild(root, KEY, iter(_docs(230)), total=230, batch=50, workers=2)
    assert count == 230
    storage = SealedStorage(live_dir(root), KEY, readonly=True)
    ix = storage.open_index()
    assert len(ix._segments()) == 5  # noqa: SLF001 - 50+50+50+50+30, no merge
    with ix.searcher() as s:  # document order is the order given: ranking ties break the same way
        assert [f["id"] for f in s.all_stored_fields()] == [f"d{i:04d}" for i in range(230)]
    index = open_index(root, KEY)
    result = index.search(SearchRequest("w117"), ADMIN, lambda rid: "")
    assert [h.record_id for h in result.hits] == [RecordId("d0117")]
    assert index.search(SearchRequest("vsebina"), ADMIN, lambda rid: "").total == 230


def test_a_record_given_twice_keeps_its_last_document(tmp_path: Path) -> None:
    root = tmp_path / "index"
    docs = [*_docs(60), doc("d0003", "popravljena vsebina"), doc("d0070", "nova")]
    assert rebuild(root, KEY, iter(docs), batch=25, workers=2) == 61
    index = open_index(root, KEY)
    assert len(index.ids()) == 61 and index.doc_count() == 61
    assert [h.record_id for h in index.search(SearchRequest("popravljena"), ADMIN, lambda rid: "").hits] == ["d0003"]
    assert index.search(SearchRequest("w3"), ADMIN, lambda rid: "").total == 0


def test_progress_is_reported_while_chunks_are_written(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    rebuild(tmp_path / "index", KEY, iter(_docs(1_100)), lambda done, total: seen.append((done, total)),
            total=1_100, batch=600, workers=2)
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and seen[-1] == (1_100, 1_100)
    assert len(seen) >= 1_100 // building.PROGRESS_EVERY  # not once per chunk: the bar's ETA moves


def test_one_worker_gives_the_same_index(tmp_path: Path) -> None:
    rebuild(tmp_path / "one", KEY, iter(_docs(120)), batch=40, workers=1)
    rebuild(tmp_path / "two", KEY, iter(_docs(120)), batch=40, workers=2)
    request = SearchRequest("vsebina", page_len=200)
    one = open_index(tmp_path / "one", KEY).search(request, ADMIN, lambda rid: "")
    two = open_index(tmp_path / "two", KEY).search(request, ADMIN, lambda rid: "")
    assert one == two and one.total == 120


def test_the_batched_pool_sorts_across_runs_as_whooshs_does() -> None:
    # a limit of a few postings spills many sorted runs, each pickled in batches, then merged
    postings = [("body", f"w{(i * 7919) % 997:04d}".encode(), i % 301, 1.0, bytes([i % 7]) if i % 3 else None)
                for i in range(20_000)]
    pools = [cls(MemoryTempStorage(), None, limitmb=0.05) for cls in (PostingPool, building.BatchedPool)]
    for pool in pools:
        for posting in postings:
            pool.add(posting)
    assert pools[1].runs and len(pools[1].runs) == len(pools[0].runs)  # spilled at the same sizes
    assert list(pools[1].iter_postings()) == list(pools[0].iter_postings()) == sorted(postings)
