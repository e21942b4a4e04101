"""Sign-in under attack (issue 17, items 11-13): a flood of throttled sign-ins, back-off by source and
account, known devices, open redirects after sign-in, guessing the current password. A real app."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.events import event
from tests.web.conftest import PASSWORD, Ticker, csrf_of, login
from web.security import Throttle
from web.signin import safe_next


def _post_login(client: FlaskClient, token: str, name: str, password: str, next_target: str = "") -> int:
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token,
                                       "next": next_target}).status_code


def test_a_flood_of_throttled_sign_ins_is_a_few_audit_entries_with_the_count(app: Flask, client: FlaskClient,
                                                                             ticker: Ticker) -> None:
    catalog = app.extensions["strongroom"].ports.catalog
    token = csrf_of(client)
    assert [_post_login(client, token, "anna", f"wrong-{i}") for i in range(5)] == [401] * 5
    head = catalog.audit_head()
    assert head is not None
    codes = {_post_login(client, token, "anna", "guess") for _ in range(2000)}
    assert codes == {429}
    ticker.advance(61)  # the minute closes; the next request of anyone writes its count
    client.get("/login")
    added = list(catalog.audit_entries(head.seq))
    assert 1 <= len(added) <= 3
    assert {(e.event.action, e.event.outcome) for e in added} == {("login", "throttled")}
    counts = sorted(int(dict(e.event.details)["count"]) for e in added)
    assert counts == [1, 2000]  # the first attempt at once, then the minute's total
    assert {dict(e.event.details)["source"] for e in added} == {"127.0.0.1"}


def test_audit_page_shows_one_page_and_a_next_link_and_reads_one_page(app: Flask, client: FlaskClient,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = app.extensions["strongroom"].ports.catalog

    def grow(n: int) -> None:
        with catalog.transaction() as tx:
            for i in range(n):
                tx.append_audit(event("search", actor=f"user{i % 7}", now=datetime.now(timezone.utc),
                                      channel="web"))

    import vault.catalog
    parsed = 0
    real_entry = vault.catalog._entry

    request_thread = threading.get_ident()  # the test client serves requests in this thread

    def counting(doc):  # type: ignore[no-untyped-def]
        nonlocal parsed
        if threading.get_ident() == request_thread:  # not the anchor keeper's timer reading the head
            parsed += 1
        return real_entry(doc)

    monkeypatch.setattr(vault.catalog, "_entry", counting)
    grow(300)
    assert login(client, "revident") == 302
    parsed = 0
    page = client.get("/audit/").get_data(as_text=True)
    small = parsed
    assert page.count("<tr><td>") == 100
    head = catalog.audit_head()
    assert head is not None and f"<tr><td>{head.seq}</td>" in page
    link = next(line for line in page.splitlines() if 'rel="next"' in line)
    before = int(link.split("before=")[1].split('"')[0])
    older = client.get(f"/audit/?before={before}").get_data(as_text=True)
    assert f"<tr><td>{before - 1}</td>" in older and f"<tr><td>{before}</td>" not in older
    grow(3000)
    parsed = 0
    assert client.get("/audit/").status_code == 200
    assert parsed == small <= 101  # the cost of a page does not grow with the chain
    filtered = client.get("/audit/?actor=user3&action=sea").get_data(as_text=True)
    assert filtered.count("<tr><td>") == 100 and "user4" not in filtered


def test_guessing_the_admins_password_does_not_lock_the_admin_out_of_a_known_device(app: Flask,
                                                                                     ticker: Ticker) -> None:
    admin_browser = app.test_client()
    assert login(admin_browser, "anna") == 302  # the admin has signed in on this browser before
    admin_browser.post("/logout", data={"csrf_token": csrf_of(admin_browser, "/search")})
    attacker = app.test_client()  # the same address (loopback, one office NAT)
    codes = [login(attacker, "anna", f"guess-{i}") for i in range(40)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    assert login(attacker, "anna") == 429  # the right password from an unknown device waits
    far = app.test_client()
    far.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(far, "anna") == 429  # the account's lockout holds for every unknown device
    assert login(admin_browser, "anna") == 302  # the admin's own browser goes through at once
    other_user_device = app.test_client()
    assert login(other_user_device, "sekretarka") == 302
    assert login(other_user_device, "anna") == 429  # a device known for another user is no key
    forged = app.test_client()
    forged.set_cookie("strongroom_device", "eyJhbm5hIjoieCJ9.forged.sig", path="/login")
    assert login(forged, "anna") == 429


def test_wrong_passwords_from_a_known_device_wait_on_that_device_only(app: Flask) -> None:
    admin_browser = app.test_client()
    assert login(admin_browser, "anna") == 302
    assert [login(admin_browser, "anna", f"typo-{i}") for i in range(6)] == [401] * 5 + [429]
    assert login(app.test_client(), "anna") == 302  # the account itself is not locked


def test_back_off_doubles_and_is_forgotten(ticker: Ticker) -> None:
    throttle = Throttle(5, 60.0, ticker, cap=900.0, forget=3600.0)
    key = ("user:anna",)
    for _ in range(5):
        assert not throttle.blocked(key)
        throttle.fail(key)
    waits = []
    for _ in range(6):
        waits.append(throttle.wait(key))
        ticker.advance(throttle.wait(key))
        assert not throttle.blocked(key)
        throttle.fail(key)
    assert waits == [60.0, 120.0, 240.0, 480.0, 900.0, 900.0]
    ticker.advance(3601)
    assert not throttle.blocked(key)
    throttle.fail(key)
    assert not throttle.blocked(key)  # one failure after a quiet hour starts the count afresh


def test_the_current_password_on_the_password_page_is_throttled(admin: FlaskClient, ticker: Ticker) -> None:
    token = csrf_of(admin, "/account/password")
    new = "another-long-password-1"

    def change(current: str) -> int:
        return admin.post("/account/password", data={"current": current, "new": new, "confirm": new,
                                                     "csrf_token": token}).status_code

    assert [change(f"guess-{i}") for i in range(7)] == [400] * 5 + [429] * 2
    assert change(PASSWORD) == 429
    ticker.advance(61)
    assert change(PASSWORD) == 200


BYPASSES = [
    "//evil.example", "///evil.example", "////evil.example", "/\t/evil.example", "/%09/evil.example",
    "/\n/evil.example", "/\r\n/evil.example", "/%0d%0a/evil.example", "\\\\evil.example", "/\\evil.example",
    "/\\/evil.example", "\\/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example", "/%2F/evil.example",
    "%2F%2Fevil.example", "https://evil.example", "HTTPS://evil.example", "http:evil.example",
    "http:/evil.example", "//evil.example@127.0.0.1", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,x", " //evil.example", "/ /evil.example", "\x00//evil.example", "/\x00/evil.example",
    "/\x7f/evil.example", "/.//evil.example", "/..//evil.example", "/./evil", "/\u3000/evil.example",
    "/\u2028/evil.example", "/\u200b/evil.example", "\uff0f\uff0fevil.example", "/\uff0fevil.example",
    "evil.example", "@evil.example", "?next=//evil.example", "#//evil.example", "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", BYPASSES)
def test_sign_in_never_redirects_off_site(app: Flask, target: str) -> None:
    client = app.test_client()
    assert client.get("/login", query_string={"next": target}).status_code == 200
    response = client.post("/login", data={"username": "anna", "password": PASSWORD, "next": target,
                                           "csrf_token": csrf_of(client)})
    assert response.status_code == 302, target
    assert response.headers["Location"] == "/", (target, response.headers["Location"])


def test_same_site_paths_survive_sign_in(app: Flask) -> None:
    for target in ("/records/0123abcd", "/search?q=pogodba+2026&sort=date", "/audit/?before=50", "/upload"):
        assert safe_next(target) == target
        client = app.test_client()
        response = client.post("/login", data={"username": "anna", "password": PASSWORD, "next": target,
                                               "csrf_token": csrf_of(client)})
        assert response.headers["Location"] == target
