"""The first matches of a word query, read a whole posting block at a time.

Counting a common word's matches (for the total and the facets) by stepping whoosh's matchers
costs several Python calls per document and per field: a word is an Or over four fields, and a
viewer who may see half the records steps through 4,000 documents to count 2,000. Posting
blocks already hold their docnums as arrays. Reading them whole, window by window, and joining
the fields with set operations (in C) gives the same documents in the same order for a fraction
of the calls. Only Or and And over terms are read this way; any other query returns None and
is walked by its matcher.
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from collections.abc import Collection
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.query import And, Or, Query, Term
from whoosh.reading import TermNotFound

FIRST_WINDOW = 8192  # docnums; doubled after each window, so a long scan costs few windows


class _Postings:
    """One term's postings in one segment, handed out in docnum windows."""

    def __init__(self, matcher: Any) -> None:
        if isinstance(matcher, FilterMatcher):
            # A segment with deletions wraps its postings to hide the deleted documents. The
            # caller's `allowed` set never holds a deleted document, so the filter is redundant.
            matcher = matcher.child
        self._m = matcher

    def below(self, hi: int) -> list[int]:
        """The docnums under `hi` not yet handed out."""
        m, out = self._m, []
        if isinstance(m, W3LeafMatcher):  # whoosh 3's block matcher (or indexer.codec's): its blocks are read here
            while m.is_active():
                if m._ids is None:  # noqa: SLF001 - the block's docnums, decoded once
                    m._read_ids()  # noqa: SLF001
                ids, i = m._ids, m._i  # noqa: SLF001
                j = bisect_left(ids, hi, i)
                out.extend(ids[i:j])
                if j < len(ids):
                    m._i = j  # noqa: SLF001
                    break
                m._next_block()  # noqa: SLF001
            return out
        while m.is_active() and m.id() < hi:
            out.append(m.id())
            m.next()
        return out


def docnums(matcher: Any) -> list[int]:
    """Every docnum of one term's postings in a segment, in order, read a whole block at a time;
    deleted documents included (a FilterMatcher is unwrapped: the caller removes them)."""
    return _Postings(matcher).below(sys.maxsize)


def _plan(q: Query, reader: Any) -> Any:
    """The query as nested ("or"|"and", parts) over _Postings, or None when it has other parts."""
    kind = type(q)
    if kind is Term:
        try:
            return _Postings(reader.postings(q.fieldname, q.text))
        except TermNotFound:
            return ("or", [])  # matches nothing in this segment
    if kind is Or and not q.minmatch:
        parts = [_plan(c, reader) for c in q.subqueries]
        return None if any(p is None for p in parts) else ("or", parts)
    if kind is And:
        parts = [_plan(c, reader) for c in q.subqueries]
        return None if any(p is None for p in parts) else ("and", parts)
    return None


def _docs(plan: Any, hi: int) -> set[int]:
    if isinstance(plan, _Postings):
        return set(plan.below(hi))
    op, parts = plan
    sets = [_docs(p, hi) for p in parts]  # every cursor advances to hi, whatever the others hold
    if not sets:
        return set()
    if op == "or":
        return set().union(*sets)
    return set.intersection(*sorted(sets, key=len))


def first_matches(searcher: Any, q: Query, allowed: Collection[int], limit: int) -> list[int] | None:
    """The first `limit` documents (top-level docnums, ascending) that `q` matches and `allowed`
    holds; None when `q` is not an Or/And tree of terms. `allowed` must exclude deleted documents."""
    plans = []
    for sub, offset in searcher.leaf_searchers():
        plan = _plan(q, sub.reader())
        if plan is None:
            return None
        plans.append((plan, offset, sub.doc_count_all()))
    out: list[int] = []
    for plan, offset, size in plans:
        lo, window = 0, FIRST_WINDOW
        while lo < size and len(out) < limit:
            hi = min(size, lo + window)
            docs = _docs(plan, hi)
            if offset:
                docs = {d + offset for d in docs}
            out.extend(sorted(docs.intersection(allowed)))
            lo, window = hi, window * 2
        if len(out) >= limit:
            break
    return out[:limit]
