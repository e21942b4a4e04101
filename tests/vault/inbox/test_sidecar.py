"""The sidecar parser: round trips, strict validation, and no input that escapes as a non-SidecarInvalid error."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records.model import Confidentiality, ContractFields, InvoiceFields
from vault.inbox import Sidecar, SidecarInvalid, parse_sidecar, sidecar_to_json

line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip)
words = st.lists(line.filter(bool), max_size=5).map(tuple)
dates = st.dates(date(1900, 1, 1), date(2100, 12, 31))
amounts = st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)

contracts = st.builds(ContractFields, parties=words, signed=st.none() | dates, expiry=st.none() | dates,
                      notice_days=st.none() | st.integers(0, 3650), value=st.none() | amounts,
                      currency=st.sampled_from(["EUR", "USD"]))
sidecars = st.builds(
    Sidecar, title=st.none() | line, principal=st.none() | line,
    confidentiality=st.none() | st.sampled_from(list(Confidentiality)), document_date=st.none() | dates,
    tags=words, parties=words, details=st.none() | contracts,
    extra=st.dictionaries(line.filter(bool), line, max_size=4).map(lambda d: tuple(sorted(d.items()))))


@given(sidecars)
@settings(max_examples=150, deadline=None)
def test_round_trip(sidecar: Sidecar) -> None:
    data = json.dumps(sidecar_to_json(sidecar), ensure_ascii=False).encode()
    assert parse_sidecar(data, detail_kind="contract") == sidecar


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
keys = st.sampled_from(["title", "principal", "confidentiality", "document_date", "tags", "parties",
                        "details", "extra", "kind", "bogus"])


@given(st.dictionaries(keys, json_values, max_size=6), st.sampled_from([None, "contract", "invoice", "minutes"]))
@settings(max_examples=300, deadline=None)
def test_any_json_object_is_parsed_or_refused_in_one_sentence(doc: dict[str, object], kind: str | None) -> None:
    try:
        parse_sidecar(json.dumps(doc).encode(), detail_kind=kind)
    except SidecarInvalid as exc:
        message = str(exc)
        assert message.endswith(".") and "\n" not in message and "Traceback" not in message


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_bytes_are_parsed_or_refused(data: bytes) -> None:
    try:
        parse_sidecar(data, detail_kind="invoice")
    except SidecarInvalid:
        pass


def test_invoice_fields_and_defaults() -> None:
    parsed = parse_sidecar(json.dumps({"details": {"number": "2026-17", "amount": "1250.50",
                                                   "due_date": "2026-04-01"}}).encode(), detail_kind="invoice")
    assert parsed.details == InvoiceFields(number="2026-17", amount=Decimal("1250.50"), due_date=date(2026, 4, 1))
    assert parsed.title is None and parsed.tags == ()


@pytest.mark.parametrize(("doc", "kind", "fragment"), [
    ({"titel": "x"}, None, "unknown field 'titel'"),
    ({"confidentiality": "top"}, None, "confidentiality must be one of"),
    ({"document_date": "03.11.2025"}, None, "2026-03-01"),
    ({"tags": "one"}, None, "tags must be a list"),
    ({"details": {"expiry": "2027-01-01"}}, None, "takes no class-specific details"),
    ({"details": {"expiry": "2027-01-01"}}, "invoice", "no field 'expiry'"),
    ({"details": {"kind": "contract"}}, "invoice", "takes invoice details, not contract"),
    ({"details": {"amount": "lots"}}, "invoice", "amount written like"),
    ({"details": {"notice_days": True}}, "contract", "whole number of days"),
    ({"title": "two\nlines"}, None, "one line"),
])
def test_clear_errors(doc: dict[str, object], kind: str | None, fragment: str) -> None:
    with pytest.raises(SidecarInvalid, match=fragment.replace("(", r"\(")):
        parse_sidecar(json.dumps(doc).encode(), detail_kind=kind, name="The sidecar a.pdf.json")


def test_not_json_and_too_large() -> None:
    with pytest.raises(SidecarInvalid, match="not valid UTF-8 JSON"):
        parse_sidecar(b"{title: 1}", detail_kind=None)
    with pytest.raises(SidecarInvalid, match="larger than"):
        parse_sidecar(b" " * 70_000, detail_kind=None)
    with pytest.raises(SidecarInvalid, match="one JSON object"):
        parse_sidecar(b"[1, 2]", detail_kind=None)
