"""A meeting pack with hostile PDFs among its materials (filed through the real sandboxed extraction): the
pack comes out of the browser with those materials named on its cover as left out, and the server goes on
serving. Until the pack was made in a sandbox, the decompression bomb was a server error."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from indexer.extract.pack_sandbox import SandboxedPackMaker
from records.filing import FilingRequest
from tests.web.conftest import add_users, csrf_of, login
from vault import Home
from web.app import create_app
from web.office import Office
from web.settings import Settings

TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))
from make_corpus import hostile_corpus, many_pages_pdf, simple_pdf  # noqa: E402


@pytest.fixture
def app(home: Home) -> Iterator[Flask]:
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    with SandboxedPackMaker(timeout_s=3) as maker:
        yield create_app(Office(home, settings, pack_maker=maker), secret_key=b"test-only-secret-key-0123456789")


def _file(app: Flask, name: str, data: bytes) -> str:
    office = app.extensions["strongroom"].office
    outcome = office.file(data, FilingRequest(original_name=name, record_class="00.4", actor="anna"))
    assert outcome.registry_number, outcome.reason
    return outcome.registry_number


def _post(client: FlaskClient, page: str, path: str, data: dict[str, object]) -> str:
    response = client.post(path, data={"csrf_token": csrf_of(client, page), **data},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_a_hostile_material_is_left_out_of_the_pack_and_the_server_stays_up(app: Flask,
                                                                             client: FlaskClient) -> None:
    corpus = hostile_corpus()
    good = _file(app, "porocilo.pdf", simple_pdf(["Letno porocilo Kvarnerovka"], pages=2))
    bomb = _file(app, "bomba.pdf", corpus["flate-bomb.pdf"]())  # filed: its text is simply empty
    slow = _file(app, "debela.pdf", many_pages_pdf(12_000))  # stamping it takes some 20 s on an idle machine
    assert login(client, "anna") == 302
    page = _post(client, "/meetings/new", "/meetings/new", {
        "body": "uprava", "date": "12.3.2026", "place": "Sejna soba", "participants": "Ana Žužek = juht"})
    meeting = re.search(r'action="/meetings/([0-9a-f]+)/items"', page)
    assert meeting is not None
    base = f"/meetings/{meeting.group(1)}"
    page = _post(client, base, f"{base}/items", {"title": "Letno poročilo"})
    item = re.findall(r'id="item-([0-9a-f]+)"', page)[0]
    for number in (bomb, good, slow):
        _post(client, base, f"{base}/items/{item}/materials", {"registry_number": number})

    response = client.get(f"{base}/pack/juht.pdf", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2 + 2  # cover, agenda and the good material's two pages
    cover = " ".join(reader.pages[0].extract_text().split())
    assert "Not included in this pack:" in cover
    assert f"{bomb} " in cover and "safety limits" in cover
    assert f"{slow} " in cover and "took too long" in cover
    assert good not in cover and "Letno porocilo Kvarnerovka" in reader.pages[2].extract_text()
    assert all("Confidential — for: Ana Žužek" in p.extract_text() for p in reader.pages)
    # The server goes on: the next pages answer, and the pack's worker is gone.
    assert client.get(base).status_code == 200
    assert client.get("/meetings").status_code == 200
    audit = app.extensions["strongroom"].office.home.catalog
    handed = [dict(e.event.details) for e in audit.audit_entries() if e.event.action == "meeting.pack"]
    assert handed[-1]["left_out"] == "2" and handed[-1]["materials"] == good
