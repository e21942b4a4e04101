"""Signers are searchable: `signer:` by name or identity code, and a signer's name as a plain word,
also in an index built before the field existed (until `reindex` adds it)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest
from whoosh.fields import Schema

from indexer import generations
from indexer.search import WhooshIndex, open_index
from records.access import AccessScope
from records.model import Integrity, SignatureFact, State
from records.ports import IndexDoc, SearchRequest
from tests.indexer.samples import KEY, doc

ADMIN = AccessScope.system()
MARI = SignatureFact(signer="MARI MAASIKAS", identity_code="PNOEE-38001085718",
                     signed_at=datetime(2025, 11, 3, 9, 15, tzinfo=timezone.utc), integrity=Integrity.INTACT,
                     kind="XAdES")
TEXTS = {"signed": "Üürileping ja lisa.", "plain": "Üürileping ilma allkirjata, saatja Maasikas."}


def _docs() -> list[IndexDoc]:
    signed = doc("signed", TEXTS["signed"], title="Leping")
    return [IndexDoc(record=dataclasses.replace(signed.record, signatures=(MARI,)), text=signed.text),
            doc("plain", TEXTS["plain"], title="Kiri")]


def ids(index: WhooshIndex, query: str) -> set[str]:
    result = index.search(SearchRequest(query), ADMIN, TEXTS.__getitem__)
    return {h.record_id for h in result.hits}


def test_signer_field_and_plain_words_find_the_signed_record(tmp_path: Path) -> None:
    index = open_index(tmp_path / "index", KEY, create=True)
    index.upsert(_docs())
    assert ids(index, "signer:maasikas") == {"signed"}
    assert ids(index, 'signer:"Mari Maasikas"') == {"signed"}
    assert ids(index, "signer:38001085718") == {"signed"}
    assert ids(index, "maasikas") == {"signed", "plain"}  # the name is in the searchable text too
    assert ids(index, "maasikas -signer:maasikas") == {"plain"}


def test_a_disposed_record_loses_its_signers(tmp_path: Path) -> None:
    index = open_index(tmp_path / "index", KEY, create=True)
    [signed, plain] = _docs()
    index.upsert([IndexDoc(record=dataclasses.replace(signed.record, state=State.DISPOSED, signatures=()),
                           text=""), plain])
    assert ids(index, "signer:maasikas") == set()


def test_an_index_built_before_the_signer_field_still_takes_signed_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = generations.build_schema

    def without_signers() -> Schema:
        schema = made()
        schema.remove("signers")
        return schema

    monkeypatch.setattr(generations, "build_schema", without_signers)
    index = open_index(tmp_path / "index", KEY, create=True)
    index.upsert(_docs())  # an unknown field would make whoosh refuse the document
    assert ids(index, "maasikas") == {"signed", "plain"}
    assert ids(index, "signer:maasikas") == set()  # until `reindex` builds the new schema
    monkeypatch.setattr(generations, "build_schema", made)
    generations.rebuild(tmp_path / "index", KEY, _docs())
    assert ids(open_index(tmp_path / "index", KEY), "signer:maasikas") == {"signed"}
