"""Fixes for whoosh-reloaded 2.7.5 defects that matter to a records index (see whoosh.md §1.5)."""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timezone
from itertools import accumulate
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher, W3PerDocReader
from whoosh.matching import ReadTooFar
from whoosh.qparser.dateparse import DateParserPlugin
from whoosh.reading import MultiReader, SegmentReader
from whoosh.searching import Searcher

_installed = False


def fresh_searcher(searcher: Searcher) -> Searcher:
    """A searcher that sees the latest commit. 2.7.5's `refresh()` re-adds every old segment
    (identity comparison in FileIndex._reader), so deleted or re-classified records would stay
    visible. Here the new table of contents decides: a segment still there with the same deletions
    keeps its open reader, every other segment is opened anew, and readers of segments gone are
    closed. Opening every segment again after each commit cost ~0.8 s at 100,000 records (the
    decrypted-segment cache cannot hold a whole large index)."""
    if searcher.up_to_date():
        return searcher
    index = searcher._ix  # noqa: SLF001 - whoosh keeps the owning index here
    try:
        reader = _reader_reusing(index, searcher.ixreader)
    except Exception:  # noqa: BLE001 - a table of contents replaced while read: whoosh's own retrying open
        reader = None
    if reader is None:
        searcher.close()
        return index.searcher(weighting=searcher.weighting)  # keep the ranking (indexer/ranking.py)
    return Searcher(reader, weighting=searcher.weighting, fromindex=index)


def _reader_reusing(index: Any, old: Any) -> Any:
    info = index._read_toc()  # noqa: SLF001 - what index.reader() reads, without its reuse defect
    if len(info.segments) < 2:
        return None  # one segment (a fresh or merged index): nothing to reuse
    open_readers = {r.segment().segment_id(): r for r, _ in old.leaf_readers() if r.segment() is not None}
    readers = []
    for segment in info.segments:
        kept = open_readers.get(segment.segment_id())
        if kept is not None and not kept.is_closed and kept.segment().deleted_count() == segment.deleted_count():
            del open_readers[segment.segment_id()]  # deletions only grow: the same count is the same set
            readers.append(kept)
        else:
            readers.append(SegmentReader(index.storage, info.schema, segment, generation=info.generation))
    for gone in open_readers.values():
        gone.close()
    return MultiReader(readers, generation=info.generation)


def _refresh(self: Searcher) -> Searcher:
    if self._ix is None:  # noqa: SLF001
        raise ValueError("this searcher was not opened from an index and cannot refresh")
    return fresh_searcher(self)


def date_parser_plugin(**kwargs: Any) -> DateParserPlugin:
    """DateParserPlugin with an explicit naive-UTC basedate (its default calls the deprecated
    utcnow(), which warnings-as-errors turns into a failed query)."""
    kwargs.setdefault("basedate", datetime.now(timezone.utc).replace(tzinfo=None))
    return DateParserPlugin(**kwargs)


def _cached_reader(self: W3PerDocReader, fieldname: str, column: Any) -> Any:
    """2.7.5 caches a segment's length-column readers but not their absence, so writing a segment
    stats the disk once per posting of every field without lengths (ids, facets, numbers): 28,000
    stats, an eighth of the commit, for 1,000 records. A segment's files never change once written,
    so "no such column" is as cacheable as the reader."""
    if fieldname not in self._readers:  # noqa: SLF001 - whoosh's own per-segment cache
        found = self.has_column(fieldname)
        self._readers[fieldname] = self.column_reader(fieldname, column) if found else None  # noqa: SLF001
    return self._readers[fieldname]  # noqa: SLF001


def _skip_to(self: W3LeafMatcher, targetid: int) -> None:
    """2.7.5 steps through a posting block one next() at a time to reach `targetid`; a driven
    intersection (a `year:` filter under two common words) makes 100,000 such skips per query.
    The block's docnums are a sorted tuple: bisect them."""
    if not self.is_active():
        raise ReadTooFar
    if targetid <= self.id():
        return
    if targetid > self._maxid:  # noqa: SLF001 - the current block's last docnum
        self._skip_to_block(lambda: targetid > self._maxid)  # noqa: SLF001
        if not self.is_active():
            return
        if self._ids is None:  # noqa: SLF001
            self._read_ids()  # noqa: SLF001
    # targetid <= this block's last docnum, so the position stays inside the block
    self._i = bisect_left(self._ids, targetid, self._i)  # noqa: SLF001


def _read_ids(self: W3LeafMatcher) -> None:
    """2.7.5 undoes the block's delta coding with a Python generator, one call per posting (a
    quarter of the cost of reading a block); itertools.accumulate does the same sums in C."""
    if self._data is None:  # noqa: SLF001
        self._read_data()  # noqa: SLF001
    ids = self._data[0]  # noqa: SLF001
    self._ids = ids if self._byteids else tuple(accumulate(ids))  # noqa: SLF001


def install() -> None:
    """Patch Searcher.refresh, the segment readers' column cache, posting skips and block
    decoding once per process (idempotent)."""
    global _installed
    if not _installed:
        Searcher.refresh = _refresh
        W3PerDocReader._cached_reader = _cached_reader  # noqa: SLF001
        W3LeafMatcher.skip_to = _skip_to
        W3LeafMatcher._read_ids = _read_ids  # noqa: SLF001
        _installed = True
