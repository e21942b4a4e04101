"""Web fixtures: the real app around the conftest's real home, users of each role, a movable clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.model import Confidentiality, Role, User
from vault import Home, hash_password
from web.app import create_app
from web.office import Office
from web.settings import Settings

PASSWORD = "a-long-test-password"
USERS = {
    "anna": (Role.ADMIN, Confidentiality.SECRET, ()),
    "sekretarka": (Role.SECRETARY, Confidentiality.CONFIDENTIAL, ()),
    "vaatleja": (Role.VIEWER, Confidentiality.INTERNAL, ()),
    "revident": (Role.AUDITOR, Confidentiality.SECRET, ()),
    "juht": (Role.MANAGER, Confidentiality.SECRET, ()),
}


class Ticker:
    """A monotonic clock the tests move by hand (session timeouts, throttling windows)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def add_users(home: Home) -> None:
    now = datetime.now(timezone.utc)
    with home.catalog.transaction() as tx:
        for name, (role, level, principals) in USERS.items():
            tx.put_user(User(name=name, role=role, clearance=level, principals=principals,
                             password_hash=hash_password(PASSWORD, test=True), created_at=now))


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def app(home: Home, ticker: Ticker, tmp_path: Path) -> Flask:
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    flask_app = create_app(Office(home, settings), secret_key=b"test-only-secret-key-0123456789", monotonic=ticker)
    return flask_app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    # Not `with`: a preserved request context would share flask.g with a second client's requests.
    yield app.test_client()


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> int:
    token = csrf_of(client)
    response = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    return response.status_code


@pytest.fixture
def admin(client: FlaskClient) -> FlaskClient:
    assert login(client, "anna") == 302
    return client
