"""Sign in, sign out, change one's own password; failed and throttled sign-ins are audit entries."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import accounts
from records.access import Permission
from vault import check_password, hash_password
from vault.passwords import MIN_PASSWORD_LENGTH
from web.blueprints import guard
from web.security import PASSWORD_CHECKS

bp = Blueprint("auth", __name__)


@cache
def _dummy_hash() -> str:
    # Compared against when the user does not exist, so a wrong name costs as long as a wrong password.
    return hash_password("not-a-real-password-0000")


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an absolute or scheme-relative URL (open redirect).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("search.index")


@bp.get("/")
def home() -> Response:
    guard.require(Permission.READ)
    return redirect(url_for("search.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("login.html", error="", next=request.args.get("next", ""))
    state = guard.state()
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:1024]
    keys = (f"user:{username.lower()}",)
    client = (f"client:{request.remote_addr}",)
    if state.user_throttle.blocked(keys) or state.client_throttle.blocked(client):
        guard.audit("login", username or "-", outcome="throttled")
        return render_template("login.html", error=_("Too many attempts. Wait a minute and try again."),
                               next=""), 429
    user = guard.ports().catalog.get_user(username) if username else None
    with PASSWORD_CHECKS:
        ok = check_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or user.disabled or not ok:
        state.user_throttle.fail(keys)
        state.client_throttle.fail(client)
        guard.audit("login", username or "-", outcome="refused")
        return render_template("login.html", error=_("The user name or password is wrong."), next=""), 401
    state.user_throttle.clear(keys[0])
    lang = session.get("lang")
    session.clear()
    session.rotate()  # type: ignore[attr-defined]
    session["user"] = user.name
    if lang:
        session["lang"] = lang
    guard.audit("login", user.name)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    s = guard.scope()
    guard.audit("logout", s.actor)
    session.end()  # type: ignore[attr-defined]
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password() -> Response | tuple[str, int] | str:
    s = guard.scope()
    if request.method == "GET":
        return render_template("password.html", error="", done=False)
    user = guard.current_user()
    if user is None:
        abort(401)
    current = request.form.get("current", "")
    new = request.form.get("new", "")
    with PASSWORD_CHECKS:
        ok = check_password(user.password_hash, current)
    if not ok:
        return render_template("password.html", error=_("The current password is wrong."), done=False), 400
    if len(new) < MIN_PASSWORD_LENGTH or new != request.form.get("confirm", ""):
        return render_template("password.html", done=False, error=_(
            "The new password must have at least %(n)d characters and be typed the same twice.",
            n=MIN_PASSWORD_LENGTH)), 400
    accounts.change_password(guard.ports(), s, hash_password(new), now=guard.now(), channel="web")
    guard.state().sessions.drop_user(user.name)  # other sessions of this user end
    session.rotate()  # type: ignore[attr-defined]
    return render_template("password.html", error="", done=True)
