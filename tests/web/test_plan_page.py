"""Issue 19 item 7: the plan page (every class with code, names, periods, triggers, bases, policy marks and the
records in it that the viewer may see; the plan's versions) and the schedule as CSV for an auditor."""

from __future__ import annotations

import csv
import io
import re

from flask import Flask
from flask.testing import FlaskClient

from records.schedule import CSV_HEADER
from tests.web.conftest import login
from tests.web.test_pages import second_client, upload


def _row(body: str, code: str) -> str:
    found = re.search(rf"<tr>\s*<td>{re.escape(code)}</td>(.*?)</tr>", body, re.S)
    assert found is not None, code
    return found.group(1)


def test_the_plan_page_shows_every_class_and_counts_only_what_the_viewer_may_see(app: Flask,
                                                                                 admin: FlaskClient) -> None:
    upload(admin, "dopis.txt", "Splošni dopis.", confidentiality="internal")
    upload(admin, "zaupno.txt", "Zaupni dopis.", confidentiality="secret")
    body = admin.get("/plan/").get_data(as_text=True)
    assert "Classification plan and retention schedule" in body and "Version 1, in force since" in body
    row = _row(body, "04.1")
    assert "General business correspondence" in row and "<td>2</td>" in row
    assert "5 years" in row and "from the end of the calendar year of the document date" in row and "policy" in row
    litigation = _row(body, "03.3")
    assert "OZ Art. 356" in litigation and "TsÜS § 157(1)" in litigation and "from the event: the final judgment" in litigation
    assert ">law<" in litigation
    assert "permanent" in _row(body, "00.2") and "keep permanently" in _row(body, "00.2")
    assert body.count("<tr>\n<td>") >= 37 and "Plan versions" in body and "the default plan" in body

    viewer = second_client(app, "vaatleja")  # clearance internal: the secret letter is not counted
    assert "<td>1</td>" in _row(viewer.get("/plan/").get_data(as_text=True), "04.1")
    slovene = viewer.get("/plan/?lang=sl").get_data(as_text=True)
    assert "Klasifikacijski načrt z roki hrambe" in slovene and "Splošni dopisi" in slovene and "5 let" in slovene
    estonian = viewer.get("/plan/?lang=et").get_data(as_text=True)
    assert "Liigitusskeem ja säilitustähtajad" in estonian and "Üldkirjavahetus" in estonian and "5 aastat" in estonian


def test_the_schedule_downloads_as_spreadsheet_csv(app: Flask, client: FlaskClient) -> None:
    assert login(client, "revident") == 302
    response = client.get("/plan/schedule.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="retention-schedule-v1.csv"' in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER and len(rows) == 38
    invoices = dict(zip(rows[0], next(r for r in rows if r[0] == "01.1")))
    assert (invoices["SI_years"], invoices["EE_years"]) == ("10", "7")
    assert invoices["SI_trigger"] == "later_year_end(document_date)" and invoices["SI_policy"] == "law"
    assert invoices["SI_basis"].startswith("ZDDV-1 Art. 141") and invoices["records"] == "0"


def test_the_plan_page_needs_a_signed_in_user(client: FlaskClient) -> None:
    assert client.get("/plan/").status_code == 302 and client.get("/plan/schedule.csv").status_code == 302
