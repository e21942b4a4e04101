"""The top N of a word query: matches scored from whole posting blocks, documents that cannot rank skipped.

A word is an Or over five fields; whoosh answers it with an ArrayUnionMatcher that scores every
posting of every field one matcher call at a time (several Python calls each, and a column read
for the field length): at 10,000 records two thirds of a search's time (issue 21). The score of
a posting depends only on its weight and its field length byte, so here each posting block is
read whole and scored from a small (weight, length) table built with the same scorer; the
fields of a word are summed and the words of an And intersected in dictionaries (C loops).

Counting needs only the first COUNT_LIMIT matches in document order, so every match is scored
only until those are found (_prefix). Past that point a document can rank only if it beats the
N-th best sum so far, and most of a common word's postings cannot (max-score pruning, _rest):
the fields whose highest possible scores together stay below it are not read whole; only
documents holding another field are candidates, and those low fields are looked up per
candidate, skipping whole blocks by their headers, until the candidate is either scored or
shown unable to rank (with the block's own bound, before its postings are decoded). At 100,000
records a common word went from ~120 to ~15-40 ms (bench/search.py).

The sums are whoosh's own floats: a word's fields are added in the grouping whoosh's matcher
uses (a tree by document counts in a large segment, left to right in a small one: _plan), and
two words as a + b. Three or more words whoosh groups by estimated size, so there the sums only
choose candidates: every document within a relative 1e-9 of the N-th best (the pruning keeps
them all) is scored again by whoosh's own matcher (skip_to, score). Either way the top N is
taken by (score, descending; docnum, ascending), which is how whoosh's TopCollector orders its
top N (tests/indexer/test_topk.py compares it with whoosh's, each way).
"""

from __future__ import annotations

import heapq
import sys
from bisect import bisect_left, insort
from collections.abc import Callable, Collection
from itertools import chain
from typing import Any

from whoosh.matching import FilterMatcher
from whoosh.query import And, Or, Query, Term
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from indexer.ranking import _CappedScorer

OR_ARRAY_DOCS = 5_000  # whoosh.query.Or._matcher: up to this many documents a segment preloads an Or
MARGIN = 1e-9  # relative: far above float rounding, far below any real score difference
END = sys.maxsize  # a docnum past every segment's last
BLOCK = 128  # whoosh's postings per block
WHOLE = 8 * BLOCK  # a field's postings read whole rather than looked up per candidate
_LENGTH = [1] + [byte_to_length(b) for b in range(1, 256)]  # a length byte of 0 reads as 1 (dfl's default)

# (segment searcher, field) -> the field length byte of each document of the segment
Lengths = Callable[[Any, str], bytes | None]
# a query's words in one segment: each word's field terms in order, None where the segment lacks one
Words = list[list["_FieldTerm | None"]]
Plan = int | tuple["Plan", "Plan"]  # a field's place in its word, or two joined
Plans = list[Plan | None]  # per word; None: summed left to right


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


def _sums_are_whooshs(groups: list[list[Term]]) -> bool:
    """Whether the sums here are whoosh's to the last bit, so no candidate needs its score again.
    A word's fields are added as whoosh adds them (see _word_sums) and two words as a + b; three
    or more words whoosh groups by their estimated sizes, and then the candidates are scored again."""
    return len(groups) <= 2


