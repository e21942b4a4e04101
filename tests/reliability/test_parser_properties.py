"""Properties of the two parsers that take user text: sidecars and search queries.

tests/vault/inbox/test_sidecar.py already covers round trips, arbitrary JSON objects with top-level
keys and arbitrary bytes; this adds class-specific fields with hostile values, deep nesting and
arbitrary text. No test yet fed arbitrary strings to the search language: here every query either
runs or fails with the indexer's own error, and a restricted user's results never exceed what they
may see (hits, totals, facets and "did you mean").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.errors import IndexerError, QueryError
from indexer.query import FIELD_NAMES
from indexer.search import WhooshIndex, open_index
from records.access import AccessScope
from records.model import DETAIL_KINDS, Confidentiality, RecordId, Role, State
from records.ports import IndexDoc, SearchRequest
from tests.indexer.samples import KEY, doc
from vault.inbox import SidecarInvalid, parse_sidecar

# ---- sidecars ------------------------------------------------------------------------------------

hostile_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**18, max_value=10**40)
                   | st.floats(allow_nan=False) | st.text(max_size=30)
                   | st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31", "31.12.2025", "1e999", "-0",
                                      "NaN", "Infinity", "\u202e2026-01-01", "2026-01-01\x00", "1_000", " 90 ",
                                      "in", "out", "EUR", "x" * 2000, "a\nb"]))
hostile_values = st.recursive(hostile_scalars, lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@st.composite
def details_docs(draw: st.DrawFn) -> tuple[dict[str, object], str | None]:
    """A sidecar whose details use the real field names of a kind, with hostile values."""
    kind = draw(st.sampled_from(sorted(DETAIL_KINDS)))
    names = [f.name for f in dataclasses.fields(DETAIL_KINDS[kind])]
    fields = draw(st.dictionaries(st.sampled_from([*names, "kind", "bogus"]), hostile_values, max_size=len(names)))
    if draw(st.booleans()):
        fields["kind"] = draw(st.sampled_from([kind, *sorted(DETAIL_KINDS), 7, None]))
    folder_kind = draw(st.sampled_from([kind, None, *sorted(DETAIL_KINDS)]))
    return {"details": fields, "title": draw(hostile_scalars)}, folder_kind


def _refused_in_one_sentence(exc: SidecarInvalid) -> None:
    message = str(exc)
    # One line; a value is echoed at most as one valid text (MAX_TEXT characters), never whole.
    assert message.endswith(".") and "\n" not in message and len(message) < 1300, message


@given(details_docs())
@settings(max_examples=400, deadline=None)
def test_class_specific_fields_with_hostile_values_parse_or_are_refused(case: tuple[dict[str, object], str | None]
                                                                         ) -> None:
    doc_, kind = case
    try:
        parsed = parse_sidecar(json.dumps(doc_).encode(), detail_kind=kind)
    except SidecarInvalid as exc:
        _refused_in_one_sentence(exc)
        return
    if parsed.details is not None:  # what is accepted is a well-formed value of the folder's kind
        assert parsed.details.kind == kind


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_is_parsed_or_refused(text: str) -> None:
    try:
        parse_sidecar(text.encode("utf-8", "surrogatepass"), detail_kind="contract")
    except SidecarInvalid as exc:
        _refused_in_one_sentence(exc)


@pytest.mark.parametrize("data", [
    b"[" * 200_000 + b"]" * 200_000,  # deeper than the interpreter's recursion limit
    b'{"details": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
    b'{"extra": {"k": ' + b"[" * 5_000 + b"]" * 5_000 + b"}}",
    b'{"title": "' + b"x" * (64 * 1024) + b'"}',  # over the size limit
    b'{"title": "a", "title": 5}',  # duplicate keys: the last wins, and it is refused
    b'{"document_date": 1e999}',
    b'{"tags": ' + json.dumps(["t"] * 5000).encode() + b"}",
    b'{"details": {"value": 1e999}}',
    b'{"details": {"notice_days": 1e308}}',
    b'{"details": {"notice_days": ' + b"9" * 5000 + b"}}",  # longer than int() accepts
    b"\xef\xbb\xbf{}",  # a BOM is fine
    b'{"title": "\\ud800"}',  # a lone surrogate
    b"\x00" * 100,
])
def test_deep_huge_and_odd_json_is_refused_or_parsed_without_escaping(data: bytes) -> None:
    try:
        parse_sidecar(data, detail_kind="contract")
    except SidecarInvalid as exc:
        _refused_in_one_sentence(exc)


# ---- search queries ------------------------------------------------------------------------------

PRINCIPALS = ("Acme d.o.o.", "Beta d.d.", "Tallinna OÜ")
WORDS = ("pogodba", "pogodbe", "zapisnik", "seja", "leping", "lepingu", "račun", "kolibri", "zebrafin",
         "sklep", "arve", "board", "resolution")


def _corpus() -> list[IndexDoc]:
    out = []
    n = 0
    for principal in PRINCIPALS:
        for level in Confidentiality:
            for state in (State.ACTIVE, State.CLOSED, State.DISPOSED):
                n += 1
                words = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(4))
                out.append(doc(f"r{n:02d}", f"{words} dokument {n}", title=f"{WORDS[n % len(WORDS)]} {n}",
                               principal=principal, confidentiality=level, state=state,
                               record_class=("03.1", "01.2", "06.1")[n % 3],
                               document_date=date(2020 + n % 6, 1 + n % 12, 1 + n % 28),
                               tags=(WORDS[n % 5],), parties=(f"Partner {n % 4}",)))
    return out


CORPUS = {d.record.id: d for d in _corpus()}
SCOPES = [
    AccessScope(actor="vida", role=Role.VIEWER, clearance=Confidentiality.INTERNAL,
                principals=frozenset({"Beta d.d."})),
    AccessScope(actor="pia", role=Role.VIEWER, clearance=Confidentiality.PUBLIC, principals=None),
    AccessScope(actor="mia", role=Role.MANAGER, clearance=Confidentiality.SECRET,
                principals=frozenset({"Acme d.o.o.", "Tallinna OÜ"})),
    AccessScope(actor="nobody", role=Role.VIEWER, clearance=Confidentiality.SECRET, principals=frozenset()),
]
ADMIN = AccessScope.system()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshIndex]:
    ix = open_index(tmp_path_factory.mktemp("props") / "index", KEY, create=True)
    ix.upsert(list(CORPUS.values()))
    yield ix
    ix.close()


def _text_of(record_id: RecordId) -> str:
    return CORPUS[record_id].text


def _visible(scope: AccessScope) -> set[str]:
    return {rid for rid, d in CORPUS.items() if d.record.state is not State.DISPOSED and scope.can_see(d.record)}


field_tokens = st.sampled_from([f"{name}:" for name in FIELD_NAMES] + ["-class:", "bogus:", "principal:\"",
                                                                       "hold:yes", "state:disposed"])
values = st.sampled_from([*WORDS, *PRINCIPALS, "03.1", "secret", "public", "2024", "2020..2030", "..2023",
                          "2025-01-01..2025-12-31", "1.2.2025", "31.13.2025", "9999999999", "*", "?", "a*",
                          "\"", "(", ")", "..", "-", "~2", "^3", "\\", "{", "[", "TO", "\u202e", "\x00"])
joiners = st.sampled_from([" ", " OR ", " AND ", " NOT ", " -", "\"", " (", ") ", "*", "\t", ""])


@st.composite
def language_queries(draw: st.DrawFn) -> str:
    """Queries built from the search language's own pieces, put together in odd ways."""
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            parts.append(draw(field_tokens) + draw(values))
        else:
            parts.append(draw(values) if draw(st.booleans()) else draw(st.text(max_size=12)))
        parts.append(draw(joiners))
    return "".join(parts)


