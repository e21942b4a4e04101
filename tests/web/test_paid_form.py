"""The "Mark paid" forms (invoices register and record page) are prefilled with today in a form that the
server reads back in every language: '6. dec. 2026', the reading format, was refused with a 400."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.filing import FilingRequest
from records.model import InvoiceFields


def _invoice(app: Flask) -> str:
    office = app.extensions["strongroom"].office
    outcome = office.file(b"Racun za pisarniski material.", FilingRequest(
        original_name="racun.txt", record_class="01.1", actor="anna",
        details=InvoiceFields(issuer="Papirnica d.o.o.", number="R-77", amount=Decimal("42.00"))))
    assert outcome.record_id is not None, outcome.reason
    return str(outcome.record_id)


@pytest.mark.parametrize("lang", ["sl", "et", "en"])
@pytest.mark.parametrize("page", ["/registers/invoices", "/records/{rid}"])
def test_the_prefilled_payment_day_is_accepted_as_it_stands(app: Flask, admin: FlaskClient, lang: str,
                                                            page: str) -> None:
    rid = _invoice(app)
    html = admin.get(page.format(rid=rid) + f"?lang={lang}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/records/[0-9a-f]+/paid)".*?</form>', html, re.S)
    assert form is not None, html
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(0)))
    response = admin.post(form.group(1), data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    register = admin.get("/registers/invoices?lang=en").get_data(as_text=True)
    assert "R-77" in register and "Mark paid" not in register.split("R-77", 1)[1].split("</tr>", 1)[0]
