"""WhooshIndex against a real sealed index: language, fields, ranges, access control, refresh."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from indexer.codec import FlatCodec
from indexer.errors import IndexerError, QueryError
from indexer.schema import document_of
from indexer.search import WhooshIndex, open_index
from records.access import AccessScope
from records.model import Confidentiality, RecordId, Role, State
from records.ports import IndexDoc, SearchRequest
from tests.indexer.samples import KEY, doc

ADMIN = AccessScope.system()
TEXTS = {
    "sl1": "Pogodbe o zaposlitvi se podpišejo v četrtek pri notarju.",
    "sl2": "Zapisnik seje nadzornega sveta: sklep o dokapitalizaciji.",
    "et1": "Töölepingu lõpetamine ja lepingut puudutav kiri.",
    "en1": "The board resolutions on the annual accounts were adopted.",
    "sec": "Strogo zaupno: prevzem družbe Zebrafin, kodno ime kolibri.",
    "esc": "Ponudba <script>alert(1)</script> & pogodba",
}


def _docs() -> list[IndexDoc]:
    return [
        doc("sl1", TEXTS["sl1"], title="Pogodba o zaposlitvi", record_class="06.1", document_date=date(2025, 3, 6),
            parties=("Novak Janez",), tags=("kadri",)),
        doc("sl2", TEXTS["sl2"], title="Zapisnik 3. seje", record_class="01.2", document_date=date(2024, 11, 20),
            principal="Beta d.d."),
        doc("et1", TEXTS["et1"], title="Lõpetamise teade", record_class="06.1", document_date=date(2023, 1, 15),
            principal="Tallinna OÜ", retention_until=date(2033, 1, 15)),
        doc("en1", TEXTS["en1"], title="Resolution 12", record_class="01.2", document_date=date(2025, 12, 31)),
        doc("sec", TEXTS["sec"], title="Prevzem", record_class="01.2", document_date=date(2025, 5, 5),
            confidentiality=Confidentiality.SECRET),
        doc("esc", TEXTS["esc"], title="Ponudba", record_class="04.1", document_date=date(2025, 2, 1)),
    ]


@pytest.fixture
def index(tmp_path: Path) -> WhooshIndex:
    ix = open_index(tmp_path / "index", KEY, create=True)
    ix.upsert(_docs())
    return ix


def ids(index: WhooshIndex, query: str, scope: AccessScope = ADMIN, **kw: object) -> list[str]:
    result = index.search(SearchRequest(query, **kw), scope, TEXTS.__getitem__)  # type: ignore[arg-type]
    return [h.record_id for h in result.hits]


@pytest.mark.parametrize(("query", "expected"), [
    ("pogodba", {"sl1", "esc"}),  # title "Pogodba" and body "pogodbe"
    ("cetrtek", {"sl1"}),  # unaccented finds četrtek
    ("toolepingu", {"et1"}),  # Töölepingu
    ("leping", {"et1"}),  # lepingut
    ("resolutions", {"en1"}),
    ("resolution", {"en1"}),
    ("sklep dokapitalizaciji", {"sl2"}),  # two words: both must match
    ("sklep OR lopetamine", {"sl2", "et1"}),
    ("dokapital*", {"sl2"}),
])
def test_words_across_languages(index: WhooshIndex, query: str, expected: set[str]) -> None:
    assert set(ids(index, query)) == expected


def test_phrases_match_word_order(index: WhooshIndex) -> None:
    assert ids(index, '"nadzornega sveta"') == ["sl2"]
    snippet = index.search(SearchRequest('"nadzornega sveta"'), ADMIN, TEXTS.__getitem__).hits[0].snippet
    assert "<mark>nadzornega</mark> <mark>sveta</mark>" in snippet
    assert ids(index, '"sveta nadzornega"') == []


def test_negation_excludes(index: WhooshIndex) -> None:
    assert set(ids(index, "pogodba -ponudba")) == {"sl1"}
    assert set(ids(index, "pogodba NOT ponudba")) == {"sl1"}


def test_fields_filter(index: WhooshIndex) -> None:
    assert set(ids(index, "class:06.1")) == {"sl1", "et1"}
    assert set(ids(index, "principal:\"beta d.d.\"")) == {"sl2"}
    assert set(ids(index, "tag:kadri")) == {"sl1"}
    assert set(ids(index, "from:novak")) == {"sl1"}
    assert set(ids(index, "pogodba class:04.1")) == {"esc"}
    assert set(ids(index, "class:06.1 -principal:\"tallinna oü\"")) == {"sl1"}
    assert ids(index, "class:99.9") == []
    assert set(ids(index, "confidentiality:secret")) == {"sec"}
    assert set(ids(index, "state:active year:2023")) == {"et1"}


def test_date_ranges(index: WhooshIndex) -> None:
    assert set(ids(index, "date:2025-01-01..2025-12-31")) == {"sl1", "en1", "sec", "esc"}
    assert set(ids(index, "date:2025-03-06")) == {"sl1"}
    assert set(ids(index, "date:..2024-11-20")) == {"sl2", "et1"}
    assert set(ids(index, "date:2025-12")) == {"en1"}
    assert set(ids(index, "date:1.2.2025..6.3.2025")) == {"sl1", "esc"}
    assert set(ids(index, "year:2023..2024")) == {"sl2", "et1"}
    assert set(ids(index, "retention:2030..2040")) == {"et1"}


@pytest.mark.parametrize("query", ["date:2025-13-01", "date:15.13.2026", "year:soon", "date:2026..2025",
                                   "colour:red", '"unclosed phrase', "", "class:"])
def test_query_errors_are_one_sentence(index: WhooshIndex, query: str) -> None:
    with pytest.raises(QueryError) as caught:
        ids(index, query)
    message = str(caught.value)
    assert message.endswith(".") and "\n" not in message and "Traceback" not in message
    assert isinstance(caught.value, IndexerError)


def test_sort_by_date_and_pagination(index: WhooshIndex) -> None:
    newest = ids(index, "class:01.2 OR class:06.1", sort="-date")
    assert newest == []  # class values are ANDed filters; OR applies to words only
    all_dated = ids(index, "year:2000..2100", sort="-date")
    assert all_dated == ["en1", "sec", "sl1", "esc", "sl2", "et1"]
    assert ids(index, "year:2000..2100", sort="date")[0] == "et1"
    page2 = index.search(SearchRequest("year:2000..2100", sort="-date", page=2, page_len=4), ADMIN, TEXTS.__getitem__)
    assert page2.total == 6 and [h.record_id for h in page2.hits] == ["sl2", "et1"]


def test_facets_count_matches(index: WhooshIndex) -> None:
    result = index.search(SearchRequest("year:2000..2100"), ADMIN, TEXTS.__getitem__)
    assert result.facets["record_class"] == {"01.2": 3, "06.1": 2, "04.1": 1}
    assert result.facets["year"] == {"2025": 4, "2023": 1, "2024": 1}
    assert result.facets["confidentiality"]["secret"] == 1
    assert result.facets["state"] == {"active": 6}


def test_snippets_are_escaped_and_marked(index: WhooshIndex) -> None:
    result = index.search(SearchRequest("ponudba"), ADMIN, TEXTS.__getitem__)
    snippet = result.hits[0].snippet
    assert "<mark>Ponudba</mark>" in snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    inflected = index.search(SearchRequest("pogodba"), ADMIN, TEXTS.__getitem__)
    assert any("<mark>Pogodbe</mark>" in h.snippet for h in inflected.hits)


def test_snippets_are_built_only_for_the_page(index: WhooshIndex) -> None:
    asked: list[str] = []

    def text_of(rid: RecordId) -> str:
        asked.append(rid)
        return TEXTS[rid]
    index.search(SearchRequest("year:2000..2100", page_len=2), ADMIN, text_of)
    assert len(asked) == 2


VIEWER = AccessScope(actor="vida", role=Role.VIEWER, clearance=Confidentiality.INTERNAL, principals=None)


def test_secret_record_is_invisible_to_internal_viewer(index: WhooshIndex) -> None:
    asked: list[str] = []

    def text_of(rid: RecordId) -> str:
        asked.append(rid)
        return TEXTS[rid]
    for query in ("zebrafin", "kolibri", '"kodno ime"', "zebraf*", "prevzem", "confidentiality:secret"):
        seen = index.search(SearchRequest(query), VIEWER, text_of)
        nonsense = index.search(SearchRequest("qqxyzzy"), VIEWER, text_of)
        assert seen.total == nonsense.total == 0
        assert seen.hits == () and seen.facets == {} and seen.suggestion is None
    assert "sec" not in asked
    # facets of a broad search do not count the secret record either
    broad = index.search(SearchRequest("year:2000..2100"), VIEWER, text_of)
    assert broad.total == 5 and "secret" not in broad.facets["confidentiality"]
    assert sum(broad.facets["record_class"].values()) == 5
    assert index.search(SearchRequest("kolibri"), ADMIN, text_of).total == 1


def test_principals_restrict_hits_and_facets(index: WhooshIndex) -> None:
    scope = AccessScope(actor="b", role=Role.SECRETARY, clearance=Confidentiality.SECRET,
                        principals=frozenset({"Beta d.d."}))
    result = index.search(SearchRequest("year:2000..2100"), scope, TEXTS.__getitem__)
    assert [h.record_id for h in result.hits] == ["sl2"]
    assert result.facets["principal"] == {"Beta d.d.": 1}


def test_did_you_mean_only_for_unrestricted_users(index: WhooshIndex) -> None:
    assert index.search(SearchRequest("dakapitalizaciji"), ADMIN, TEXTS.__getitem__).suggestion == "dokapitalizaciji"
    assert index.search(SearchRequest("dakapitalizaciji"), VIEWER, TEXTS.__getitem__).suggestion is None


def test_refresh_sees_updates_and_deletions(index: WhooshIndex) -> None:
    assert ids(index, "kolibri") == ["sec"]  # the searcher is now open and cached
    index.remove([RecordId("sec")])
    assert ids(index, "kolibri") == []
    index.upsert([doc("sl1", "Drugačno besedilo brez ključnih besed.", title="Pogodba o zaposlitvi")])
    assert ids(index, "cetrtek") == []
    assert ids(index, "drugacno") == ["sl1"]
    assert index.doc_count() == 5


def test_upsert_deduplicates_within_a_batch(index: WhooshIndex) -> None:
    index.upsert([doc("dup", "prva verzija"), doc("dup", "druga verzija"), doc("dup", "tretja verzija")])
    assert ids(index, "verzija") == ["dup"]
    assert ids(index, "tretja") == ["dup"] and ids(index, "prva") == []
    assert "dup" in index.ids()


def test_disposed_records_leave_no_words(index: WhooshIndex) -> None:
    index.upsert([doc("sl2", TEXTS["sl2"], title="Zapisnik 3. seje", record_class="01.2", state=State.DISPOSED)])
    assert ids(index, "dokapitalizaciji") == []
    assert "sl2" not in ids(index, "year:2000..2100")


def test_second_process_sees_commits(index: WhooshIndex, tmp_path: Path) -> None:
    other = open_index(tmp_path / "index", KEY)
    assert set(ids(other, "pogodba")) == {"sl1", "esc"}
    index.remove([RecordId("esc")])
    assert set(ids(other, "pogodba")) == {"sl1"}


def test_a_user_who_may_see_nothing_finds_nothing(tmp_path: Path) -> None:
    # whoosh treats an empty filter set as no filter at all; the index must not
    ix = open_index(tmp_path / "only-secret", KEY, create=True)
    ix.upsert([doc("s1", "kolibri zebrafin", confidentiality=Confidentiality.SECRET)])
    result = ix.search(SearchRequest("kolibri"), VIEWER, TEXTS.__getitem__)
    assert result.total == 0 and result.hits == () and result.facets == {}
    nobody = AccessScope(actor="n", role=Role.VIEWER, clearance=Confidentiality.SECRET,
                         principals=frozenset({"Nobody Ltd"}))
    assert ix.search(SearchRequest("kolibri"), nobody, TEXTS.__getitem__).total == 0


def test_totals_without_facets_are_filtered_too(index: WhooshIndex) -> None:
    # without facets whoosh may skip blocks and count by re-running the query: still filtered
    for query in ("kolibri", "year:2000..2100", "strogo OR pogodba OR sklep"):
        admin = index.search(SearchRequest(query, with_facets=False, page_len=1), ADMIN, TEXTS.__getitem__)
        viewer = index.search(SearchRequest(query, with_facets=False, page_len=1), VIEWER, TEXTS.__getitem__)
        assert viewer.total == admin.total - 1


def test_hold_filter(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from records.model import Hold
    ix = open_index(tmp_path / "index", KEY, create=True)
    held = doc("h", "besedilo")
    hold = Hold(hold_id="1", reason="spor", placed_by="a", placed_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    from dataclasses import replace
    ix.upsert([IndexDoc(record=replace(held.record, holds=(hold,)), text=held.text), doc("f", "besedilo")])
    assert ids(ix, "besedilo hold:yes") == ["h"]
    assert ids(ix, "besedilo hold:no") == ["f"]


def test_totals_are_exact_whatever_the_page_length(tmp_path: Path) -> None:
    # whoosh's top-N collector prunes documents that cannot reach the top N; totals and facets
    # must still count every match the user may see
    import random
    rng = random.Random(3)
    words = ["in", "na", "the", "ja", "pogodba", "arve", "sklep"]
    texts = {f"t{i}": " ".join(rng.choices(words, weights=[30, 20, 20, 10, 3, 2, 1], k=60)) for i in range(400)}
    ix = open_index(tmp_path / "index", KEY, create=True)
    ix.upsert([doc(rid, text) for rid, text in texts.items()])
    cases = {'"in na"': lambda t: " in na " in f" {t} ",
             "sklep OR arve": lambda t: "sklep" in t.split() or "arve" in t.split(),
             "in pogodba": lambda t: "in" in t.split() and "pogodba" in t.split()}
    for query, truth in cases.items():
        expected = sum(1 for t in texts.values() if truth(t))
        for page_len in (1, 10, 200):
            result = ix.search(SearchRequest(query, page_len=page_len), ADMIN, texts.__getitem__)
            assert result.total == expected, (query, page_len)
            assert sum(result.facets["record_class"].values()) == expected


def test_counting_stops_at_the_limit_for_term_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("indexer.search.COUNT_LIMIT", 25)
    ix = open_index(tmp_path / "index", KEY, create=True)
    ix.upsert([doc(f"c{i:03d}", "pogodba " * (1 + i % 7), confidentiality=Confidentiality.SECRET if i % 2 else
                   Confidentiality.INTERNAL) for i in range(100)])
    admin = ix.search(SearchRequest("pogodba", page_len=5), ADMIN, lambda rid: "pogodba")
    assert admin.total == 25 and not admin.total_exact and sum(admin.facets["state"].values()) == 25
    assert len(admin.hits) == 5 and admin.hits[0].score >= admin.hits[-1].score
    viewer = ix.search(SearchRequest("pogodba"), VIEWER, lambda rid: "pogodba")
    assert viewer.total == 25 and "secret" not in viewer.facets["confidentiality"]
    assert all(int(h.record_id[1:]) % 2 == 0 for h in viewer.hits)
    small = ix.search(SearchRequest("pogodba class:03.1 date:2025"), VIEWER, lambda rid: "pogodba")
    assert small.total == 25  # filing date stands in for the missing document date
    phrase = ix.search(SearchRequest('"pogodba pogodba"'), ADMIN, lambda rid: "pogodba")
    assert not phrase.total_exact and phrase.total == 25 and len(phrase.hits) == 20
    few = ix.search(SearchRequest('"pogodba pogodba" class:03.1 date:2025'), VIEWER, lambda rid: "pogodba")
    assert few.total == 25 and not few.total_exact
    monkeypatch.setattr("indexer.search.COUNT_LIMIT", 1000)
    phrase = ix.search(SearchRequest('"pogodba pogodba"'), ADMIN, lambda rid: "pogodba")
    assert phrase.total_exact and phrase.total == sum(1 for i in range(100) if i % 7)


@pytest.mark.parametrize("sort", ["-date", "date"])
def test_a_phrase_sorted_by_date_is_tested_in_date_order_up_to_the_count_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort: str) -> None:
    # A date-sorted phrase is tested on its candidates newest (or oldest) first and stops at the
    # count limit: the page must still be the brute-force newest (oldest) matches, for every page
    # and scope, across segments and deletions; the total a floor above the limit, exact below it.
    import random
    rng = random.Random(31)
    rows = {}
    for i in range(400):
        words = rng.choices(["in", "na", "pogodba", "seje"], k=rng.randrange(2, 25))
        rows[f"d{i:03d}"] = (" ".join(words), date(2000 + rng.randrange(25), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                             Confidentiality.SECRET if i % 3 == 0 else Confidentiality.INTERNAL)
    ix = open_index(tmp_path / "index", KEY, create=True)
    names = sorted(rows)
    for start in range(0, len(names), 100):  # several segments
        ix.upsert([doc(rid, rows[rid][0], document_date=rows[rid][1], confidentiality=rows[rid][2])
                   for rid in names[start:start + 100]])
    gone = {"d010", "d222"}
    ix.remove([RecordId(rid) for rid in gone])
    monkeypatch.setattr("indexer.search.COUNT_LIMIT", 30)
    monkeypatch.setattr("indexer.search.PHRASE_CHUNK", 16)
    for scope in (ADMIN, VIEWER):
        for phrase, page in (("pogodba na", 1), ("pogodba na", 3), ("seje seje seje in", 1), ("na in", 2),
                             ("pogodba pogodba na na", 2), ("na in|seje pogodba", 1), ("na in|-pogodba seje", 1)):
            # "a|b": both phrases; "a|-b": the first without the second
            first, _, second = phrase.partition("|")
            matches = [rid for rid, (text, day, level) in rows.items()
                       if f" {first} " in f" {text} " and rid not in gone
                       and (not second or (f" {second.lstrip('-')} " in f" {text} ") != second.startswith("-"))
                       and (scope is ADMIN or level is Confidentiality.INTERNAL)]
            # the index's date order: newest first for -date, ties in filing (docnum) order
            by_date = sorted(matches, key=lambda rid: (rows[rid][1], names.index(rid)), reverse=sort == "-date")
            query = f'"{first}"' + (f' {"-" if second.startswith("-") else ""}"{second.lstrip("-")}"' if second else "")
            result = ix.search(SearchRequest(query, sort=sort, page=page, page_len=5), scope, lambda rid: "x")
            assert [h.record_id for h in result.hits] == by_date[(page - 1) * 5:page * 5], (scope.actor, phrase)
            assert result.total == min(len(matches), 30) and result.total_exact == (len(matches) <= 30)
            assert sum(result.facets["state"].values()) == result.total
    counts = {p: sum(1 for text, _, _ in rows.values() if f" {p} " in f" {text} ") for p in ("na in", "seje seje seje in")}
    assert counts["na in"] > 30 >= counts["seje seje seje in"] > 5, "the case needs totals above and below the limit"


def test_two_phrases_sorted_by_date_keep_their_own_candidates(tmp_path: Path) -> None:
    # A date-sorted search tests its phrases a chunk at a time and keeps each phrase's candidates
    # per segment between chunks: two phrases in one query must not share them.
    ix = open_index(tmp_path / "index", KEY, create=True)
    texts = {"alfa beta": 1, "gama delta": 2, "beta alfa": 3, "delta gama": 4}
    ix.upsert([doc(f"t{n}{i}", text, document_date=date(2020 + i, n, 1)) for text, n in texts.items() for i in range(3)])
    result = ix.search(SearchRequest('"alfa beta" OR "gama delta"', sort="-date"), ADMIN, lambda rid: "x")
    assert [h.record_id for h in result.hits] == ["t22", "t12", "t21", "t11", "t20", "t10"]


def test_narrow_restrictions_drive_the_match_across_segments(tmp_path: Path) -> None:
    # A restriction leaving few documents becomes a DocSet inside the query (its docnums per
    # segment, by offset): hits, totals and facets must be exactly the brute-force answer.
    import random
    rng = random.Random(11)
    classes = ["01.2", "03.1", "04.1", "06.1", "07.1", "00.2", "01.1", "02.1", "00.4", "05.1"]
    rows = {f"s{i:03d}": (rng.choice(classes), rng.choice(["pogodba in", "arve ja", "pogodba arve", "sklep"]),
                          Confidentiality.SECRET if i % 3 == 0 else Confidentiality.INTERNAL) for i in range(300)}
    ix = open_index(tmp_path / "index", KEY, create=True)
    names = sorted(rows)
    for start in range(0, len(names), 60):  # one unmerged commit each: several segments (fewer than a merge takes)
        writer = ix._index.writer()  # noqa: SLF001 - upsert() lets whoosh merge small segments
        for rid in names[start:start + 60]:
            writer.update_document(**document_of(doc(rid, rows[rid][1], record_class=rows[rid][0],
                                                     confidentiality=rows[rid][2])))
        writer.commit(merge=False)
    ix.remove([RecordId("s007"), RecordId("s150")])
    assert len(ix.searcher().leaf_searchers()) > 1, "the case needs several segments"
    for scope in (ADMIN, VIEWER):
        for cls in ("04.1", "06.1"):
            for words, truth in (("pogodba", lambda t: "pogodba" in t), ("pogodba arve", lambda t: t == "pogodba arve")):
                expected = {rid for rid, (c, text, level) in rows.items()
                            if c == cls and truth(text) and rid not in ("s007", "s150")
                            and (scope is ADMIN or level is Confidentiality.INTERNAL)}
                result = ix.search(SearchRequest(f"{words} class:{cls}", page_len=200), scope, lambda rid: "x")
                assert {h.record_id for h in result.hits} == expected, (scope.actor, cls, words)
                assert result.total == len(expected) and result.facets.get("record_class", {}) == (
                    {cls: len(expected)} if expected else {})



@pytest.mark.parametrize("at_once", [True, False], ids=["every position at once", "one document at a time"])
def test_exact_phrases_match_what_whoosh_phrases_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        at_once: bool) -> None:
    # ExactPhrase against whoosh's own span-based Phrase, on the same index, both ways of matching
    # (numpy over every position, or a position test per candidate): two- and three-word phrases,
    # repeated words ("in in"), words missing from the index, posting lists of many blocks, documents
    # long enough that positions take two and four bytes, and deleted documents.
    import random

    from whoosh.query import Phrase

    from indexer import phrase as phrase_module
    from indexer.phrase import ExactPhrase
    monkeypatch.setattr(phrase_module, "AT_ONCE_SHARE", 10**9 if at_once else 0)
    everywhere = phrase_module._adjacent_everywhere  # noqa: SLF001
    answered: list[bool] = []

    def counting(*args: Any) -> list[int] | None:
        found = everywhere(*args)
        answered.append(found is not None)
        return found
    monkeypatch.setattr(phrase_module, "_adjacent_everywhere", counting)
    rng = random.Random(5)
    words = ["in", "na", "pogodba", "arve", "sklep", "za"]

    def text(i: int) -> str:
        filler = " ".join(["x"] * (300 if i % 50 == 1 else 70_000 if i % 100 == 2 else 0))
        return f"{filler} {' '.join(rng.choices(words, k=rng.randrange(1, 40)))}"
    ix = open_index(tmp_path / "index", KEY, create=True)
    ix.upsert([doc(f"p{i:03d}", text(i)) for i in range(300)])
    s = ix.searcher()
    phrases = [rng.choices(words, k=rng.choice((2, 3))) for _ in range(60)] + [["in", "in"], ["nikjer", "in"]]
    for phrase in phrases:
        expected = set(s.docs_for_query(Phrase("body", phrase)))
        got = set(s.docs_for_query(ExactPhrase("body", phrase)))
        assert got == expected, phrase
    assert any(set(s.docs_for_query(Phrase("body", p))) for p in phrases), "the case needs some matches"
    # re-filed records leave deleted postings behind in the old segment: they must not match
    ix.upsert([doc(f"p{i:03d}", text(i)) for i in range(0, 300, 3)])
    s = ix.searcher()
    assert any(sub.reader().has_deletions() for sub, _ in s.leaf_searchers())
    for phrase in phrases:
        assert set(s.docs_for_query(ExactPhrase("body", phrase))) == set(s.docs_for_query(Phrase("body", phrase))), phrase
    assert (any(answered) and all(answered)) if at_once else not answered


def test_phrases_are_tested_only_on_documents_the_user_may_see(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A restricted user's phrase skips the position test for documents outside their scope,
    # across segments (docnums by offset), and still finds exactly what brute force finds.
    import random

    from indexer import phrase as phrase_module
    rng = random.Random(17)
    words = ["in", "na", "pogodba", "arve"]
    rows = {f"v{i:03d}": (" ".join(rng.choices(words, k=rng.randrange(2, 30))),
                          Confidentiality.SECRET if i % 2 else Confidentiality.INTERNAL) for i in range(240)}
    ix = open_index(tmp_path / "index", KEY, create=True)
    names = sorted(rows)
    for start in range(0, len(names), 60):
        writer = ix._index.writer(codec=FlatCodec())  # noqa: SLF001 - several unmerged segments
        for rid in names[start:start + 60]:
            writer.update_document(**document_of(doc(rid, rows[rid][0], confidentiality=rows[rid][1])))
        writer.commit(merge=False)
    assert len(ix.searcher().leaf_searchers()) > 1, "the case needs several segments"
    tested: list[int] = []
    adjacent = phrase_module._AdjacentMatcher._adjacent  # noqa: SLF001

    def counting(self: object, doc: int) -> bool:
        tested.append(1)
        return adjacent(self, doc)  # type: ignore[arg-type]
    monkeypatch.setattr(phrase_module._AdjacentMatcher, "_adjacent", counting)  # noqa: SLF001
    for scope in (ADMIN, VIEWER):
        for at_once in (False, True):
            monkeypatch.setattr("indexer.phrase.AT_ONCE_SHARE", 10**9 if at_once else 0)
            tested.clear()
            result = ix.search(SearchRequest('"in na"', page_len=200), scope, lambda rid: rows[rid][0])
            expected = {rid for rid, (text, level) in rows.items() if " in na " in f" {text} "
                        and (scope is ADMIN or level is Confidentiality.INTERNAL)}
            assert {h.record_id for h in result.hits} == expected and result.total == len(expected)
            both = sum(1 for rid, (text, level) in rows.items() if {"in", "na"} <= set(text.split())
                       and (scope is ADMIN or level is Confidentiality.INTERNAL))
            # one position test per visible candidate, no more; at once, only the phrase's own are visited
            assert len(tested) == (len(expected) if at_once else both), scope.actor


def test_exact_phrases_on_a_field_with_character_positions() -> None:
    # Positions are decoded by hand for whoosh's Positions format; any other format with
    # positions (here Characters) goes through whoosh's own decoder and must agree as well.
    from whoosh.fields import TEXT, Schema
    from whoosh.filedb.filestore import RamStorage
    from whoosh.query import Phrase

    from indexer.phrase import ExactPhrase
    ix = RamStorage().create_index(Schema(body=TEXT(chars=True)))
    with ix.writer() as w:
        for text in ("alfa beta gama", "beta alfa gama", "gama alfa beta alfa", "alfa gama beta"):
            w.add_document(body=text)
    with ix.searcher() as s:
        for words in (["alfa", "beta"], ["beta", "alfa"], ["alfa", "beta", "alfa"], ["gama", "alfa"]):
            assert set(s.docs_for_query(ExactPhrase("body", words))) == set(s.docs_for_query(Phrase("body", words)))
        assert set(s.docs_for_query(ExactPhrase("body", ["alfa", "beta"]))) == {0, 2}


def _numbered(tmp_path: Path) -> WhooshIndex:
    """Records with real registry numbers and parties, contract details and a correspondent."""
    from dataclasses import replace as _replace

    from records.model import ContractFields, CorrespondenceFields, Direction
    made = [
        _replace(doc("a", "Pogodba o dobavi.", record_class="03.1").record, registry_number="03.1-2/2026",
                 parties=("Novák d.o.o.",)),
        _replace(doc("b", "Pogodba o najemu.", record_class="03.1").record, registry_number="03.1-12/2026",
                 details=ContractFields(parties=("Šuštar s.p.",))),
        _replace(doc("c", "Dopis o 2026.", record_class="05.1").record, registry_number="05.1-2/2026",
                 details=CorrespondenceFields(direction=Direction.INCOMING, sender="Tamm OÜ")),
    ]
    ix = open_index(tmp_path / "numbered", KEY, create=True)
    ix.upsert([IndexDoc(record=r, text="") for r in made])
    return ix


def test_registry_numbers_are_found_exactly(tmp_path: Path) -> None:
    ix = _numbered(tmp_path)
    assert ids(ix, "03.1-2/2026") == ["a"]
    assert ids(ix, '"03.1-12/2026"') == ["b"]
    assert ids(ix, "05.1-2/2026") == ["c"]
    assert ids(ix, "03.1-02/2026") == ["a"]  # a leading zero in the sequence is the same number
    assert ids(ix, "03.1-3/2026") == []
    assert ids(ix, "03.1-2/2026 class:03.1") == ["a"]


@pytest.mark.parametrize(("query", "expected"), [
    ("Novák", {"a"}), ("novak", {"a"}), ('"novák d.o.o."', {"a"}),  # record parties, exact and folded
    ("Šuštar", {"b"}), ("sustar", {"b"}),  # contract parties
    ("Tamm", {"c"}), ("tamm OÜ", {"c"}), ("tamm ou", {"c"}),  # the correspondent
    ("from:sustar", {"b"}), ("from:tamm", {"c"}),
])
def test_parties_and_correspondents_are_found(tmp_path: Path, query: str, expected: set[str]) -> None:
    assert set(ids(_numbered(tmp_path), query)) == expected


def test_plain_words_make_the_query_whoosh_s_parser_makes() -> None:
    """Plain words skip whoosh's parser (indexer.query._plain_words); the query must be equal."""
    from bench.corpus import Vocabulary, queries
    from indexer import query as query_language
    from indexer.schema import build_schema

    schema = build_schema()
    texts = [*queries(Vocabulary(), 200), "Töölepingu", "d.o.o", "1.2", "pogodba Pogodba", "in AND out",
             "or", "x_y", "İstanbul", "ﬁnance", "pogodba lepingu contract", "A1 b.2 c3"]
    plain = 0
    for text in texts:
        free = " ".join(t for t in text.split() if ":" not in t)
        fast = query_language._plain_words(free, schema)  # noqa: SLF001
        if fast is None:
            continue
        plain += 1
        parser = query_language._text_parser(schema)  # noqa: SLF001
        assert fast == parser.parse(free).normalize(), text
    assert plain > 120  # the bench's single words and word pairs take the short way


