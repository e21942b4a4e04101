"""Security of the web UI (security.md §5, W-01..): login everywhere, headers, CSRF, host and origin
checks, throttling, session rotation and timeouts. A real app on a real home."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, Ticker, csrf_of, login
from web.security import COOKIE_NAME, CSP, allowed_host



def _concrete(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", rule)


def test_w01_every_route_but_login_static_and_the_token_feed_needs_login(app: Flask, client: FlaskClient) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("auth.login", "static"):
            continue
        if rule.endpoint == "calendar.feed":  # its token is its credential: a wrong one finds nothing
            assert client.get(_concrete(rule.rule)).status_code == 404
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_concrete(rule.rule), method=method)
            if method == "GET":
                assert response.status_code == 302, (rule.rule, response.status_code)
                assert response.headers["Location"].startswith("/login"), rule.rule
            else:  # no session, no token: refused before any view runs
                assert response.status_code in (302, 400), (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 20


def test_headers_on_every_kind_of_response(admin: FlaskClient) -> None:
    for path in ("/login", "/search?q=x", "/nope", "/static/strongroom.css", "/upload"):
        response = admin.get(path)
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        if not path.startswith("/static"):
            assert response.headers["Cache-Control"] == "no-store"
        response.close()


def test_no_inline_script_or_style_in_pages(admin: FlaskClient) -> None:
    for path in ("/search?q=pogodba", "/upload", "/retention/", "/registers/", "/audit/", "/admin/users",
                 "/unsorted", "/exports/", "/account/password"):
        body = admin.get(path).get_data(as_text=True)
        assert "<script>" not in body and "<style" not in body and " style=" not in body, path
        assert re.search(r"\son[a-z]+=", body) is None, path


def test_session_cookie_is_httponly_samesite_strict(client: FlaskClient) -> None:
    client.get("/login")
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"


def test_csrf_missing_or_wrong_is_refused(admin: FlaskClient) -> None:
    for data in ({}, {"csrf_token": "forged"}):
        response = admin.post("/upload", data=data)
        assert response.status_code == 400
        assert "Traceback" not in response.get_data(as_text=True)
    assert admin.post("/logout").status_code == 400
    assert admin.get("/search").status_code == 200  # still signed in


def test_login_form_fields_and_wrong_password(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert field in page
    assert login(client, "anna", "wrong-password") == 401
    assert client.get("/search").status_code == 302
    assert login(client, "nobody", "wrong-password") == 401
    assert login(client, "anna") == 302
    assert client.get("/search").status_code == 200


def test_login_rotates_the_session_id_and_logout_ends_it(client: FlaskClient) -> None:
    client.get("/login")
    before = client.get_cookie(COOKIE_NAME)
    assert before is not None
    assert login(client, "anna") == 302
    after = client.get_cookie(COOKIE_NAME)
    assert after is not None and after.value != before.value
    token = csrf_of(client, "/search")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    client.set_cookie(COOKIE_NAME, after.value)  # replaying the old cookie does not bring it back
    assert client.get("/search").status_code == 302


def test_idle_timeout(client: FlaskClient, ticker: Ticker) -> None:
    assert login(client, "anna") == 302
    ticker.advance(14 * 60)
    assert client.get("/search").status_code == 200  # activity keeps it alive
    ticker.advance(16 * 60)
    assert client.get("/search").status_code == 302


def test_absolute_timeout(client: FlaskClient, ticker: Ticker) -> None:
    assert login(client, "anna") == 302
    for _ in range(45):  # busy for 11 hours, never idle
        ticker.advance(14 * 60)
        client.get("/search")
    assert client.get("/search").status_code == 302


def test_thirty_wrong_passwords_are_throttled_then_the_right_one_works(client: FlaskClient, ticker: Ticker,
                                                                      app: Flask) -> None:
    codes = [login(client, "anna", f"wrong-{i}") for i in range(30)]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}
    assert login(client, "anna") == 429  # even the right password waits out the window
    page = client.post("/login", data={"username": "anna", "password": PASSWORD,
                                       "csrf_token": csrf_of(client)}).get_data(as_text=True)
    assert "Traceback" not in page and "try again" in page
    ticker.advance(61)
    assert login(client, "anna") == 302
    refused = [e for e in app.extensions["strongroom"].ports.catalog.audit_entries()
               if e.event.action == "login"]
    assert {e.event.outcome for e in refused} >= {"refused", "throttled", "ok"}


def test_throttle_per_client_across_user_names(client: FlaskClient) -> None:
    codes = [login(client, f"user{i}", "wrong-password") for i in range(22)]
    assert codes[-1] == 429


def test_dns_rebinding_host_is_refused(client: FlaskClient) -> None:
    assert client.get("/login", headers={"Host": "evil.example:8750"}).status_code == 400
    assert client.get("/login", headers={"Host": "127.0.0.1:8750"}).status_code == 200
    assert client.get("/login", headers={"Host": "[::1]:8750"}).status_code == 200
    assert allowed_host("localhost", ("localhost",)) and not allowed_host("localhost.evil", ("localhost",))


def test_cross_origin_post_is_refused(admin: FlaskClient) -> None:
    token = csrf_of(admin, "/upload")
    response = admin.post("/account/password", data={"csrf_token": token},
                          headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_open_redirect_after_login_is_not_followed(client: FlaskClient) -> None:
    token = csrf_of(client)
    response = client.post("/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/"})
    assert response.headers["Location"] == "/"  # the start page


def test_too_large_upload_is_a_friendly_413(app: Flask, admin: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = admin.post("/upload", data={"file": (__import__("io").BytesIO(b"x" * 5000), "big.txt")},
                          content_type="multipart/form-data")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_errors_are_pages_without_tracebacks(admin: FlaskClient) -> None:
    response = admin.get("/records/does-not-exist")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "nothing here" in body