queries = st.text(max_size=80) | language_queries()


def _search(index: WhooshIndex, query: str, scope: AccessScope) -> object:
    try:
        return index.search(SearchRequest(query, page_len=200), scope, _text_of)
    except IndexerError as exc:  # QueryError, or the one-sentence "simplify it" refusal
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        return exc


@given(query=queries, scope=st.sampled_from([ADMIN, *SCOPES]))
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_runs_or_fails_with_the_indexers_own_error(index: WhooshIndex, query: str,
                                                              scope: AccessScope) -> None:
    outcome = _search(index, query, scope)
    if isinstance(outcome, IndexerError):
        return
    hits = outcome.hits  # type: ignore[attr-defined]
    assert all(h.record_id in CORPUS for h in hits)


@given(query=queries, scope=st.sampled_from(SCOPES))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_restricted_users_results_never_exceed_what_they_may_see(index: WhooshIndex, query: str,
                                                                   scope: AccessScope) -> None:
    outcome = _search(index, query, scope)
    if isinstance(outcome, IndexerError):
        # The same text fails the same way for everyone: an error must not depend on hidden records.
        assert isinstance(_search(index, query, ADMIN), type(outcome))
        return
    visible = _visible(scope)
    got = {h.record_id for h in outcome.hits}  # type: ignore[attr-defined]
    assert got <= visible
    assert outcome.total == len(got) <= len(visible)  # type: ignore[attr-defined]
    everything = _search(index, query, ADMIN)
    assert not isinstance(everything, IndexerError)
    assert got == {h.record_id for h in everything.hits} & visible  # type: ignore[attr-defined]
    facets = outcome.facets  # type: ignore[attr-defined]
    for name, counts in facets.items():
        assert sum(counts.values()) <= outcome.total, (name, counts)  # type: ignore[attr-defined]
    allowed_principals = {CORPUS[RecordId(r)].record.principal for r in visible}
    assert set(facets.get("principal", {})) <= allowed_principals
    assert outcome.suggestion is None  # type: ignore[attr-defined]  # "did you mean" could leak words


def test_query_errors_are_the_query_error_type_for_bad_dates(index: WhooshIndex) -> None:
    for query in ("date:31.13.2025", "year:abcd", "date:2025-02-30..x"):
        with pytest.raises(QueryError):
            index.search(SearchRequest(query), ADMIN, _text_of)


def test_the_corpus_spans_every_scope(tmp_path: Path) -> None:
    """Guards the properties above against a corpus where the ACL has nothing to hide."""
    for scope in SCOPES[:3]:
        assert 0 < len(_visible(scope)) < len(_visible(ADMIN))
    assert _visible(SCOPES[3]) == set()