def test_what_segments_yield_is_reused_across_commits_and_never_stale(tmp_path: Path) -> None:
    """Scope sets, facet columns and field lengths are kept per segment across commits (a filing must
    not make the next search rebuild them all); a record re-classified or made secret in a later commit
    must still leave the old segment's sets, facets and counts at once."""
    ix = open_index(tmp_path / "index", KEY, create=True)
    viewer = AccessScope(actor="v", role=Role.VIEWER, clearance=Confidentiality.INTERNAL, principals=None)
    ix.upsert([doc(f"a{i}", "letno poročilo", record_class="03.1") for i in range(5)])
    ix.upsert([doc("b0", "letno poročilo", record_class="04.1")])  # a second segment
    first = ix.search(SearchRequest("poročilo"), viewer, lambda _: "")
    assert first.total == 6 and first.facets["record_class"] == {"03.1": 5, "04.1": 1}
    kept = {k for k in ix._segments if k[0] in ("scope", "column")}  # noqa: SLF001
    ix.upsert([doc("a0", "letno poročilo", record_class="04.1", confidentiality=Confidentiality.SECRET),
               doc("a1", "letno poročilo", record_class="04.1")])
    after = ix.search(SearchRequest("poročilo"), viewer, lambda _: "")
    assert sorted(h.record_id for h in after.hits) == ["a1", "a2", "a3", "a4", "b0"]
    assert after.total == 5 and after.facets["record_class"] == {"03.1": 3, "04.1": 2}
    admin = ix.search(SearchRequest("poročilo"), AccessScope.system(), lambda _: "")
    assert admin.total == 6 and admin.facets["record_class"] == {"03.1": 3, "04.1": 3}
    reused = {k for k in ix._segments if k[0] in ("scope", "column")} & kept  # noqa: SLF001
    assert any(k[0] == "column" for k in reused)  # b0's untouched segment was not read again
    scopes = [k for k in ix._segments if k[0] == "scope"]  # noqa: SLF001
    assert len(scopes) == len({k[1:] for k in scopes}) and len({(k[1], k[3]) for k in scopes}) == len(scopes)
    # one set per segment and scope: the first segment's set from before its deletions is gone


