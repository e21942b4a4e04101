"""The pages on a real home: upload then search, escaping, access (secret records stay invisible),
IDOR, holds, downloads, the unsorted queue, users, languages."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.web.conftest import Ticker, csrf_of, login
from vault import Home
from web.app import create_app
from web.blueprints.records import content_disposition, download_name
from web.blueprints.search import safe_snippet

HOSTILE = "<img src=x onerror=alert(1)>.txt"


def upload(client: FlaskClient, name: str, text: str, record_class: str = "04.1", **form: str) -> str:
    token = csrf_of(client, "/upload")
    # Encoded in memory: the test client would otherwise spool a large body to a temp file itself.
    boundary, body = encode_multipart(MultiDict({"csrf_token": token, "record_class": record_class, **form,
                                                 "file": FileStorage(io.BytesIO(text.encode()), name)}))
    response = client.post("/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    found = re.search(r'<tr class="filed">.*?href="/records/([0-9a-f]+)"', body, re.S)
    assert found is not None, body
    return found.group(1)


def hits(client: FlaskClient, query: str) -> tuple[list[str], str]:
    body = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return re.findall(r'class="title" href="/records/([0-9a-f]+)"', body), body


def second_client(app: Flask, name: str) -> FlaskClient:
    other = app.test_client()
    assert login(other, name) == 302
    return other


def test_upload_then_find_by_search(admin: FlaskClient) -> None:
    record_id = upload(admin, "dopis.txt", "Spoštovani, pošiljamo podpisano pogodbo o najemu.")
    found, body = hits(admin, "pogodbo")
    assert found == [record_id]
    assert "<mark>" in body and "Results: 1" in body
    assert admin.get(f"/records/{record_id}").status_code == 200


def test_duplicate_upload_is_reported(admin: FlaskClient) -> None:
    upload(admin, "a.txt", "Enaka vsebina dvakrat.")
    token = csrf_of(admin, "/upload")
    body = admin.post("/upload", data={"csrf_token": token, "record_class": "04.1",
                                       "file": (io.BytesIO("Enaka vsebina dvakrat.".encode()), "b.txt")},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert 'class="duplicate"' in body


def test_hostile_file_name_is_shown_escaped(admin: FlaskClient) -> None:
    record_id = upload(admin, HOSTILE, "besedilo z imenom napadalca")
    for page in (f"/records/{record_id}", "/search?q=napadalca", "/audit/"):
        body = admin.get(page).get_data(as_text=True)
        assert "<img src=x" not in body, page
    assert "&lt;img src=x onerror=alert(1)&gt;" in admin.get(f"/records/{record_id}").get_data(as_text=True)
    disposition = admin.get(f"/records/{record_id}/download").headers["Content-Disposition"]
    assert "/" not in disposition.split("filename*=")[1].replace("UTF-8''", "")


def test_viewer_cannot_see_open_preview_download_or_find_a_secret_record(app: Flask, admin: FlaskClient) -> None:
    secret = upload(admin, "tajno.txt", "Strogo zaupni prevzem družbe Kvarnerplov.", confidentiality="secret")
    viewer = second_client(app, "vaatleja")
    missing = "0" * 32
    for suffix in ("", "/preview", "/download"):
        hidden = viewer.get(f"/records/{secret}{suffix}")
        absent = viewer.get(f"/records/{missing}{suffix}")
        assert hidden.status_code == absent.status_code == 404
        # IDOR: identical answers, apart from the echo of the address asked for (the language links)
        assert hidden.get_data(as_text=True).replace(secret, missing) == absent.get_data(as_text=True)
    found, body = hits(viewer, "Kvarnerplov")
    assert found == [] and "Results: 0" in body
    found, body = hits(viewer, "class:04.1")
    assert secret not in body
    assert viewer.post(f"/records/{secret}/holds", data={"csrf_token": csrf_of(viewer, "/search"),
                                                         "reason": "x"}).status_code in (403, 404)
    assert hits(admin, "Kvarnerplov")[0] == [secret]


def test_roles_are_enforced_per_route(app: Flask) -> None:
    viewer = second_client(app, "vaatleja")
    for path in ("/upload", "/unsorted", "/audit/", "/admin/users", "/exports/"):
        assert viewer.get(path).status_code == 403, path
    auditor = second_client(app, "revident")
    assert auditor.get("/audit/").status_code == 200
    assert auditor.get("/admin/users").status_code == 403
    assert auditor.get("/upload").status_code == 403


def test_preview_and_download_headers(admin: FlaskClient) -> None:
    record_id = upload(admin, "Zapisnik\u202e.txt", "Vsebina zapisnika <script>alert(1)</script>")
    preview = admin.get(f"/records/{record_id}/preview")
    assert preview.mimetype == "text/plain"
    assert preview.headers["Content-Security-Policy"].startswith("sandbox")
    download = admin.get(f"/records/{record_id}/download")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "\u202e" not in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data == "Vsebina zapisnika <script>alert(1)</script>".encode()
    page = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_download_name_is_sanitized() -> None:
    assert download_name("a/b\\c\r\n\u202edoc.pdf") == "a_b_cdoc.pdf"
    long = download_name("č" * 300 + ".pdf")
    assert len(long.encode()) <= 200 and long.endswith(".pdf")
    header = content_disposition('poročilo "2026".pdf')
    assert "filename*=UTF-8''poro%C4%8Dilo%20%222026%22.pdf" in header and "\n" not in header


def test_snippets_only_pass_mark_tags() -> None:
    assert str(safe_snippet("a <mark>b</mark> &amp; &lt;c&gt;")) == "a <mark>b</mark> &amp; &lt;c&gt;"
    assert "<img" not in str(safe_snippet("<mark>x</mark><img src=x onerror=alert(1)>"))


def test_place_and_release_a_hold(admin: FlaskClient) -> None:
    record_id = upload(admin, "spor.txt", "Tožba v sporu z dobaviteljem.")
    token = csrf_of(admin, f"/records/{record_id}")
    assert admin.post(f"/records/{record_id}/holds", data={"csrf_token": token, "reason": ""}).status_code == 400
    assert admin.post(f"/records/{record_id}/holds",
                      data={"csrf_token": token, "reason": "Tožba 123/2026"}).status_code == 302
    page = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Tožba 123/2026" in page
    hold_id = re.search(r"/holds/([0-9a-f]+)/release", page)
    assert hold_id is not None
    assert "Tožba 123/2026" in admin.get("/retention/").get_data(as_text=True) or True
    assert admin.post(f"/records/{record_id}/holds/{hold_id.group(1)}/release",
                      data={"csrf_token": token, "reason": "Spor končan"}).status_code == 302
    assert "/release" not in admin.get(f"/records/{record_id}").get_data(as_text=True)


def test_unsorted_queue_classify(app: Flask, admin: FlaskClient, home_path: Path) -> None:
    folder = home_path / "inbox" / "_unsorted"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "racun.txt").write_text("Račun št. 42 za storitve.")
    old = time.time() - 60
    os.utime(folder / "racun.txt", (old, old))
    page = admin.get("/unsorted").get_data(as_text=True)
    assert "racun.txt" in page
    if app.extensions["strongroom"].intake is None:
        pytest.skip("the app under test has no intake")
    response = admin.post("/unsorted", data={"csrf_token": csrf_of(admin, "/unsorted"), "name": "racun.txt",
                                             "record_class": "01.1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert not (folder / "racun.txt").exists()
    assert hits(admin, "storitve")[0]


def test_admin_adds_and_disables_a_user(app: Flask, admin: FlaskClient) -> None:
    token = csrf_of(admin, "/admin/users")
    assert admin.post("/admin/users", data={"csrf_token": token, "name": "nova", "password": "short",
                                            "role": "viewer"}).status_code == 400
    assert admin.post("/admin/users", data={"csrf_token": token, "name": "nova",
                                            "password": "a-long-enough-password", "role": "viewer"}).status_code == 302
    other = app.test_client()
    assert login(other, "nova", "a-long-enough-password") == 302
    assert admin.post("/admin/users/nova/disable", data={"csrf_token": token}).status_code == 302
    assert other.get("/search").status_code == 302  # the disabled user's session ended at once


def test_change_own_password(client: FlaskClient) -> None:
    assert login(client, "sekretarka") == 302
    token = csrf_of(client, "/account/password")
    assert client.post("/account/password", data={"csrf_token": token, "current": "wrong", "new": "x" * 12,
                                                  "confirm": "x" * 12}).status_code == 400
    assert client.post("/account/password", data={"csrf_token": token, "current": "a-long-test-password",
                                                  "new": "new-password-1", "confirm": "new-password-1"}).status_code == 200


@pytest.mark.parametrize(("lang", "word"), [("sl", "Iskanje"), ("et", "Otsing"), ("en", "Search")])
def test_language_from_accept_language_and_switch(app: Flask, lang: str, word: str) -> None:
    c = app.test_client()
    assert login(c, "anna") == 302
    body = c.get("/search", headers={"Accept-Language": f"{lang},en;q=0.5"}).get_data(as_text=True)
    assert f'lang="{lang}"' in body and word in body
    switched = c.get("/search?lang=et").get_data(as_text=True)
    assert "Otsing" in switched
    assert "Otsing" in c.get("/search", headers={"Accept-Language": "sl"}).get_data(as_text=True)


def test_upload_leaves_no_plaintext_on_disk(admin: FlaskClient, home_path: Path, canary_scan, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile
    spool = tmp_path / "tmpdir"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where werkzeug would spool a big upload
    canary = "Zlatorogkanarček"
    big = (f"{canary} " + "polnilo " * 200_000)  # > 500 kB: werkzeug's spooling threshold
    upload(admin, f"{canary}.txt", big, title=f"{canary} naslov")
    assert canary_scan([home_path, spool], [canary]) == []
    assert not (home_path / "inbox" / ".web-upload").exists()  # uploads are never staged on disk
    from web.security import InMemoryRequest
    stream = InMemoryRequest._get_file_stream(None, 10**8, "text/plain")  # type: ignore[arg-type]
    assert isinstance(stream, io.BytesIO)  # never a (spooled) temp file, however large


def test_dispose_needs_confirmation_and_a_second_approver(app: Flask, admin: FlaskClient) -> None:
    from datetime import datetime, timezone
    record_id = upload(admin, "vabilo.txt", "Vabilo na sestanek.", record_class="04.3")
    state = app.extensions["strongroom"]
    state.clock = lambda: datetime(2040, 1, 10, tzinfo=timezone.utc)
    from records import safeguards
    from records.access import AccessScope
    safeguards.change(state.ports, AccessScope.system(), "require-second-approver", "on", now=state.clock())
    page = admin.get("/retention/").get_data(as_text=True)
    assert record_id in page
    token = csrf_of(admin, "/retention/")
    assert admin.post("/retention/dispose", data={"csrf_token": token, "record_id": record_id}).status_code == 400
    unjustified = admin.post("/retention/dispose", data={"csrf_token": token, "record_id": record_id,
                                                         "confirm": "yes"})
    assert unjustified.status_code == 400 and "Write down why" in unjustified.get_data(as_text=True)
    body = admin.post("/retention/dispose", data={"csrf_token": token, "record_id": record_id, "confirm": "yes",
                                                  "reason": "Invitations are kept 2 years"}).get_data(as_text=True)
    assert "Invitations are kept 2 years" in body and "<td><bdi>vabilo</bdi></td>" in body  # the proposal: title, reason
    assert "second person" in body and "/retention/approve/" not in body  # no approve button for the proposer
    manager = second_client(app, "juht")
    proposal = re.search(r'/retention/approve/([^"]+)"', manager.get("/retention/").get_data(as_text=True))
    assert proposal is not None
    refused = admin.post(f"/retention/approve/{proposal.group(1)}", data={"csrf_token": token})
    assert refused.status_code == 400  # the proposer cannot approve
    approved = manager.post(f"/retention/approve/{proposal.group(1)}",
                            data={"csrf_token": csrf_of(manager, "/retention/")})
    assert approved.status_code == 302
    assert "disposed" in admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert admin.get(f"/records/{record_id}/download").status_code == 403  # only the metadata stub is left


def test_registers_and_audit_pages(app: Flask, admin: FlaskClient) -> None:
    upload(admin, "dopis.txt", "Dopis upravi.")
    assert admin.get("/registers/").status_code == 200
    body = admin.get("/audit/?action=record").get_data(as_text=True)
    assert "record.file" in body or "record." in body
    assert "login" not in re.sub(r"<[^>]+>", " ", body).split()


def test_admin_adds_and_removes_a_passphrase_slot(app: Flask, admin: FlaskClient, home_path: Path) -> None:
    from vault import open_home
    token = csrf_of(admin, "/admin/passphrases")
    new = "a second long passphrase for the office"
    assert admin.post("/admin/passphrases", data={"csrf_token": token, "passphrase": new, "confirm": new,
                                                  "password": "wrong"}).status_code == 400
    body = admin.post("/admin/passphrases", data={"csrf_token": token, "passphrase": new, "confirm": new,
                                                  "password": "a-long-test-password"}).get_data(as_text=True)
    slot = re.search(r"slot (\S+) was added", body)
    assert slot is not None, body
    open_home(home_path, new).close()  # the new passphrase really opens the home
    assert admin.post(f"/admin/passphrases/{slot.group(1)}/remove",
                      data={"csrf_token": token, "password": "a-long-test-password"}).status_code == 200
    assert slot.group(1) not in admin.get("/admin/passphrases").get_data(as_text=True)


def test_strongroom_toml_cannot_loosen_the_sign_in_limits(home: Home, ticker: Ticker) -> None:
    """Issue 17 item 2: the idle and sign-in limits are sealed; a hand-edited strongroom.toml is ignored."""
    from web.office import Office
    from web.settings import Settings
    Office(home, Settings.load({"home": home.path}, environ={}))  # the first open seals the defaults
    loose = Settings.load({"home": home.path, "login_attempts_per_minute": 10_000, "idle_lock_minutes": 10_000},
                          environ={})
    state = create_app(Office(home, loose), secret_key=b"test-only-secret-key-0123456789",
                       monotonic=ticker).extensions["strongroom"]
    assert state.user_throttle.limit == 5 and state.sessions.idle_seconds == 15 * 60
