"""Web safeguards: server-side sessions, response headers, host and origin checks, login throttling."""

from __future__ import annotations

import io
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Request, Response, abort, request
from flask.sessions import SessionInterface, SessionMixin
from markupsafe import Markup
from werkzeug.datastructures import CallbackDict

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
       "frame-src 'self'; frame-ancestors 'none'")
# The preview of an original runs in an opaque origin: no scripts, no forms, no same-origin access.
PREVIEW_CSP = "sandbox; default-src 'none'; object-src 'self'; frame-ancestors 'self'"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# One year; no includeSubDomains (the office's name may have siblings that are not ours), no preload.
HSTS = "max-age=31536000"
COOKIE_NAME = "strongroom_session"
MAX_SESSIONS = 5000  # memory bound: the oldest session is dropped beyond this
# Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and kin) that can make "invoice_fdp.exe" read "invoice_exe.pdf".
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PASSWORD_CHECKS = threading.BoundedSemaphore(2)  # Argon2 runs at once: a login flood cannot eat all memory

Clock = Callable[[], float]


class InMemoryRequest(Request):
    """Uploads stay in memory (bounded by MAX_CONTENT_LENGTH): werkzeug would spool big ones
    to a temp file in /tmp, and no byte of a document may reach the disk in plaintext there."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> Any:
        return io.BytesIO()


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """A session whose data lives on the server; the cookie holds a random id only."""

    def __init__(self, sid: str, initial: dict[str, Any] | None = None, *, created: float) -> None:
        def touched(_self: Any) -> None:
            self.modified = True
        super().__init__(initial or {}, touched)
        self.sid = sid
        self.created = created
        self.modified = False
        self.rotate_requested = False
        self.ended = False

    def rotate(self) -> None:
        """Give the session a new id (at login): an id planted before login is worth nothing after."""
        self.rotate_requested = True
        self.modified = True

    def end(self) -> None:
        """Forget the session on the server (logout)."""
        self.clear()
        self.ended = True
        self.modified = True


@dataclass(slots=True)
class _Stored:
    data: dict[str, Any]
    created: float
    last_seen: float


@dataclass(slots=True)
class SessionStore:
    """Sessions by id, with an idle and an absolute lifetime; expired ones are gone for good."""

    idle_seconds: float
    absolute_seconds: float
    clock: Clock = time.monotonic
    _items: OrderedDict[str, _Stored] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, sid: str) -> _Stored | None:
        now = self.clock()
        with self._lock:
            item = self._items.get(sid)
            if item is None:
                return None
            if now - item.last_seen > self.idle_seconds or now - item.created > self.absolute_seconds:
                del self._items[sid]
                return None
            item.last_seen = now
            self._items.move_to_end(sid)
            return item

    def save(self, sid: str, data: dict[str, Any], created: float) -> None:
        with self._lock:
            self._items[sid] = _Stored(dict(data), created, self.clock())
            self._items.move_to_end(sid)
            while len(self._items) > MAX_SESSIONS:
                self._items.popitem(last=False)

    def drop(self, sid: str) -> None:
        with self._lock:
            self._items.pop(sid, None)

    def drop_user(self, name: str) -> None:
        """End every session of a user (disabled account, changed password)."""
        with self._lock:
            for sid in [s for s, item in self._items.items() if item.data.get("user") == name]:
                del self._items[sid]


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(COOKIE_NAME, "")
        item = self.store.load(sid) if sid else None
        if item is None:
            return ServerSession(secrets.token_urlsafe(32), created=self.store.clock())
        return ServerSession(sid, item.data, created=item.created)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        cookie = {"httponly": True, "samesite": "Strict", "secure": app.config.get("SESSION_COOKIE_SECURE", False),
                  "path": "/"}
        if session.ended:
            self.store.drop(session.sid)
            response.delete_cookie(COOKIE_NAME, path="/")
            return
        if session.rotate_requested:
            self.store.drop(session.sid)
            session.sid = secrets.token_urlsafe(32)
            session.created = self.store.clock()
        if not session:
            if request.cookies.get(COOKIE_NAME):
                response.delete_cookie(COOKIE_NAME, path="/")
            return
        self.store.save(session.sid, dict(session), session.created)
        response.set_cookie(COOKIE_NAME, session.sid, **cookie)


class Throttle:
    """Failures per key with exponential back-off: the first `limit` cost nothing; then the key waits
    `window` seconds, twice as long after each further failure, at most `cap`. A key quiet for
    `forget` seconds starts afresh, so nobody is locked out for good (OWASP: throttle, don't lock)."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic, *, cap: float = 900.0,
                 forget: float = 3600.0) -> None:
        self.limit = limit
        self.window = window
        self.cap = cap
        self.forget = forget
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last one)
        self._lock = threading.Lock()

    def _wait(self, key: str, now: float) -> float:
        count, last = self._failures.get(key, (0, now))
        if now - last > self.forget:
            self._failures.pop(key, None)
            return 0.0
        if count < self.limit:
            return 0.0
        delay = min(self.cap, self.window * 2.0 ** min(count - self.limit, 32))
        return max(0.0, last + delay - now)

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds until every one of `keys` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max((self._wait(k, now) for k in keys), default=0.0)

    def blocked(self, keys: Iterable[str]) -> bool:
        return self.wait(keys) > 0

    def fail(self, keys: Iterable[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._wait(key, now)  # forgets a stale count first
                count, _last = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)
            if len(self._failures) > 10000:  # memory bound under a spray of names; waiting keys stay
                self._failures = {k: (n, t) for k, (n, t) in self._failures.items()
                                  if now - t <= self.window or (n >= self.limit and now - t <= self.forget)}

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def visible_bidi(text: object) -> Markup:
    """A file name or title as it really reads: each bidi control shown as a visible [U+202E] marker
    instead of acting, and the whole isolated in <bdi> so it cannot reorder the text around it."""
    shown = BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", "" if text is None else str(text))
    return Markup("<bdi>{}</bdi>").format(shown)


def allowed_host(host: str, allowed: tuple[str, ...]) -> bool:
    """`host` (Host header, maybe with a port) names one of the allowed host names."""
    name = host.strip().lower()
    if name.startswith("["):
        end = name.find("]")
        name = name[: end + 1] if end > 0 else name
    else:
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    return name in allowed


def install(app: Flask, *, allowed_hosts: tuple[str, ...], hsts: bool = False) -> None:
    """Host allow-list (DNS rebinding), same-origin POSTs, the headers of every response (with `hsts`,
    Strict-Transport-Security), and the `bidi` filter every template uses for names and titles."""
    app.jinja_env.filters["bidi"] = visible_bidi

    @app.before_request
    def check_host_and_origin() -> None:
        if not allowed_host(request.host, allowed_hosts):
            abort(400)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("Origin")
            if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
                abort(403)
            if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
                abort(403)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        if hsts and request.is_secure and not allowed_host(request.host, LOOPBACK_HOSTS):
            # Not for localhost: a browser would then force HTTPS on every other local server too.
            response.headers["Strict-Transport-Security"] = HSTS
        return response