def top(searcher: Any, q: Query, allowed: Collection[int], limit: int, count: int,
        lengths: Lengths) -> tuple[list[tuple[float, int]], list[int]] | None:
    """(the top `limit` (score, docnum) pairs in whoosh's order, the first `count` matching
    docnums in document order), over the documents in `allowed`; None when `q` is not a
    conjunction of words (see _groups) or a field is scored otherwise."""
    groups = _groups(q)
    if groups is None:
        return None
    segments = []
    formulas: dict[Term, Callable[[float, float], float]] = {}
    for sub, offset in searcher.leaf_searchers():
        words = _field_terms(sub, groups, lengths, formulas)
        if words is None:
            return None
        segments.append((sub, offset, words))
    first: list[int] = []
    best: list[float] = []  # a min-heap of the `limit` highest sums so far
    per_segment = []
    for sub, offset, words in segments:
        if not words:
            continue
        scored: dict[int, float] = {}
        plans: Plans = [_plan(word) if sub.doc_count_all() > OR_ARRAY_DOCS else None for word in words]
        reach = -1
        if len(first) < count:
            reach = _prefix(words, plans, allowed, offset, count - len(first), scored, first)
            best = heapq.nlargest(limit, chain(best, scored.values()))
            heapq.heapify(best)
        if reach < END:
            _rest(words, plans, allowed, offset, reach, best, limit, scored)
        per_segment.append((sub, offset, scored))
    if not best:
        return [], first[:count]
    if _sums_are_whooshs(groups):
        # only a segment's `limit` highest sums (and their ties) can rank: cut there before pairing
        # (pairing all of a common word's 50,000 sums cost more than the matching)
        everything = [(s, d + offset) for _, offset, scores in per_segment
                      for cut in [_nth_highest(scores, limit)] for d, s in scores.items() if s >= cut]
        return heapq.nsmallest(limit, everything, key=lambda pair: (-pair[0], pair[1])), first[:count]
    floor = _floor(best, limit)
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


def _nth_highest(scores: dict[int, float], n: int) -> float:
    """The n-th highest of the sums (-inf when there are no more than n)."""
    return heapq.nlargest(n, scores.values())[-1] if len(scores) > n else float("-inf")


def _floor(best: list[float], limit: int) -> float:
    """The lowest sum that may still rank: within MARGIN of the N-th best (ties and rounding)."""
    if len(best) < limit:
        return float("-inf")
    nth = best[0]
    return nth - MARGIN * max(1.0, abs(nth))


def _prefix(words: Words, plans: Plans, allowed: Collection[int], offset: int, need: int,
            scored: dict[int, float], first: list[int]) -> int:
    """Score every match of the segment from its start until `need` matches are found (or to its
    end), into `scored`, appending the matches to `first` in document order; returns the last
    docnum covered (END: the whole segment). Read in growing steps of blocks, each step scoring
    the documents that every field's postings have passed."""
    terms = [t for word in words for t in word if t is not None]
    cursors = [t.postings() for t in terms]
    reached = [-1] * len(terms)
    pending: list[dict[int, float]] = [{} for _ in terms]  # docnum -> weight, read, not yet summed
    found = 0
    goal = need + need // 2 + BLOCK
    while True:
        for i, t in enumerate(terms):
            if reached[i] < goal:
                reached[i] = t.read(cursors[i], pending[i], goal)
        # every field's postings up to `upto` have been read; a field read to its end may hold
        # later documents, which wait until the other fields reach them
        upto = END if all(r == END for r in reached) else goal
        parts: list[dict[int, float]] = []
        for i, p in enumerate(pending):
            if max(p, default=-1) <= upto:
                parts.append(p)
                pending[i] = {}
            else:
                parts.append({d: s for d, s in p.items() if d <= upto})
                pending[i] = {d: s for d, s in p.items() if d > upto}
        sums = _sums(words, plans, dict(zip(terms, parts)), allowed, offset)
        matches = sorted(sums)
        scored.update(sums)
        first.extend(d + offset for d in matches)
        found += len(matches)
        if found >= need or upto == END:
            return upto
        goal = 2 * upto + BLOCK


def _sums(words: Words, plans: Plans, weights: dict[_FieldTerm, dict[int, float]], allowed: Collection[int],
          offset: int) -> dict[int, float]:
    """The sums of the matches (every word, and allowed) among the postings in `weights`. Which
    documents match is found with set operations first; when they are few against the postings
    (two words, a narrow scope or restriction) only they are scored, else every posting is, in
    dictionaries (_combine)."""
    docs: set[int] = set()
    for n, word in enumerate(words):
        union = set().union(*(weights[t] for t in word if t is not None))
        docs = union if n == 0 else docs & union
        if not docs:
            return {}
    matches = {d for d in docs if d + offset in allowed} if offset else docs.intersection(allowed)
    terms = list(weights)
    if len(matches) * len(terms) >= sum(len(weights[t]) for t in terms):
        sums = _combine(words, {t: t.scores(weights[t]) for t in terms}, plans)
        return {d: sums[d] for d in matches}
    out: dict[int, float] = {}
    for doc in matches:
        have = {t: t.value(w, doc) for t in terms if (w := weights[t].get(doc)) is not None}
        total = _total(words, have, plans)
        if total is not None:
            out[doc] = total
    return out


