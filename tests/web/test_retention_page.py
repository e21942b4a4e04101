"""The retention page (issue 18): plural forms, ticks kept after an error, the certificate after a disposal,
what is left of a destroyed record, titles in the lists, and what falls due by a chosen day."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records import safeguards
from records.access import AccessScope
from records.filing import FilingRequest
from tests.web.conftest import csrf_of

TODAY = datetime(2030, 6, 1, 9, 0, tzinfo=timezone.utc)


def file_invoice(app: Flask, name: str, document_date: date, title: str) -> str:
    """An invoice of class 01.1 (kept 10 years after the end of its year)."""
    outcome = app.extensions["strongroom"].office.file(f"Račun {name}".encode(), FilingRequest(
        original_name=name, record_class="01.1", actor="anna", title=title, document_date=document_date))
    assert outcome.record_id, outcome.reason
    return str(outcome.record_id)


@pytest.fixture
def one_person(app: Flask) -> Flask:
    """The app on 1 June 2030, the two-person rule off (one person destroys)."""
    state = app.extensions["strongroom"]
    state.clock = lambda: TODAY
    safeguards.change(state.ports, AccessScope.system(), "require-second-approver", "off", now=TODAY)
    return app


def dispose(admin: FlaskClient, ids: list[str], lang: str, **form: str) -> tuple[int, str]:
    data = {"csrf_token": csrf_of(admin, "/retention/"), "record_id": ids, "confirm": "yes",
            "reason": "Rok hrambe je potekel", **form}
    response = admin.post("/retention/dispose", data=data, headers={"Accept-Language": lang})
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(("lang", "count", "sentence"), [
    ("en", 1, "1 record was destroyed."), ("en", 2, "2 records were destroyed."),
    ("sl", 1, "1 dokument je bil uničen."), ("sl", 2, "2 dokumenta sta bila uničena."),
    ("sl", 3, "3 dokumenti so bili uničeni."), ("sl", 5, "5 dokumentov je bilo uničenih."),
    ("et", 1, "1 dokument hävitati."), ("et", 3, "3 dokumenti hävitati.")])
def test_the_count_of_destroyed_records_uses_plural_forms(one_person: Flask, admin: FlaskClient, lang: str,
                                                          count: int, sentence: str) -> None:
    ids = [file_invoice(one_person, f"r{i}.txt", date(2015, 3, 1 + i), f"Račun {i}") for i in range(count)]
    status, body = dispose(admin, ids, lang)
    assert status == 200 and sentence in body


def test_a_disposal_links_its_certificate_and_the_record_page_shows_what_remains(one_person: Flask,
                                                                                 admin: FlaskClient) -> None:
    record_id = file_invoice(one_person, "star.txt", date(2015, 3, 1), "Star račun")
    number = one_person.extensions["strongroom"].ports.catalog.get(record_id).registry_number
    _status, body = dispose(admin, [record_id], "en")
    link = re.search(r'href="(/retention/certificates/([0-9a-f]+))">Open the destruction certificate</a>', body)
    assert link is not None, body
    certificate = admin.get(link.group(1), headers={"Accept-Language": "sl"}).get_data(as_text=True)
    assert "Potrdilo o uničenju" in certificate and number in certificate and "Rok hrambe je potekel" in certificate
    signed = admin.get(link.group(1) + ".json")
    assert signed.status_code == 200 and signed.json["certificate"]["records"][0]["registry_number"] == number
    page = admin.get(f"/records/{record_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"<h1>Destroyed record {number}</h1>" in page
    assert "(, 0 B)" not in page and "<h1></h1>" not in page
    assert "Destroyed on" in page and "Jun 1, 2030" in page
    assert f'href="/retention/certificates/{link.group(2)}"' in page
    assert "Invoices issued and received" in page  # the class is still named
    viewer = one_person.test_client()
    from tests.web.conftest import login
    assert login(viewer, "vaatleja") == 302
    assert viewer.get(link.group(1)).status_code == 403  # certificates are for auditors and disposers


def test_ticks_and_justification_survive_an_error(one_person: Flask, admin: FlaskClient) -> None:
    first = file_invoice(one_person, "a.txt", date(2015, 3, 1), "Prvi račun")
    second = file_invoice(one_person, "b.txt", date(2015, 4, 1), "Drugi račun")
    status, body = dispose(admin, [first], "en", confirm="")  # the confirmation box left empty
    assert status == 400 and "Confirm the destruction" in body
    assert re.search(rf'value="{first}"[^>]* checked', body)
    assert not re.search(rf'value="{second}"[^>]* checked', body)
    assert ">Rok hrambe je potekel</textarea>" in body


def test_the_due_list_shows_titles(one_person: Flask, admin: FlaskClient) -> None:
    file_invoice(one_person, "a.txt", date(2015, 3, 1), "Račun za elektriko")
    body = admin.get("/retention/").get_data(as_text=True)
    assert "<td><bdi>Račun za elektriko</bdi></td>" in body


@pytest.mark.parametrize("typed", ["31.1.2031", "31. 1. 2031", "2031-01-31"])
def test_what_falls_due_by_a_day(one_person: Flask, admin: FlaskClient, typed: str) -> None:
    now_due = file_invoice(one_person, "a.txt", date(2019, 6, 1), "Račun 2019")  # kept until 31 Dec 2029
    later = file_invoice(one_person, "b.txt", date(2020, 6, 1), "Račun 2020")  # kept until 31 Dec 2030
    today = admin.get("/retention/", headers={"Accept-Language": "sl"}).get_data(as_text=True)
    assert f'value="{now_due}"' in today and "Račun 2020" not in today
    ahead = admin.get("/retention/", query_string={"by": typed}, headers={"Accept-Language": "sl"})
    body = ahead.get_data(as_text=True)
    assert "Za uničenje do 31. 1. 2031" in body and "Račun 2019" in body and "Račun 2020" in body
    assert f'value="{later}"' not in body  # a look ahead destroys nothing: no ticks
    wrong = admin.get("/retention/?by=someday", headers={"Accept-Language": "et"}).get_data(as_text=True)
    assert "Kirjutage päev kujul 31.12.2031" in wrong
