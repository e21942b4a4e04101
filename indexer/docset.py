"""A set of documents as a query: a filter that an intersection can leapfrog instead of testing each match.

Whoosh applies a search filter after matching: every document the words match is read,
scored and then tested against the filter. With a narrow filter (`year:2018`, `class:04.1`)
and common words, that is tens of thousands of postings for a few hundred survivors. As the
small side of an `And`, the filter drives the intersection instead: the words' matchers
skip_to() the next allowed document, jumping whole posting blocks.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from whoosh.matching import ListMatcher, NullMatcher, ReadTooFar
from whoosh.query import Query


def segment_offset(searcher: Any) -> int:
    """The top-level docnum of a segment searcher's first document (0 for a top-level searcher):
    what turns the docnum sets kept by indexer.search into a segment's own numbering."""
    if searcher.has_parent():
        return int(searcher.get_parent()._offset_for_subsearcher(searcher))  # noqa: SLF001
    return 0


class _DocsMatcher(ListMatcher):  # type: ignore[misc]  # whoosh is untyped
    """Sorted docnums of one segment; adds nothing to a match's score."""

    _i: int  # ListMatcher's position in its id list

    def skip_to(self, id: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        self._i = bisect_left(self._ids, id, self._i)

    def score(self) -> float:
        return 0.0


class DocSet(Query):  # type: ignore[misc]  # whoosh is untyped
    """Matches exactly `docs` (the top-level searcher's docnums, sorted), with a score of 0."""

    def __init__(self, docs: Sequence[int]) -> None:
        self.docs = docs
        self.boost = 1.0
        self.fieldname = None  # no field, no terms: the highlighter finds nothing here to mark

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocSet) and other.docs is self.docs

    def __hash__(self) -> int:
        return id(self.docs)

    def __repr__(self) -> str:
        return f"DocSet({len(self.docs)} documents)"

    def is_leaf(self) -> bool:
        return True

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docs)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        offset = segment_offset(searcher)
        lo = bisect_left(self.docs, offset)
        hi = bisect_left(self.docs, offset + searcher.doc_count_all())
        if lo == hi:
            return NullMatcher()
        return _DocsMatcher([d - offset for d in self.docs[lo:hi]])