def test_a_reopened_searcher_keeps_untouched_segments_open_and_follows_every_change(tmp_path: Path) -> None:
    ix = open_index(tmp_path / "index", KEY, create=True)
    ix.upsert([doc(f"a{i}", "zapisnik seje") for i in range(4)])
    ix.upsert([doc("b0", "zapisnik seje")])
    ix.search(SearchRequest("zapisnik"), AccessScope.system(), lambda _: "")

    def readers() -> dict[str, object]:
        return {r.segment().segment_id(): r for r, _ in ix.searcher().ixreader.leaf_readers()}
    before = readers()
    ix.upsert([doc("c0", "zapisnik seje")])  # a new segment; the others untouched
    after = readers()
    assert all(after[k] is before[k] for k in before) and len(after) == len(before) + 1
    ix.remove([RecordId("a2")])  # a deletion in the first segment: its reader must be opened again
    assert readers()[next(iter(before))] is not before[next(iter(before))]
    expected = {"a0", "a1", "a3", "b0", "c0"}
    for n in range(25):  # enough commits for whoosh to merge segments under the reused readers
        ix.upsert([doc(f"d{n}", "zapisnik seje")])
        expected.add(f"d{n}")
        if n % 5 == 0:
            ix.remove([RecordId(f"d{n}")])
            expected.discard(f"d{n}")
        found = ix.search(SearchRequest("zapisnik", page_len=200), AccessScope.system(), lambda _: "")
        assert {h.record_id for h in found.hits} == expected and found.total == len(expected)
