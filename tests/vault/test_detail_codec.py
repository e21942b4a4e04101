"""The invoice payment, the contract's auto-renewal and a letter's reply-to are stored with the record and
read back; records stored before these fields existed read with their defaults."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from records.model import ContractFields, CorrespondenceFields, InvoiceFields
from tests.vault.test_catalog import make_record
from vault import Home
from vault.recordcodec import record_from_json, record_to_json


def test_new_class_fields_round_trip_through_the_catalogue(home: Home) -> None:
    for details in (InvoiceFields(issuer="Dobavitelj", number="R-1", amount=Decimal("100.50"), due_date=date(2026, 2, 1),
                                  paid_on=date(2026, 3, 2), payment_reference="SI00 1"),
                    ContractFields(parties=("A",), expiry=date(2031, 12, 31), notice_days=90, auto_renewal=True),
                    CorrespondenceFields(subject="Odgovor", reply_to="04.1-1/2026")):
        record = make_record(details=details)
        with home.catalog.transaction() as tx:
            tx.add(record, b"k" * 40, f"mac-{details.kind}")  # type: ignore[arg-type]
        assert home.catalog.get(record.id).details == details


def test_a_record_stored_before_the_fields_reads_with_defaults() -> None:
    stored = json.loads(record_to_json(make_record(details=InvoiceFields(number="R-1"))))
    for name in ("paid_on", "payment_reference"):
        del stored["details"][name]
    details = record_from_json(json.dumps(stored)).details
    assert isinstance(details, InvoiceFields) and details.paid_on is None and details.payment_reference == ""
    stored = json.loads(record_to_json(make_record(details=ContractFields(notice_days=30))))
    del stored["details"]["auto_renewal"]
    assert record_from_json(json.dumps(stored)).details == ContractFields(notice_days=30)
