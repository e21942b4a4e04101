"""Filing feedback on the upload page (issue 18): a file filed without readable text says so and why,
a rejected file is listed with its reason, the class, principal and level stay chosen for the next batch,
and the one-file-per-request answer that strongroom.js uses carries only result rows."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfWriter
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.web.conftest import csrf_of

ROWS = {"X-Strongroom-Rows": "1"}


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="letmein", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _post(client: FlaskClient, files: dict[str, bytes], headers: dict[str, str] | None = None,
          lang: str = "en", **form: str) -> tuple[int, str, dict[str, str]]:
    token = csrf_of(client, f"/upload?lang={lang}")
    fields = MultiDict({"csrf_token": token, "record_class": "03.1", **form})
    for name, data in files.items():
        fields.add("file", FileStorage(io.BytesIO(data), name))
    boundary, body = encode_multipart(fields)
    response = client.post("/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers=headers or {})
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


def _row(page: str, name: str) -> str:
    found = re.search(r"<tr class=\"([^\"]*)\"><td><bdi>" + re.escape(name) + r"</bdi></td>(.*?)</tr>", page, re.S)
    assert found is not None, page[page.find("<main"):][:3000]
    return f"{found.group(1)}|{found.group(2)}"


def test_files_without_readable_text_are_filed_but_say_so_with_the_reason(admin: FlaskClient) -> None:
    status, page, _headers = _post(admin, {"zaklenjena.pdf": encrypted_pdf(), "prazna.txt": b"",
                                           "berljiva.txt": "Pogodba o najemu.".encode()})
    assert status == 200
    locked = _row(page, "zaklenjena.pdf")
    assert locked.startswith("filed unread|")
    assert "filed, but its text could not be read: the PDF is password-protected" in locked
    assert 'href="/records/' in locked  # it is filed: the record is there to open
    assert "OCR" not in locked  # recognition cannot open a locked PDF either
    empty = _row(page, "prazna.txt")
    assert "filed, but its text could not be read: the file is empty" in empty
    readable = _row(page, "berljiva.txt")
    assert readable.startswith("filed|") and "could not be read" not in readable
    assert "2 of 3 files filed." not in page and "3 of 3 files filed." in page


def test_the_unread_reason_is_in_the_person_s_language(admin: FlaskClient) -> None:
    _status, page, _headers = _post(admin, {"zaklenjena.pdf": encrypted_pdf()}, lang="sl")
    row = _row(page, "zaklenjena.pdf")
    assert "zajeto, vendar besedila ni bilo mogoče prebrati: PDF je zaščiten z geslom" in row, row
    assert "password" not in row


def test_rejected_files_are_listed_with_their_reason(admin: FlaskClient) -> None:
    _status, page, _headers = _post(admin, {"racun.pdf": b"<html>not a pdf at all</html>" * 20,
                                           "dopis.txt": "Dopis dobavitelju.".encode()})
    row = _row(page, "racun.pdf")
    assert row.startswith("rejected|")
    assert "not a PDF" in row and "may be damaged or disguised" in row
    assert _row(page, "dopis.txt").startswith("filed|")


def test_the_chosen_class_principal_and_level_stay_selected_after_a_batch(admin: FlaskClient) -> None:
    _status, page, _headers = _post(admin, {"zapisnik.txt": "Zapisnik seje.".encode()}, record_class="01.2",
                                    principal="Uprava Kvarnerplov", confidentiality="confidential",
                                    title="Zapisnik 3. seje")
    assert _row(page, "zapisnik.txt").startswith("filed|")
    assert re.search(r'<option value="01\.2"\s*selected', page), "the class was reset"
    assert re.search(r'<option value="confidential"\s*selected', page), "the level was reset"
    assert 'name="principal" maxlength="200" value="Uprava Kvarnerplov"' in page
    assert "Zapisnik 3. seje" not in page.split('id="upload-form"')[1]  # a title belongs to one document


def test_one_file_per_request_answers_with_its_rows_only(admin: FlaskClient) -> None:
    status, body, headers = _post(admin, {"zaklenjena.pdf": encrypted_pdf()}, headers=ROWS)
    assert status == 200 and headers.get("X-Strongroom-Rows") == "1"
    assert "<html" not in body and "<tr class=\"filed unread\">" in body
    status, body, headers = _post(admin, {"a.txt": b"Besedilo."}, headers=ROWS, document_date="31.02.2026")
    assert status == 400 and headers.get("X-Strongroom-Rows") == "1"
    assert '<p class="error" role="alert">' in body and "<tr" not in body


def test_the_upload_page_offers_progress_to_the_script(admin: FlaskClient) -> None:
    page = admin.get("/upload?lang=et").get_data(as_text=True)
    assert 'id="upload-progress"' in page and 'data-max-bytes="' in page
    assert 'data-progress="%(done)s' not in page and "{done}" in page and "{total}" in page


def test_files_rejected_from_the_drop_folder_are_pointed_to_from_the_upload_page(app: Flask, admin: FlaskClient
                                                                                  ) -> None:
    rejected = Path(str(app.extensions["strongroom"].office.home.path)) / "rejected"
    rejected.mkdir(exist_ok=True)
    (rejected / "skeniran.pdf").write_bytes(b"%PDF-broken")
    (rejected / "skeniran.pdf.reason.txt").write_text("The PDF could not be read.\n")
    page = admin.get("/upload?lang=sl").get_data(as_text=True)
    notice = re.search(r'<p class="notice" id="drop-rejects">(.*?)</p>', page, re.S)
    assert notice is not None and "Datoteke, zavrnjene iz vhodne mape: 1." in notice.group(1)
    assert 'href="/#rejected"' in notice.group(1)
    assert "The PDF could not be read." in admin.get("/").get_data(as_text=True)  # the reason, on the start page
