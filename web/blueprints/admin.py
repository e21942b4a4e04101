"""Administration: users (list, add, change role/clearance/principals, reset a password, disable) and
the passphrase slots that unlock the home."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import accounts
from records.access import Permission
from records.errors import RecordsError
from records.model import Confidentiality, Role, User
from vault import VaultError, check_password, hash_password
from vault.passwords import MIN_PASSWORD_LENGTH
from web.blueprints import guard
from web.i18n import label
from web.security import PASSWORD_CHECKS

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(error: str = "", status: int = 200) -> tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    users = accounts.list_users(guard.ports(), s)
    return render_template("admin.html", users=users, roles=list(Role), levels=list(Confidentiality),
                           error=error), status


@bp.get("/users")
def users() -> tuple[str, int]:
    guard.require(Permission.ADMIN)
    return _page()


@bp.post("/users")
def add_user() -> Response | tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    form = request.form
    password = form.get("password", "")
    if len(password) < MIN_PASSWORD_LENGTH:
        return _page(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), 400)
    try:
        role = Role(form.get("role", ""))
        level = Confidentiality(form["clearance"]) if form.get("clearance") else None
    except ValueError:
        return _page(_("Choose a role and a clearance from the lists."), 400)
    with PASSWORD_CHECKS:
        hashed = hash_password(password)
    try:
        made = accounts.add_user(guard.ports(), s, name=form.get("name", "").strip(), role=role,
                                 password_hash=hashed, clearance=level, principals=_principals(),
                                 now=guard.now(), channel="web")
    except RecordsError as exc:
        return _page(str(exc), 400)
    flash(_("User %(name)s was added as %(role)s.", name=made.name, role=_role_name(made)))
    return redirect(url_for("admin.users"))


def _principals() -> tuple[str, ...]:
    return tuple(p.strip() for p in request.form.get("principals", "").split(",") if p.strip())


def _role_name(user: User) -> str:
    return label(str(user.role))


@bp.post("/users/<name>/role")
def change_role(name: str) -> Response | tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    try:
        role = Role(request.form.get("role", ""))
        level = Confidentiality(request.form["clearance"]) if request.form.get("clearance") else None
    except ValueError:
        return _page(_("Choose a role and a clearance from the lists."), 400)
    try:
        changed = accounts.change_role(guard.ports(), s, name, role=role, clearance=level,
                                       principals=_principals(), now=guard.now(), channel="web")
    except accounts.UnknownUser:
        return _page(_("There is no such user."), 404)
    except accounts.OwnAccount:
        return _page(_("You cannot change your own role: ask another administrator."), 400)
    except RecordsError as exc:
        return _page(str(exc), 400)
    flash(_("%(name)s is now %(role)s.", name=changed.name, role=_role_name(changed)))
    return redirect(url_for("admin.users"))


@bp.post("/users/<name>/password")
def reset_password(name: str) -> Response | tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD_LENGTH:
        return _page(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), 400)
    with PASSWORD_CHECKS:
        hashed = hash_password(password)
    try:
        accounts.reset_password(guard.ports(), s, name, hashed, now=guard.now(), channel="web")
    except accounts.UnknownUser:
        return _page(_("There is no such user."), 404)
    guard.state().sessions.drop_user(name)
    flash(_("The password of %(name)s was reset. They must choose a new one when they next sign in.",
            name=name))
    return redirect(url_for("admin.users"))


@bp.post("/users/<name>/disable")
def disable_user(name: str) -> Response | tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    try:
        accounts.disable_user(guard.ports(), s, name, now=guard.now(), channel="web")
    except accounts.UnknownUser:
        return _page(_("There is no such user."), 404)
    except accounts.OwnAccount:
        return _page(_("You cannot disable your own account."), 400)
    except RecordsError as exc:
        return _page(str(exc), 400)
    guard.state().sessions.drop_user(name)
    return redirect(url_for("admin.users"))


def _slots_page(error: str = "", message: str = "", status: int = 200) -> tuple[str, int]:
    guard.require(Permission.ADMIN)
    slots = guard.state().home.slots()
    return render_template("passphrases.html", slots=slots, error=error, message=message), status


def _confirm_own_password() -> bool:
    """Key-slot changes ask for the admin's own password again (a left-open session is not enough)."""
    user = guard.current_user()
    with PASSWORD_CHECKS:
        return user is not None and check_password(user.password_hash, request.form.get("password", ""))


@bp.get("/passphrases")
def passphrases() -> tuple[str, int]:
    guard.require(Permission.ADMIN)
    return _slots_page()


@bp.post("/passphrases")
def add_passphrase() -> tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    if not _confirm_own_password():
        return _slots_page(_("Your password is wrong."), status=400)
    new = request.form.get("passphrase", "")
    if new != request.form.get("confirm", ""):
        return _slots_page(_("The two passphrases differ: type the same passphrase twice."), status=400)
    try:
        slot_id = guard.state().home.add_passphrase(new, actor=s.actor, channel="web")
    except VaultError as exc:
        return _slots_page(str(exc), status=400)
    return _slots_page(message=_("Passphrase slot %(slot)s was added.", slot=slot_id))


@bp.post("/passphrases/<slot_id>/remove")
def remove_passphrase(slot_id: str) -> tuple[str, int]:
    s = guard.require(Permission.ADMIN)
    if not _confirm_own_password():
        return _slots_page(_("Your password is wrong."), status=400)
    try:
        guard.state().home.remove_passphrase(slot_id, actor=s.actor, channel="web")
    except VaultError as exc:
        return _slots_page(str(exc), status=400)
    return _slots_page(message=_("Passphrase slot %(slot)s was removed.", slot=slot_id))
