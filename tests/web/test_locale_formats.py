"""Dates and numbers in the user's locale on the pages (issue 18, item 7): 1. 6. 2020 in Slovene,
01.06.2020 in Estonian; amounts with a decimal comma and thousands separators; sizes people read; and a
date a form shows is one the form takes back."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.filing import FilingRequest
from records.model import InvoiceFields
from tests.web.conftest import csrf_of

NBSP = "\u00a0"


def file_invoice(app: Flask) -> str:
    outcome = app.extensions["strongroom"].office.file(b"Racun za najemnino " * 100, FilingRequest(
        original_name="racun.txt", record_class="01.1", actor="anna", title="Račun", document_date=date(2020, 6, 1),
        details=InvoiceFields(issuer="Najem d.o.o.", number="17", amount=Decimal("1234.56"),
                              due_date=date(2020, 7, 1))))
    assert outcome.record_id
    return str(outcome.record_id)


@pytest.mark.parametrize(("lang", "day", "money", "size"), [
    ("sl", "1. 6. 2020", "1.234,56", "1,9 kB"), ("et", "01.06.2020", f"1{NBSP}234,56", "1,9 kB"),
    ("en", "Jun 1, 2020", "1,234.56", "1.9 kB")])
def test_record_page_and_register_in_the_locale(app: Flask, admin: FlaskClient, lang: str, day: str, money: str,
                                                size: str) -> None:
    record_id = file_invoice(app)
    page = admin.get(f"/records/{record_id}", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert f"<dd>{day}</dd>" in page  # the document date
    assert f"<dd>{money}</dd>" in page  # the invoice amount
    assert f", {size})</dd>" in page and " B)" not in page  # the file's size
    register = admin.get("/registers/invoices", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert f"{money} EUR" in register
    audit = admin.get("/audit/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert not re.search(r"\d{4}-\d\d-\d\dT", audit)


@pytest.mark.parametrize("lang", ["sl", "et", "en"])
def test_the_paid_on_date_a_form_shows_is_taken_back(app: Flask, admin: FlaskClient, lang: str) -> None:
    record_id = file_invoice(app)
    page = admin.get(f"/records/{record_id}", headers={"Accept-Language": lang}).get_data(as_text=True)
    shown = re.search(r'name="paid_on" value="([^"]+)"', page)
    assert shown is not None
    response = admin.post(f"/records/{record_id}/paid", data={"csrf_token": csrf_of(admin, f"/records/{record_id}"),
                                                               "paid_on": shown.group(1)},
                          headers={"Accept-Language": lang})
    assert response.status_code == 302, (lang, shown.group(1))
