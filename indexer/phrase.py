"""Exact phrases by comparing word positions directly, without whoosh's span machinery.

whoosh answers `"za pogodbo"` with SpanNear2: for every document holding both words it builds
Span objects for each position and merges them. With two common words that is tens of
thousands of documents, and the span objects are most of the cost. An exact phrase (slop 1)
only needs one test per candidate: is there a position p of the first word with p+1 for the
second, p+2 for the third, and so on. Scores are the words' own, as an AND of them would give.

A phrase may also carry the documents the searcher may return (`admit`, top-level docnums):
whoosh filters a search only after a match, so without it a restricted user's phrase pays the
position test for every candidate they would never see.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from itertools import accumulate
from pickle import loads
from typing import Any

from whoosh import matching
from whoosh.formats import Positions
from whoosh.query import Phrase, Term
from whoosh.system import _INT_SIZE
from whoosh.util import make_binary_tree

from indexer.docset import segment_offset


class ExactPhrase(Phrase):  # type: ignore[misc]  # whoosh is untyped
    """A Phrase with slop 1 matched by position sets; anything else falls back to whoosh."""

    admit: Container[int] | None = None

    def admitting(self, docs: Container[int]) -> ExactPhrase:
        """This phrase, tested only on `docs` (the top-level searcher's docnums)."""
        q = ExactPhrase(self.fieldname, self.words, slop=self.slop, boost=self.boost, char_ranges=self.char_ranges)
        q.admit = docs  # shared, not copied: the scope's set is cached by the searcher
        return q

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        if self.slop != 1 or len(self.words) < 2 or self.fieldname not in searcher.schema:
            return super().matcher(searcher, context)
        field = searcher.schema[self.fieldname]
        if not field.format or not field.format.supports("positions"):
            return super().matcher(searcher, context)  # whoosh's own error message
        reader = searcher.reader()
        terms = []
        for word in self.words:
            try:
                text = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (self.fieldname, text) not in reader:
                return matching.NullMatcher()
            terms.append(Term(self.fieldname, text).matcher(searcher, context))
        both = make_binary_tree(matching.IntersectionMatcher, terms)
        offset = segment_offset(searcher) if self.admit is not None else 0
        shifted = _shifted_positions if type(field.format) is Positions else _decoded_positions
        m: Any = _AdjacentMatcher(both, terms, shifted, self.admit, offset)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


def _shifted_positions(m: Any, shift: int) -> Iterable[int]:
    """The current posting's positions minus `shift`, decoded in C. whoosh's Positions value is
    a count (_INT_SIZE bytes), then the pickled list of gaps (sometimes without pickle's final '.');
    its own decoder sums the gaps in a Python loop."""
    value = m.value()
    if not value.endswith(b"."):
        value += b"."
    gaps = loads(value[_INT_SIZE:])
    # `initial` adds one extra value, -shift: negative, so it never meets a real position
    return accumulate(gaps, initial=-shift) if shift else accumulate(gaps)


def _decoded_positions(m: Any, shift: int) -> Iterable[int]:
    return [p - shift for p in m.value_as("positions")]


class _AdjacentMatcher(matching.WrappingMatcher):  # type: ignore[misc]
    """The documents of an intersection of term matchers where the words stand one after another."""

    def __init__(self, child: Any, terms: list[Any], positions: Callable[[Any, int], Iterable[int]],
                 admit: Container[int] | None = None, offset: int = 0) -> None:
        super().__init__(child)
        self._terms = terms
        self._positions = positions
        self._admit = admit
        self._offset = offset
        self._settle()

    def _adjacent(self) -> bool:
        # Start positions that the i-th word confirms at p + i, narrowed word by word (set ops in C).
        terms, positions = iter(self._terms), self._positions
        starts = set(positions(next(terms), 0))
        for i, m in enumerate(terms, 1):
            starts.intersection_update(positions(m, i))
            if not starts:
                return False
        return True

    def _settle(self) -> None:
        child, admit, offset = self.child, self._admit, self._offset
        if admit is None:
            while child.is_active() and not self._adjacent():
                child.next()
        else:
            while child.is_active() and (child.id() + offset not in admit or not self._adjacent()):
                child.next()

    def copy(self) -> _AdjacentMatcher:
        raise NotImplementedError("an exact-phrase matcher is used once")  # whoosh copies only to prune

    def supports_block_quality(self) -> bool:
        return False  # a block's best score says nothing about whether the words are adjacent

    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else matching.NullMatcher()

    def next(self) -> bool:
        self.child.next()
        self._settle()
        return True  # the child was replaced or moved: the caller re-reads is_active/id

    def skip_to(self, id: int) -> bool:
        self.child.skip_to(id)
        self._settle()
        return True

    def all_ids(self) -> Iterator[int]:
        while self.is_active():
            yield self.id()
            self.next()
