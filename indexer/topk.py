"""The top N of a word query: every match scored from whole posting blocks, whoosh's own score for the few that can rank.

A word is an Or over five fields; whoosh answers it with an ArrayUnionMatcher that scores every
posting of every field one matcher call at a time (several Python calls each, and a column read
for the field length): at 10,000 records two thirds of a search's time (issue 21). The score of
a posting depends only on its weight and its field length byte, so here each posting block is
read whole and scored from a small (weight, length) table built with the same scorer; the
fields of a word are summed and the words of an And intersected in dictionaries (C loops).

Those sums may differ from whoosh's in the last bits (whoosh adds the same parts grouped by its
matcher tree), and ranking ties are common (quantised lengths, equal term counts). So they only
choose candidates: every document whose sum comes within a relative 1e-9 of the N-th best is
scored again by whoosh's own matcher for the query (skip_to, score), and the top N is taken by
(that score, descending; docnum, ascending), which is how whoosh's TopCollector orders its top N,
pruned or not. The same pass gives the first matches in document order, for counting.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.query import And, Or, Query, Term
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from indexer.ranking import _CappedScorer

OR_ARRAY_DOCS = 5_000  # whoosh.query.Or._matcher: up to this many documents a segment preloads an Or
MARGIN = 1e-9  # relative: far above float rounding, far below any real score difference
_LENGTH = [1] + [byte_to_length(b) for b in range(1, 256)]  # a length byte of 0 reads as 1 (dfl's default)

# (segment searcher, field) -> the field length byte of each document of the segment
Lengths = Callable[[Any, str], bytes | None]


def _groups(q: Query) -> list[list[Term]] | None:
    """The query as words (all must match), each word its field terms (any may match); None
    for anything else (phrases, prefixes, negations, minimum matches, boosted groups)."""
    kind = type(q)
    if kind is Term:
        return [[q]]
    if kind is Or and not q.minmatch and q.boost == 1.0 and not q.scale \
            and all(type(c) is Term for c in q.subqueries):
        return [list(q.subqueries)]
    if kind is And and q.boost == 1.0:
        out: list[list[Term]] = []
        for child in q.subqueries:
            part = _groups(child)
            if part is None or len(part) != 1:
                return None
            out.extend(part)
        return out or None
    return None


def _term_scores(sub: Any, term: Term, lengths: Lengths) -> dict[int, float] | None:
    schema = sub.schema
    if term.fieldname not in schema or not schema[term.fieldname].scorable:
        return None
    field = schema[term.fieldname]
    try:
        text = field.to_bytes(term.text)
    except ValueError:
        return {}
    reader = sub.reader()
    if (term.fieldname, text) not in reader:
        return {}
    try:
        m = reader.postings(term.fieldname, text)
    except TermNotFound:
        return {}
    if isinstance(m, FilterMatcher):
        m = m.child  # deleted documents are not in `allowed`, which every result is checked against
    scorer = sub.weighting.scorer(sub, term.fieldname, text)
    lens = lengths(sub, term.fieldname)
    if type(m) is not W3LeafMatcher or type(scorer) is not _CappedScorer or lens is None:  # noqa: E721
        return None
    boost = term.boost
    table: dict[tuple[float, int], float] = {}
    out: dict[int, float] = {}
    score = scorer._score  # noqa: SLF001 - the per-posting formula, without the matcher around it
    while m.is_active():
        if m._ids is None:  # noqa: SLF001 - the block's docnums and weights, decoded once
            m._read_ids()  # noqa: SLF001
        if m._weights is None:  # noqa: SLF001
            m._read_weights()  # noqa: SLF001
        for doc, weight in zip(m._ids, m._weights):  # noqa: SLF001
            key = (weight, lens[doc])
            value = table.get(key)
            if value is None:
                value = table[key] = score(weight, _LENGTH[key[1]]) * boost
            out[doc] = value
        m._next_block()  # noqa: SLF001
    return out


def _segment_scores(sub: Any, groups: list[list[Term]], lengths: Lengths) -> dict[int, float] | None:
    total: dict[int, float] | None = None
    for group in groups:
        word: dict[int, float] | None = None
        for term in group:
            part = _term_scores(sub, term, lengths)
            if part is None:
                return None
            if word is None:
                word = part
            else:
                get = word.get
                word.update({d: get(d, 0.0) + s for d, s in part.items()})
        word = word or {}
        if total is None:
            total = word
        else:
            other = total
            total = {d: other[d] + s for d, s in word.items() if d in other}
        if not total:
            return {}
    return total or {}


def _sums_are_whooshs(groups: list[list[Term]], subs: list[Any]) -> bool:
    """Whether the sums above are whoosh's to the last bit, so no candidate needs its score again.
    whoosh adds a word's fields left to right (0 + a + b + c) when it preloads a small segment
    (Or's ArrayUnionMatcher, up to OR_ARRAY_DOCS documents) and two words as a + b; so do we.
    In a larger segment a word of three or more fields is a binary tree of unions, a + (b + c),
    and three or more words are grouped likewise: then the candidates are scored again."""
    if len(groups) > 2:
        return False
    return all(len(g) <= 2 for g in groups) or all(sub.doc_count_all() <= OR_ARRAY_DOCS for sub in subs)


def top(searcher: Any, q: Query, allowed: Collection[int], limit: int, count: int,
        lengths: Lengths) -> tuple[list[tuple[float, int]], list[int]] | None:
    """(the top `limit` (score, docnum) pairs in whoosh's order, the first `count` matching
    docnums in document order), over the documents in `allowed`; None when `q` is not a
    conjunction of words (see _groups) or a field is scored otherwise."""
    groups = _groups(q)
    if groups is None:
        return None
    per_segment = []
    for sub, offset in searcher.leaf_searchers():
        scores = _segment_scores(sub, groups, lengths)
        if scores is None:
            return None
        per_segment.append((sub, offset, {d: s for d, s in scores.items() if d + offset in allowed}))
    first: list[int] = []
    for _, offset, scores in per_segment:
        if len(first) >= count:
            break
        first.extend(sorted(d + offset for d in scores))
    best = heapq.nlargest(limit, (s for _, _, scores in per_segment for s in scores.values()))
    if not best:
        return [], first[:count]
    if _sums_are_whooshs(groups, [sub for sub, _, _ in per_segment]):
        everything = [(s, d + offset) for _, offset, scores in per_segment for d, s in scores.items()]
        return heapq.nsmallest(limit, everything, key=lambda pair: (-pair[0], pair[1])), first[:count]
    floor = best[-1] - MARGIN * max(1.0, abs(best[-1])) if len(best) >= limit else float("-inf")
    ranked: list[tuple[float, int]] = []
    context = searcher.context()
    for sub, offset, scores in per_segment:
        candidates = sorted(d for d, s in scores.items() if s >= floor)
        if not candidates:
            continue
        m = q.matcher(sub, context)
        for doc in candidates:
            if not m.is_active():
                break
            if m.id() < doc:
                m.skip_to(doc)
            if m.is_active() and m.id() == doc:
                ranked.append((m.score(), doc + offset))
    ranked.sort(key=lambda pair: (-pair[0], pair[1]))
    return ranked[:limit], first[:count]
