"""Speed work must not move a single result: the bench queries (bench/corpus.py) against a 2,000-record
index give the same hits, in the same order, the same totals and facets as the code before it did.

tests/fixtures/search_golden.json was written by the search and build code before the snippet,
matching and parallel-build changes of issue 21; rewrite it only for a deliberate ranking change:

    STRONGROOM_WRITE_GOLDEN=1 .venv/bin/python -m pytest tests/indexer/test_search_golden.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import PRINCIPALS, Vocabulary, corpus, queries, text_of
from indexer.search import WhooshIndex, open_index, rebuild
from records.access import AccessScope
from records.model import Confidentiality, RecordId, Role
from records.ports import SearchRequest
from tests.indexer.samples import KEY

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "search_golden.json"
RECORDS = 2_000
VOCAB = Vocabulary()
SCOPES = {
    "admin": AccessScope.system(),
    "viewer": AccessScope(actor="half", role=Role.VIEWER, clearance=Confidentiality.SECRET,
                          principals=frozenset(PRINCIPALS[:3])),
    "internal": AccessScope(actor="vida", role=Role.VIEWER, clearance=Confidentiality.INTERNAL, principals=None),
}
# (page, page_len, sort) per query, cycled: page 1 of 10 by relevance is what the bench measures
REQUESTS = ((1, 10, "relevance"), (2, 10, "relevance"), (1, 20, "date"), (1, 10, "relevance"), (1, 10, "-date"))


def _text(record_id: RecordId) -> str:
    return text_of(VOCAB, int(record_id[1:]))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshIndex]:
    root = tmp_path_factory.mktemp("golden") / "index"
    # batches of 500: several commits, so several segments, as a reindexed home has
    rebuild(root, KEY, corpus(VOCAB, RECORDS), total=RECORDS, batch=500)
    ix = open_index(root, KEY)
    yield ix
    ix.close()


def _outcomes(index: WhooshIndex) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, scope in SCOPES.items():
        rows = []
        for i, q in enumerate(queries(VOCAB, 200)):
            page, page_len, sort = REQUESTS[i % len(REQUESTS)]
            result = index.search(SearchRequest(q, page=page, page_len=page_len, sort=sort), scope, _text)
            rows.append({"q": q, "page": page, "sort": sort, "ids": [h.record_id for h in result.hits],
                         "total": result.total, "exact": result.total_exact, "facets": result.facets})
        out[name] = rows
    return out


def _write(outcomes: dict[str, Any]) -> None:
    """One result per line, so a changed result is one line of the diff."""
    lines = []
    for name, rows in sorted(outcomes.items()):
        body = ",\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for r in rows)
        lines.append(f"{json.dumps(name)}: [\n{body}\n]")
    GOLDEN.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def test_bench_queries_give_the_recorded_results(index: WhooshIndex) -> None:
    outcomes = _outcomes(index)
    if os.environ.get("STRONGROOM_WRITE_GOLDEN") == "1":
        _write(outcomes)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for name in SCOPES:
        for got, want in zip(outcomes[name], golden[name], strict=True):
            assert got == want, (name, want["q"])


def test_every_hit_has_a_marked_snippet_when_its_words_are_in_the_text(index: WhooshIndex) -> None:
    """The bench's word queries find their words in the body, so each shown hit marks one."""
    for q in queries(VOCAB, 60)[:60:3]:  # the rare words: they are in the body, not the title
        result = index.search(SearchRequest(q, page_len=10), SCOPES["admin"], _text)
        for hit in result.hits:
            if q.lower() in _text(hit.record_id).lower():
                assert "<mark>" in hit.snippet, (q, hit.record_id)


def test_rescored_candidates_give_the_recorded_results_too(index: WhooshIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """With three or more words whoosh groups them by estimated size, so indexer.topk scores its
    candidates again with whoosh's matcher: forced here for every query."""
    from indexer import topk
    monkeypatch.setattr(topk, "_sums_are_whooshs", lambda groups: False)
    outcomes = _outcomes(index)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for name in SCOPES:
        for got, want in zip(outcomes[name], golden[name], strict=True):
            assert got == want, (name, want["q"])
