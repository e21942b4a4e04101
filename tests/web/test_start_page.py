"""The start page after sign-in: deadlines and counts filtered by access, rejected files with their
reasons, retried or discarded (audited)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from records.filing import FilingRequest
from records.model import Confidentiality, ContractFields
from tests.web.conftest import csrf_of, login


def file_contract(app: Flask, name: str, *, expiry_in: int, notice_days: int,
                  level: Confidentiality = Confidentiality.INTERNAL, title: str = "") -> str:
    office = app.extensions["strongroom"].office
    today = datetime.now(timezone.utc).date()
    outcome = office.file(f"Pogodba {name}".encode(), FilingRequest(
        original_name=name, record_class="03.1", actor="anna", confidentiality=level, title=title or None,
        details=ContractFields(parties=("Najem d.o.o.",), expiry=today + timedelta(days=expiry_in),
                               notice_days=notice_days)))
    assert outcome.registry_number, outcome.reason
    return outcome.registry_number


def _actions(app: Flask) -> list[str]:
    return [e.event.action for e in app.extensions["strongroom"].ports.catalog.audit_entries()]


def test_sign_in_leads_to_the_start_page_with_deadlines_filtered_by_access(app: Flask, client: FlaskClient) -> None:
    visible = file_contract(app, "najem.txt", expiry_in=40, notice_days=30)
    secret = file_contract(app, "prevzem.txt", expiry_in=20, notice_days=5, level=Confidentiality.SECRET)
    token = csrf_of(client)
    response = client.post("/login", data={"username": "vaatleja", "password": "a-long-test-password",
                                           "csrf_token": token})
    assert response.headers["Location"] == "/"
    body = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Start</h1>" in body
    assert visible in body and secret not in body
    assert "Next 30 days: 1" in body and "Last day to give notice" in body
    assert "Rejected" not in body  # a viewer does not file: no waiting or rejected files
    admin = app.test_client()
    assert login(admin, "anna") == 302
    body = admin.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert visible in body and secret in body and "Next 30 days: 3" in body


def test_start_page_in_slovene(app: Flask, admin: FlaskClient) -> None:
    file_contract(app, "najem.txt", expiry_in=40, notice_days=30)
    body = admin.get("/", headers={"Accept-Language": "sl"}).get_data(as_text=True)
    assert "Zadnji dan za odpoved" in body and "Zavrnjene datoteke" in body


def test_rejected_files_are_shown_retried_and_discarded(app: Flask, admin: FlaskClient, home_path: Path) -> None:
    rejected = home_path / "rejected"
    rejected.mkdir(exist_ok=True)
    for name in ("skeniran.pdf", "prazen.txt"):
        (rejected / name).write_bytes(b"%PDF-broken")
        (rejected / f"{name}.reason.txt").write_text("The PDF could not be read.\n")
    body = admin.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Rejected: 2" in body
    assert re.search(r"skeniran\.pdf</bdi></td><td>The PDF could not be read\.</td>", body)
    token = csrf_of(admin, "/")
    response = admin.post("/rejected/retry", data={"csrf_token": token, "name": "skeniran.pdf",
                                                   "folder": "contracts"}, headers={"Accept-Language": "en"},
                          follow_redirects=True)
    assert "skeniran.pdf was put back into the drop folder" in response.get_data(as_text=True)
    assert (home_path / "inbox" / "contracts" / "skeniran.pdf").exists()
    assert not (rejected / "skeniran.pdf.reason.txt").exists()
    assert admin.post("/rejected/discard", data={"csrf_token": token, "name": "prazen.txt"}).status_code == 302
    assert sorted(p.name for p in rejected.iterdir()) == []
    assert admin.post("/rejected/discard", data={"csrf_token": token, "name": "prazen.txt"}).status_code == 400
    actions = _actions(app)
    assert actions.count("rejected.retry") == 1 and actions.count("rejected.discard") == 1
    viewer = app.test_client()
    assert login(viewer, "vaatleja") == 302
    assert viewer.post("/rejected/discard", data={"csrf_token": csrf_of(viewer, "/"), "name": "x"}).status_code == 403


def test_admins_see_each_backup_target_s_last_success_size_and_failure(
        app: Flask, admin: FlaskClient, tmp_path: Path) -> None:
    from vault import TargetOptions, VaultError, run_backup
    office = app.extensions["strongroom"].office
    file_contract(app, "najem.txt", expiry_in=40, notice_days=30)
    good, bad = tmp_path / "usb-backup", tmp_path / "holiday-photos"
    bad.mkdir()
    (bad / "beach.jpg").write_bytes(b"jpg")
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    result = run_backup(office.home, good, TargetOptions(), actor="anna", channel="cli", now=now)
    try:
        run_backup(office.home, bad, TargetOptions(), actor="anna", channel="cli", now=now)
    except VaultError:
        pass
    body = admin.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = body[body.index('<section id="backups">'):body.index('<section id="overdue">')]
    assert str(good) in section and f"{result.objects} objects" in section and " MB" in section
    assert str(bad) in section and "never" in section and "beach.jpg" in section  # what failed, in its words
    assert '<tr class="failing"><td>' + str(bad) in section
    assert "Varnostne kopije" in admin.get("/", headers={"Accept-Language": "sl"}).get_data(as_text=True)
    viewer = app.test_client()
    assert login(viewer, "vaatleja") == 302  # a viewer: no backup section
    assert 'id="backups"' not in viewer.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_web_request_is_activity_for_the_backup_schedule(app: Flask, admin: FlaskClient) -> None:
    office = app.extensions["strongroom"].office
    office._last_activity -= 3600
    assert office.idle_seconds() >= 3600
    admin.get("/")
    assert office.idle_seconds() < 600
