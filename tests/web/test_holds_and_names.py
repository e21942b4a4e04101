"""Legal holds released only by the placer's role or a higher one, with a reason (issue 17, item 13),
and file names with bidi controls shown as they really read. A real app on a real home."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import csrf_of, login
from tests.web.test_pages import upload


def _hold(client: FlaskClient, record_id: str, reason: str) -> str:
    token = csrf_of(client, f"/records/{record_id}")
    assert client.post(f"/records/{record_id}/holds", data={"csrf_token": token, "reason": reason}).status_code == 302
    page = client.get(f"/records/{record_id}").get_data(as_text=True)
    found = re.findall(r"/holds/([0-9a-f]+)/release", page)
    assert found
    return str(found[-1])


def _release(client: FlaskClient, record_id: str, hold_id: str, reason: str) -> int:
    token = csrf_of(client, f"/records/{record_id}")
    return client.post(f"/records/{record_id}/holds/{hold_id}/release",
                       data={"csrf_token": token, "reason": reason}).status_code


def test_a_secretary_cannot_release_an_admins_hold(app: Flask, admin: FlaskClient) -> None:
    record_id = upload(admin, "spor.txt", "Tožba v sporu z dobaviteljem.", confidentiality="internal")
    hold_id = _hold(admin, record_id, "Tožba 123/2026")
    secretary = app.test_client()
    assert login(secretary, "sekretarka") == 302
    assert _release(secretary, record_id, hold_id, "Ni več potrebno") == 403
    catalog = app.extensions["strongroom"].ports.catalog
    assert catalog.get(record_id).on_hold
    assert _release(admin, record_id, hold_id, "") == 400  # a release needs its reason
    assert catalog.get(record_id).on_hold
    assert _release(admin, record_id, hold_id, "Spor končan s poravnavo") == 302
    record = catalog.get(record_id)
    assert not record.on_hold and record.holds[0].release_reason == "Spor končan s poravnavo"
    entry = catalog.audit_page(limit=1, action="hold.release")[0]
    details = dict(entry.event.details)
    assert entry.event.actor == "anna" and details["placed_by"] == "anna"
    assert details["reason"].startswith("hmac:")  # the reason is audited, masked like the placing one
    assert "Spor končan s poravnavo" in admin.get(f"/records/{record_id}").get_data(as_text=True)


def test_holds_are_released_by_the_placers_role_or_a_higher_one(app: Flask, admin: FlaskClient) -> None:
    record_id = upload(admin, "pogodba.txt", "Pogodba o najemu.", confidentiality="internal")
    secretary, manager = app.test_client(), app.test_client()
    assert login(secretary, "sekretarka") == 302 and login(manager, "juht") == 302
    by_secretary = _hold(secretary, record_id, "Zahteva revizorja")
    assert _release(manager, record_id, by_secretary, "Revizija končana") == 302
    by_manager = _hold(manager, record_id, "Spor z najemnikom")
    assert _release(secretary, record_id, by_manager, "Spor končan") == 403
    assert _release(manager, record_id, by_manager, "Spor končan") == 302


def test_bidi_controls_in_a_file_name_are_shown_not_obeyed(admin: FlaskClient) -> None:
    spoofed = "racun_\u202efdp.exe"  # reads "racun_exe.pdf" when the override acts
    record_id = upload(admin, spoofed, "Račun za december.", confidentiality="internal")
    for page in (admin.get(f"/records/{record_id}").get_data(as_text=True),
                 admin.get("/search", query_string={"q": "december"}).get_data(as_text=True)):
        assert "\u202e" not in page
        assert re.search(r"<bdi>racun.\[U\+202E\]fdp(\.exe)?</bdi>", page)
    assert "<bdi>racun_[U+202E]fdp.exe</bdi>" in admin.get(f"/records/{record_id}").get_data(as_text=True)
