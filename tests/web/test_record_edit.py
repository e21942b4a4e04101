"""Editing on the record page, lifecycle events, payments and the registers that are worked in (issue 18
items 1-3): every change one audited edit, reclassification confirmed with its retention consequence,
local dates accepted, registers access-filtered and exportable for Excel."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import csrf_of
from tests.web.test_pages import second_client, upload


def _edit(client: FlaskClient, rid: str, **fields: str) -> tuple[int, str]:
    token = csrf_of(client, f"/records/{rid}/edit")
    response = client.post(f"/records/{rid}/edit", data={"csrf_token": token, **fields})
    return response.status_code, response.get_data(as_text=True) + response.headers.get("Location", "")


def _edits(app: Flask) -> list[dict[str, Any]]:
    """The record.edit audit entries, oldest first."""
    catalog = app.extensions["strongroom"].ports.catalog
    return [{"actor": e.event.actor, "channel": e.event.channel, "details": dict(e.event.details)}
            for e in reversed(catalog.audit_page(limit=500, action="record.edit"))]


def test_a_contract_gets_its_fields_on_the_record_page_and_shows_in_the_register(app: Flask, admin: FlaskClient
                                                                                 ) -> None:
    rid = upload(admin, "najem.txt", "Pogodba o najemu poslovnega prostora.", record_class="03.1")
    assert "No contracts." not in admin.get("/registers/").get_data(as_text=True)  # listed before any field is set
    page = admin.get(f"/records/{rid}/edit").get_data(as_text=True)
    assert 'name="expiry"' in page and 'name="notice_days"' in page and 'name="parties"' in page
    code, body = _edit(admin, rid, title="Najemna pogodba", parties="Najemodajalec d.o.o., Mi d.o.o.",
                       expiry="31. 12. 2031", notice_days="90", auto_renewal="yes", value="12.000,50",
                       currency="EUR", record_class="03.1", confidentiality="internal")
    assert code == 302 and "done=saved" in body, body
    entry = _edits(app)[-1]
    assert entry["details"]["expiry.old"] == "-" and entry["details"]["expiry.new"] == "2031-12-31"
    assert entry["details"]["notice_days.new"] == "90" and entry["details"]["value.new"].startswith("hmac:")
    assert {"title", "parties", "expiry", "notice_days", "auto_renewal", "value"} <= set(
        entry["details"]["fields"].split(","))
    assert entry["channel"] == "web" and entry["actor"] == "anna"
    view = admin.get(f"/records/{rid}").get_data(as_text=True)
    assert "Najemna pogodba" in view and "Notice period (days)" in view and "notice_days" not in view
    register = admin.get("/registers/").get_data(as_text=True)
    assert "Najemodajalec d.o.o." in register and "Oct 2, 2031" in register  # 31.12.2031 - 90 days
    csv = admin.get("/registers/?format=csv&lang=sl").data
    assert csv.startswith("\ufeff".encode()) and b";12000,50;EUR;" in csv and b"2031-10-02" in csv


def test_bad_values_are_refused_with_a_sentence_and_kept_in_the_form(admin: FlaskClient) -> None:
    rid = upload(admin, "pog.txt", "Pogodba.", record_class="03.1")
    code, body = _edit(admin, rid, expiry="31.13.2031", notice_days="tri", record_class="03.1")
    assert code == 400
    assert "Expires: write a date such as 31.12.2031." in body and "Notice period (days): write a whole" in body
    assert 'value="31.13.2031"' in body
    code, body = _edit(admin, rid, record_class="03.1")
    assert code == 400 and "Nothing was changed" in body


def test_reclassifying_shows_the_old_and_new_keep_until_before_it_is_saved(app: Flask, admin: FlaskClient
                                                                           ) -> None:
    rid = upload(admin, "dopis.txt", "Dopis.", record_class="04.1", document_date="2025-05-05")
    code, body = _edit(admin, rid, record_class="00.5")  # policies: kept until superseded
    assert code == 200 and "Keep until" in body and 'name="confirmed"' in body
    catalog = app.extensions["strongroom"].ports.catalog
    assert catalog.get(rid).record_class == "04.1"  # nothing saved yet
    assert "Dec 31, 2030" in body and "permanently or not yet known" in body  # old and new keep-until
    token = csrf_of(admin, f"/records/{rid}/edit")
    response = admin.post(f"/records/{rid}/edit", data={"csrf_token": token, "record_class": "00.5",
                                                        "confirmed": "1"})
    assert response.status_code == 302 and catalog.get(rid).record_class == "00.5"
    assert _edits(app)[-1]["details"]["record_class.old"] == "04.1"


def test_backdating_asks_for_the_justification_and_names_the_second_person(app: Flask, admin: FlaskClient
                                                                          ) -> None:
    rid = upload(admin, "dopis.txt", "Dopis.", record_class="04.1", document_date="2025-05-05")
    code, body = _edit(admin, rid, document_date="1.1.1990", record_class="04.1")
    assert code == 200 and "Justification" in body and "moves the end of retention earlier" in body
    token = csrf_of(admin, f"/records/{rid}/edit")
    response = admin.post(f"/records/{rid}/edit", data={"csrf_token": token, "document_date": "1.1.1990",
                                                        "record_class": "04.1", "confirmed": "1",
                                                        "reason": "The scan's date was misread"})
    assert response.status_code == 302, re.findall(r'class="error"[^<]*<', response.get_data(as_text=True))
    catalog = app.extensions["strongroom"].ports.catalog
    # The two-person rule is on by default: the backdating waits for a second person, unchanged until then.
    assert catalog.get(rid).document_date == date(2025, 5, 5)
    proposed = [e for e in catalog.audit_entries() if e.event.action == "record.edit.propose"]
    assert proposed and dict(proposed[-1].event.details)["retention"] == "earlier"


def test_a_lifecycle_event_starts_the_retention_clock(app: Flask, admin: FlaskClient) -> None:
    rid = upload(admin, "pog.txt", "Pogodba.", record_class="03.1")
    catalog = app.extensions["strongroom"].ports.catalog
    assert catalog.get(rid).retention_until is None  # waits for the contract's end
    token = csrf_of(admin, f"/records/{rid}")
    response = admin.post(f"/records/{rid}/event", data={"csrf_token": token, "event": "contract_end",
                                                         "date": "15.3.2026"})
    assert response.status_code == 302, response.get_data(as_text=True)
    record = catalog.get(rid)
    assert record.retention_trigger == date(2026, 3, 15) and record.retention_until is not None
    assert _edits(app)[-1]["details"]["event.contract_end.new"] == "2026-03-15"
    assert "Contract ended or terminated" in admin.get(f"/records/{rid}").get_data(as_text=True)


def test_invoices_register_filters_totals_and_mark_paid(app: Flask, admin: FlaskClient) -> None:
    late = upload(admin, "r1.txt", "Račun 1.", record_class="01.1", principal="Direktor")
    paid = upload(admin, "r2.txt", "Račun 2.", record_class="01.1", principal="Direktor")
    assert _edit(admin, late, issuer="Dobavitelj d.o.o.", number="R-1", amount="100,50", due_date="1.1.2020",
                 record_class="01.1")[0] == 302
    assert _edit(admin, paid, issuer="Drugi d.o.o.", number="R-2", amount="50", due_date="1.1.2099",
                 record_class="01.1")[0] == 302
    overdue = admin.get("/registers/invoices?show=overdue").get_data(as_text=True)
    assert "R-1" in overdue and "R-2" not in overdue
    token = csrf_of(admin, "/registers/invoices")
    response = admin.post(f"/records/{paid}/paid", data={"csrf_token": token, "paid_on": "2. 3. 2026",
                                                         "reference": "SI00 123", "back": "invoices"})
    assert response.status_code == 302
    assert _edits(app)[-1]["details"]["paid_on.new"] == "2026-03-02"
    unpaid = admin.get("/registers/invoices?show=unpaid").get_data(as_text=True)
    assert "R-1" in unpaid and "R-2" not in unpaid
    everything = admin.get("/registers/invoices").get_data(as_text=True)
    assert "150.50 EUR" in everything and "100.50 EUR" in everything  # total, unpaid/overdue per principal
    csv = admin.get("/registers/invoices?format=csv&lang=et").data.decode("utf-8-sig")
    assert "R-1;100,50;EUR;2020-01-01;;;yes" in csv and "2026-03-02;SI00 123;no" in csv


def test_registers_and_edits_are_access_filtered(app: Flask, admin: FlaskClient) -> None:
    rid = upload(admin, "tajna.txt", "Tajna pogodba.", record_class="03.1", confidentiality="secret")
    _edit(admin, rid, parties="Skrivnost d.o.o.", record_class="03.1", confidentiality="secret")
    viewer = second_client(app, "vaatleja")
    assert "Skrivnost" not in viewer.get("/registers/").get_data(as_text=True)
    assert "Skrivnost" not in viewer.get("/registers/?format=csv").get_data(as_text=True)
    assert viewer.get(f"/records/{rid}/edit").status_code == 403  # a viewer may not edit
    secretary = second_client(app, "sekretarka")  # may edit, but not see a secret record
    assert secretary.get(f"/records/{rid}/edit").status_code == 404


def test_correspondence_book_links_the_answered_letter(admin: FlaskClient) -> None:
    first = upload(admin, "vprasanje.txt", "Vprašanje.", record_class="04.1")
    answer = upload(admin, "odgovor.txt", "Odgovor.", record_class="04.1")
    number = re.search(r"<title>([^ ]+) ·", admin.get(f"/records/{first}").get_data(as_text=True)).group(1)
    assert _edit(admin, first, direction="in", sender="Stranka d.o.o.", subject="Vprašanje",
                 record_class="04.1")[0] == 302
    assert _edit(admin, answer, direction="out", recipients="Stranka d.o.o.", subject="Odgovor", reply_to=number,
                 record_class="04.1")[0] == 302
    book = admin.get("/registers/correspondence").get_data(as_text=True)
    assert f'href="/records/{first}">{number}</a></td></tr>' in book
    assert "Odgovor" not in admin.get("/registers/correspondence?direction=in").get_data(as_text=True)