def _combine(words: Words, parts: dict[_FieldTerm, dict[int, float]], plans: Plans) -> dict[int, float]:
    """Each document's sum over its words (all must match), each word's fields added as whoosh adds them."""
    total: dict[int, float] | None = None
    for word, plan in zip(words, plans):
        sums = _word_sums([None if t is None else parts[t] for t in word], plan)
        if total is None:
            total = sums
        else:
            other = total
            total = {d: other[d] + s for d, s in sums.items() if d in other}
        if not total:
            return {}
    return total or {}


def _plan(word: list[_FieldTerm | None]) -> Plan:
    """How whoosh's DefaultOr (segments above OR_ARRAY_DOCS) joins a word's fields: a Huffman-like
    tree by each field's document count in the segment (whoosh.util.make_weighted_tree: the two
    smallest joined first; ties keep their order, as whoosh's matchers never compare below each
    other), so sums grouped by it are whoosh's own floats."""
    nodes: list[tuple[int, Plan]] = sorted(((0 if t is None else t.count, i) for i, t in enumerate(word)),
                                           key=lambda node: node[0])
    while len(nodes) > 1:
        a, b = nodes.pop(0), nodes.pop(0)
        insort(nodes, (a[0] + b[0], (a[1], b[1])), key=lambda node: node[0])
    return nodes[0][1]


def _word_sums(fields: list[dict[int, float] | None], plan: Plan | None) -> dict[int, float]:
    """A word's per-document sum over its fields (None: not in the segment): grouped by `plan`,
    or left to right (whoosh's preloaded Or of a small segment) without one."""
    if plan is None:
        sums: dict[int, float] = {}
        for part in fields:
            if part:
                _add_into(sums, part)
        return sums
    if isinstance(plan, int):
        return fields[plan] or {}
    left, right = _word_sums(fields, plan[0]), _word_sums(fields, plan[1])
    if not left or not right:
        return left or right
    return _add_into(dict(left), right)


def _add_into(sums: dict[int, float], part: dict[int, float]) -> dict[int, float]:
    """`sums` with `part` added (a document in both: its sum + its part, in that order)."""
    get = sums.get
    sums.update({d: s if (x := get(d)) is None else x + s for d, s in part.items()})
    return sums


