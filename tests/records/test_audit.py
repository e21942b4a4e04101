"""The hash-chain walker: every break is a sentence, never an exception."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import pytest

from records.audit import GENESIS, AuditEvent, canonical, chain, first_break

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)


def _docs(n: int) -> list[dict[str, Any]]:
    docs, prev = [], GENESIS
    for seq in range(1, n + 1):
        entry = chain(seq, AuditEvent(ts=NOW, actor="ana", action="search"), prev)
        docs.append(entry.to_json())
        prev = entry.hash
    return docs


def _rehash(doc: dict[str, Any]) -> None:
    body = {k: v for k, v in doc.items() if k != "hash"}
    doc["hash"] = hashlib.sha256(canonical(body)).hexdigest()


@pytest.mark.parametrize("bad_seq", [None, "2", 2.0])
def test_an_entry_without_an_integer_seq_is_a_break_not_a_crash(bad_seq: object) -> None:
    docs = _docs(2)
    docs[1]["seq"] = bad_seq
    if bad_seq is None:
        del docs[1]["seq"]
    _rehash(docs[1])
    broken = first_break(docs[1:], start_prev=docs[0]["hash"])
    assert broken == "the audit entry after the start has no valid sequence number"
    assert first_break(docs, start_prev=GENESIS) is not None


def test_an_intact_chain_has_no_break() -> None:
    assert first_break(_docs(3), start_prev=GENESIS) is None
