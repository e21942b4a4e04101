"""Exact phrases by comparing word positions directly, without whoosh's span machinery.

whoosh answers `"za pogodbo"` with SpanNear2: for every document holding both words it builds
Span objects for each position and merges them. With two common words that is tens of
thousands of documents, and the span objects are most of the cost. An exact phrase (slop 1)
only needs one test per candidate: is there a position p of the first word with p+1 for the
second, p+2 for the third, and so on. The candidates, the documents holding every word, come
from set intersections of whole posting blocks' docnums (whoosh's intersection matcher stepped
through them one posting at a time, in Python). Scores are the words' own, as an AND of them
would give.

Where every word's postings are indexer.codec's flat blocks (every segment this code writes),
even that per-candidate test is skipped: each position becomes one int key, docnum << 40 plus
the position plus the word's place counted from the phrase's end, built a whole block at a time
by C iterators. The phrase's documents are then the keys all its words share: a set of the
rarest word's keys, narrowed by each other word's, one block of the rarest word at a time so a
search that stops at its count limit reads no further. "in in" or "of in" (20-47k candidates at
100,000 records, 0.2-0.8 s tested one by one under load) costs a few C passes over the words'
positions instead.

A phrase may also carry the documents the searcher may return (`admit`, top-level docnums):
whoosh filters a search only after a match, so without it a restricted user's phrase pays the
position test for every candidate they would never see.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from itertools import accumulate, chain, islice, repeat
from operator import add, sub
from typing import Any

from whoosh import matching
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.formats import Positions
from whoosh.query import Phrase, Term
from whoosh.util import make_binary_tree

from indexer.bulk import docnums
from indexer.codec import FlatLeafMatcher, whoosh_gaps
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
        texts = []
        for word in self.words:
            try:
                text = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (self.fieldname, text) not in reader:
                return matching.NullMatcher()
            texts.append(text)
        fmt = field.format
        postings = [_unfiltered(reader.postings(self.fieldname, t)) for t in texts]
        offset, admit = segment_offset(searcher), self.admit
        found: Iterator[int]
        if _flat_positions(fmt, postings):
            keep = _keeper(reader, offset, admit)
            found = _keyed(postings, [reader.doc_frequency(self.fieldname, t) for t in texts], keep)
        else:
            candidates = _holding_every(reader, self.fieldname, texts)
            if admit is not None:
                candidates = [d for d in candidates if d + offset in admit]
            if not candidates:
                return matching.NullMatcher()
            decode = _shifted_positions if type(fmt) is Positions else \
                lambda value, shift: [p - shift for p in fmt.decode_positions(value)]
            words = {t: _Positions(m, decode) for t, m in zip(texts, postings)}  # one reader per word
            found = _adjacent_among(candidates, [words[t] for t in texts])
        scoring = make_binary_tree(matching.IntersectionMatcher,
                                   [Term(self.fieldname, t).matcher(searcher, context) for t in texts])
        m: Any = _PhraseMatcher(scoring, found)
        if not m.is_active():
            return matching.NullMatcher()
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


def _flat_positions(fmt: Any, postings: list[Any]) -> bool:
    """Whether every word's positions are in indexer.codec's flat arrays (what the keyed test reads)."""
    return type(fmt) is Positions and all(isinstance(m, FlatLeafMatcher) for m in postings)  # noqa: E721


def _unfiltered(m: Any) -> Any:
    # A segment with deletions wraps its postings to hide deleted documents; the callers here
    # remove those themselves, from whole blocks.
    return m.child if isinstance(m, matching.FilterMatcher) else m


def _keeper(reader: Any, offset: int, admit: Container[int] | None) -> Callable[[int], bool] | None:
    """Whether a segment docnum may be returned: live, and admitted when the phrase carries `admit`;
    None when every document may."""
    deleted = reader.deleted_docs_set if reader.has_deletions() else None
    if admit is None:
        return None if not deleted else (lambda d: d not in deleted)
    if not deleted:
        return lambda d: d + offset in admit
    return lambda d: d not in deleted and d + offset in admit


def _adjacent_among(candidates: list[int], words: list[_Positions]) -> Iterator[int]:
    """The candidates where the words stand one after another, one position test each."""
    for doc in candidates:
        # start positions that the i-th word confirms at p + i, narrowed word by word (set ops in C)
        starts = set(words[0].shifted(doc, 0))
        for i, word in enumerate(words[1:], 1):
            starts.intersection_update(word.shifted(doc, i))
            if not starts:
                break
        else:
            yield doc


_KEY_BITS = 40  # a position key is docnum << 40 | position: no document holds 2**40 words


def _keyed(postings: list[Any], frequencies: list[int], keep: Callable[[int], bool] | None) -> Iterator[int]:
    """The documents where the words (their flat posting lists, in phrase order) stand one after
    another, in docnum order, one block of the rarest word at a time.

    Word i's keys carry its position plus (n - 1 - i), so a phrase at position p gives every word
    the same key, docnum << 40 | p + n - 1, and the phrase's documents are the keys all words share.
    """
    n = len(postings)
    order = sorted(range(n), key=lambda i: frequencies[i])
    rarest, others = _KeyBlocks(postings[order[0]], n - 1 - order[0]), \
        [_KeyBlocks(postings[i], n - 1 - i) for i in order[1:]]
    for first, last, keys in rarest.blocks():
        shared = set(keys)
        for word in others:
            shared = set(filter(shared.__contains__, chain.from_iterable(word.reaching(first, last))))
            if not shared:
                break
        docs = sorted(set(map(_KEY_BITS.__rrshift__, shared)))
        yield from docs if keep is None else filter(keep, docs)


class _KeyBlocks:
    """One word's position keys (docnum << 40 | position + lift), a posting block at a time,
    computed by C iterators over the block's flat arrays."""

    def __init__(self, m: Any, lift: int) -> None:
        self._m = m
        self._lift = lift
        self._kept: tuple[int, list[int]] | None = None  # a block read that reaches past the last window

    def blocks(self) -> Iterator[tuple[int, int, Iterable[int]]]:
        """Every block: its first and last docnum, and its keys."""
        m = self._m
        while m.is_active():
            ids, keys = self._read()
            m._next_block()  # noqa: SLF001
            yield ids[0], ids[-1], keys

    def reaching(self, first: int, last: int) -> Iterator[Iterable[int]]:
        """The keys of the blocks that hold docnums between first and last (windows must come in
        docnum order, each after the one before); blocks wholly before are skipped by their headers."""
        kept = self._kept
        if kept is not None and kept[0] >= first:
            yield kept[1]
            if kept[0] > last:
                return
        self._kept = None
        m = self._m
        while m.is_active():
            if m._maxid < first:  # noqa: SLF001 - the block's last docnum, from its header
                m._next_block()  # noqa: SLF001
                continue
            if m._ids is None:  # noqa: SLF001
                m._read_ids()  # noqa: SLF001
            if m._ids[0] > last:  # noqa: SLF001 - left for the next window
                return
            ids, keys = self._read()
            m._next_block()  # noqa: SLF001
            if ids[-1] > last:
                self._kept = (ids[-1], list(keys))
                yield self._kept[1]
                return
            yield keys

    def _read(self) -> tuple[Any, Iterable[int]]:
        m = self._m
        if m._ids is None:  # noqa: SLF001
            m._read_ids()  # noqa: SLF001
        ids = m._ids  # noqa: SLF001
        starts, gaps = m.positions()
        running = list(accumulate(gaps, initial=0))  # the block's gaps summed across its postings
        # posting j's positions are running[starts[j] + 1 : starts[j + 1] + 1] - running[starts[j]]
        offsets = map(sub, map(_KEY_BITS.__rlshift__, ids), map((-self._lift).__add__, map(running.__getitem__, starts)))
        counts = map(sub, islice(starts, 1, None), starts)
        return ids, map(add, islice(running, 1, None), chain.from_iterable(map(repeat, offsets, counts)))


