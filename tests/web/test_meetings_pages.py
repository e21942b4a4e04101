"""Meeting pages (issue 22 item 5): a meeting prepared in the browser, materials linked and uploaded, a pack
per recipient read back with pypdf, resolutions on the start page, in the .ics and the CSV register, and
every route refused or filtered for those who may not see."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from pypdf import PdfReader

from records.filing import FilingRequest
from records.model import Confidentiality
from tests.records.test_filing import make_pdf
from tests.web.conftest import csrf_of, login


def _file_pdf(app: Flask, tmp_path: object, name: str, text: str, level: Confidentiality) -> str:
    office = app.extensions["strongroom"].office
    data = make_pdf(tmp_path / name, [text]).read_bytes()  # type: ignore[operator]
    outcome = office.file(data, FilingRequest(original_name=name, record_class="00.4", actor="anna",
                                              confidentiality=level))
    assert outcome.registry_number, outcome.reason
    return outcome.registry_number


def _post(client: FlaskClient, page: str, path: str, data: dict[str, object]) -> str:
    token = csrf_of(client, page)
    response = client.post(path, data={"csrf_token": token, **data}, headers={"Accept-Language": "en"},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_prepare_a_meeting_pack_it_and_follow_its_resolutions(app: Flask, client: FlaskClient,
                                                               tmp_path: object) -> None:
    open_pdf = _file_pdf(app, tmp_path, "porocilo.pdf", "Letno porocilo Kvarnerovka", Confidentiality.INTERNAL)
    secret_pdf = _file_pdf(app, tmp_path, "tajno.pdf", "Tajni dodatek Kvarnerovka", Confidentiality.SECRET)
    assert login(client, "anna") == 302
    page = _post(client, "/meetings/new", "/meetings/new", {
        "body": "uprava", "date": "12.3.2026", "place": "Sejna soba", "confidentiality": "internal",
        "participants": "Ana Žužek = juht\nVida Vaatleja = vaatleja\nZunanji Gost"})
    meeting = re.search(r'action="/meetings/([0-9a-f]+)/items"', page)
    assert meeting is not None and "meeting 1/2026" in page
    base = f"/meetings/{meeting.group(1)}"
    page = _post(client, base, f"{base}/items", {"title": "Letno poročilo"})
    item = re.findall(r'id="item-([0-9a-f]+)"', page)[0]
    _post(client, base, f"{base}/items/{item}/materials", {"registry_number": open_pdf})
    _post(client, base, f"{base}/items/{item}/materials", {"registry_number": secret_pdf})
    page = _post(client, base, f"{base}/items/{item}/materials", {
        "file": (io.BytesIO(b"Opomba k tocki\n"), "opomba.txt"), "record_class": "00.4"})
    assert "Filed as 00.4-3/2026 and linked." in page

    juht = PdfReader(io.BytesIO(client.get(f"{base}/pack/juht.pdf", headers={"Accept-Language": "sl"}).data))
    viewer = PdfReader(io.BytesIO(client.get(f"{base}/pack/vaatleja.pdf").data))
    assert (len(juht.pages), len(viewer.pages)) == (5, 3)  # the viewer's clearance leaves the secret one out
    for page_ in juht.pages:
        assert "Zaupno — za: Ana Žužek, " in page_.extract_text()
    assert [o.title for o in juht.outline if not isinstance(o, list)] == ["Naslovnica", "Dnevni red",
                                                                          "1. Letno poročilo"]
    assert "Tajni" not in "".join(p.extract_text() for p in viewer.pages)
    assert client.get(f"{base}/pack/nobody.pdf").status_code == 400

    today = datetime.now(timezone.utc).date()
    _post(client, base, f"{base}/items/{item}/resolutions",
          {"text": "Sprejme poročilo", "owner": "Ana", "due": (today - timedelta(days=2)).isoformat()})
    _post(client, base, f"{base}/items/{item}/resolutions",
          {"text": "Naroči revizijo", "owner": "Bor", "due": (today + timedelta(days=5)).isoformat()})
    start = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1/2026-1" in start.split('id="upcoming"')[0] and "1/2026-2" in start.split('id="upcoming"')[1]
    events = [str(e["summary"]) for e in Calendar.from_ical(client.get("/calendar.ics").data).walk("VEVENT")]
    assert any(s.startswith("Resolution due uprava 1/2026-2") and "Naroči" not in s for s in events)
    csv = client.get("/resolutions?status=overdue&format=csv").data.decode("utf-8")
    assert csv.startswith("\ufeffnumber;") and "Sprejme" in csv and "Naroči" not in csv
    page = client.get("/meetings/" + meeting.group(1), headers={"Accept-Language": "en"}).get_data(as_text=True)
    done = re.search(r'action="(/meetings/[0-9a-f]+/resolutions/[0-9a-f]+/done)"', page)
    assert done is not None
    page = _post(client, base, done.group(1), {})
    assert "Resolution 1/2026-1 is done." in page
    assert "1/2026-1" not in client.get("/resolutions?status=open").get_data(as_text=True)

    # The viewer sees the meeting but neither the secret material nor any way to change it.
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert login(client, "vaatleja") == 302
    page = client.get(base).get_data(as_text=True)
    assert open_pdf in page and secret_pdf not in page and "Adopt" not in page
    assert client.post(f"{base}/items", data={"csrf_token": csrf_of(client, base), "title": "x"}).status_code == 403
    assert client.get(f"{base}/pack/vaatleja.pdf").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert login(client, "sekretarka") == 302  # clearance confidential: sees the meeting, not the secret one
    assert secret_pdf not in client.get(base).get_data(as_text=True)
