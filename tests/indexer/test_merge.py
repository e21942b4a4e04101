"""Segment merges after a commit (indexer.generations.merge_in_tiers): small segments are joined in
tiers, and no commit rewrites a big segment (that held every upload for minutes at 100,000 records)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from whoosh.writing import SegmentWriter

from indexer import generations
from indexer.search import open_index
from records.access import AccessScope
from records.model import RecordId
from records.ports import SearchRequest
from tests.indexer.samples import KEY, doc

ADMIN = AccessScope.system()
COMMITS = 200


def _segments(ix: object) -> list[tuple[str, int]]:
    searcher = ix.searcher()  # type: ignore[attr-defined]
    return sorted((sub.reader().segment().segment_id(), sub.reader().doc_count_all())
                  for sub, _ in searcher.leaf_searchers())


def test_commits_merge_small_segments_in_tiers_and_never_a_big_one(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generations, "MERGE_FANOUT", 4)
    monkeypatch.setattr(generations, "MERGE_MAX_DOCS", 100)
    ix = open_index(tmp_path / "index", KEY, create=True)
    for part in range(3):  # three segments over MERGE_MAX_DOCS, as `reindex` leaves them
        ix.upsert([doc(f"big{part}{i:03d}", f"zapisnik seje {i}") for i in range(150)])
    big = {sid for sid, _ in _segments(ix)}
    assert len(big) == 3
    merged: list[int] = []
    add_reader = SegmentWriter.add_reader

    def counting(writer: SegmentWriter, reader: Any) -> None:
        merged.append(reader.doc_count_all())
        add_reader(writer, reader)
    monkeypatch.setattr(SegmentWriter, "add_reader", counting)
    most = 0
    for i in range(COMMITS):  # one record filed at a time, as the drop folder and uploads do
        ix.upsert([doc(f"one{i:03d}", f"pogodba {i} dobava")])
        segments = _segments(ix)
        assert big <= {sid for sid, _ in segments}, f"commit {i} rewrote a big segment"
        most = max(most, len(segments))
    assert merged and max(merged) <= 100, "small segments were merged, never one over the limit"
    assert most <= 3 + 3 * 4, f"up to three tiers of fewer than four segments each beside the big ones, saw {most}"
    assert ix.search(SearchRequest("pogodba", page_len=200), ADMIN, lambda rid: "").total == COMMITS
    assert ix.search(SearchRequest("zapisnik", page_len=500), ADMIN, lambda rid: "").total == 450
    ix.remove([RecordId(f"one{i:03d}") for i in range(0, COMMITS, 2)])  # deletions merge away with their segments
    assert ix.search(SearchRequest("pogodba", page_len=200), ADMIN, lambda rid: "").total == COMMITS // 2
