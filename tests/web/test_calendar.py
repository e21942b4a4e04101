"""The deadlines calendar: .ics download, and a subscription feed reached only by a per-user token
(random, stored hashed, revocable, audited on creation) that shows what its user may see, no text,
and titles only when the user opted in."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from records.model import Confidentiality
from tests.web.conftest import csrf_of, login
from tests.web.test_start_page import file_contract


def _events(data: bytes) -> dict[str, str]:
    cal = Calendar.from_ical(data)
    return {str(e["uid"]): str(e["summary"]) for e in cal.walk("VEVENT")}


def _create(client: FlaskClient, titles: bool = False) -> str:
    token = csrf_of(client, "/calendar")
    body = client.post("/calendar/feed", data={"csrf_token": token, **({"titles": "1"} if titles else {})},
                       headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "it is shown only once" in body
    found = re.search(r'value="(http://[^"]+/feed/([^"/]+)\.ics)"', body)
    assert found is not None, body
    return found.group(1).split("localhost", 1)[-1]


def test_ics_download_has_the_users_deadlines_without_titles_by_default(app: Flask, admin: FlaskClient) -> None:
    number = file_contract(app, "najem.txt", expiry_in=40, notice_days=30, title="Najem pisarne Zebrafin")
    response = admin.get("/calendar.ics", headers={"Accept-Language": "en"})
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    summaries = sorted(_events(response.data).values())
    assert summaries == [f"Contract expires {number}", f"Last day to give notice {number}"]
    assert b"Zebrafin" not in response.data and b"Pogodba" not in response.data  # no title, no text
    titled = admin.get("/calendar.ics?titles=1", headers={"Accept-Language": "en"}).data
    assert b"Zebrafin" in titled
    sl = admin.get("/calendar.ics", headers={"Accept-Language": "sl"}).data.decode()
    assert "Zadnji dan za odpoved" in sl


def test_feed_token_is_the_only_credential_hashed_revocable_and_audited(app: Flask, admin: FlaskClient) -> None:
    number = file_contract(app, "najem.txt", expiry_in=40, notice_days=30, title="Najem pisarne")
    secret = file_contract(app, "prevzem.txt", expiry_in=20, notice_days=5, level=Confidentiality.SECRET)
    viewer = app.test_client()
    assert login(viewer, "vaatleja") == 302
    path = _create(viewer)
    token = path.rsplit("/", 1)[-1].removesuffix(".ics")
    anonymous = app.test_client()  # a mail client: no session, no cookie
    response = anonymous.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    summaries = set(_events(response.data).values())
    assert summaries == {f"Contract expires {number}", f"Last day to give notice {number}"}
    assert secret.encode() not in response.data  # the viewer may not see the secret contract
    catalog = app.extensions["strongroom"].ports.catalog
    assert token not in repr([catalog.get_setting(k) for k in ("calendar.feed.user.vaatleja",)])
    entries = [e for e in catalog.audit_entries() if e.event.action.startswith("calendar.")]
    assert [(e.event.action, e.event.actor) for e in entries] == [
        ("calendar.feed.create", "vaatleja"), ("calendar.read", "vaatleja")]
    assert anonymous.get(path[:-8] + "AAAAAAAA.ics").status_code == 404
    assert anonymous.get("/calendar.ics").status_code == 302  # the download needs a session
    new_path = _create(viewer, titles=True)
    assert anonymous.get(path).status_code == 404  # a new address replaces the old one
    assert b"Najem pisarne" in anonymous.get(new_path).data  # titles, because the user opted in
    viewer.post("/calendar/feed/revoke", data={"csrf_token": csrf_of(viewer, "/calendar")})
    assert anonymous.get(new_path).status_code == 404
    actions = [e.event.action for e in catalog.audit_entries()]
    assert actions.count("calendar.feed.create") == 2 and actions.count("calendar.feed.revoke") == 1