def _rest(words: Words, plans: Plans, allowed: Collection[int], offset: int, after: int,
          best: list[float], limit: int, scored: dict[int, float]) -> None:
    """Score the matches past `after` that can still reach the top `limit` (max-score pruning).
    Fields whose bounds together stay below the N-th best cannot lift a document into the top on
    their own: only documents holding one of the other fields are candidates, and those fields'
    postings are read whole; the low fields are looked up per candidate, highest bound first, and
    a candidate is dropped as soon as what it has plus what it could still get falls short."""
    terms = sorted((t for word in words for t in word if t is not None), key=lambda t: t.bound)
    floor = _floor(best, limit)
    low, cut = 0.0, 0
    while cut < len(terms) and low + terms[cut].bound < floor:
        low += terms[cut].bound
        cut += 1
    if cut == len(terms):
        return  # every field together scores below the N-th best: nothing here can rank
    essential = terms[cut:]
    # the low fields are looked up per candidate, highest bound first; a short posting list is
    # read whole instead (a few blocks cost less than the lookups that would decode them anyway)
    lookups = [t for t in reversed(terms[:cut]) if t.count > WHOLE]
    postings: dict[_FieldTerm, dict[int, float]] = {}
    for t in (*essential, *(t for t in terms[:cut] if t.count <= WHOLE)):
        m = t.postings()
        if after >= 0 and m.is_active():
            m.skip_to(after + 1)
        weights: dict[int, float] = {}
        t.read(m, weights, END)
        postings[t] = t.scores(weights)
    candidates: set[int] = set().union(*(postings[t] for t in essential))
    for word in words:
        present = [t for t in word if t is not None]
        if all(t in postings for t in present):  # a match holds one of this word's fields, all read
            candidates.intersection_update(set().union(*(postings[t] for t in present)))
    low = sum(t.bound for t in lookups)
    cursors = [t.postings() for t in lookups]
    for doc in sorted(d for d in candidates if d > after and d + offset in allowed):
        have = {t: got[doc] for t, got in postings.items() if doc in got}
        partial = sum(have.values())
        rest = low
        floor = _floor(best, limit)
        for t, m in zip(lookups, cursors):
            if partial + rest < floor:
                break
            rest -= t.bound
            if not m.is_active():
                continue
            if doc > m._maxid:  # noqa: SLF001 - skip whole blocks by their headers, nothing decoded
                m._skip_to_block(lambda: doc > m._maxid)  # noqa: SLF001, B023 - called at once
                if not m.is_active():
                    continue
            # the block's own bound (its highest weight, its shortest length) is often far below
            # the field's: a candidate that cannot rank even with it is dropped before decoding
            if partial + rest + t.block_bound(m) < floor:
                break
            if m._ids is None:  # noqa: SLF001
                m._read_ids()  # noqa: SLF001
            ids = m._ids  # noqa: SLF001
            at = m._i = bisect_left(ids, doc, m._i)  # noqa: SLF001
            if at < len(ids) and ids[at] == doc:
                if m._weights is None:  # noqa: SLF001
                    m._read_weights()  # noqa: SLF001
                value = t.value(m._weights[at], doc)  # noqa: SLF001
                have[t] = value
                partial += value
        else:
            if partial >= floor:
                total = _total(words, have, plans)
                if total is not None:
                    scored[doc] = total
                    if len(best) < limit:
                        heapq.heappush(best, total)
                    elif total > best[0]:
                        heapq.heapreplace(best, total)


def _total(words: Words, have: dict[_FieldTerm, float], plans: Plans) -> float | None:
    """A document's sum as _combine adds it (so equal to the last bit); None when a word has
    none of its fields."""
    total: float | None = None
    for word, plan in zip(words, plans):
        sums = _word_total([None if t is None else have.get(t) for t in word], plan)
        if sums is None:
            return None
        total = sums if total is None else total + sums
    return total


def _word_total(values: list[float | None], plan: Plan | None) -> float | None:
    if plan is None:
        sums: float | None = None
        for value in values:
            if value is not None:
                sums = value if sums is None else sums + value
        return sums
    if isinstance(plan, int):
        return values[plan]
    left, right = _word_total(values, plan[0]), _word_total(values, plan[1])
    return right if left is None else left if right is None else left + right


def _field_terms(sub: Any, groups: list[list[Term]], lengths: Lengths,
                 formulas: dict[Term, Callable[[float, float], float]]) -> Words | None:
    """Each word's field terms in the segment, in the word's order, None for a field without
    the word (whoosh's matcher tree still counts it); [] when a word is in none of the fields
    (no match in the segment); None when a field is scored otherwise or not read from blocks."""
    schema, reader = sub.schema, sub.reader()
    words: Words = []
    for group in groups:
        word: list[_FieldTerm | None] = []
        for term in group:
            if term.fieldname not in schema or not schema[term.fieldname].scorable:
                return None
            field = schema[term.fieldname]
            try:
                text = field.to_bytes(term.text)
            except ValueError:
                word.append(None)
                continue
            try:
                info = reader.term_info(term.fieldname, text)
            except TermNotFound:
                word.append(None)
                continue
            found = _FieldTerm.make(sub, term, text, info, lengths, formulas)
            if found is None:
                return None
            word.append(found)
        if all(t is None for t in word):
            return []
        words.append(word)
    return words


