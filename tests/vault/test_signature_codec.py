"""Signature facts are stored with the record in the catalogue (JSON inside SQLCipher) and read back;
records filed before signatures were read have none."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from records.model import Integrity, SignatureFact, Trust
from tests.vault.test_catalog import make_record
from vault import Home
from vault.recordcodec import record_from_json, record_to_json

FACTS = (SignatureFact(signer="MARI MAASIKAS", identity_code="PNOEE-38001085718",
                       signed_at=datetime(2025, 11, 3, 9, 15, tzinfo=timezone.utc), integrity=Integrity.INTACT,
                       trust=Trust.TRUSTED, kind="XAdES"),
         SignatureFact(signer="Janez Novak", identity_code="", signed_at=None, integrity=Integrity.ALTERED,
                       kind="PAdES", problem="the signed content of the PDF differs from what was signed."))


def test_signatures_round_trip_through_the_catalogue(home: Home) -> None:
    record = make_record(signatures=FACTS)
    with home.catalog.transaction() as tx:
        tx.add(record, b"k" * 40, "mac-signed")  # type: ignore[arg-type]
    assert home.catalog.get(record.id).signatures == FACTS


def test_a_record_stored_before_signatures_reads_with_none() -> None:
    stored = json.loads(record_to_json(make_record()))
    assert "signatures" not in stored
    assert record_from_json(json.dumps(stored)).signatures == ()
