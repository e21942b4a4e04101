"""The exports page: auditors and admins only, CSRF-protected POST streaming a verifiable ZIP."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, DictLoader

from records.model import Confidentiality, Role, User
from records.plan import load_default
from tests.records.test_export_world import make_world
from vault import Home
from web import wording
from web.blueprints.exports import exports_blueprint
from web.verify_export import EXIT_VERIFIED, load_public_key, verify_export

BASE = ("<!doctype html><title>{% block title %}{% endblock %}</title>"
        "<main>{% block content %}{% endblock %}</main>")


@pytest.fixture
def signed_in() -> dict[str, User | None]:
    return {"user": None}


@pytest.fixture
def client(home: Home, signed_in: dict[str, User | None]) -> Iterator[FlaskClient]:
    """A small app around the blueprint until web/app.py lands; the real home behind it."""
    world = make_world(home)
    world.file("Pogodba — Šoštanj", b"%PDF-1.4 contract")
    world.log(10)
    app = Flask("exports-test", template_folder=str(Path(__file__).resolve().parents[2] / "web/templates"))
    app.config.update(SECRET_KEY="test-only-secret", TESTING=True)
    app.jinja_loader = ChoiceLoader([DictLoader({"base.html": BASE}), app.jinja_loader])  # type: ignore[list-item]
    Babel(app)
    wording.install(app)
    CSRFProtect(app)
    plan = load_default()
    app.register_blueprint(exports_blueprint(ports_of=lambda: world.ports,
                                             user_of=lambda: signed_in["user"], plan_of=lambda: plan))
    with app.test_client() as test_client:
        yield test_client


def as_role(signed_in: dict[str, User | None], role: Role) -> None:
    signed_in["user"] = User(name=f"u-{role}", role=role, clearance=Confidentiality.SECRET)


def token(client: FlaskClient) -> str:
    page = client.get("/exports/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SECRETARY, Role.MANAGER])
def test_other_roles_are_refused(client: FlaskClient, signed_in: dict[str, User | None], role: Role) -> None:
    assert client.get("/exports/").status_code == 401  # nobody signed in
    as_role(signed_in, role)
    assert client.get("/exports/").status_code == 403
    assert client.post("/exports/", data={}).status_code in (400, 403)  # CSRF or role: never a ZIP
    assert client.get("/exports/public-key").status_code == 403
    as_role(signed_in, Role.AUDITOR)
    csrf = token(client)
    as_role(signed_in, role)  # a valid token does not make a viewer an auditor
    assert client.post("/exports/", data={"csrf_token": csrf}).status_code == 403


def test_refusal_is_audited(client: FlaskClient, signed_in: dict[str, User | None], home: Home) -> None:
    as_role(signed_in, Role.AUDITOR)
    csrf = token(client)
    as_role(signed_in, Role.VIEWER)
    assert client.post("/exports/", data={"csrf_token": csrf}).status_code == 403
    head = home.catalog.audit_head()
    assert head is not None and (head.event.action, head.event.outcome, head.event.channel) == (
        "audit.export", "denied", "web")


def test_auditor_downloads_a_verifiable_export(client: FlaskClient, signed_in: dict[str, User | None],
                                               home: Home, tmp_path: Path) -> None:
    as_role(signed_in, Role.AUDITOR)
    page = client.get("/exports/")
    assert page.status_code == 200 and "Audit exports" in page.get_data(as_text=True)
    csrf = token(client)
    assert client.post("/exports/", data={}).status_code == 400  # no CSRF token: refused
    response = client.post("/exports/", data={"csrf_token": csrf, "record_class": "contracts",
                                              "with_documents": "1"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    target = tmp_path / "web.zip"
    target.write_bytes(response.get_data())
    key_response = client.get("/exports/public-key")
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(key_response.get_data())
    result = verify_export(target, public_key=load_public_key(key_file))
    assert result.exit_code == EXIT_VERIFIED and result.key_trusted, result.problems
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as z:
        assert any(n.startswith("documents/03.1-") for n in z.namelist())
    head = home.catalog.audit_head()
    assert head is not None and (head.event.action, head.event.channel, head.event.actor) == (
        "audit.export", "web", "u-auditor")


def test_bad_input_re_renders_with_one_sentence(client: FlaskClient, signed_in: dict[str, User | None]) -> None:
    as_role(signed_in, Role.ADMIN)
    csrf = token(client)
    bad_date = client.post("/exports/", data={"csrf_token": csrf, "date_from": "31.12.2026"})
    assert bad_date.status_code == 400 and "is not a date" in bad_date.get_data(as_text=True)
    reversed_period = client.post("/exports/", data={"csrf_token": csrf, "date_from": "2026-05-01",
                                                     "date_to": "2026-04-01"})
    assert reversed_period.status_code == 400
    assert "ends before it starts" in reversed_period.get_data(as_text=True)
