"""indexer.bulk against whoosh's own matchers: the same first matches, in the same order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh.query import And, Not, Or, Prefix, Term

from indexer import bulk
from indexer.schema import document_of
from indexer.search import open_index
from records.model import RecordId
from tests.indexer.samples import KEY, doc

WORDS = ["in", "na", "pogodba", "arve", "sklep", "za"]


@pytest.fixture
def searcher(tmp_path: Path):  # type: ignore[no-untyped-def]
    rng = random.Random(23)
    ix = open_index(tmp_path / "index", KEY, create=True)
    for start in range(0, 600, 150):  # unmerged segments, so offsets matter
        writer = ix._index.writer()  # noqa: SLF001
        for i in range(start, start + 150):
            text = " ".join(rng.choices(WORDS, weights=[30, 20, 5, 5, 2, 10], k=rng.randrange(1, 12)))
            writer.update_document(**document_of(doc(f"b{i:03d}", text)))
        writer.commit(merge=False)
    ix.remove([RecordId(f"b{i:03d}") for i in range(0, 600, 7)])  # deletions inside segments
    s = ix.searcher()
    assert len(s.leaf_searchers()) > 1
    yield s
    ix.close()


def _walked(s, q, allowed, limit):  # type: ignore[no-untyped-def]
    return [d for d in sorted(s.docs_for_query(q)) if d in allowed][:limit]


@pytest.mark.parametrize("q", [
    Term("body", "pogodba"),
    Or([Term("body", "sklep"), Term("title", "sklep"), Term("body", "nikoli")]),
    And([Term("body", "in"), Term("body", "na")]),
    And([Or([Term("body", "in"), Term("body", "za")]), Or([Term("body", "arve"), Term("body", "sklep")])]),
    Term("body", "nikoli"),
])
def test_first_matches_equal_the_matchers(searcher, q, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bulk, "FIRST_WINDOW", 16)  # many windows, across block boundaries
    everyone = set(searcher.docs_for_query(Or([Term("body", w) for w in WORDS])))
    half = {d for d in everyone if d % 2}
    for allowed in (everyone, half):
        for limit in (1, 25, 10_000):
            assert bulk.first_matches(searcher, q, allowed, limit) == _walked(searcher, q, allowed, limit), (q, limit)


def test_other_queries_are_left_to_the_matchers(searcher) -> None:  # type: ignore[no-untyped-def]
    everyone = set(range(searcher.doc_count_all()))
    assert bulk.first_matches(searcher, And([Term("body", "in"), Not(Term("body", "na"))]), everyone, 10) is None
    assert bulk.first_matches(searcher, Prefix("body", "pog"), everyone, 10) is None
