"""Sign in, sign out, change one's own password; failed sign-ins are audit entries, throttled ones counted."""

from __future__ import annotations

import math
from functools import cache

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import accounts
from vault import check_password, hash_password
from vault.passwords import MIN_PASSWORD_LENGTH
from web.blueprints import guard
from web.security import PASSWORD_CHECKS
from web.signin import DEVICE_COOKIE, DEVICE_DAYS, LoginDefence, safe_next

bp = Blueprint("auth", __name__)


@cache
def _dummy_hash() -> str:
    # Compared against when the user does not exist, so a wrong name costs as long as a wrong password.
    return hash_password("not-a-real-password-0000")


def _defence() -> LoginDefence:
    return current_app.extensions["strongroom.signin"]  # type: ignore[no-any-return]


@bp.before_app_request
def write_throttled_counts() -> None:
    """Each source's minute of throttled sign-ins that has closed becomes one entry with its count."""
    for minute in _defence().throttled.closed():
        guard.audit("login", "-", outcome="throttled", details=(
            ("source", minute.source), ("since", minute.since.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ("count", str(minute.count))))


def _throttled(source: str, username: str, wait: float) -> tuple[str, int, dict[str, str]]:
    if _defence().throttled.note(source, guard.now()):  # the first of its minute; the rest are counted
        guard.audit("login", "-", outcome="throttled", details=(
            ("source", source), ("user", username), ("count", "1")))
    return (render_template("login.html", error=_("Too many attempts. Wait a minute and try again."), next=""),
            429, {"Retry-After": str(max(1, math.ceil(wait)))})


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]] | str:
    if request.method == "GET":
        return render_template("login.html", error="", next=request.args.get("next", ""))
    defence = _defence()
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:1024]
    source = request.remote_addr or "-"
    device = defence.devices.device_id(request.cookies.get(DEVICE_COOKIE), username) if username else None
    # A known device answers for itself only; others share the source's and the account's back-off.
    keys = (f"device:{device}",) if device else (f"user:{username.lower()}",)
    wait = max(defence.accounts.wait(keys), 0.0 if device else defence.sources.wait((f"client:{source}",)))
    if wait > 0:
        return _throttled(source, username or "-", wait)
    user = guard.ports().catalog.get_user(username) if username else None
    with PASSWORD_CHECKS:
        ok = check_password(user.password_hash if user else _dummy_hash(), password)
    next_target = safe_next(request.form.get("next")) or ""
    if user is None or user.disabled or not ok:
        defence.accounts.fail(keys)
        if not device:
            defence.sources.fail((f"client:{source}",))
        guard.audit("login", username or "-", outcome="refused")
        return render_template("login.html", error=_("The user name or password is wrong."),
                               next=next_target), 401
    defence.accounts.clear(keys[0])
    lang = session.get("lang")
    session.clear()
    session.rotate()  # type: ignore[attr-defined]
    session["user"] = user.name
    if lang:
        session["lang"] = lang
    guard.audit("login", user.name)
    response = redirect(next_target or url_for("start.index"))
    response.set_cookie(DEVICE_COOKIE, defence.devices.remember(request.cookies.get(DEVICE_COOKIE), user.name),
                        max_age=DEVICE_DAYS * 86400, path=url_for("auth.login"), httponly=True, samesite="Strict",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


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
    guesses = _defence().accounts
    key = (f"password:{user.name.lower()}",)  # guessing the current password is throttled like a sign-in
    if guesses.blocked(key):
        return render_template("password.html", done=False,
                               error=_("Too many attempts. Wait a minute and try again.")), 429
    with PASSWORD_CHECKS:
        ok = check_password(user.password_hash, current)
    if not ok:
        guesses.fail(key)
        return render_template("password.html", error=_("The current password is wrong."), done=False), 400
    guesses.clear(key[0])
    if len(new) < MIN_PASSWORD_LENGTH or new != request.form.get("confirm", ""):
        return render_template("password.html", done=False, error=_(
            "The new password must have at least %(n)d characters and be typed the same twice.",
            n=MIN_PASSWORD_LENGTH)), 400
    accounts.change_password(guard.ports(), s, hash_password(new), now=guard.now(), channel="web")
    guard.state().sessions.drop_user(user.name)  # other sessions of this user end
    session.rotate()  # type: ignore[attr-defined]
    return render_template("password.html", error="", done=True)
