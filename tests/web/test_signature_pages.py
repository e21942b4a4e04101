"""Signed documents filed through the real app and sandbox: the record page states each signature,
the documents of a container become linked records whose text is found, signers are searchable, and
`strongroom show` says the same in words."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.indexer.extract.signing import asice, make_ca, make_signer, signed_pdf
from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name
from tests.web.conftest import csrf_of
from tests.web.test_pages import hits

CA = make_ca()
MARI = make_signer(CA)
DOCUMENTS = {"leping.txt": "Üürileping Kuusikupõllu talu kohta.\n".encode(),
             "lisa.txt": "Lisa: Rõõmsameelne inventar.\n".encode()}


def upload_bytes(client: FlaskClient, name: str, data: bytes) -> tuple[str, str]:
    token = csrf_of(client, "/upload")
    boundary, body = encode_multipart(MultiDict({"csrf_token": token, "record_class": "04.1",
                                                 "file": FileStorage(io.BytesIO(data), name)}))
    response = client.post("/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = re.search(r'<tr class="filed">.*?href="/records/([0-9a-f]+)"', page, re.S)
    assert found is not None, page
    return found.group(1), page


def test_a_container_shows_its_signature_and_files_its_documents(admin: FlaskClient) -> None:
    record_id, _ = upload_bytes(admin, "leping.asice", asice(MARI, DOCUMENTS))
    page = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Signatures" in page and "MARI MAASIKAS" in page and "PNOEE-38001085718" in page
    assert 'class="badge intact">intact<' in page
    assert "Certificate not checked against a trusted list." in page
    assert "as the signer claims" in page
    children = re.findall(r'Attachment <a href="/records/([0-9a-f]+)"', page)
    assert len(children) == 2
    assert hits(admin, "Kuusikupõllu")[0] != [] and set(hits(admin, "Kuusikupõllu")[0]) <= set(children)
    assert hits(admin, "signer:maasikas")[0] == [record_id]
    assert hits(admin, "signer:38001085718")[0] == [record_id]
    assert record_id in hits(admin, "maasikas")[0]
    estonian = admin.get(f"/records/{record_id}?lang=et").get_data(as_text=True)
    assert "Allkirjad" in estonian and "muutmata" in estonian
    assert "Sertifikaati ei kontrollitud usaldusnimekirja järgi." in estonian


def test_an_altered_signed_pdf_says_so(admin: FlaskClient) -> None:
    signed = signed_pdf(MARI, "Pogodba Srebrnolisti")
    at = signed.index(b"Srebrnolisti")
    altered = signed[:at] + b"Z" + signed[at + 1:]
    record_id, _ = upload_bytes(admin, "pogodba.pdf", altered)
    page = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert 'class="badge altered">altered since signing<' in page
    assert "the signed content of the PDF differs from what was signed." in page
    slovene = admin.get(f"/records/{record_id}?lang=sl").get_data(as_text=True)
    assert "spremenjeno po podpisu" in slovene


def test_show_states_each_signature(cli_home: Path, tmp_path: Path,  # noqa: F811
                                    capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "pogodba.pdf"
    source.write_bytes(signed_pdf(MARI, "Pogodba Srebrnolisti"))
    code, out, err = run(["import", str(source), "--class", "contracts", "--json"], capsys)
    assert code == 0, err
    [row] = json.loads(out)
    code, out, err = run(["show", row["id"]], capsys)
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("signature "))
    assert re.search(r"MARI MAASIKAS \(PNOEE-38001085718\), signed \d{4}-\d\d-\d\d \d\d:\d\d UTC as the signer "
                     r"claims: intact; certificate not checked against a trusted list$", line), line
    code, out, err = run(["show", row["id"], "--json"], capsys)
    [fact] = json.loads(out)["signatures"]
    assert (fact["signer"], fact["integrity"], fact["trust"], fact["kind"]) == \
        ("MARI MAASIKAS", "intact", "unchecked", "PAdES")


def test_the_shared_extractor_trusts_the_homes_certificates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    from web import office
    from web.settings import Settings

    folder = tmp_path / "home" / "trusted-certificates"
    folder.mkdir(parents=True)
    (folder / "esteid.pem").write_bytes(CA[0].public_bytes(Encoding.PEM))
    monkeypatch.setattr(office, "_extractor", None)  # this test's own pool, not the process's
    pool = office.shared_extractor(Settings(home=tmp_path / "home"))
    try:
        [fact] = pool.extract_bytes(asice(MARI, DOCUMENTS), "leping.asice").signatures
        assert fact.trust.value == "trusted"
    finally:
        pool.close()