class _FieldTerm:
    """One word in one field of one segment: its postings read whole block by block, each posting
    scored from a small (weight, length byte) table built with the same scorer, and the most any
    posting can score (its highest weight at its shortest length), which lets the search skip
    documents that cannot reach the top N."""

    __slots__ = ("blocks", "bound", "count", "fieldname", "formula", "lens", "reader", "table", "text")

    def __init__(self, reader: Any, fieldname: str, text: bytes, lens: bytes,
                 formula: Callable[[float, float], float]) -> None:
        self.reader, self.fieldname, self.text, self.lens, self.formula = reader, fieldname, text, lens, formula
        self.table: dict[tuple[float, int], float] = {}  # (weight, length byte) -> score
        self.blocks: dict[tuple[float, float], float] = {}  # (highest weight, shortest length) -> bound
        self.bound = 0.0  # the most any posting scores
        self.count = 0  # postings in the segment

    def score(self, weight: float, length_byte: int) -> float:
        return self.formula(weight, _LENGTH[length_byte])

    def block_bound(self, m: Any) -> float:
        """The most any posting of m's current block can score, from the block's header."""
        key = (m._maxweight, m._minlength)  # noqa: SLF001
        found = self.blocks.get(key)
        if found is None:
            found = self.blocks[key] = self.formula(*key)
        return found

    @classmethod
    def make(cls, sub: Any, term: Term, text: bytes, info: Any, lengths: Lengths,
             formulas: dict[Term, Callable[[float, float], float]]) -> _FieldTerm | None:
        lens = lengths(sub, term.fieldname)
        formula = formulas.get(term)
        if formula is None:
            # idf and the average length are the whole index's (the scorer asks the top searcher),
            # so one scorer serves every segment; building it costs a lookup in each segment
            scorer = sub.weighting.scorer(sub, term.fieldname, text)
            if type(scorer) is not _CappedScorer:  # noqa: E721
                return None
            raw, boost = scorer._score, term.boost  # noqa: SLF001 - the per-posting formula alone

            def formula(weight: float, length: float) -> float:
                value: float = raw(weight, length) * boost
                return value
            formulas[term] = formula
        if lens is None:
            return None
        if info.is_inlined():
            return None  # a list, not blocks (whoosh inlines none with its default codec settings)
        found = cls(sub.reader(), term.fieldname, text, lens, formula)
        found.count = info.doc_frequency()
        # a score rises with the weight and falls as the length grows (flat past LENGTH_CAP), so
        # the highest weight at the shortest length (both as stored: whole counts, quantised
        # lengths) bounds every posting; no length at all is read as 0, which only raises it
        found.bound = formula(info.max_weight(), info.min_length() or 0)
        return found

    def postings(self) -> Any:
        m = self.reader.postings(self.fieldname, self.text)
        # deleted documents are not in `allowed`, which every result is checked against
        return m.child if isinstance(m, FilterMatcher) else m

    def scores(self, weights: dict[int, float]) -> dict[int, float]:
        """{docnum: score} of {docnum: weight}."""
        table, lens, score = self.table, self.lens, self.score
        out: dict[int, float] = {}
        for doc, weight in weights.items():
            key = (weight, lens[doc])
            value = table.get(key)
            if value is None:
                value = table[key] = score(*key)
            out[doc] = value
        return out

    def value(self, weight: float, doc: int) -> float:
        key = (weight, self.lens[doc])
        found = self.table.get(key)
        if found is None:
            found = self.table[key] = self.score(*key)
        return found

    def read(self, m: Any, into: dict[int, float], until: int) -> int:
        """The weight of every posting of m's blocks from its current one on, up to and including
        the block that reaches `until`, into `into` (scores: `scores`); m moves to the next block.
        Returns the last docnum read (END once every posting is read)."""
        last = -1
        while m.is_active():
            if m._ids is None:  # noqa: SLF001 - the block's docnums and weights, decoded once
                m._read_ids()  # noqa: SLF001
            if m._weights is None:  # noqa: SLF001
                m._read_weights()  # noqa: SLF001
            into.update(zip(m._ids, m._weights))  # noqa: SLF001
            last = m._maxid  # noqa: SLF001
            m._next_block()  # noqa: SLF001
            if last >= until:
                break
        return last if m.is_active() else END
