"""The search page: its hint survives the HTML attribute; registry numbers and parties are found."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

from records.filing import FilingRequest
from records.model import ContractFields
from tests.web.test_pages import hits


def _file(app: Flask, name: str, text: str, **fields: object) -> tuple[str, str]:
    office = app.extensions["strongroom"].office
    outcome = office.file(text.encode(), FilingRequest(original_name=name, record_class="03.1", actor="anna",
                                                       **fields))  # type: ignore[arg-type]
    assert outcome.record_id is not None, outcome.reason
    return str(outcome.record_id), outcome.registry_number


def test_search_hint_is_whole_in_its_attribute(admin: FlaskClient) -> None:
    for lang, start in (("en", "Words, "), ("sl", "Besede, "), ("et", "Sõnad, ")):
        body = admin.get("/search", headers={"Accept-Language": lang}).get_data(as_text=True)
        found = re.search(r'placeholder="([^"]*)"', body)
        assert found is not None
        assert html.unescape(found.group(1)).startswith(start)
        assert html.unescape(found.group(1)).endswith("year:2024..2026"), found.group(1)


def test_search_finds_registry_numbers_and_parties(app: Flask, admin: FlaskClient) -> None:
    first, number = _file(app, "dobava.txt", "Pogodba o dobavi.", parties=("Kovačič d.o.o.",))
    second, _ = _file(app, "najem.txt", "Pogodba o najemu.",
                      details=ContractFields(parties=("Põder OÜ",)))
    assert hits(admin, number)[0] == [first]
    assert hits(admin, number.replace("-1/", "-2/"))[0] == [second]
    for query, expected in (("Kovačič", first), ("kovacic", first), ("Põder", second), ("poder ou", second)):
        assert hits(admin, query)[0] == [expected], query
