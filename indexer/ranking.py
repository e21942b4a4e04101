"""Ranking: BM25F with the length normalisation capped, so a long document holding the exact word
is not pushed below short documents that share only its light stem."""

from __future__ import annotations

from typing import Any

from whoosh.scoring import BM25F, BM25FScorer

# A field longer than LENGTH_CAP times the average is scored as if it were LENGTH_CAP times the
# average. Plain BM25 divides a 5,000-word contract's single "pogodba" by its length until three
# 5-word notes that say only "pogodbe" outrank it. With the cap at 1.5 (B 0.75, K1 1.2) one exact
# occurrence scores at least 0.83 of its saturation, so exact (boost 2) plus light (boost 1)
# is >= 2.49 idf, above any light-only match (< 2.2 idf, and the exact word is never more common
# than its stem). Below the cap BM25 is unchanged: among documents of ordinary length the shorter
# still wins, which is what tests/indexer/test_relevance.py's precision figures measure.
LENGTH_CAP = 1.5


class _CappedScorer(BM25FScorer):  # type: ignore[misc]  # whoosh is untyped
    def _score(self, weight: float, length: float) -> float:
        score: float = super()._score(weight, min(length, LENGTH_CAP * self.avgfl))
        return score


class CappedBM25F(BM25F):  # type: ignore[misc]  # whoosh is untyped
    """whoosh's BM25F (same B and K1 per field) whose scorers cap the field length."""

    def scorer(self, searcher: Any, fieldname: str, text: bytes, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf=qf)
        b = self._field_B.get(fieldname, self.B)
        return _CappedScorer(searcher, fieldname, text, b, self.K1, qf=qf)
