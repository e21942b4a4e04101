"""A duplicate upload tells the uploader only what they may see (issue 17, item 7): a secretary who
uploads a copy of a secret record learns that it cannot be filed again, never its number or link."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.web.conftest import csrf_of, login

SECRET_TEXT = "Zaupni sklep uprave o prevzemu družbe Kvarkadabra d.o.o."


def _upload(client: FlaskClient, name: str, text: str, **form: str) -> str:
    token = csrf_of(client, "/upload")
    boundary, body = encode_multipart(MultiDict({"csrf_token": token, "record_class": "00.4", **form,
                                                 "file": FileStorage(io.BytesIO(text.encode()), name)}))
    response = client.post("/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_duplicate_of_a_hidden_record_names_no_number_and_no_link(app: Flask) -> None:
    admin = app.test_client()
    assert login(admin, "anna") == 302
    page = _upload(admin, "prevzem.txt", SECRET_TEXT, confidentiality="secret")
    record_id = re.search(r'<tr class="filed">.*?href="/records/([0-9a-f]+)">([^<]+)</a>', page, re.S)
    assert record_id is not None, page
    secret_id, number = record_id.group(1), record_id.group(2)

    secretary = app.test_client()  # clearance: confidential, so the secret record is hidden
    assert login(secretary, "sekretarka") == 302
    page = _upload(secretary, "kopija.txt", SECRET_TEXT)
    row = re.search(r'<tr class="duplicate">(.*?)</tr>', page, re.S)
    assert row is not None, page
    assert "already filed" in row.group(1) and "cannot be filed again" in row.group(1)
    assert secret_id not in page and number not in page and "/records/" not in row.group(1)


def test_a_duplicate_of_a_visible_record_links_to_it(app: Flask) -> None:
    secretary = app.test_client()
    assert login(secretary, "sekretarka") == 302
    first = _upload(secretary, "dopis.txt", "Dopis dobavitelju o dobavi opreme.")
    found = re.search(r'<tr class="filed">.*?href="/records/([0-9a-f]+)"', first, re.S)
    assert found is not None, first
    again = _upload(secretary, "dopis-kopija.txt", "Dopis dobavitelju o dobavi opreme.")
    row = re.search(r'<tr class="duplicate">(.*?)</tr>', again, re.S)
    assert row is not None and f'href="/records/{found.group(1)}"' in row.group(1)
