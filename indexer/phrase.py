"""Exact phrases by comparing word positions directly, without whoosh's span machinery.

whoosh answers `"za pogodbo"` with SpanNear2: for every document holding both words it builds
Span objects for each position and merges them. With two common words that is tens of
thousands of documents, and the span objects are most of the cost. An exact phrase (slop 1)
only needs one test per candidate: is there a position p of the first word with p+1 for the
second, p+2 for the third, and so on. The candidates, the documents holding every word, come
from set intersections of whole posting blocks' docnums (whoosh's intersection matcher stepped
through them one posting at a time, in Python). Scores are the words' own, as an AND of them
would give.

When every word is common (the rarest in more than 1/AT_ONCE_SHARE of the documents the words are
in), the candidates are most of the segment and testing them one by one costs ~3 microseconds
each; the phrase's documents are then found from every position at once instead: each word's
positions as one sorted numpy array of docnum << 32 | position, shifted back by the word's place,
intersected by binary search. The matcher then only scores them.

A phrase may also carry the documents the searcher may return (`admit`, top-level docnums):
whoosh filters a search only after a match, so without it a restricted user's phrase pays the
position test for every candidate they would never see.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

from whoosh import matching
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.formats import Positions
from whoosh.query import Phrase, Term
from whoosh.util import make_binary_tree

from indexer.bulk import docnums
from indexer.codec import FlatLeafMatcher, position_keys, whoosh_gaps
from indexer.docset import segment_offset


# each phrase's candidates per (segment offset, field, words): live documents holding every word,
# or (True) the phrase itself
PhraseCandidates = dict[tuple[int, str, tuple[bytes, ...]], tuple[set[int], bool]]
# A phrase is matched from every position of its words at once (numpy) when its rarest word is in
# more than 1/AT_ONCE_SHARE of the documents its words are in: testing documents one by one costs
# ~3 microseconds each, reading positions at once ~0.25 per document of every word (measured at
# 100,000 records: "za pogodbo", 67,000 candidates, 180 ms one by one, ~45 ms at once).
AT_ONCE_SHARE = 12


class ExactPhrase(Phrase):  # type: ignore[misc]  # whoosh is untyped
    """A Phrase with slop 1 matched by position sets; anything else falls back to whoosh."""

    admit: Container[int] | None = None
    among: Sequence[int] | None = None
    holding: PhraseCandidates

    def admitting(self, docs: Container[int]) -> ExactPhrase:
        """This phrase, tested only on `docs` (the top-level searcher's docnums)."""
        q = ExactPhrase(self.fieldname, self.words, slop=self.slop, boost=self.boost, char_ranges=self.char_ranges)
        q.admit = docs  # shared, not copied: the scope's set is cached by the searcher
        return q

    def only(self, docs: Sequence[int], holding: PhraseCandidates) -> ExactPhrase:
        """This phrase, tested only on `docs` (top-level docnums, sorted). `holding` keeps each
        segment's documents holding every word of each phrase across calls: a search testing its candidates a
        chunk at a time reads the words' postings once."""
        q = ExactPhrase(self.fieldname, self.words, slop=self.slop, boost=self.boost, char_ranges=self.char_ranges)
        q.among, q.holding = docs, holding
        return q

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        if self.slop != 1 or len(self.words) < 2 or self.fieldname not in searcher.schema:
            return super().matcher(searcher, context)
        field = searcher.schema[self.fieldname]
        if not field.format or not field.format.supports("positions"):
            return super().matcher(searcher, context)  # whoosh's own error message
        reader = searcher.reader()
        texts = []
        for word in self.words:
            try:
                text = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (self.fieldname, text) not in reader:
                return matching.NullMatcher()
            texts.append(text)
        if self.among is not None:
            offset = segment_offset(searcher)
            lo, hi = bisect_left(self.among, offset), bisect_left(self.among, offset + searcher.doc_count_all())
            key = (offset, self.fieldname, tuple(texts))
            if key not in self.holding:
                found, exact = _candidates(reader, self.fieldname, texts)
                self.holding[key] = (set(found), exact)
            held, exact = self.holding[key]
            candidates = [d - offset for d in self.among[lo:hi] if d - offset in held]
        else:
            candidates, exact = _candidates(reader, self.fieldname, texts)
        if self.admit is not None:
            offset, admit = segment_offset(searcher), self.admit
            candidates = [d for d in candidates if d + offset in admit]
        if not candidates:
            return matching.NullMatcher()
        scoring = make_binary_tree(matching.IntersectionMatcher,
                                   [Term(self.fieldname, t).matcher(searcher, context) for t in texts])
        if exact:  # the phrase's own documents: nothing left to test
            m: Any = _AdjacentMatcher(scoring, [], candidates)
        else:
            fmt = field.format
            decode = _shifted_positions if type(fmt) is Positions else \
                lambda value, shift: [p - shift for p in fmt.decode_positions(value)]
            words = {t: _Positions(reader.postings(self.fieldname, t), decode) for t in dict.fromkeys(texts)}
            # the rarest word first: its few positions make the set, the commonest word's are only looked up
            order = sorted(range(len(texts)), key=lambda i: reader.doc_frequency(self.fieldname, texts[i]))
            m = _AdjacentMatcher(scoring, [(i, words[texts[i]]) for i in order], candidates)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


def _shifted_positions(value: bytes, shift: int) -> Iterable[int]:
    """A whoosh Positions value's positions minus `shift`, summed in C (whoosh's own decoder sums
    the gaps in a Python loop)."""
    gaps = whoosh_gaps(value)
    # `initial` adds one extra value, -shift: negative, so it never meets a real position
    return accumulate(gaps, initial=-shift) if shift else accumulate(gaps)


class _Positions:
    """One word's positions by docnum, for documents met in order: whole blocks are skipped by
    their headers, and a block read is kept as {docnum: its place in the block} (a dict built in
    C) instead of a skip_to and a value() call per document. A block of indexer.codec keeps the
    positions as flat arrays, sliced here; any other is decoded from whoosh's per-posting value."""

    def __init__(self, m: Any, decode: Callable[[bytes, int], Iterable[int]]) -> None:
        self._m = m.child if isinstance(m, matching.FilterMatcher) else m  # candidates are live documents
        self._decode = decode
        self._block: dict[int, int] | None = None
        self._flat: tuple[list[int], Any] | None = None

    def shifted(self, doc: int, shift: int) -> Iterable[int]:
        """The positions of the word in `doc`, each minus `shift`."""
        m = self._m
        if not isinstance(m, W3LeafMatcher):
            if m.id() < doc:
                m.skip_to(doc)
            return self._decode(m.value(), shift)
        if doc > m._maxid:  # noqa: SLF001 - the block's last docnum, from its header
            m._skip_to_block(lambda: doc > m._maxid)  # noqa: SLF001
            self._block = None
        if self._block is None:
            if m._ids is None:  # noqa: SLF001
                m._read_ids()  # noqa: SLF001
            self._block = dict(zip(m._ids, range(len(m._ids))))  # noqa: SLF001
            self._flat = m.positions() if isinstance(m, FlatLeafMatcher) else None
        at = self._block[doc]
        if self._flat is not None:
            starts, gaps = self._flat
            mine = gaps[starts[at]:starts[at + 1]]
            # `initial` adds one extra value, -shift: negative, so it never meets a real position
            return accumulate(mine, initial=-shift) if shift else accumulate(mine)
        if m._values is None:  # noqa: SLF001
            m._read_values()  # noqa: SLF001
        return self._decode(m._values[at], shift)  # noqa: SLF001


def _candidates(reader: Any, fieldname: str, texts: list[bytes]) -> tuple[list[int], bool]:
    """The segment's live documents that may hold the phrase, in order, and whether each does: the
    phrase's own documents, every position read at once, when its rarest word is common enough that
    testing the documents one by one would cost more; else the documents holding every word."""
    frequencies = [reader.doc_frequency(fieldname, t) for t in texts]
    if min(frequencies) * AT_ONCE_SHARE > sum(frequencies):
        found = _adjacent_everywhere(reader, fieldname, texts)
        if found is not None:
            if found and reader.has_deletions():
                deleted = reader.deleted_docs_set
                found = [d for d in found if d not in deleted]
            return found, True
    return _holding_every(reader, fieldname, texts), False


def _adjacent_everywhere(reader: Any, fieldname: str, texts: list[bytes]) -> list[int] | None:
    """The segment's documents (deleted ones too) where the words stand one after another, from
    every position of each word at once (indexer.codec.position_keys): the word at place i is
    shifted back by i, and a phrase starts where every word's shifted keys meet (sorted arrays,
    binary searches in numpy). None when a word's postings are not in indexer.codec's blocks."""
    import numpy as np  # here, not at the top: most processes never match a phrase (WhooshIndex.warm loads it)

    keys = {}
    for text in dict.fromkeys(texts):
        m = reader.postings(fieldname, text)
        m = m.child if isinstance(m, matching.FilterMatcher) else m
        found = position_keys(m) if isinstance(m, FlatLeafMatcher) else None
        if found is None:
            return None
        keys[text] = found
    n = len(texts)
    order = sorted(range(n), key=lambda i: len(keys[texts[i]]))
    starts = keys[texts[order[0]]] + (n - order[0])  # a start of n - place keeps a shifted key in its document
    for i in order[1:]:
        other = keys[texts[i]] + (n - i)
        at = np.minimum(np.searchsorted(other, starts), len(other) - 1)
        starts = starts[other[at] == starts]
        if not len(starts):
            return []
    docs: list[int] = np.unique(starts >> 32).tolist()
    return docs


def _holding_every(reader: Any, fieldname: str, texts: list[bytes]) -> list[int]:
    """The segment's live documents holding every word, in order: each word's docnums read from
    whole posting blocks into a set and the sets intersected (C loops), instead of leapfrogging
    the words' matchers one posting at a time, which was most of the cost of a common phrase."""
    common: set[int] | None = None
    for text in dict.fromkeys(texts):
        docs = set(docnums(reader.postings(fieldname, text)))
        common = docs if common is None else common & docs
        if not common:
            return []
    if common and reader.has_deletions():
        common.difference_update(reader.deleted_docs_set)
    return sorted(common or ())


class _AdjacentMatcher(matching.WrappingMatcher):  # type: ignore[misc]
    """The candidates (documents holding every word) where the words stand one after another,
    in docnum order; the wrapped intersection of the words' term matchers is kept on the current
    document, so scores (and anything else asked of it) are an AND of the words'."""

    def __init__(self, child: Any, words: list[tuple[int, _Positions]], candidates: list[int]) -> None:
        super().__init__(child)
        # (place in the phrase, positions), rarest first; none: every candidate is a match
        self._first = words[0] if words else None
        self._middle, self._last = words[1:-1], words[-1] if words else None
        self._docs = candidates
        self._at = 0
        self._settle()

    def _adjacent(self, doc: int) -> bool:
        # Start positions that the word at place i confirms at p + i, narrowed word by word (set ops
        # in C); the last word's positions are only looked up, stopping at the first confirmed.
        if self._first is None or self._last is None:
            return True
        i, word = self._first
        starts = set(word.shifted(doc, i))
        for i, word in self._middle:
            starts.intersection_update(word.shifted(doc, i))
            if not starts:
                return False
        i, word = self._last
        return not starts.isdisjoint(word.shifted(doc, i))

    def _settle(self) -> None:
        docs = self._docs
        while self._at < len(docs):
            doc = docs[self._at]
            if self._adjacent(doc):
                if self.child.id() < doc:
                    self.child.skip_to(doc)
                return
            self._at += 1

    def is_active(self) -> bool:
        return self._at < len(self._docs)

    def id(self) -> int:
        return self._docs[self._at]

    def copy(self) -> _AdjacentMatcher:
        raise NotImplementedError("an exact-phrase matcher is used once")  # whoosh copies only to prune

    def supports_block_quality(self) -> bool:
        return False  # a block's best score says nothing about whether the words are adjacent

    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else matching.NullMatcher()

    def next(self) -> bool:
        self._at += 1
        self._settle()
        return True  # moved: the caller re-reads is_active/id

    def skip_to(self, id: int) -> bool:
        if self.is_active() and id > self.id():
            self._at = bisect_left(self._docs, id, self._at)
            self._settle()
        return True

    def all_ids(self) -> Iterator[int]:
        while self.is_active():
            yield self.id()
            self.next()
