"""The Flask app factory: one open home, its blueprints, sessions, CSRF, languages and error pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from records.access import Permission
from records.errors import AccessDenied, RecordNotFound, RecordsError
from web import audit_names, i18n, outcome_words, security, signin, wording
from web.blueprints import (admin, audit, auth, calendar, casefiles, guard, meetings, plan, record_edit, records,
                            registers, retention, search, start, upload)
from web.blueprints.exports import exports_blueprint
from web.office import Office
from web.unlock import read_secret_key

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "calendar.feed"})  # the feed checks its own token
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.password", "auth.logout"})
THROTTLE_WINDOW_SECONDS = 60.0
ABSOLUTE_SESSION_SECONDS = 10 * 3600


def create_app(office: Office, *, secret_key: bytes | None = None, clock: Callable[[], datetime] | None = None,
               monotonic: Callable[[], float] = time.monotonic,
               allowed_hosts: tuple[str, ...] | None = None, tls: bool = False) -> Flask:
    """The web UI of an open home (its Office). `clock`/`monotonic` are injectable so tests can move time.
    `tls`: it is served over HTTPS, so cookies are `Secure` and browsers are told to stay on HTTPS (HSTS)."""
    settings = office.settings
    app = Flask("web", template_folder="templates", static_folder="static")
    app.request_class = security.InMemoryRequest
    app.config.update(
        SECRET_KEY=secret_key or read_secret_key(settings),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=settings.max_upload_mb * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side) session
        # Flask-WTF's HTTPS check wants a Referer, which our Referrer-Policy (no-referrer) never lets a
        # browser send; the Origin and Sec-Fetch-Site checks of web/security.py do that job on every POST.
        WTF_CSRF_SSL_STRICT=False,
        SESSION_COOKIE_SECURE=tls,
        STRONGROOM_LANGUAGE=settings.language,
        TEMPLATES_AUTO_RELOAD=False,
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    sealed = office.safeguards  # sealed in the catalogue: strongroom.toml cannot loosen these
    sessions = security.SessionStore(idle_seconds=sealed.idle_lock_minutes * 60,
                                     absolute_seconds=ABSOLUTE_SESSION_SECONDS, clock=monotonic)
    limit = sealed.login_attempts_per_minute
    accounts = security.Throttle(limit, THROTTLE_WINDOW_SECONDS, monotonic)
    sources = security.Throttle(limit * 4, THROTTLE_WINDOW_SECONDS, monotonic)
    app.extensions["strongroom"] = guard.WebState(
        office=office, sessions=sessions, user_throttle=accounts, client_throttle=sources,
        intake=office.intake(), clock=clock or office.clock)
    app.extensions["strongroom.signin"] = signin.LoginDefence(
        sources=sources, accounts=accounts, devices=signin.KnownDevices(app.config["SECRET_KEY"]),
        throttled=signin.ThrottledAttempts(monotonic))
    app.session_interface = security.ServerSessionInterface(sessions)
    CSRFProtect(app)
    i18n.install(app)
    wording.install(app)
    audit_names.install(app)
    outcome_words.install(app)
    security.install(app, allowed_hosts=allowed_hosts or security.LOOPBACK_HOSTS, hsts=tls)
    _register(app)
    _errors(app)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    return app


def _register(app: Flask) -> None:
    for module in (auth, start, calendar, search, records, record_edit, upload, retention, plan, registers, audit,
                   admin, meetings, casefiles):
        app.register_blueprint(module.bp)
    app.register_blueprint(exports_blueprint(ports_of=guard.ports, user_of=guard.current_user,
                                             plan_of=guard.plan))

    @app.before_request
    def signed_in_only() -> Response | None:
        if request.endpoint != "static":
            guard.state().office.touch()  # activity: the nightly backup waits for a quiet spell
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        user = guard.current_user()
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        if user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("auth.password"))  # a reset password is only good for choosing one
        return None

    @app.context_processor
    def page_context() -> dict[str, Any]:
        user = guard.current_user() if request.endpoint not in (None, "static") else None
        may = (lambda p: user is not None and guard.scope().may(Permission(p)))
        return {"user": user, "may": may}


def _errors(app: Flask) -> None:
    def page(status: int, message: str) -> tuple[str, int]:
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> tuple[str, int]:
        return page(400, _("The form had expired or did not come from this page. Go back, reload and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[str, int]:
        status = exc.code or 500
        if status == 401:
            return redirect(url_for("auth.login"))
        texts = {
            400: _("The request was not understood. Go back and try again."),
            403: _("Your role does not allow this. Ask an administrator if you need it."),
            404: _("There is nothing here that you may see. Check the address or search again."),
            405: _("This address does not take that kind of request. Use the links on the page."),
            413: _("The file is too large. Split it or ask an administrator to raise the limit."),
            429: _("Too many attempts. Wait a minute and try again."),
        }
        return page(status, texts.get(status, _("The request could not be handled. Go back and try again.")))

    @app.errorhandler(RecordsError)
    def records_error(exc: RecordsError) -> tuple[str, int]:
        if isinstance(exc, RecordNotFound):
            return page(404, _("There is nothing here that you may see. Check the address or search again."))
        if isinstance(exc, AccessDenied):
            return page(403, _("Your role does not allow this. Ask an administrator if you need it."))
        return page(400, str(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[str, int]:
        app.logger.error("unexpected error %s on %s", type(exc).__name__, request.endpoint)  # no text, no values
        return page(500, _("Something went wrong on our side. Try again; if it keeps happening, run `strongroom verify`."))
