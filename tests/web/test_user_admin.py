"""User administration on the web: viewer is the default role, a confirmation after each change, role,
clearance and principals changed, a password reset that the user must replace at the next sign-in."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from records.model import Confidentiality, Role
from tests.web.conftest import csrf_of, login


def _users_page(client: FlaskClient) -> str:
    return client.get("/admin/users", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_add_form_defaults_to_viewer_and_confirms(admin: FlaskClient) -> None:
    page = _users_page(admin)
    add_form = page[page.index('action="/admin/users"'):]
    assert re.search(r'<option value="viewer" selected>', add_form), "viewer must be the preselected role"
    assert not re.search(r'<option value="admin" selected>', add_form)
    token = csrf_of(admin, "/admin/users")
    response = admin.post("/admin/users", data={"csrf_token": token, "name": "nova",
                                                "password": "a-long-enough-password", "role": "viewer"},
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert response.status_code == 200
    assert "User nova was added as viewer." in response.get_data(as_text=True)
    sl = admin.post("/admin/users", data={"csrf_token": token, "name": "nova2",
                                          "password": "a-long-enough-password", "role": "viewer"},
                    headers={"Accept-Language": "sl"}, follow_redirects=True).get_data(as_text=True)
    assert "Uporabnik nova2 je dodan" in sl


def test_admin_changes_role_clearance_and_principals(app: Flask, admin: FlaskClient) -> None:
    token = csrf_of(admin, "/admin/users")
    response = admin.post("/admin/users/vaatleja/role", data={
        "csrf_token": token, "role": "secretary", "clearance": "confidential", "principals": "ceo, cfo"},
        headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "vaatleja is now secretary." in response.get_data(as_text=True)
    changed = app.extensions["strongroom"].ports.catalog.get_user("vaatleja")
    assert (changed.role, changed.clearance, changed.principals) == (Role.SECRETARY, Confidentiality.CONFIDENTIAL,
                                                                     ("ceo", "cfo"))
    own = admin.post("/admin/users/anna/role", data={"csrf_token": token, "role": "viewer", "clearance": "public"},
                     headers={"Accept-Language": "en"})
    assert own.status_code == 400 and "own role" in own.get_data(as_text=True)
    assert admin.post("/admin/users/nobody/role", data={"csrf_token": token, "role": "viewer"}).status_code == 404


def test_reset_password_forces_a_change_at_the_next_sign_in(app: Flask, admin: FlaskClient) -> None:
    token = csrf_of(admin, "/admin/users")
    assert admin.post("/admin/users/sekretarka/password",
                      data={"csrf_token": token, "password": "short"}).status_code == 400
    response = admin.post("/admin/users/sekretarka/password",
                          data={"csrf_token": token, "password": "temporary-password-1"},
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "The password of sekretarka was reset" in response.get_data(as_text=True)
    user = app.test_client()
    assert login(user, "sekretarka") == 401  # the old password is gone
    assert login(user, "sekretarka", "temporary-password-1") == 302
    for path in ("/", "/search", "/upload"):
        assert user.get(path).headers["Location"].endswith("/account/password"), path
    page = user.get("/account/password", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "An administrator reset your password" in page
    token = csrf_of(user, "/account/password")
    assert user.post("/account/password", data={"csrf_token": token, "current": "temporary-password-1",
                                                "new": "my-own-password-2", "confirm": "my-own-password-2"}
                     ).status_code == 200
    again = app.test_client()
    assert login(again, "sekretarka", "my-own-password-2") == 302
    assert again.get("/search").status_code == 200