class _PhraseMatcher(matching.WrappingMatcher):  # type: ignore[misc]
    """The phrase's documents (`found`, in docnum order); the wrapped intersection of the words'
    term matchers is kept on the current document, so scores (and anything else asked of it) are
    an AND of the words'."""

    def __init__(self, child: Any, found: Iterator[int]) -> None:
        super().__init__(child)
        self._found = found
        self._doc: int | None = None
        self._advance()

    def _advance(self) -> None:
        self._doc = next(self._found, None)
        if self._doc is not None and self.child.id() < self._doc:
            self.child.skip_to(self._doc)

    def is_active(self) -> bool:
        return self._doc is not None

    def id(self) -> int | None:
        return self._doc

    def copy(self) -> _PhraseMatcher:
        raise NotImplementedError("an exact-phrase matcher is used once")  # whoosh copies only to prune

    def supports_block_quality(self) -> bool:
        return False  # a block's best score says nothing about whether the words are adjacent

    def replace(self, minquality: float = 0) -> Any:
        return self if self.is_active() else matching.NullMatcher()

    def next(self) -> bool:
        self._advance()
        return True  # moved: the caller re-reads is_active/id

    def skip_to(self, id: int) -> bool:
        while self._doc is not None and self._doc < id:
            self._doc = next(self._found, None)
        if self._doc is not None and self.child.id() < self._doc:
            self.child.skip_to(self._doc)
        return True

    def all_ids(self) -> Iterator[int]:
        while self._doc is not None:
            yield self._doc
            self._advance()
