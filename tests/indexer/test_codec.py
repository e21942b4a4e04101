"""indexer.codec's flat posting blocks hold exactly what whoosh 3's pickled blocks hold: the same
docnums, weights, values and block headers for every term, the same phrase and ranked results, and
an index may mix segments of both (an index written before the codec, then added to and merged)."""

from __future__ import annotations

import random
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.query import Every, Phrase, Term

from indexer import whoosh_compat
from indexer.codec import MAGIC, FlatCodec, FlatLeafMatcher

WORDS = [f"w{i}" for i in range(40)]


def _schema() -> Schema:
    # body: positions; tag: frequencies only (values of fixed size 0); boosted: weights that are
    # not whole counts (field boost 1.5) and, with a word repeated 300 times, counts above 255
    return Schema(id=ID(unique=True, stored=True), body=TEXT, tag=TEXT(phrase=False),
                  boosted=TEXT(field_boost=1.5), n=NUMERIC(int, stored=True))


def _docs(count: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        body = " ".join(rng.choice(WORDS[:8] if rng.random() < 0.7 else WORDS) for _ in range(rng.randint(1, 60)))
        if i % 97 == 0:
            body += " w1" * 300
        docs.append({"id": f"d{i}", "body": body, "tag": rng.choice(WORDS[:5]), "n": i,
                     "boosted": " ".join(rng.choice(WORDS[:3]) for _ in range(rng.randint(1, 4)))})
    return docs


def _index(folder: Path, codec: Any, docs: list[dict[str, Any]], batches: int = 1) -> Any:
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(_schema())
    step = -(-len(docs) // batches)
    for start in range(0, len(docs), step):
        with ix.writer(codec=codec) as w:
            w.merge = False
            for doc in docs[start:start + step]:
                w.add_document(**doc)
    return ix


def _postings(reader: Any, field: str, text: bytes) -> tuple[list[Any], list[Any]]:
    m = reader.postings(field, text)
    postings, headers = [], []
    while m.is_active():
        if isinstance(m, W3LeafMatcher) and m._i == 0:  # noqa: SLF001
            headers.append((m._blocklength, m._maxid, m._maxweight, m._minlength, m._maxlength))  # noqa: SLF001
        postings.append((m.id(), float(m.weight()), m.value()))
        m.next()
    return postings, headers


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    whoosh_compat.install()
    docs = _docs(1500)
    root = tmp_path_factory.mktemp("codec")
    return _index(root / "w3", W3Codec(), docs), _index(root / "flat", FlatCodec(), docs)


def test_every_term_reads_back_the_same(pair: tuple[Any, Any]) -> None:
    w3, flat = (ix.reader() for ix in pair)
    terms = list(w3.all_terms())
    assert terms == list(flat.all_terms())
    seen = {"big": False, "fraction": False, "positions": False, "blocks": 0}
    for field, text in terms:
        old, new = _postings(w3, field, text), _postings(flat, field, text)
        assert new == old, (field, text)
        seen["blocks"] += len(new[1])
        for _, weight, value in new[0]:
            seen["big"] |= weight > 255
            seen["fraction"] |= weight != int(weight)
            seen["positions"] |= field == "body" and bool(value)
    assert all(seen.values()), seen  # the test reached every kind of block it means to
    assert type(flat.postings("body", b"w0")) is FlatLeafMatcher  # noqa: E721


def test_skips_land_alike(pair: tuple[Any, Any]) -> None:
    w3, flat = (ix.reader() for ix in pair)
    rng = random.Random(5)
    for text in (b"w0", b"w1", b"w30"):
        a, b = w3.postings("body", text), flat.postings("body", text)
        target = 0
        while a.is_active():
            target += rng.randint(1, 200)
            a.skip_to(target)
            b.skip_to(target)
            assert b.is_active() == a.is_active()
            if a.is_active():
                assert (b.id(), b.weight(), b.value()) == (a.id(), a.weight(), a.value())


def test_phrases_and_ranking_alike(pair: tuple[Any, Any]) -> None:
    queries = [Phrase("body", ["w0", "w1"]), Phrase("body", ["w3", "w3", "w2"]), Term("body", "w1"),
               Term("boosted", "w2"), Term("tag", "w4"), Every()]
    with pair[0].searcher() as a, pair[1].searcher() as b:
        for q in queries:
            old = [(h.docnum, h.score) for h in a.search(q, limit=50)]
            assert [(h.docnum, h.score) for h in b.search(q, limit=50)] == old, q
            assert len(old) > 0


def test_an_index_may_mix_both_and_merge_into_flat(tmp_path: Path) -> None:
    whoosh_compat.install()
    docs = _docs(900, seed=8)
    whole = _index(tmp_path / "whole", W3Codec(), docs)
    mixed = _index(tmp_path / "mixed", W3Codec(), docs[:600], batches=2)  # written before the codec
    with mixed.writer(codec=FlatCodec()) as w:
        w.merge = False
        for doc in docs[600:]:
            w.add_document(**doc)
    codecs = {type(s.codec()).__name__ for s in mixed._segments()}  # noqa: SLF001
    assert codecs == {"W3Codec", "FlatCodec"}
    queries = [Term("body", "w1"), Phrase("body", ["w2", "w5"]), Term("boosted", "w0")]

    def results(ix: Any) -> list[Any]:
        with ix.searcher() as s:
            return [sorted(s.stored_fields(h.docnum)["n"] for h in s.search(q, limit=None)) for q in queries]
    expected = results(whole)
    assert results(mixed) == expected
    with mixed.writer(codec=FlatCodec()) as w:
        w.optimize = True  # one merged segment, rewritten by the flat codec
    assert [type(s.codec()).__name__ for s in mixed._segments()] == ["FlatCodec"]  # noqa: SLF001
    assert results(mixed) == expected


def test_a_whoosh_block_list_is_not_read_as_flat(pair: tuple[Any, Any]) -> None:
    reader = pair[0].reader()
    info = reader.term_info("body", b"w0")
    offset, length = info.extent()
    postfile = reader._terms._postfile  # noqa: SLF001 - one segment: the segment's own reader
    postfile.seek(offset)
    assert postfile.read(len(MAGIC)) != MAGIC
    with pytest.raises(ValueError, match="not a Strongroom posting list"):
        FlatLeafMatcher(postfile, offset, length, reader.schema["body"].format)


def test_positions_read_flat_are_whooshs(pair: tuple[Any, Any]) -> None:
    # phrases read a flat block's positions as arrays (FlatLeafMatcher.positions), not values
    flat = pair[1].reader()
    fmt = flat.schema["body"].format
    checked = 0
    for field, text in flat.all_terms():
        if field != "body":
            continue
        m = flat.postings(field, text)
        while m.is_active():
            starts, gaps = m.positions()
            m._read_values()  # noqa: SLF001 - whoosh's per-posting values, rebuilt from the arrays
            for i, value in enumerate(m._values):  # noqa: SLF001
                decoded = list(accumulate(gaps[starts[i]:starts[i + 1]]))
                assert decoded == fmt.decode_positions(value), (text, i)
                checked += 1
            m._next_block()  # noqa: SLF001
    assert checked > 1000
