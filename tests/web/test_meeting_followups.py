"""Follow-ups of issue 22 in the browser and on the command line: a meeting's date and place changed after it
was made (audited with the old and new values), the bodies edited by an administrator on the web, and a case
file's hold named by the case file's number in the hold lists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.records.test_cli import cli_home, run  # noqa: F401 - the CLI fixture
from tests.records.test_tampering import _audit
from tests.web.conftest import csrf_of, login
from tests.web.test_pages import upload


def _post(client: FlaskClient, path: str, page: str, data: dict[str, str]) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_of(client, page), **data},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def _entries(app: Flask, action: str) -> list[dict[str, str]]:
    catalog = app.extensions["strongroom"].office.home.catalog
    return [dict(e.event.details) for e in catalog.audit_entries() if e.event.action == action]


def _meeting(client: FlaskClient, **form: str) -> str:
    code, page = _post(client, "/meetings/new", "/meetings/new",
                       {"body": "uprava", "date": "12.3.2026", "place": "Sejna soba Kvarnerovka", **form})
    assert code == 200, page
    found = re.search(r'action="/meetings/([0-9a-f]+)/items"', page)
    assert found is not None
    return f"/meetings/{found.group(1)}"


def test_a_meetings_date_and_place_change_on_its_page(app: Flask, client: FlaskClient) -> None:
    assert login(client, "sekretarka") == 302
    base = _meeting(client)
    code, page = _post(client, f"{base}/when", base, {"date": "19.3.2026", "place": "Velika dvorana Zlatorog"})
    assert code == 200 and "The meeting is now on" in page
    assert 'value="Velika dvorana Zlatorog"' in page and "Sejna soba" not in page
    edit = _entries(app, "meeting.edit")[-1]
    assert edit["fields"] == "day,place" and (edit["day.old"], edit["day.new"]) == ("2026-03-12", "2026-03-19")
    assert edit["place.old"].startswith("hmac:") and edit["place.new"].startswith("hmac:")
    assert "Zlatorog" not in json.dumps(edit) and edit["version"] == "2"

    # The form as shown, with only the place changed: its date reads back as it is written there.
    shown = re.search(r'name="date" value="([^"]+)"', client.get(base).get_data(as_text=True))
    assert shown is not None and shown.group(1) == "19.3.2026"
    code, page = _post(client, f"{base}/when", base, {"date": shown.group(1), "place": "Mala dvorana"})
    assert code == 200 and _entries(app, "meeting.edit")[-1]["fields"] == "place"
    code, page = _post(client, f"{base}/when", base, {"date": "5.1.2027", "place": ""})
    assert code == 400 and "numbered in 2026" in page  # the number 1/2026 keeps the date in its year
    refused = client.post(f"{base}/when", data={"csrf_token": csrf_of(client, base), "date": "5.1.2027"},
                          headers={"Accept-Language": "sl"})
    assert refused.status_code == 400 and "oštevilčena v letu 2026" in refused.get_data(as_text=True)
    code, page = _post(client, f"{base}/when", base, {"date": "19.3.2026", "place": "Mala dvorana"})
    assert code == 400 and "nothing to change" in page
    assert len(_entries(app, "meeting.edit")) == 2
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert login(client, "vaatleja") == 302
    assert "Change date and place" not in client.get(base).get_data(as_text=True)
    assert client.post(f"{base}/when", data={"csrf_token": csrf_of(client, base), "date": "20.3.2026"}
                       ).status_code == 403


def test_an_administrator_edits_the_bodies_on_the_web(app: Flask, client: FlaskClient) -> None:
    assert login(client, "sekretarka") == 302
    _meeting(client)  # a meeting of uprava: that body stays
    page = client.get("/meetings/bodies", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nadzorni svet" in page and 'name="code-0"' not in page  # shown, not editable
    assert client.post("/meetings/bodies", data={"csrf_token": csrf_of(client, "/meetings/bodies"), "rows": "0"}
                       ).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert login(client, "anna") == 302
    page = client.get("/meetings/bodies").get_data(as_text=True)
    assert 'name="code-0" value="uprava"' in page and "readonly" in page
    form = {"rows": "3", "code-0": "uprava", "sl-0": "Uprava družbe", "et-0": "Juhatus", "en-0": "Board",
            "class-0": "00.4", "code-1": "", "sl-1": "Nadzorni svet",  # cleared code: removed
            "code-2": "revizijska-komisija", "sl-2": "Revizijska komisija", "et-2": "Auditikomitee",
            "en-2": "Audit committee", "class-2": "00.3"}
    code, page = _post(client, "/meetings/bodies", "/meetings/bodies", form)
    assert code == 200 and "The list of bodies is saved." in page
    assert 'value="Revizijska komisija"' in page and 'value="Uprava družbe"' in page
    assert 'value="nadzorni-svet"' not in page
    assert "Revizijska komisija" in client.get("/meetings/new", headers={"Accept-Language": "sl"}).get_data(
        as_text=True)
    entry = _entries(app, "meeting.bodies")[-1]
    assert entry["before"] == "kolegij,nadzorni-svet,skupscina,uprava"
    assert entry["bodies"] == "revizijska-komisija,uprava"

    code, page = _post(client, "/meetings/bodies", "/meetings/bodies",
                       {"rows": "1", "code-0": "revizijska-komisija", "en-0": "Audit committee", "class-0": "00.3"})
    assert code == 400 and "uprava has meetings" in page
    assert len(_entries(app, "meeting.bodies")) == 1


def test_meeting_edit_on_the_command_line(cli_home: Path, tmp_path: Path,  # noqa: F811
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["meeting", "new", "--body", "uprava", "--date", "12.3.2026", "--place", "Sejna soba",
                          "--json"], capsys)
    assert code == 0, err
    mid = json.loads(out)["id"]
    code, out, err = run(["meeting", "edit", "uprava/1/2026", "--date", "2026-03-20", "--place", "Bled", "--json"],
                         capsys)
    assert code == 0, err
    changed = json.loads(out)
    assert (changed["date"], changed["place"], changed["version"]) == ("2026-03-20", "Bled", 2)
    code, out, err = run(["meeting", "edit", mid, "--place", ""], capsys)
    assert code == 0 and "Meeting 1/2026 is now on 2026-03-20 (version 3)." in out, err
    assert run(["meeting", "edit", mid], capsys)[0] == 2  # nothing to change is a usage error
    code, out, err = run(["meeting", "edit", mid, "--date", "1.1.2027"], capsys)
    assert code == 1 and "numbered in 2026" in err and "Traceback" not in err
    minutes = tmp_path / "zapisnik.txt"
    minutes.write_text("Zapisnik seje uprave\n", encoding="utf-8")
    assert run(["meeting", "minutes", mid, "--file", str(minutes)], capsys)[0] == 0
    code, out, err = run(["meeting", "edit", mid, "--date", "21.3.2026"], capsys)
    assert code == 1 and "minutes of meeting 1/2026 are filed with its date" in err
    assert run(["meeting", "edit", mid, "--place", "Brdo"], capsys)[0] == 0  # the place still may change
    edits = _audit(capsys, "meeting.edit")
    details = [e["details"] for e in edits]
    assert [d["fields"] for d in details] == ["day,place", "place", "place"]
    assert details[0]["day.old"] == "2026-03-12" and details[1]["place.new"] == "-"


def test_a_case_file_hold_is_listed_by_the_case_files_number(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["casefile", "new", "--title", "Tožba dobavitelja", "--class", "applicants", "--json"],
                         capsys)
    assert code == 0, err
    opened = json.loads(out)
    source = tmp_path / "cv.txt"
    source.write_text("Prijava kandidata\n", encoding="utf-8")
    code, out, err = run(["import", str(source), "--class", "applicants", "--json"], capsys)
    number = json.loads(out)[0]["registry_number"]
    assert run(["casefile", "add", opened["number"], number], capsys)[0] == 0
    assert run(["casefile", "hold", opened["number"], "--reason", "Tožba"], capsys)[0] == 0

    code, out, err = run(["hold", "list"], capsys)
    assert code == 0, err
    assert f"case file {opened['number']}" in out and opened["id"] not in out
    assert re.search(rf"{re.escape(number)}\s.*held by case file {re.escape(opened['number'])}", out)
    code, out, err = run(["hold", "list", "--json"], capsys)
    listed = json.loads(out)
    assert listed["matter_holds"][0]["casefile"] == opened["number"]
    assert listed["matter_holds"][0]["query"] == f"case file {opened['number']}"
    assert listed["records"][0]["casefiles"] == [opened["number"]]


def test_the_retention_page_names_a_case_file_hold_by_its_number(app: Flask, admin: FlaskClient) -> None:
    code, page = _post(admin, "/casefiles/new", "/casefiles/new",
                       {"title": "Spor s kandidatom", "record_class": "02.6", "opened_on": "1. 2. 2026"})
    assert code == 200, page
    found = re.search(r'action="/casefiles/([0-9a-f]{12})/hold"', page)
    number = re.search(r'<p class="meta">(Z-[^ ]+)', page)
    assert found is not None and number is not None
    cid = found.group(1)
    rid = upload(admin, "prijava.txt", "Prijava kandidata", record_class="02.6")
    registry = re.search(r'<p class="meta">([0-9.]+-\d+/\d{4})', admin.get(f"/records/{rid}").get_data(as_text=True))
    assert registry is not None
    _post(admin, f"/casefiles/{cid}/records", f"/casefiles/{cid}", {"record": registry.group(1)})
    _post(admin, f"/casefiles/{cid}/hold", f"/casefiles/{cid}", {"reason": "Tožba kandidata"})
    page = admin.get("/retention/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    held = page.split(registry.group(1), 1)[1].split("</li>", 1)[0]
    assert f"case file hold <a href=\"/casefiles/{cid}#holds\">{number.group(1)}</a>" in held
    assert "matter hold" not in held
