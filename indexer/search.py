"""WhooshIndex: the records.ports.SearchIndex adapter over the sealed index, access control inside."""

from __future__ import annotations

import heapq
import html
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh import collectors
from whoosh.reading import TermNotFound
from whoosh.query import And, AndNot, Every, Or, Phrase, Query, Term
from whoosh.query import Not as NotQuery
from whoosh.searching import Searcher

from indexer import bulk, topk
from indexer import query as query_language
from indexer import whoosh_compat
from indexer.codec import length_bytes
from indexer.docset import DocSet
from indexer.errors import IndexCorrupt, IndexerError
from indexer.generations import CURRENT, create_index, live_dir, open_storage, rebuild, write
from indexer.storage import SealedStorage
from indexer.phrase import ExactPhrase, PhraseCandidates
from indexer.ranking import CappedBM25F
from indexer.schema import FACET_FIELDS
from indexer.snippets import SnippetWords, snippet, words_of
from records.access import AccessScope
from records.model import Confidentiality, RecordId, State
from records.ports import Hit, IndexDoc, SearchRequest, SearchResult, TextSource

__all__ = ["CURRENT", "WhooshIndex", "create_index", "open_index", "rebuild", "shared_index"]

MAX_COLLECT = 10_000  # deepest hit a page may reach; bounds the top-N heap
FILTER_CACHE = 256  # cached filter sets per searcher (scopes and field restrictions)
COUNT_LIMIT = 2_000  # matches counted (and faceted) per query; above it the total is a floor
PHRASE_CHUNK = 4096  # candidates a date-sorted phrase tests at first (doubled each time)
# A field or date restriction that leaves at most this share of the index drives the matching
# (DocSet): measured on bench/search.py's 100k records, where `year:` and `class:` leave 1/10-1/7.
LEAPFROG_SHARE = 0.2
_DOCNUM_BITS = 32  # a date key's low bits: the docnum, which breaks ties as whoosh's sort did
SNIPPET_CHARS = 240
WARM_WORDS = 3  # searches a search worker runs before it reports ready
WARM_LEXICON = 5_000  # the first words of the lexicon it picks them from

whoosh_compat.install()


def _plain_snippet(text: str) -> str:
    head = " ".join(text[:SNIPPET_CHARS * 2].split())[:SNIPPET_CHARS]
    return html.escape(head)


class WhooshIndex:
    """One sealed index (<home>/index); thread-safe, one searcher reused until the index changes."""

    def __init__(self, path: str | Path, key: bytes, *, readonly: bool = False) -> None:
        self.root = Path(path)
        self._key = bytes(key)
        self._readonly = readonly
        self._lock = threading.RLock()
        self._storage, self._index = self._open()
        self._searcher: Searcher | None = None
        self._filters: dict[tuple[Any, ...], Any] = {}
        self._columns: dict[str, list[str]] = {}
        self._dates: list[int] | None = None  # _date_keys's, per searcher
        # What a segment yields (facet columns, field lengths, each scope's documents) outlives the
        # searcher: a commit adds a small segment and leaves the others as they were, and rebuilding
        # all of it after every filing or edit cost the next search ~2 s at 100,000 records (issue 21).
        # Keyed by segment id (and its deletion count where deletions matter); pruned on reopen.
        self._segments: dict[tuple[Any, ...], Any] = {}

    def _open(self) -> tuple[SealedStorage, Any]:
        if not self._readonly:
            return open_storage(self.root, self._key)
        # A reader beside the writer (indexer.pool's workers): it must not remove the writer's
        # temp files, as open_storage's leftover sweep would.
        try:
            storage = SealedStorage(live_dir(self.root), self._key, readonly=True)
            return storage, storage.open_index()
        except Exception:  # noqa: BLE001 - pickle, struct, OS and whoosh errors all mean "unreadable"
            raise IndexCorrupt(f"The search index at {self.root} cannot be read (damaged or incomplete): "
                               "run `strongroom reindex` to rebuild it from the vault.") from None

    # ---- writing ---------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        if docs:
            self._reopen_if_swapped()
            write(self._index, docs, [])

    def remove(self, ids: Sequence[RecordId]) -> None:
        if ids:
            self._reopen_if_swapped()
            write(self._index, [], list(ids))

    def _reopen_if_swapped(self) -> None:
        # A rebuild (another process) publishes a new generation directory.
        with self._lock:
            if Path(self._storage.folder) != live_dir(self.root):
                self._storage, self._index = self._open()
                if self._searcher is not None:
                    self._searcher.close()
                self._searcher = None

    # ---- reading ---------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The shared searcher, reopened when a commit (or a rebuild) made it stale."""
        self._reopen_if_swapped()
        if self._searcher is None:
            self._searcher = self._index.searcher(weighting=CappedBM25F())
            self._reset_caches(self._searcher)
        elif not self._searcher.up_to_date():
            self._searcher = whoosh_compat.fresh_searcher(self._searcher)
            self._reset_caches(self._searcher)
        return self._searcher

    def _reset_caches(self, s: Searcher) -> None:
        self._filters, self._columns, self._dates = {}, {}, None
        live = {_segment_id(sub): _deleted_count(sub) for sub, _ in s.leaf_searchers()}
        # a scope's set is only good for the deletions it saw: an edit deletes in an old segment, and
        # the sets of earlier deletion counts would otherwise pile up, one per edit
        self._segments = {k: v for k, v in self._segments.items()
                          if k[1] in live and (k[0] != "scope" or k[2] == live[k[1]])}

    def _segment_part(self, key: tuple[Any, ...], build: Any) -> Any:
        found = self._segments.get(key)
        if found is None:
            found = self._segments[key] = build()
        return found

    def warm(self, words: int = WARM_WORDS) -> None:
        """Load what searches need before the first one asks: the searcher (its segments decrypted),
        facet columns, date keys, field lengths, and `words` searches for the most common of the
        first words of the body lexicon (the code paths and posting blocks a search walks)."""
        import numpy  # noqa: F401 - phrases of common words need it; loaded here, not by the first of them

        with self._lock:
            s = self.searcher()
            self._facets(s, [])
            self._date_keys(s)
            for sub, _ in s.leaf_searchers():
                for field in s.schema.scorable_names():
                    self._lengths(sub, field)
            reader = s.reader()
            common = heapq.nlargest(words, islice(_lexicon(reader, "body"), WARM_LEXICON),
                                    key=lambda word: reader.doc_frequency("body", word))
            for word in common:
                for sort in ("relevance", "-date"):
                    try:
                        self._search(SearchRequest(word, sort=sort), AccessScope.system(), lambda _record_id: "")
                    except IndexerError:
                        continue  # e.g. a word the query language reads as an operator ("and")

    def ids(self) -> set[RecordId]:
        with self._lock:
            s = self.searcher()
            return {RecordId(f["id"]) for f in s.all_stored_fields()}

    def doc_count(self) -> int:
        with self._lock:
            count: int = self.searcher().doc_count()
            return count

    def _scope_filter(self, s: Searcher, scope: AccessScope) -> set[int]:
        """The documents `scope` may see, as a docnum set cached per searcher (docnums change
        when segments merge, so the cache is dropped with the searcher). A Python set, not
        whoosh's BitSet: every match is tested against it, and set membership is a C call."""
        levels = scope.visible_levels
        unrestricted = scope.principals is None and len(levels) == len(Confidentiality)
        key: tuple[Any, ...] = (levels, tuple(sorted(scope.principals or ())), unrestricted)
        if key in self._filters:
            hit: set[int] = self._filters[key]
            return hit
        parts: list[Query] = [NotQuery(Term("state", State.DISPOSED.value))]
        if not unrestricted:
            parts.append(Or([Term("confidentiality", c.value) for c in levels]))
        if scope.principals is not None:
            parts.append(Or([Term("principal", p) for p in sorted(scope.principals)]))
        query = And(parts)
        allowed: set[int] = set()
        for sub, offset in s.leaf_searchers():
            local = self._segment_part(("scope", _segment_id(sub), _deleted_count(sub), key),
                                       lambda: tuple(sub.docs_for_query(query)))
            allowed.update([d + offset for d in local] if offset else local)
        self._filters[key] = allowed  # never changed: shared by every search
        return allowed

    def _restricted(self, s: Searcher, allowed: set[int], restrictions: Query) -> tuple[set[int], list[int]]:
        """The scope's documents that pass the field and date restrictions, as a set and in order."""
        key = ("restriction", id(allowed), repr(restrictions))
        cached = self._filters.get(key)
        if cached is None:
            if len(self._filters) > FILTER_CACHE:
                self._filters = {k: v for k, v in self._filters.items() if k[0] != "restriction"}
            docs = [d for d in s.docs_for_query(restrictions) if d in allowed]
            cached = (set(docs), sorted(docs))
            self._filters[key] = cached
        return cached

    def search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        with self._lock:
            return self._search(request, scope, text_of)

    def _search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        s = self.searcher()
        reader = s.reader()
        parsed = query_language.parse(request.query, s.schema, lambda field: _lexicon(reader, field))
        allowed: Any = self._scope_filter(s, scope)
        scored = parsed.query
        driven = False  # a DocSet drives the match: no block skipping, every match is visited anyway
        if parsed.restrictions is not None and not isinstance(parsed.text, Every):
            # Field and date restrictions become part of the (cached) filter: a year range is a
            # few thousand numeric terms, cheaper to resolve once than inside every scored match.
            allowed, ordered = self._restricted(s, allowed, parsed.restrictions)
            scored = parsed.text
            if len(ordered) <= LEAPFROG_SHARE * s.doc_count_all():
                scored = And([parsed.text, DocSet(ordered)])
                driven = True
        page = max(1, request.page)
        page_len = max(1, min(request.page_len, 200))
        if not allowed:
            # whoosh reads an empty filter set as "no filter": a user who may see nothing gets
            # nothing here, before the query runs.
            return SearchResult(total=0, hits=(), facets={}, page=page, page_len=page_len)
        limit = min(page * page_len, MAX_COLLECT)
        sortedby: Any = None
        reverse = False
        if request.sort in ("date", "-date"):
            sortedby, reverse = "date", request.sort == "-date"
        # Term queries: ranking uses whoosh's pruning top-N collector, and counting is a separate
        # unscored pass over the filtered matches that stops at COUNT_LIMIT (exact below it, a
        # floor above it). Phrases cannot be pruned: one pass ranks and counts them, and stops
        # at COUNT_LIMIT matches (the top N then comes from those). Date sorts see every match,
        # and so does a DocSet-driven match (it cannot skip blocks): one pass ranks and counts;
        # a phrase sorted by date is tested in date order and stops at COUNT_LIMIT as well.
        phrase = _has_phrase(scored)
        if phrase:
            # the position test is the costly part of a phrase: spend it only on visible documents
            scored = scored.accept(lambda q: q.admitting(allowed) if isinstance(q, ExactPhrase) else q)
        start = (page - 1) * page_len
        try:
            fast = None if sortedby or phrase else \
                topk.top(s, parsed.text if driven else scored, allowed, limit, COUNT_LIMIT + 1, self._lengths)
            if fast is not None:
                ranked, matched = fast
                shown = [(s.stored_fields(d), score) for score, d in ranked[start:start + page_len]]
            elif sortedby and phrase and not _has_negation(scored):
                matched, shown = self._phrase_by_date(s, scored, allowed, limit, reverse, start, page_len)
            elif sortedby:
                # `allowed` holds the restriction already: its DocSet only steers a walk
                walked = parsed.text if driven else scored
                matched, shown = self._by_date(s, walked, allowed, limit, reverse, start, page_len)
            else:
                matched, shown = self._collect(s, scored, allowed, limit, phrase, driven, start, page_len)
        except IndexerError:
            raise
        except Exception:  # noqa: BLE001 - e.g. a pathological wildcard
            raise IndexerError("The search could not be run: simplify it (fewer wildcards) and try again.") \
                from None
        exact = len(matched) <= COUNT_LIMIT or (sortedby is not None and not phrase)
        if not exact:
            matched = matched[:COUNT_LIMIT]
        total = len(matched)
        texts = texts_of(text_of, [RecordId(fields["id"]) for fields, _ in shown])
        # snippets mark the words typed, not the restriction's DocSet
        words = words_of(parsed.text, reader) if shown else SnippetWords(frozenset(), frozenset())
        hits = tuple(self._hit(fields, score, texts.get(RecordId(fields["id"]), ""), words) for fields, score in shown)
        facets: dict[str, dict[str, int]] = {}
        if request.with_facets and total:
            facets = self._facets(s, matched)
        suggestion = self._suggest(s, parsed, scope) if total == 0 and parsed.free_text else None
        return SearchResult(total=total, hits=hits, facets=facets, suggestion=suggestion, page=page,
                            page_len=page_len, total_exact=exact)

    def _collect(self, s: Searcher, scored: Query, allowed: Any, limit: int, phrase: bool, driven: bool,
                 start: int, page_len: int) -> tuple[list[int], list[tuple[Any, float]]]:
        """whoosh's collectors, for what indexer.topk does not take (phrases, prefixes): the matches
        counted (in document order) and the page's (stored fields, score)."""
        prunable = not phrase and not driven
        # no matcher replacement (replace=0): whoosh 2.7.5's replace() drops live matches of an
        # And of Ors, and 23 of 266 prefix queries lost hits from their top 10 (test_topk.py)
        top = collectors.TopCollector(limit=limit, usequality=prunable, replace=0)
        recorder = _Recorder(top, cap=COUNT_LIMIT + 1 if phrase else None)
        try:
            s.search_with_collector(scored, collectors.FilterCollector(recorder, allow=allowed))
        except _Enough:
            top.finish()
        if not prunable:
            matched = recorder.docs
        else:
            first = bulk.first_matches(s, scored, allowed, COUNT_LIMIT + 1)
            matched = first if first is not None else \
                list(islice((d for d in _walk(s, scored) if d in allowed), COUNT_LIMIT + 1))
        results = top.results()
        shown = [(results[i].fields(), float(results[i].score or 0.0))
                 for i in range(start, min(start + page_len, len(results.top_n)))]
        return matched, shown

    def _by_date(self, s: Searcher, scored: Query, allowed: Any, limit: int, reverse: bool, start: int,
                 page_len: int) -> tuple[list[int], list[tuple[Any, float]]]:
        """A date sort: every match, unscored, then the page picked by (date, docnum), the order
        whoosh's SortingCollector gives, without its scoring and per-match column read (a common
        word sorted by date took 0.3-0.6 s at 100,000 records; the picking here is a heap in C)."""
        matched = _every_match(s, scored, allowed)
        keys = self._date_keys(s)
        pick = heapq.nlargest if reverse else heapq.nsmallest
        return matched, _dated(s, keys, pick(limit, matched, key=keys.__getitem__)[start:start + page_len])

    def _phrase_by_date(self, s: Searcher, scored: Query, allowed: Any, limit: int, reverse: bool, start: int,
                        page_len: int) -> tuple[list[int], list[tuple[Any, float]]]:
        """A date sort of a query with a phrase (and no negation): the documents that may match (each phrase's words
        anywhere, read whole from posting blocks) in date order, the phrase tested on them a chunk
        at a time, newest (or oldest) first, until the page is full and COUNT_LIMIT + 1 matches are
        counted; above that the total is a floor, as for a ranked phrase. Walking every match
        first, as the other date sorts do, tested every candidate: "of in" by date took 0.75 s at
        100,000 records under load."""
        loose = scored.accept(lambda q: And([Term(q.fieldname, w) for w in q.words]) if isinstance(q, Phrase) else q)
        keys = self._date_keys(s)
        ordered = sorted(_every_match(s, loose, allowed), key=keys.__getitem__, reverse=reverse)
        wanted = max(limit, COUNT_LIMIT + 1)
        matched: list[int] = []
        holding: PhraseCandidates = {}
        at, size = 0, max(PHRASE_CHUNK, 4 * limit)
        while at < len(ordered) and len(matched) < wanted:
            chunk = ordered[at:at + size]
            at, size = at + size, size * 2
            docs = sorted(chunk)
            tested = And([scored.accept(lambda q: q.only(docs, holding) if isinstance(q, ExactPhrase) else q),
                          DocSet(docs)])
            hits = set(_walk(s, tested))
            matched += [d for d in chunk if d in hits]  # the chunk's own (date) order
        del matched[wanted:]
        return matched, _dated(s, keys, matched[start:start + page_len])

    def _date_keys(self, s: Searcher) -> list[int]:
        """Per top-level docnum, its date column value and docnum in one int (the value in the high
        bits): one C-level key for the heap. Each segment's column is read once (kept across commits)."""
        if self._dates is None:
            keys: list[int] = []
            for sub, offset in s.leaf_searchers():
                reader = sub.reader()
                values = self._segment_part(("dates", _segment_id(sub)), lambda: list(
                    reader.column_reader("date", translate=False).load()))
                keys += [(value << _DOCNUM_BITS) + offset + i for i, value in enumerate(values)]
            self._dates = keys
        return self._dates

    def _lengths(self, sub: Any, field: str) -> bytes | None:
        """A segment's field-length bytes, read once per segment (indexer.topk scores from them)."""
        key = ("lengths", _segment_id(sub), field)
        if key not in self._segments:
            self._segments[key] = length_bytes(sub.reader()._perdoc, field)  # noqa: SLF001
        found: bytes | None = self._segments[key]
        return found

    def _facets(self, s: Searcher, docs: list[int]) -> dict[str, dict[str, int]]:
        """Counts per facet value over the (already filtered) matching documents. Each segment's column
        values are read into a list once (kept across commits) and joined once per searcher; whoosh's
        own facets re-read each column per query."""
        if not self._columns:
            for name in FACET_FIELDS:
                values: list[str] = []
                for sub, _ in s.leaf_searchers():  # in docnum order: a segment's documents follow the previous'
                    reader = sub.reader()
                    values += self._segment_part(("column", _segment_id(sub), name), lambda: [
                        str(v) if v is not None else "" for v in reader.column_reader(name)])
                self._columns[name] = values
        out: dict[str, dict[str, int]] = {}
        for name in FACET_FIELDS:
            counts = Counter(map(self._columns[name].__getitem__, docs))
            counts.pop("", None)
            out[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def _hit(self, fields: Any, score: float, text: str, words: SnippetWords) -> Hit:
        record_id = RecordId(fields["id"])
        shown = (snippet(text, words) or _plain_snippet(text)) if text else ""
        return Hit(record_id=record_id, registry_number=fields.get("registry_number", ""),
                   title=fields.get("title", ""), record_class=fields.get("record_class", ""),
                   score=float(score or 0.0), snippet=shown)

    def _suggest(self, s: Searcher, parsed: query_language.ParsedQuery, scope: AccessScope) -> str | None:
        """"Did you mean" draws on the whole vocabulary, so it is offered only to users who may
        see every record; for anyone restricted it is disabled (it could leak unseen words)."""
        if scope.principals is not None or scope.clearance is not Confidentiality.SECRET:
            return None
        try:
            # whoosh's own parse: its terms know where they stood in the text (a plain-word query built
            # by indexer.query does not), which correct_query needs to rewrite the text
            q = query_language.parsed_text(parsed.free_text, s.schema)
            corrected = s.correct_query(q, parsed.free_text, correctors=None, maxdist=2, prefix=1)
        except Exception:  # noqa: BLE001 - whoosh's corrector fails on some texts (e.g. "0:A"); a hint is optional
            return None
        return corrected.string if corrected.query != q else None

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None


def _segment_id(sub: Searcher) -> str:
    segment = sub.reader().segment()
    return "" if segment is None else str(segment.segment_id())  # None: an empty index's reader


def _deleted_count(sub: Searcher) -> int:
    segment = sub.reader().segment()
    return 0 if segment is None else int(segment.deleted_count())


class _Enough(Exception):
    """Raised by the recorder to stop an unprunable search at its counting limit."""


class _Recorder(collectors.WrappingCollector):  # type: ignore[misc]  # whoosh is untyped
    """Notes every document that reaches the ranking collector (after the ACL filter)."""

    def __init__(self, child: collectors.Collector, cap: int | None = None) -> None:
        super().__init__(child)
        self.docs: list[int] = []
        self.cap = cap

    def prepare(self, top_searcher: Searcher, q: Query, context: Any) -> None:
        super().prepare(top_searcher, q, context)
        self.docs = []

    def collect(self, sub_docnum: int) -> Any:
        if self.cap is not None and len(self.docs) >= self.cap:
            raise _Enough
        self.docs.append(self.child.offset + sub_docnum)
        return self.child.collect(sub_docnum)


def _walk(s: Searcher, q: Query) -> Iterator[int]:
    """The documents `q` matches, in order, by walking its matcher. whoosh's docs_for_query asks an
    intersection for all_ids(), which reads every posting of both sides into sets: for two common
    words under a narrow DocSet that is the whole index, where walking leapfrogs with skip_to."""
    for sub, offset in s.leaf_searchers():
        try:
            m = q.matcher(sub, sub.boolean_context())
        except TermNotFound:
            continue
        while m.is_active():
            yield m.id() + offset
            m.next()


def texts_of(text_of: TextSource, ids: Sequence[RecordId]) -> dict[RecordId, str]:
    """The shown page's texts for snippets; a source with `many` (a search worker's pipe to the
    shell, indexer.pool) fetches them in one round trip. A missing rendition gives no snippet."""
    many = getattr(text_of, "many", None)
    if many is not None and ids:
        fetched: dict[RecordId, str] = many(ids)
        return fetched
    texts: dict[RecordId, str] = {}
    for record_id in ids:
        try:
            texts[record_id] = text_of(record_id)
        except Exception:  # noqa: BLE001 - a missing rendition must not fail the whole page
            texts[record_id] = ""
    return texts


def _has_phrase(q: Query) -> bool:
    return isinstance(q, Phrase) or any(_has_phrase(c) for c in q.children())


def _every_match(s: Searcher, q: Query, allowed: Any) -> list[int]:
    """Every document `q` matches that `allowed` holds, in order, unscored: read from whole posting
    blocks where `bulk` takes the query, else by walking its matcher."""
    found = bulk.first_matches(s, q, allowed, s.doc_count_all())
    return found if found is not None else [d for d in _walk(s, q) if d in allowed]


def _dated(s: Searcher, keys: list[int], docs: Iterable[int]) -> list[tuple[Any, float]]:
    # the score shown for a date sort is the date key, as whoosh's sorting collector gave it
    return [(s.stored_fields(d), float(keys[d] >> _DOCNUM_BITS)) for d in docs]


def _has_negation(q: Query) -> bool:
    # a phrase loosened to its words under a negation would exclude more, not less
    return isinstance(q, (NotQuery, AndNot)) or any(_has_negation(c) for c in q.children())


def _lexicon(reader: Any, field: str) -> Iterable[str]:
    return (term.decode("utf-8") if isinstance(term, bytes) else term for term in reader.lexicon(field))


def open_index(path: str | Path, key: bytes, *, create: bool = False) -> WhooshIndex:
    """The index at `path`; with `create`, an empty one is made when none exists.
    IndexCorrupt (or IndexMissing) when it cannot be opened: the caller offers a rebuild."""
    root = Path(path)
    if create and not os.path.islink(root / CURRENT):
        create_index(root, key)
    return WhooshIndex(root, key)


_shared: dict[Path, WhooshIndex] = {}
_shared_lock = threading.Lock()


def shared_index(path: str | Path, key: bytes) -> WhooshIndex:
    """One WhooshIndex per index directory and process (created empty when missing), so every
    request of a long-running shell shares the decrypted-segment cache and the searcher."""
    root = Path(path).resolve()
    with _shared_lock:
        index = _shared.get(root)
        if index is None or index._key != bytes(key):  # noqa: SLF001
            index = open_index(root, key, create=True)
            _shared[root] = index
        return index
